/**
 * Exact policy values on the model (docs/design.md §12): a row's store is
 * t ~ p(t) = |C_t| / nCreativePackIds, so
 *
 *   V(pi) = sum_t p(t) sum_{c in C_t} pi(c|t) q_c,
 *
 * uniform = the mean of q_c over all creatives, best = sum_t p(t) max_{C_t} q_c.
 * Stores without creatives contribute nothing. Sums are compensated
 * (Neumaier), so a value is within a few ulps of the exact sum of its terms
 * whatever C.
 */
import type {DatasetModel} from '../dataset/model.js';
import {storesOf} from './stores.js';

/** Neumaier's compensated sum, added to term by term. */
export class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(x: number): void {
    const t = this.sum + x;
    if (Math.abs(this.sum) >= Math.abs(x)) {
      this.compensation += this.sum - t + x;
    } else {
      this.compensation += x - t + this.sum;
    }
    this.sum = t;
  }

  value(): number {
    return this.sum + this.compensation;
  }
}

export interface PolicyValues {
  logging: number;
  uniform: number;
  best: number;
}

/** V(pi) for pi[c] = pi(c | m(c)). */
export function policyValue(pi: Float64Array, model: DatasetModel): number {
  const {offsets, creatives, nStores, nCreatives} = storesOf(model);
  if (pi.length !== nCreatives) {
    throw new RangeError(
      `${pi.length} probabilities for ${nCreatives} creatives`,
    );
  }
  const q = model.pairProbs;
  const total = new CompensatedSum();
  for (let t = 0; t < nStores; t++) {
    const from = offsets[t];
    const to = offsets[t + 1];
    if (from === to) continue;
    const store = new CompensatedSum();
    for (let i = from; i < to; i++) {
      const c = creatives[i];
      store.add(pi[c] * q[c]);
    }
    total.add(((to - from) / nCreatives) * store.value());
  }
  return total.value();
}

/** V(uniform): the mean of q_c. */
export function uniformValue(model: DatasetModel): number {
  const q = model.pairProbs;
  const total = new CompensatedSum();
  for (let c = 0; c < q.length; c++) total.add(q[c]);
  return total.value() / q.length;
}

/** argmax_{C_t} q_c per store (lowest index on ties); -1 for a store without creatives. */
export function bestCreative(model: DatasetModel): Int32Array {
  const {offsets, creatives, nStores} = storesOf(model);
  const q = model.pairProbs;
  const best = new Int32Array(nStores).fill(-1);
  for (let t = 0; t < nStores; t++) {
    const from = offsets[t];
    const to = offsets[t + 1];
    if (from === to) continue;
    let b = creatives[from];
    for (let i = from + 1; i < to; i++) {
      if (q[creatives[i]] > q[b]) b = creatives[i];
    }
    best[t] = b;
  }
  return best;
}

/** metadata.best_creative: {target id: creative id}, stores in index order, empty ones absent. */
export function bestCreativeIds(model: DatasetModel): Record<string, string> {
  const best = bestCreative(model);
  const ids: Record<string, string> = {};
  for (let t = 0; t < best.length; t++) {
    if (best[t] >= 0) ids[model.targetIds[t]] = model.creativeIds[best[t]];
  }
  return ids;
}

/** V(best) = sum_t p(t) max_{C_t} q_c. */
export function bestValue(model: DatasetModel): number {
  const best = bestCreative(model);
  const {offsets, nCreatives} = storesOf(model);
  const q = model.pairProbs;
  const total = new CompensatedSum();
  for (let t = 0; t < best.length; t++) {
    if (best[t] < 0) continue;
    total.add(((offsets[t + 1] - offsets[t]) / nCreatives) * q[best[t]]);
  }
  return total.value();
}

/** metadata.policy_values of a non-adaptive logging policy pi. */
export function policyValues(
  pi: Float64Array,
  model: DatasetModel,
): PolicyValues {
  return {
    logging: policyValue(pi, model),
    uniform: uniformValue(model),
    best: bestValue(model),
  };
}
