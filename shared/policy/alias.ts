/**
 * The row sampler of a non-uniform policy (docs/design.md §12): a row's
 * creative c has probability P(c) = p(m(c)) * pi(c | m(c)), drawn from a
 * Walker/Vose alias table: column i = nextBelow(C), then one nextUint32 u;
 * the row takes i when u < threshold[i], else alias[i].
 *
 * Precision: the table is built in integers. Store t gets exactly
 * |C_t| * 2^32 units (so p(t) = |C_t| / C exactly), shared among its
 * creatives as W_c = round(pi_c * |C_t| * 2^32), the rounding remainder
 * handed out one unit at a time to the store's creatives with W_c > 0 in
 * index order. Vose's construction then moves whole units, so the drawn
 * probability of c is exactly W_c / (C * 2^32), and
 * |drawn pi(c|t) - pi(c|t)| <= (1 + ceil(|remainder_t| / k_t)) / (|C_t| * 2^32)
 * with k_t the store's creatives of positive weight (the product pi * units
 * rounds by <= 1/4 unit, round() by 1/2): in practice 2 units, 2^-31 / |C_t|.
 * A creative with pi = 0 is never drawn.
 * The construction (stack order included) is part of the generator's
 * contract: the rows depend on it.
 */
import {MAX_BOUND, type Xoshiro128ss} from '../dataset/prng.js';
import type {DatasetModel} from '../dataset/model.js';
import {storesOf} from './stores.js';

/** What sampling draws from: a stream of shared/prng.ts. */
export type RowRandom = Pick<Xoshiro128ss, 'nextBelow' | 'nextUint32'>;

/** A column's capacity: one nextUint32 below it takes the column. */
export const UNITS_PER_COLUMN = 0x1_0000_0000;
/** A store's probabilities may miss 1 by this much before they are refused. */
const SUM_TOLERANCE = 1e-9;

export class AliasTable {
  constructor(
    /** C: the columns, one per creative */
    readonly size: number,
    /** integers in [0, 2^32]: 2^32 = always the column */
    readonly thresholds: Float64Array,
    readonly alias: Int32Array,
  ) {}

  /** A row's creative: nextBelow(C), then one nextUint32 against the threshold. */
  sample(rng: RowRandom): number {
    const i = rng.nextBelow(this.size);
    return rng.nextUint32() < this.thresholds[i] ? i : this.alias[i];
  }
}

/**
 * W_c in units of 2^-32 / C: integers, store t's summing to exactly
 * |C_t| * 2^32 (see the header for the rounding). `pi` must be a
 * distribution on every store with creatives (within 1e-9).
 */
export function rowUnitWeights(
  pi: Float64Array,
  model: DatasetModel,
): Float64Array {
  const {offsets, creatives, nStores, nCreatives} = storesOf(model);
  if (pi.length !== nCreatives) {
    throw new RangeError(
      `${pi.length} probabilities for ${nCreatives} creatives`,
    );
  }
  const weights = new Float64Array(nCreatives);
  for (let t = 0; t < nStores; t++) {
    const from = offsets[t];
    const to = offsets[t + 1];
    if (from === to) continue;
    const budget = (to - from) * UNITS_PER_COLUMN;
    let sum = 0;
    let rounded = 0;
    for (let i = from; i < to; i++) {
      const c = creatives[i];
      const p = pi[c];
      if (!(p >= 0 && p <= 1)) {
        throw new RangeError(`pi of creative ${c} is ${p}, outside [0, 1]`);
      }
      sum += p;
      const w = Math.round(p * budget);
      weights[c] = w;
      rounded += w;
    }
    if (Math.abs(sum - 1) > SUM_TOLERANCE) {
      throw new RangeError(`pi of store ${t} sums to ${sum}, not 1`);
    }
    let remainder = budget - rounded;
    while (remainder !== 0) {
      const before = remainder;
      for (let i = from; i < to && remainder !== 0; i++) {
        const c = creatives[i];
        if (remainder > 0 && weights[c] > 0) {
          weights[c]++;
          remainder--;
        } else if (remainder < 0 && weights[c] > 1) {
          weights[c]--;
          remainder++;
        }
      }
      if (remainder === before) {
        throw new RangeError(
          `store ${t}'s weights cannot take ${remainder} units`,
        );
      }
    }
  }
  return weights;
}

/**
 * Vose's alias table over integer weights whose mean is exactly 2^32 per
 * column. A column of exactly 2^32 is done at once (threshold 2^32, its own
 * alias); small ones (< 2^32) sit on a stack from the front of one work
 * array, large ones (> 2^32) on a stack from its back; each step fills the
 * last small column from the last large one.
 */
export function buildAliasTable(weights: Float64Array): AliasTable {
  const n = weights.length;
  if (n < 1 || n > MAX_BOUND) {
    throw new RangeError(
      `an alias table takes 1..${MAX_BOUND} columns, got ${n}`,
    );
  }
  const w = Float64Array.from(weights);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(w[i]) || w[i] < 0) {
      throw new RangeError(
        `weight ${i} is ${w[i]}, not a whole number of units`,
      );
    }
    total += w[i];
  }
  if (total !== n * UNITS_PER_COLUMN) {
    throw new RangeError(`weights sum to ${total}, not ${n} * 2^32`);
  }
  const thresholds = new Float64Array(n);
  const alias = new Int32Array(n);
  const work = new Int32Array(n);
  let small = 0; // work[0 .. small): small columns
  let large = n; // work[large .. n): large columns
  const place = (i: number) => {
    if (w[i] < UNITS_PER_COLUMN) work[small++] = i;
    else if (w[i] > UNITS_PER_COLUMN) work[--large] = i;
    else {
      thresholds[i] = UNITS_PER_COLUMN;
      alias[i] = i;
    }
  };
  for (let i = 0; i < n; i++) place(i);
  while (small > 0 && large < n) {
    const s = work[--small];
    const l = work[large++];
    thresholds[s] = w[s];
    alias[s] = l;
    w[l] -= UNITS_PER_COLUMN - w[s];
    place(l);
  }
  // Whole units throughout, so both stacks run out together.
  if (small > 0 || large < n) {
    throw new Error('alias table: units do not balance (internal error)');
  }
  return new AliasTable(n, thresholds, alias);
}

/** The sampler of rows under pi: P(c) = p(m(c)) * pi(c | m(c)), as W_c / (C * 2^32). */
export function rowSampler(pi: Float64Array, model: DatasetModel): AliasTable {
  return buildAliasTable(rowUnitWeights(pi, model));
}
