import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {DataLossError} from '../../shared/errors.js';
import {crc32c, maskCrc} from '../../shared/formats/crc32c.js';
import {TfrecordBlockEncoder} from '../../shared/formats/tfrecord/block-encoder.js';
import {
  decodeExample,
  encodeExample,
} from '../../shared/formats/tfrecord/example.js';
import {
  frameRecord,
  TfrecordDeframer,
} from '../../shared/formats/tfrecord/framing.js';
import {
  exampleBytes,
  tfrecordRecordBytes,
} from '../../shared/formats/tfrecord/example-size.js';
import {buildModel} from '../../shared/dataset/model.js';
import {
  COLUMN_NAMES,
  LABEL,
  rowMaker,
  SAMPLE_ROW,
  type Row,
} from '../../shared/formats/row-schema.js';
import {drawBlock, newRowBlock} from '../../shared/dataset/rows.js';

const row: Row = {...SAMPLE_ROW, [LABEL.name]: 1};

describe('tf.train.Example', () => {
  it('round-trips a row', () => {
    assert.deepEqual(decodeExample(encodeExample(row)), row);
    const zero: Row = {...row, [LABEL.name]: 0};
    assert.deepEqual(decodeExample(encodeExample(zero)), zero);
  });

  it('encodes the features as TensorFlow does (map entries, packed int64)', () => {
    const bytes = Buffer.from(encodeExample(row));
    // Example.features (field 1, length-delimited) holding one map entry per column
    assert.equal(bytes[0], 0x0a);
    assert.equal(bytes[1], bytes.length - 2);
    for (const key of COLUMN_NAMES) assert.ok(bytes.includes(Buffer.from(key)));
    // the label: Feature{int64_list (field 3): Int64List{value: [1]} packed: tag 0x0a, length 1, varint 1}
    assert.ok(bytes.includes(Buffer.from([0x1a, 0x03, 0x0a, 0x01, 0x01])));
    assert.equal(bytes.length, exampleBytes(row));
  });

  it('rejects a payload that is not an Example with the feature spec', () => {
    assert.throws(
      () => decodeExample(new Uint8Array([0xff, 0xff, 0xff])),
      DataLossError,
    );
    assert.throws(() => decodeExample(new Uint8Array(0)), /exactly one value/);
  });
});

describe('TFRecord framing', () => {
  it('frames length, masked CRCs and payload', () => {
    const payload = Buffer.from('hello');
    const record = Buffer.from(frameRecord(payload));
    assert.equal(record.length, 8 + 4 + 5 + 4);
    assert.equal(record.readBigUInt64LE(0), 5n);
    assert.equal(
      record.readUInt32LE(8),
      maskCrc(crc32c(record.subarray(0, 8))),
    );
    assert.deepEqual(record.subarray(12, 17), payload);
    assert.equal(record.readUInt32LE(17), maskCrc(crc32c(payload)));
  });

  it('deframes records split across arbitrary chunks', () => {
    const payloads = ['a', '', 'bcd', 'x'.repeat(1000)].map(s =>
      Buffer.from(s),
    );
    const stream = Buffer.concat(payloads.map(p => frameRecord(p)));
    for (const step of [1, 3, 7, 64, stream.length]) {
      const deframer = new TfrecordDeframer();
      const out: string[] = [];
      for (let i = 0; i < stream.length; i += step) {
        for (const p of deframer.push(stream.subarray(i, i + step)))
          out.push(Buffer.from(p).toString());
      }
      deframer.end();
      assert.deepEqual(
        out,
        payloads.map(p => p.toString()),
      );
    }
  });

  it('detects a corrupt payload, a corrupt length and a truncated record', () => {
    const record = Buffer.from(frameRecord(Buffer.from('payload')));
    const badPayload = Buffer.from(record);
    badPayload[14] ^= 1;
    assert.throws(
      () => new TfrecordDeframer().push(badPayload),
      /payload CRC mismatch/,
    );
    const badLength = Buffer.from(record);
    badLength[0] ^= 1;
    assert.throws(
      () => new TfrecordDeframer().push(badLength),
      /length CRC mismatch/,
    );
    const deframer = new TfrecordDeframer();
    deframer.push(record.subarray(0, record.length - 1));
    assert.throws(() => deframer.end(), /truncated/);
  });
});

describe('TfrecordBlockEncoder', () => {
  it('writes exactly frameRecord(encodeExample(row)) for every row, on both copy paths', () => {
    const cases: Array<[number, number, number | undefined]> = [
      [1, 1, undefined],
      [10, 100, undefined],
      [37, 1234, undefined],
      [10, 100, 0], // the Buffer.copy path
      [37, 1234, 0],
    ];
    for (const [
      nTargetStoreIds,
      nCreativePackIds,
      wordTableMaxCreatives,
    ] of cases) {
      const model = buildModel({seed: 8, nTargetStoreIds, nCreativePackIds});
      const encoder = new TfrecordBlockEncoder(model, {wordTableMaxCreatives});
      const block = drawBlock(model, 8, 3000, 0, newRowBlock());
      // a reused buffer holds old bytes: the encoder must not depend on zeroed memory
      const dirty = Buffer.alloc(encoder.bytesFor(block.count), 0xab);
      const fast = encoder.encode(block, dirty);
      const rowOf = rowMaker(model);
      const slow: Uint8Array[] = [];
      for (let i = 0; i < block.count; i++) {
        slow.push(
          frameRecord(encodeExample(rowOf(block.creative[i], block.label[i]))),
        );
      }
      assert.ok(
        fast.equals(Buffer.concat(slow)),
        `${nTargetStoreIds} x ${nCreativePackIds}`,
      );
      assert.equal(encoder.recordBytes, tfrecordRecordBytes());
    }
  });

  it('refuses a buffer that is too small', () => {
    const model = buildModel({
      seed: 1,
      nTargetStoreIds: 2,
      nCreativePackIds: 2,
    });
    const encoder = new TfrecordBlockEncoder(model);
    const block = drawBlock(model, 1, 10, 0, newRowBlock());
    assert.throws(() => encoder.encode(block, Buffer.alloc(100)), RangeError);
  });
});
