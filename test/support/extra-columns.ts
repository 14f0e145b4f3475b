/**
 * A row schema with the kinds of column the logging policy adds (issue 15),
 * to test the mechanism without a policy: a float64 per creative
 * (`creative_score`, like a non-adaptive pscore), an int64 per row
 * (`row_epoch`, like policy_epoch) and a float64 per row (`epoch_score`, like
 * an adaptive pscore), and a writer of such a dataset through the real
 * Parquet writer and TFRecord encoder, shard by shard.
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {ParquetDatasetWriter} from '../../shared/formats/parquet/dataset-writer.js';
import {TfrecordBlockEncoder} from '../../shared/formats/tfrecord/block-encoder.js';
import {buildModel, type DatasetModel} from '../../shared/dataset/model.js';
import {
  BASE_COLUMNS,
  rowSchemaFor,
  type ColumnDeclaration,
  type RowSchema,
  type RowSchemaConfig,
} from '../../shared/formats/row-schema.js';
import {FLOAT64, INT64} from '../../shared/formats/value-types.js';
import {ROWS_PER_BLOCK} from '../../shared/dataset/blocks.js';
import {drawBlock, type RowBlock} from '../../shared/dataset/rows.js';
import {shardPlan} from '../../shared/dataset/shard-plan.js';

/** A per-creative double that float32 cannot hold exactly. */
export function creativeScore(c: number): number {
  return 1 / (c + 3);
}

export const CREATIVE_SCORE: ColumnDeclaration<'creative_score', number> = {
  name: 'creative_score',
  type: FLOAT64,
  repetition: 'REQUIRED',
  source: {
    from: 'creative',
    dictionary: model =>
      Array.from(model.creativeIds, (_, c) => creativeScore(c)),
  },
  sample: 0,
  presentWhen: 'loggingPolicy',
};

export const ROW_EPOCH: ColumnDeclaration<'row_epoch', number> = {
  name: 'row_epoch',
  type: INT64,
  repetition: 'REQUIRED',
  source: {from: 'row', field: 'epoch'},
  sample: 0,
  presentWhen: 'loggingPolicy.adaptive',
};

export const EPOCH_SCORE: ColumnDeclaration<'epoch_score', number> = {
  name: 'epoch_score',
  type: FLOAT64,
  repetition: 'REQUIRED',
  source: {from: 'row', field: 'epochScore'},
  sample: 0,
  presentWhen: 'loggingPolicy.adaptive',
};

export const EXTRA_DECLARATION: readonly ColumnDeclaration[] = [
  ...BASE_COLUMNS,
  CREATIVE_SCORE,
  ROW_EPOCH,
  EPOCH_SCORE,
];

/** The config of an "adaptive" dataset: every extra column. */
export const ADAPTIVE: RowSchemaConfig = {
  loggingPolicy: {adaptive: {updateEveryBlocks: 2}},
};

export function extraSchema(config: RowSchemaConfig = ADAPTIVE): RowSchema {
  return rowSchemaFor(config, EXTRA_DECLARATION);
}

/**
 * Block b's epoch: b * 100, so that a 4-block dataset has epochs 0, 100,
 * 200 and 300 (200 is a 2-byte varint: the TFRecord records change length).
 */
export function epochOf(block: number): number {
  return block * 100;
}

export function epochScore(c: number, epoch: number): number {
  return 1 / (c + 2 + epoch);
}

/** A row block with the per-row arrays the extra columns read. */
export function newExtraBlock(): RowBlock {
  return {
    start: 0,
    count: 0,
    creative: new Int32Array(ROWS_PER_BLOCK),
    label: new Uint8Array(ROWS_PER_BLOCK),
    perRow: {
      epoch: new Int32Array(ROWS_PER_BLOCK),
      epochScore: new Float64Array(ROWS_PER_BLOCK),
    },
  };
}

/** drawBlock, then the per-row values: a function of (block, creative) only. */
export function drawExtraBlock(
  model: DatasetModel,
  seed: number,
  nSamples: number,
  b: number,
  block: RowBlock,
): RowBlock {
  drawBlock(model, seed, nSamples, b, block);
  const epoch = block.perRow?.epoch as Int32Array;
  const score = block.perRow?.epochScore as Float64Array;
  const e = epochOf(b);
  for (let i = 0; i < block.count; i++) {
    epoch[i] = e;
    score[i] = epochScore(block.creative[i], e);
  }
  return block;
}

export interface ExtraDataset {
  seed: number;
  nSamples: number;
  nTargetStoreIds: number;
  nCreativePackIds: number;
}

/**
 * Writes the dataset in `shards` shards into `dir` (dataset_v1.parquet and
 * .tfrecord, or dataset_v1-0000k-of-0000n.*), one TFRecord encoder for all
 * shards as the generator keeps one; returns the file names per format.
 */
export function writeExtraDataset(
  dir: string,
  dataset: ExtraDataset,
  shards: number,
  schema: RowSchema = extraSchema(),
): {parquet: string[]; tfrecord: string[]; model: DatasetModel} {
  mkdirSync(dir, {recursive: true});
  const model = buildModel(dataset);
  const encoder = new TfrecordBlockEncoder(model, {schema});
  const block = newExtraBlock();
  const slot = Buffer.alloc(encoder.bytesFor(ROWS_PER_BLOCK));
  const names = {parquet: [] as string[], tfrecord: [] as string[]};
  for (const shard of shardPlan(dataset.nSamples, shards).shards) {
    const suffix =
      shards === 1
        ? ''
        : `-${String(shard.index).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}`;
    const parquet = new ParquetDatasetWriter(model, {
      createdBy: 'test',
      schema,
    });
    const parquetChunks: Uint8Array[] = [...parquet.start()];
    const tfrecordChunks: Buffer[] = [];
    for (let b = shard.firstBlock; b < shard.endBlock; b++) {
      drawExtraBlock(model, dataset.seed, dataset.nSamples, b, block);
      parquetChunks.push(...parquet.push(block));
      tfrecordChunks.push(Buffer.from(encoder.encode(block, slot)));
    }
    parquetChunks.push(...parquet.finish());
    const parquetName = `dataset_v1${suffix}.parquet`;
    const tfrecordName = `dataset_v1${suffix}.tfrecord`;
    writeFileSync(join(dir, parquetName), Buffer.concat(parquetChunks));
    writeFileSync(join(dir, tfrecordName), Buffer.concat(tfrecordChunks));
    names.parquet.push(parquetName);
    names.tfrecord.push(tfrecordName);
  }
  return {...names, model};
}
