/**
 * The row schema (shared/formats/row-schema.ts) against what the files say: the
 * Parquet schema read back from a written file, the feature map of a written
 * tf.train.Example (walked byte by byte, without protobufjs), and the record
 * size the schema derives against written file sizes and the encoder.
 */
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {describe, it} from 'node:test';
import {parquetMetadata} from 'hyparquet';
import {encodeExample} from '../../shared/formats/tfrecord/example.js';
import {
  exampleBytes,
  tfrecordRecordBytes,
} from '../../shared/formats/tfrecord/example-size.js';
import {HEADER_BYTES} from '../../shared/formats/tfrecord/framing.js';
import {buildModel} from '../../shared/dataset/model.js';
import {RowCollector} from '../../shared/storage/sinks/row-sink.js';
import {
  BASE_SCHEMA,
  CREATIVE_PACK_ID,
  LABEL,
  BASE_COLUMNS,
  ROW_COLUMNS,
  rowSchemaDescription,
  TARGET_STORE_ID,
  valueOf,
  type Row,
} from '../../shared/formats/row-schema.js';
import {generateInMemory} from '../support/datasets.js';

/** A protobuf message's fields: [field number, wire type, bytes or varint]. */
function fields(bytes: Uint8Array): Array<[number, number, Uint8Array]> {
  const out: Array<[number, number, Uint8Array]> = [];
  let i = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[i++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return value;
    }
  };
  while (i < bytes.length) {
    const key = varint();
    const wire = key & 7;
    assert.ok(wire === 0 || wire === 2, `wire type ${wire}`);
    if (wire === 0) {
      const start = i;
      varint();
      out.push([key >>> 3, wire, bytes.subarray(start, i)]);
    } else {
      const length = varint();
      out.push([key >>> 3, wire, bytes.subarray(i, i + length)]);
      i += length;
    }
  }
  assert.equal(i, bytes.length, 'message ends on a field boundary');
  return out;
}

/** Example{features: Features{feature: map<string, Feature>}} -> [name, kind] in wire order. */
function featureMap(example: Uint8Array): Array<[string, string]> {
  const kinds = ['', 'bytes_list', 'float_list', 'int64_list'];
  const [[number, , features]] = fields(example);
  assert.equal(number, 1);
  return fields(features).map(([entryField, , entry]) => {
    assert.equal(entryField, 1);
    const [[keyField, , key], [valueField, , feature]] = fields(entry);
    assert.deepEqual([keyField, valueField], [1, 2]);
    const [[kind]] = fields(feature);
    return [Buffer.from(key).toString('utf8'), kinds[kind]];
  });
}

describe('row schema', () => {
  it('is what a written Parquet file declares (hyparquet reads the footer back)', async () => {
    const {destination} = await generateInMemory({seed: 5, nSamples: 1000});
    const file = destination.bytes('dataset_v1.parquet');
    const metadata = parquetMetadata(
      file.buffer.slice(
        file.byteOffset,
        file.byteOffset + file.length,
      ) as ArrayBuffer,
    );
    assert.equal(metadata.schema[0].num_children, BASE_SCHEMA.columns.length);
    assert.deepEqual(
      metadata.schema.slice(1).map(e => ({
        name: e.name,
        type: e.type,
        repetition: e.repetition_type,
        convertedType: e.converted_type,
        logicalType: e.logical_type,
      })),
      BASE_SCHEMA.columns.map(c => ({
        name: c.name,
        type: c.type.parquet.type,
        repetition: c.repetition,
        convertedType: c.type.parquet.convertedType,
        logicalType: c.type.parquet.logicalType,
      })),
    );
    for (const group of metadata.row_groups) {
      assert.deepEqual(
        group.columns.map(c => c.meta_data?.path_in_schema.join('.')),
        BASE_SCHEMA.names,
      );
    }
  });

  it('is the feature map of a written tf.train.Example, in column order', async () => {
    const {destination} = await generateInMemory({seed: 5, nSamples: 10});
    const tfrecord = destination.bytes('dataset_v1.tfrecord');
    const length = Number(tfrecord.readBigUInt64LE(0));
    const example = tfrecord.subarray(HEADER_BYTES, HEADER_BYTES + length);
    assert.deepEqual(
      featureMap(example),
      BASE_SCHEMA.columns.map(c => [c.name, c.type.tf.kind]),
    );
  });

  const shapes: Array<[number, number, number]> = [
    [1, 1, 1],
    [5000, 1, 1],
    [70_000, 10, 100],
    [65_537, 300, 20_000],
  ];
  for (const [nSamples, nTargetStoreIds, nCreativePackIds] of shapes) {
    it(`derives the TFRecord file size: ${nSamples} rows, ${nTargetStoreIds} x ${nCreativePackIds}`, async () => {
      const {destination, result} = await generateInMemory({
        seed: 6,
        nSamples,
        nTargetStoreIds,
        nCreativePackIds,
        formats: ['tfrecord'],
      });
      const bytes = destination.bytes('dataset_v1.tfrecord').length;
      assert.equal(bytes, nSamples * tfrecordRecordBytes());
      assert.equal(result.metadata.objects.tfrecord?.bytes, bytes);
    });
  }

  it('derives the Example size for any value lengths (varint boundaries included)', () => {
    for (const length of [0, 1, 17, 104, 105, 127, 128, 300, 16_383, 16_384]) {
      for (const label of [0, 1]) {
        const row = Object.fromEntries(
          BASE_SCHEMA.columns.map(c => [
            c.name,
            c.source.from === 'label' ? label : 'x'.repeat(length),
          ]),
        ) as Row;
        assert.equal(
          exampleBytes(row),
          encodeExample(row).length,
          `strings of ${length} bytes, label ${label}`,
        );
      }
    }
    assert.equal(
      exampleBytes(BASE_SCHEMA.sampleRow),
      encodeExample(BASE_SCHEMA.sampleRow).length,
    );
  });

  it('yields the model of docs/design.md §2 from a drawn creative and label', () => {
    const model = buildModel({
      seed: 3,
      nTargetStoreIds: 7,
      nCreativePackIds: 50,
    });
    const {rowOf} = BASE_SCHEMA.rowMaker(model);
    for (const c of [0, 1, 49]) {
      for (const label of [0, 1]) {
        const row = rowOf(c, label);
        assert.deepEqual(row, {
          target_store_id: model.targetIds[model.creativeTarget[c]],
          creative_pack_id: model.creativeIds[c],
          label,
        });
      }
    }
    assert.deepEqual(
      BASE_COLUMNS.map(c => c.name),
      [TARGET_STORE_ID.name, CREATIVE_PACK_ID.name, LABEL.name],
    );
    assert.deepEqual(
      ROW_COLUMNS.map(c => [c.name, c.presentWhen ?? null]),
      [
        [TARGET_STORE_ID.name, null],
        [CREATIVE_PACK_ID.name, null],
        [LABEL.name, null],
        ['pscore', 'loggingPolicy'],
        ['policy_epoch', 'loggingPolicy.adaptive'],
      ],
    );
  });

  it('digests a row as its columns joined by tabs, then a newline', () => {
    const rows: Row[] = [
      {...BASE_SCHEMA.sampleRow, [LABEL.name]: 0},
      {...BASE_SCHEMA.sampleRow, [LABEL.name]: 1},
    ];
    const lines = rows.map(
      r =>
        BASE_SCHEMA.columns.map(c => String(valueOf(r, c))).join('\t') + '\n',
    );
    assert.deepEqual(
      rows.map(r => BASE_SCHEMA.digestLine(r)),
      lines,
    );
    const collector = new RowCollector();
    for (const row of rows) collector.add(row);
    const summary = collector.summary();
    assert.equal(
      summary.rowDigest,
      createHash('sha256').update(lines.join(''), 'utf8').digest('hex'),
    );
    assert.equal(summary.positives, 1);
  });

  it('describes itself to the Python readers as JSON', () => {
    const description = JSON.parse(JSON.stringify(rowSchemaDescription()));
    assert.deepEqual(
      description.columns.map(
        (c: {name: string; parquet: {type: string}; tf: {dtype: string}}) => [
          c.name,
          c.parquet.type,
          c.tf.dtype,
        ],
      ),
      [
        ['target_store_id', 'BYTE_ARRAY', 'string'],
        ['creative_pack_id', 'BYTE_ARRAY', 'string'],
        ['label', 'INT64', 'int64'],
        ['pscore', 'DOUBLE', 'float32'],
        ['policy_epoch', 'INT64', 'int64'],
      ],
    );
    for (const role of Object.values(description.roles))
      assert.ok(BASE_SCHEMA.names.includes(role as string), String(role));
  });
});
