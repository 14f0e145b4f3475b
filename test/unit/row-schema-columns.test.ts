/**
 * Columns beyond today's three, as the logging policy will add them (issue
 * 15): the column list per config, a float64 column from a per-creative
 * dictionary, int64 and float64 columns from per-row arrays, through both
 * writers and both readers, whatever the shard split.
 */
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {parquetMetadata, parquetReadObjects} from 'hyparquet';
import {resolveConfig} from '../../shared/dataset/config.js';
import {DataLossError} from '../../shared/errors.js';
import {ParquetDatasetWriter} from '../../shared/formats/parquet/dataset-writer.js';
import {TfrecordBlockEncoder} from '../../shared/formats/tfrecord/block-encoder.js';
import {
  decodeExample,
  encodeExample,
} from '../../shared/formats/tfrecord/example.js';
import {
  exampleBytes,
  exampleLayout,
} from '../../shared/formats/tfrecord/example-size.js';
import {
  frameRecord,
  TfrecordDeframer,
} from '../../shared/formats/tfrecord/framing.js';
import {buildModel} from '../../shared/dataset/model.js';
import {readParquetRows} from '../../shared/formats/parquet/parquet-rows.js';
import {readTfrecordRows} from '../../shared/formats/tfrecord/tfrecord-rows.js';
import {
  BASE_SCHEMA,
  LABEL,
  BASE_COLUMNS,
  rowSchemaDescription,
  rowSchemaFor,
  rowSchemaOf,
  type ColumnDeclaration,
  type Row,
} from '../../shared/formats/row-schema.js';
import {FLOAT64, INT64, UTF8_STRING} from '../../shared/formats/value-types.js';
import {drawBlock, newRowBlock} from '../../shared/dataset/rows.js';
import {
  ADAPTIVE,
  CREATIVE_SCORE,
  creativeScore,
  drawExtraBlock,
  EPOCH_SCORE,
  epochOf,
  epochScore,
  EXTRA_DECLARATION,
  extraSchema,
  newExtraBlock,
  ROW_EPOCH,
  writeExtraDataset,
} from '../support/extra-columns.js';

const scratch = mkdtempSync(join(tmpdir(), 'exploration-row-columns-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

function arrayBufferOf(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(
    bytes.byteOffset,
    bytes.byteOffset + bytes.length,
  ) as ArrayBuffer;
}

describe('the column list of a config', () => {
  it('is the declared columns present for it, in declaration order', () => {
    const names = (config: object) =>
      rowSchemaFor(config, EXTRA_DECLARATION).names;
    const base = ['target_store_id', 'creative_pack_id', 'label'];
    assert.deepEqual(names({}), base);
    assert.deepEqual(names({loggingPolicy: undefined}), base);
    assert.deepEqual(names({loggingPolicy: null}), base);
    assert.deepEqual(names({loggingPolicy: {type: 'uniform'}}), [
      ...base,
      'creative_score',
    ]);
    assert.deepEqual(names({loggingPolicy: {adaptive: {k: 2}}}), [
      ...base,
      'creative_score',
      'row_epoch',
      'epoch_score',
    ]);
    // a resolved DatasetConfig is accepted as it is: today's columns
    const config = resolveConfig({seed: 1, nSamples: 10});
    assert.deepEqual(rowSchemaFor(config).names, base);
    assert.deepEqual(BASE_SCHEMA.names, base);
    assert.deepEqual(
      BASE_COLUMNS.map(c => c.name),
      base,
    );
  });

  it('resolves a source given per config', () => {
    const perConfig: ColumnDeclaration<'score', number> = {
      ...CREATIVE_SCORE,
      name: 'score',
      source: config =>
        config.loggingPolicy?.adaptive
          ? {from: 'row', field: 'score'}
          : {from: 'creative', dictionary: model => model.pairProbs},
    };
    const declaration = [...BASE_COLUMNS, perConfig];
    const fixed = rowSchemaFor({loggingPolicy: {}}, declaration);
    const adaptive = rowSchemaFor(ADAPTIVE, declaration);
    assert.equal(fixed.columns[3].source.from, 'creative');
    assert.equal(adaptive.columns[3].source.from, 'row');
    assert.deepEqual(
      adaptive.rowColumns.map(c => c.name),
      ['score'],
    );
  });

  it('refuses a schema without the base columns, with a name twice, or a string per row', () => {
    assert.throws(
      () => rowSchemaOf([BASE_COLUMNS[0], BASE_COLUMNS[1]]),
      /every dataset has column label/,
    );
    assert.throws(
      () => rowSchemaOf([...BASE_COLUMNS, ROW_EPOCH, ROW_EPOCH]),
      /row_epoch is declared twice/,
    );
    assert.throws(
      () =>
        rowSchemaOf([
          ...BASE_COLUMNS,
          {
            name: 'tag',
            type: UTF8_STRING,
            repetition: 'REQUIRED',
            source: {from: 'row', field: 'tag'},
            sample: '',
          },
        ]),
      /tag comes from a per-row array, so its value type must be numeric, not utf8/,
    );
  });

  it('describes every declared column and when a dataset has it', () => {
    const description = JSON.parse(
      JSON.stringify(rowSchemaDescription(EXTRA_DECLARATION)),
    );
    assert.deepEqual(
      description.columns.map(
        (c: {name: string; presentWhen: string | null; digest: string}) => [
          c.name,
          c.presentWhen,
          c.digest,
        ],
      ),
      [
        ['target_store_id', null, 'utf8'],
        ['creative_pack_id', null, 'utf8'],
        ['label', null, 'decimal'],
        ['creative_score', 'loggingPolicy', 'float32-bits'],
        ['row_epoch', 'loggingPolicy.adaptive', 'decimal'],
        ['epoch_score', 'loggingPolicy.adaptive', 'float32-bits'],
      ],
    );
    const score = description.columns[3];
    assert.deepEqual(score.parquet, {
      type: 'DOUBLE',
      convertedType: null,
      logicalType: null,
      repetition: 'REQUIRED',
    });
    assert.deepEqual(score.tf, {kind: 'float_list', dtype: 'float32'});
    assert.deepEqual(score.pandasDtypes, ['float64']);
    assert.deepEqual(score.arrowTypes, ['double']);
    assert.match(description.digestDefinition, /rounded to float32/);
  });
});

describe('FLOAT64 and INT64 values', () => {
  it('digest a float as the bits of its float32 rounding, in decimal', () => {
    const bits = (v: number) => new Int32Array(Float32Array.of(v).buffer)[0];
    for (const v of [0, 1, 0.1, 1 / 3, 1e-45, 3.5e38, -2.5]) {
      assert.equal(FLOAT64.digestText(v), String(bits(v)), String(v));
    }
    assert.equal(FLOAT64.digestText(1), '1065353216'); // 0x3f800000
    assert.equal(FLOAT64.digestText(0.1), '1036831949'); // 0x3dcccccd
    assert.equal(FLOAT64.digestText(1e-45), '1'); // the least subnormal
    assert.equal(FLOAT64.digestText(-0), '-2147483648');
    assert.equal(FLOAT64.digestText(0.1), FLOAT64.digestText(Math.fround(0.1)));
    assert.notEqual(FLOAT64.digestText(0.1), FLOAT64.digestText(0.1000001));
  });

  it('write their feature bytes as protobufjs does, and their sizes add up', () => {
    const schema = rowSchemaOf([...BASE_COLUMNS, EPOCH_SCORE, ROW_EPOCH]);
    const ints = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 40, -1];
    const floats = [0, -0, 0.1, 1 / 3, 1e-45, 3.5e38, NaN, -Infinity];
    for (const epoch of ints) {
      for (const score of floats) {
        const row = {
          ...BASE_SCHEMA.sampleRow,
          epoch_score: score,
          row_epoch: epoch,
        } as Row;
        const bytes = encodeExample(row, schema);
        const layout = exampleLayout(row, schema);
        assert.equal(layout.bytes, bytes.length);
        assert.equal(exampleBytes(row, schema), bytes.length);
        // each numeric value, written where the layout says, is the same bytes
        const patched = new Uint8Array(bytes.length);
        patched.set(bytes);
        const at = (name: string) =>
          layout.valueOffsets[schema.names.indexOf(name)];
        patched.fill(0xee, at('epoch_score'), at('epoch_score') + 4);
        FLOAT64.numeric?.writeFeature(score, patched, at('epoch_score'));
        const width = INT64.featureBytes(epoch);
        patched.fill(0xee, at('row_epoch'), at('row_epoch') + width);
        INT64.numeric?.writeFeature(epoch, patched, at('row_epoch'));
        assert.ok(Buffer.from(patched).equals(bytes), `${epoch}, ${score}`);
        const back = decodeExample(bytes, schema);
        assert.equal(back.row_epoch, epoch);
        assert.ok(Object.is(back.epoch_score, Math.fround(score)));
      }
    }
  });
});

describe('TfrecordBlockEncoder with per-row columns', () => {
  it('writes exactly frameRecord(encodeExample(row)) for every row, on both copy paths', () => {
    const schema = extraSchema();
    const values = [0, 1, 127, 128, 300, 16_384, -1, 7];
    const floats = [0.5, -0, 0, 1 / 3, NaN, 1e-45, 2.5];
    for (const wordTableMaxCreatives of [undefined, 0]) {
      const model = buildModel({
        seed: 9,
        nTargetStoreIds: 7,
        nCreativePackIds: 50,
      });
      const encoder = new TfrecordBlockEncoder(model, {
        schema,
        wordTableMaxCreatives,
      });
      const {rowAt} = schema.rowMaker(model);
      const block = newExtraBlock();
      for (let b = 0; b < 3; b++) {
        drawBlock(model, 9, 200_000, b, block);
        const epoch = block.perRow?.epoch as Int32Array;
        const score = block.perRow?.epochScore as Float64Array;
        for (let i = 0; i < block.count; i++) {
          // runs of equal values, changes of length, -0, NaN
          epoch[i] = values[(b + (i >> 9)) % values.length];
          score[i] = floats[(i >> 7) % floats.length] / (1 + block.creative[i]);
        }
        const dirty = Buffer.alloc(encoder.bytesFor(block.count), 0xab);
        const fast = encoder.encode(block, dirty);
        // each distinct row encoded once, by protobufjs
        const framed = new Map<string, Uint8Array>();
        const slow: Uint8Array[] = [];
        for (let i = 0; i < block.count; i++) {
          const s = Object.is(score[i], -0) ? '-0' : String(score[i]);
          const key = `${block.creative[i]} ${block.label[i]} ${epoch[i]} ${s}`;
          let record = framed.get(key);
          if (!record) {
            record = frameRecord(encodeExample(rowAt(block, i), schema));
            framed.set(key, record);
          }
          slow.push(record);
        }
        assert.ok(
          fast.equals(Buffer.concat(slow)),
          `block ${b}, word table max ${wordTableMaxCreatives}`,
        );
      }
    }
  });

  it('needs the per-row arrays its columns read', () => {
    const model = buildModel({
      seed: 1,
      nTargetStoreIds: 2,
      nCreativePackIds: 3,
    });
    const schema = extraSchema();
    const block = drawBlock(model, 1, 10, 0, newRowBlock());
    const encoder = new TfrecordBlockEncoder(model, {schema});
    assert.throws(
      () => encoder.encode(block, Buffer.alloc(encoder.bytesFor(10))),
      /row block at row 0 has no per-row array "epoch"/,
    );
    const parquet = new ParquetDatasetWriter(model, {createdBy: 't', schema});
    assert.throws(() => parquet.push(block), /no per-row array "epoch"/);
  });
});

describe('ParquetDatasetWriter with per-row columns', () => {
  it('round-trips through hyparquet: a dictionary per row group of the values met', async () => {
    const schema = extraSchema();
    const model = buildModel({
      seed: 2,
      nTargetStoreIds: 5,
      nCreativePackIds: 40,
    });
    const writer = new ParquetDatasetWriter(model, {
      createdBy: 'test',
      schema,
      rowGroupRows: 50_000,
      pageRows: 4096,
    });
    const {rowAt} = schema.rowMaker(model);
    const chunks: Uint8Array[] = [...writer.start()];
    const expected: Array<Record<string, unknown>> = [];
    const block = newExtraBlock();
    const nSamples = 140_000;
    for (let b = 0; b * 65_536 < nSamples; b++) {
      drawExtraBlock(model, 2, nSamples, b, block);
      for (let i = 0; i < block.count; i++) {
        const row = rowAt(block, i);
        expected.push(
          Object.fromEntries(
            schema.columns.map(c => [c.name, c.type.toParquet(row[c.name])]),
          ),
        );
      }
      chunks.push(...writer.push(block));
    }
    chunks.push(...writer.finish());
    const file = arrayBufferOf(Buffer.concat(chunks));
    const rows = await parquetReadObjects({file});
    assert.equal(rows.length, nSamples);
    assert.deepEqual(rows, expected);

    const metadata = parquetMetadata(file);
    assert.deepEqual(
      metadata.schema.slice(1).map(e => [e.name, e.type]),
      schema.columns.map(c => [c.name, c.type.parquet.type]),
    );
    assert.equal(metadata.row_groups.length, 3);
    for (const [g, group] of metadata.row_groups.entries()) {
      const inGroup = expected.slice(g * 50_000, (g + 1) * 50_000);
      for (const [k, chunk] of group.columns.entries()) {
        const name = schema.names[k];
        const values = inGroup.map(r => r[name] as number | bigint | string);
        const distinct = new Set(values);
        const stats = chunk.meta_data?.statistics;
        assert.equal(stats?.distinct_count, BigInt(distinct.size), name);
        const sorted = [...distinct].sort((a, b) =>
          a < b ? -1 : a > b ? 1 : 0,
        );
        assert.equal(stats?.min_value, sorted[0], name);
        assert.equal(stats?.max_value, sorted[sorted.length - 1], name);
        assert.ok(chunk.meta_data?.encodings.includes('RLE_DICTIONARY'));
      }
    }
  });

  it('writes several files in turn, each the bytes of a fresh writer', () => {
    // A shard worker keeps one writer for its shards (ShardBuffers.parquet):
    // start() must forget the last file's row groups and per-row dictionary.
    const schema = extraSchema();
    const model = buildModel({
      seed: 2,
      nTargetStoreIds: 5,
      nCreativePackIds: 40,
    });
    const options = {
      createdBy: 't',
      schema,
      rowGroupRows: 50_000,
      pageRows: 4096,
    };
    const fileOf = (
      writer: ParquetDatasetWriter,
      nSamples: number,
      seed: number,
    ): Buffer => {
      const chunks: Uint8Array[] = [...writer.start()];
      const block = newExtraBlock();
      for (let b = 0; b * 65_536 < nSamples; b++) {
        drawExtraBlock(model, seed, nSamples, b, block);
        chunks.push(...writer.push(block));
      }
      chunks.push(...writer.finish());
      return Buffer.concat(chunks);
    };
    const reused = new ParquetDatasetWriter(model, options);
    // the first file ends inside a row group: the second must not inherit it
    const first = fileOf(reused, 70_001, 2);
    const second = fileOf(reused, 120_000, 3);
    assert.ok(
      first.equals(fileOf(new ParquetDatasetWriter(model, options), 70_001, 2)),
    );
    assert.ok(
      second.equals(
        fileOf(new ParquetDatasetWriter(model, options), 120_000, 3),
      ),
    );
    assert.notEqual(first.length, second.length);
  });

  it('keeps -0 and 0 apart', async () => {
    const schema = rowSchemaOf([...BASE_COLUMNS, EPOCH_SCORE]);
    const model = buildModel({
      seed: 2,
      nTargetStoreIds: 1,
      nCreativePackIds: 2,
    });
    const writer = new ParquetDatasetWriter(model, {createdBy: 't', schema});
    const block = drawBlock(model, 2, 6, 0, {
      ...newRowBlock(),
      perRow: {epochScore: Float64Array.from([0, -0, 0, 0.5, -0, 0.5])},
    });
    const bytes = Buffer.concat([
      ...writer.start(),
      ...writer.push(block),
      ...writer.finish(),
    ]);
    const rows = await parquetReadObjects({file: arrayBufferOf(bytes)});
    assert.deepEqual(
      rows.map(r => Object.is(r.epoch_score, -0)),
      [false, true, false, false, true, false],
    );
  });
});

describe('a dataset with extra columns, written and read back', () => {
  const dataset = {
    seed: 11,
    nSamples: 200_000,
    nTargetStoreIds: 6,
    nCreativePackIds: 40,
  };
  const schema = extraSchema();
  const single = writeExtraDataset(join(scratch, 'one'), dataset, 1, schema);
  const one = (name: string) => readFileSync(join(scratch, 'one', name));

  it('holds the values of its sources, Parquet exact, TFRecord in float32', async () => {
    const {model} = single;
    const {rowAt} = schema.rowMaker(model);
    const block = newExtraBlock();
    const expected: Row[] = [];
    for (let b = 0; b < 4; b++) {
      drawExtraBlock(model, dataset.seed, dataset.nSamples, b, block);
      for (let i = 0; i < block.count; i++) expected.push(rowAt(block, i));
    }
    const parquet = await parquetReadObjects({
      file: arrayBufferOf(one('dataset_v1.parquet')),
    });
    assert.equal(parquet.length, dataset.nSamples);
    const deframer = new TfrecordDeframer();
    const payloads = deframer.push(one('dataset_v1.tfrecord'));
    deframer.end();
    assert.equal(payloads.length, dataset.nSamples);
    const epochs = new Set<number>();
    for (let r = 0; r < dataset.nSamples; r += 997) {
      const row = expected[r];
      const c = model.creativeIds.indexOf(row.creative_pack_id);
      const epoch = epochOf(Math.floor(r / 65_536));
      epochs.add(epoch);
      assert.equal(row.creative_score, creativeScore(c));
      assert.equal(row.epoch_score, epochScore(c, epoch));
      assert.equal(row.row_epoch, epoch);
      assert.deepEqual(
        {...parquet[r], label: Number(parquet[r].label)},
        {...row, row_epoch: BigInt(epoch), label: row[LABEL.name]},
      );
      assert.deepEqual(decodeExample(payloads[r], schema), {
        ...row,
        creative_score: Math.fround(creativeScore(c)),
        epoch_score: Math.fround(epochScore(c, epoch)),
      });
    }
    assert.deepEqual(
      [...epochs].sort((a, b) => a - b),
      [0, 100, 200, 300],
    );
  });

  it('reads back the same rows from both formats (our readers, row digests equal)', async () => {
    const parquet = await readParquetRows(
      join(scratch, 'one', 'dataset_v1.parquet'),
      schema,
    );
    const tfrecord = await readTfrecordRows(
      join(scratch, 'one', 'dataset_v1.tfrecord'),
      schema,
    );
    assert.equal(parquet.rows, dataset.nSamples);
    assert.equal(tfrecord.rows, dataset.nSamples);
    assert.equal(parquet.rowDigest, tfrecord.rowDigest);
    assert.equal(parquet.positives, tfrecord.positives);
    assert.deepEqual(parquet.perCreative, tfrecord.perCreative);
  });

  let singleRows: Array<Record<string, unknown>> | undefined;
  for (const shards of [2, 4]) {
    it(`is the same bytes in ${shards} shards: TFRecord concatenated, Parquet rows`, async () => {
      const dir = join(scratch, `shards-${shards}`);
      const files = writeExtraDataset(dir, dataset, shards, schema);
      const tfrecord = Buffer.concat(
        files.tfrecord.map(f => readFileSync(join(dir, f))),
      );
      assert.ok(tfrecord.equals(one('dataset_v1.tfrecord')));
      const rowsOf = async (bytes: Buffer) =>
        parquetReadObjects({file: arrayBufferOf(bytes)});
      let sharded: Array<Record<string, unknown>> = [];
      for (const f of files.parquet)
        sharded = sharded.concat(await rowsOf(readFileSync(join(dir, f))));
      singleRows ??= await rowsOf(one('dataset_v1.parquet'));
      assert.equal(sharded.length, dataset.nSamples);
      assert.deepEqual(sharded, singleRows);
    });
  }

  it('is refused by the readers of a schema without those columns', async () => {
    await assert.rejects(
      readParquetRows(join(scratch, 'one', 'dataset_v1.parquet')),
      (error: unknown) =>
        error instanceof DataLossError &&
        /columns are target_store_id BYTE_ARRAY, creative_pack_id BYTE_ARRAY, label INT64, creative_score DOUBLE, row_epoch INT64, epoch_score DOUBLE, expected target_store_id BYTE_ARRAY, creative_pack_id BYTE_ARRAY, label INT64$/.test(
          error.message,
        ),
    );
    await assert.rejects(
      readTfrecordRows(join(scratch, 'one', 'dataset_v1.tfrecord')),
      /features the dataset's row schema \(target_store_id, creative_pack_id, label\) does not: creative_score, row_epoch, epoch_score/,
    );
  });
});
