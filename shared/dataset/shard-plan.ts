/**
 * How a dataset is split into shards (docs/design.md §2, §3): how many, and
 * which rows each holds. The B = ceil(nSamples / 65,536) blocks are split as
 * evenly as whole blocks allow: shard k of S holds blocks
 * [floor(k*B/S), floor((k+1)*B/S)), so every S in 1..min(1,024, B) is valid
 * and row i is the same sample (the same block stream) whatever S is.
 * shardRange is the one place this formula lives.
 */
import {InvalidArgumentError} from '../errors.js';
import {ROWS_PER_BLOCK, blockCount} from './blocks.js';
import {isThisGenerator} from './generator-version.js';

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

/** A dataset's shards: `count` ranges covering rows 0..nSamples in order. */
export interface ShardPlan {
  nSamples: number;
  /** ceil(nSamples / ROWS_PER_BLOCK) */
  blocks: number;
  count: number;
  shards: readonly ShardRange[];
}

/** 1 up to SINGLE_FILE_MAX_ROWS rows, else ceil(nSamples / DEFAULT_SHARD_ROWS). */
export function defaultShardCount(nSamples: number): number {
  return nSamples <= SINGLE_FILE_MAX_ROWS
    ? 1
    : Math.ceil(nSamples / DEFAULT_SHARD_ROWS);
}

/** The largest shard count for nSamples rows: min(MAX_SHARDS, B), one block per shard at least. */
export function maxShardCount(nSamples: number): number {
  return Math.min(MAX_SHARDS, blockCount(nSamples));
}

/**
 * The shard count for a request: the default when none is given; otherwise
 * an integer in 1..min(MAX_SHARDS, B). Errors name the field and the bound.
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
  return shards;
}

/**
 * Shard k of S: blocks [floor(k*B/S), floor((k+1)*B/S)). Throws a
 * RangeError for a count or index out of range (a count that has passed
 * resolveShardCount never is).
 */
export function shardRange(
  nSamples: number,
  shards: number,
  index: number,
): ShardRange {
  const blocks = blockCount(nSamples);
  if (
    !Number.isInteger(shards) ||
    shards < 1 ||
    shards > Math.min(MAX_SHARDS, blocks)
  ) {
    throw new RangeError(
      `a shard count for ${nSamples} rows must be in 1..${Math.min(MAX_SHARDS, blocks)}, got ${shards}`,
    );
  }
  if (!Number.isInteger(index) || index < 0 || index >= shards) {
    throw new RangeError(
      `shard index must be in 0..${shards - 1}, got ${index}`,
    );
  }
  // k * B < 2^24 * 2^10: exact in float64.
  const firstBlock = Math.floor((index * blocks) / shards);
  const endBlock = Math.floor(((index + 1) * blocks) / shards);
  return {
    index,
    count: shards,
    start: firstBlock * ROWS_PER_BLOCK,
    end: Math.min(endBlock * ROWS_PER_BLOCK, nSamples),
    firstBlock,
    endBlock,
  };
}

/** Every shard's rows, in order (the count checked as shardRange does). */
export function shardPlan(nSamples: number, shards: number): ShardPlan {
  return {
    nSamples,
    blocks: blockCount(nSamples),
    count: shards,
    shards: Array.from({length: shards}, (_, index) =>
      shardRange(nSamples, shards, index),
    ),
  };
}

/** The plan of a resolved config (its `shards` has passed resolveShardCount). */
export function planOf(config: {nSamples: number; shards: number}): ShardPlan {
  return shardPlan(config.nSamples, config.shards);
}

/**
 * Why the row counts a version's metadata lists for its shards are not its
 * plan's, or undefined. A version of this generator holds exactly
 * shardPlan's rows. One written by another generator (0.2.0 and before put
 * ceil(B/S) blocks in each shard) is read as its metadata lists it, never
 * re-planned: only the shape every plan has is checked (each shard whole
 * blocks but the last, none empty, the rows adding up to nSamples).
 */
export function shardRowsMismatch(
  nSamples: number,
  rows: readonly number[],
  generator: {name: string; version: string},
): string | undefined {
  const count = rows.length;
  const max = maxShardCount(nSamples);
  if (count < 1 || count > max)
    return `${count} shards for ${nSamples} rows; a plan has 1..${max}`;
  if (isThisGenerator(generator)) {
    const plan = shardPlan(nSamples, count);
    for (const shard of plan.shards) {
      const expected = shard.end - shard.start;
      if (rows[shard.index] !== expected)
        return `shard ${shard.index} has ${rows[shard.index]} rows, expected ${expected} (rows ${shard.start}..${shard.end - 1})`;
    }
    return undefined;
  }
  let total = 0;
  for (const [k, n] of rows.entries()) {
    if (!Number.isSafeInteger(n) || n < 1)
      return `shard ${k} has ${n} rows; every shard holds at least one`;
    if (k < count - 1 && n % ROWS_PER_BLOCK !== 0)
      return `shard ${k} has ${n} rows, not a whole number of ${ROWS_PER_BLOCK}-row blocks`;
    total += n;
  }
  if (total !== nSamples)
    return `the shards hold ${total} rows, the config ${nSamples}`;
  return undefined;
}
