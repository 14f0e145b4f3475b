/**
 * How a dataset is split into shards (docs/design.md §2, §3): how many, and which
 * rows each holds. Shard k holds rows [k * R, min((k + 1) * R, nSamples))
 * with R = ceil(blocks / S) * ROWS_PER_BLOCK, a whole number of row blocks,
 * so row i is the same sample (the same block stream) whatever S is.
 */
import {InvalidArgumentError} from '../errors.js';
import {ROWS_PER_BLOCK, blockCount} from './blocks.js';

export const MAX_SHARDS = 1024;
/** Up to this many rows a dataset is one file by default. */
export const SINGLE_FILE_MAX_ROWS = 33_554_432;
/** Past SINGLE_FILE_MAX_ROWS, the default shard holds about this many rows. */
export const DEFAULT_SHARD_ROWS = 16_777_216;

/** The rows of one shard: [start, end), a whole number of blocks (the last may be short). */
export interface ShardRange {
  index: number;
  /** how many shards the dataset has */
  count: number;
  start: number;
  end: number;
  firstBlock: number;
  /** one past the last block */
  endBlock: number;
}

/** 1 up to SINGLE_FILE_MAX_ROWS rows, else ceil(nSamples / DEFAULT_SHARD_ROWS). */
export function defaultShardCount(nSamples: number): number {
  return nSamples <= SINGLE_FILE_MAX_ROWS
    ? 1
    : Math.ceil(nSamples / DEFAULT_SHARD_ROWS);
}

/** Blocks per shard for S shards over `blocks` blocks. */
function blocksPerShard(blocks: number, shards: number): number {
  return Math.ceil(blocks / shards);
}

/**
 * The shard count for a request: the default when none is given; otherwise
 * an integer in 1..MAX_SHARDS for which every shard holds at least one block
 * (R = ceil(blocks / S) blocks must leave none of the S shards empty).
 */
export function resolveShardCount(
  nSamples: number,
  requested?: unknown,
  field = 'shards',
): number {
  const shards = requested ?? defaultShardCount(nSamples);
  if (
    typeof shards !== 'number' ||
    !Number.isInteger(shards) ||
    shards < 1 ||
    shards > MAX_SHARDS
  ) {
    throw new InvalidArgumentError(
      `${field} must be an integer in 1..${MAX_SHARDS}, got ${typeof shards === 'string' ? JSON.stringify(shards) : String(shards)}`,
      field,
    );
  }
  const blocks = blockCount(nSamples);
  if (shards > blocks) {
    throw new InvalidArgumentError(
      `${field} must be at most ${blocks} for ${nSamples} rows (each shard holds at least one ${ROWS_PER_BLOCK}-row block), got ${shards}`,
      field,
    );
  }
  const per = blocksPerShard(blocks, shards);
  if ((shards - 1) * per >= blocks) {
    // e.g. 5 blocks in 4 shards: R = 2 blocks fills 3 shards and leaves one empty.
    const used = Math.ceil(blocks / per);
    throw new InvalidArgumentError(
      `${field}: ${shards} shards of ${per} blocks each (${per * ROWS_PER_BLOCK} rows) cover ${nSamples} rows with ${used} shards and leave ${shards - used} empty; choose ${used} or ${shardsAbove(blocks, shards)}`,
      field,
    );
  }
  return shards;
}

/** The next shard count above `shards` that leaves no shard empty. */
function shardsAbove(blocks: number, shards: number): number {
  for (let s = shards + 1; s <= blocks; s++) {
    if ((s - 1) * blocksPerShard(blocks, s) < blocks) return s;
  }
  return blocks;
}

/** Every shard's rows, in order; `shards` must have passed resolveShardCount. */
export function shardPlan(nSamples: number, shards: number): ShardRange[] {
  return Array.from({length: shards}, (_, index) =>
    shardRange(nSamples, shards, index),
  );
}

/** Shard k of a plan, without building the others (for "write shard k of version N"). */
export function shardRange(
  nSamples: number,
  shards: number,
  index: number,
): ShardRange {
  if (!Number.isInteger(index) || index < 0 || index >= shards) {
    throw new RangeError(
      `shard index must be in 0..${shards - 1}, got ${index}`,
    );
  }
  const blocks = blockCount(nSamples);
  const per = blocksPerShard(blocks, shards);
  const firstBlock = index * per;
  const endBlock = Math.min(firstBlock + per, blocks);
  if (firstBlock >= endBlock) {
    throw new RangeError(
      `shard ${index} of ${shards} over ${nSamples} rows would be empty`,
    );
  }
  return {
    index,
    count: shards,
    start: firstBlock * ROWS_PER_BLOCK,
    end: Math.min(endBlock * ROWS_PER_BLOCK, nSamples),
    firstBlock,
    endBlock,
  };
}
