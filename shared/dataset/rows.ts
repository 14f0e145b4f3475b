/**
 * Rows, drawn block by block: block b holds rows [b * ROWS_PER_BLOCK, ...)
 * and draws from its own stream, so the rows do not depend on how the work
 * is chunked, shared out or resumed.
 */
import type {DatasetModel} from './model.js';
import {blockCount, ROWS_PER_BLOCK} from './blocks.js';
import {rowBlockStream, streamFor} from './prng.js';

/** A run of consecutive rows; buffers are reused, so copy what you keep. */
export interface RowBlock {
  /** index of the first row in the dataset */
  start: number;
  count: number;
  /** creative pack index c of each row (the target is model.creativeTarget[c]) */
  creative: Int32Array;
  /** label of each row, 0 or 1 */
  label: Uint8Array;
  /**
   * Per-row values for the row schema's `row` sources, by field name
   * (row-schema.ts ColumnSource); absent for a dataset that has none.
   */
  perRow?: Readonly<Record<string, Float64Array | Int32Array>>;
  /**
   * For a `row` field that is, in this block, a function of the row's
   * creative: that function, `perRow[field][i] === perCreative[field][creative[i]]`
   * (pscore under a fixed policy, or within one epoch). The Parquet writer
   * then indexes such a column per creative instead of hashing every row;
   * the bytes are the same.
   */
  perCreative?: Readonly<Record<string, Float64Array>>;
}

/** Fills `block` with the rows of block `blockIndex`. */
export function drawBlock(
  model: DatasetModel,
  seed: number,
  nSamples: number,
  blockIndex: number,
  block: RowBlock,
): RowBlock {
  const start = blockIndex * ROWS_PER_BLOCK;
  const count = Math.min(ROWS_PER_BLOCK, nSamples - start);
  const rng = streamFor(seed, rowBlockStream(blockIndex));
  const nCreatives = model.creativeIds.length;
  const thresholds = model.labelThresholds;
  const creative = block.creative;
  const label = block.label;
  for (let i = 0; i < count; i++) {
    const c = rng.nextBelow(nCreatives);
    creative[i] = c;
    label[i] = rng.nextUint32() < thresholds[c] ? 1 : 0;
  }
  block.start = start;
  block.count = count;
  return block;
}

export function newRowBlock(): RowBlock {
  return {
    start: 0,
    count: 0,
    creative: new Int32Array(ROWS_PER_BLOCK),
    label: new Uint8Array(ROWS_PER_BLOCK),
  };
}

/** Every block of the dataset, in order, in one reused buffer. */
export function* rowBlocks(
  model: DatasetModel,
  seed: number,
  nSamples: number,
): Generator<RowBlock> {
  const block = newRowBlock();
  const blocks = blockCount(nSamples);
  for (let b = 0; b < blocks; b++) {
    yield drawBlock(model, seed, nSamples, b, block);
  }
}
