/**
 * pi(c | m(c)) for every creative c, one Float64Array in creative index
 * order, each store's entries a distribution over its creatives
 * (docs/design.md §12):
 *
 * - uniform: 1 / |C_t|;
 * - softmax: exp(beta * (s_c - max_{C_t} s)) / sum over C_t (for beta < 0,
 *   min instead of max), so every exponent is <= 0 and |beta| up to 1e6
 *   neither overflows nor loses the largest weight; beta = 0 is uniform;
 * - epsilon-greedy: epsilon / |C_t|, plus 1 - epsilon on the creative of C_t
 *   with the highest score (lowest index on ties).
 *
 * O(C) over the store index; an adaptive policy's `adaptive` member is
 * ignored here (its scores are the caller's).
 */
import type {DatasetModel} from '../dataset/model.js';
import type {LoggingPolicy} from './spec.js';
import {storesOf, type StoreIndex} from './stores.js';

export function uniformProbabilities(model: DatasetModel): Float64Array {
  return uniformOver(storesOf(model));
}

function uniformOver(stores: StoreIndex): Float64Array {
  const {offsets, creatives} = stores;
  const pi = new Float64Array(stores.nCreatives);
  for (let t = 0; t < stores.nStores; t++) {
    const from = offsets[t];
    const to = offsets[t + 1];
    const p = 1 / (to - from);
    for (let i = from; i < to; i++) pi[creatives[i]] = p;
  }
  return pi;
}

function softmaxOver(
  stores: StoreIndex,
  scores: Float64Array,
  beta: number,
): Float64Array {
  if (beta === 0) return uniformOver(stores);
  const {offsets, creatives} = stores;
  const pi = new Float64Array(stores.nCreatives);
  for (let t = 0; t < stores.nStores; t++) {
    const from = offsets[t];
    const to = offsets[t + 1];
    if (from === to) continue;
    // the score with the largest beta * s: exponents beta * (s - ref) <= 0
    let ref = scores[creatives[from]];
    for (let i = from + 1; i < to; i++) {
      const s = scores[creatives[i]];
      if (beta > 0 ? s > ref : s < ref) ref = s;
    }
    let sum = 0;
    for (let i = from; i < to; i++) {
      const c = creatives[i];
      const s = scores[c];
      // s === ref also when both are infinite, where s - ref would be NaN
      const w = s === ref ? 1 : Math.exp(beta * (s - ref));
      pi[c] = w;
      sum += w;
    }
    for (let i = from; i < to; i++) pi[creatives[i]] /= sum;
  }
  return pi;
}

function epsilonGreedyOver(
  stores: StoreIndex,
  scores: Float64Array,
  epsilon: number,
): Float64Array {
  const {offsets, creatives} = stores;
  const pi = new Float64Array(stores.nCreatives);
  for (let t = 0; t < stores.nStores; t++) {
    const from = offsets[t];
    const to = offsets[t + 1];
    if (from === to) continue;
    const spread = epsilon / (to - from);
    let best = creatives[from];
    for (let i = from; i < to; i++) {
      const c = creatives[i];
      pi[c] = spread;
      if (scores[c] > scores[best]) best = c; // strict: lowest index on ties
    }
    pi[best] = 1 - epsilon + spread;
  }
  return pi;
}

/**
 * pi[c] = pi(c | m(c)) of `policy` over `scores` (one per creative; unused
 * by uniform).
 */
export function policyProbabilities(
  policy: LoggingPolicy,
  scores: Float64Array,
  model: DatasetModel,
): Float64Array {
  const stores = storesOf(model);
  if (policy.type !== 'uniform' && scores.length !== stores.nCreatives) {
    throw new RangeError(
      `${scores.length} scores for ${stores.nCreatives} creatives`,
    );
  }
  switch (policy.type) {
    case 'uniform':
      return uniformOver(stores);
    case 'softmax':
      return softmaxOver(stores, scores, policy.beta);
    case 'epsilon-greedy':
      return epsilonGreedyOver(stores, scores, policy.epsilon);
  }
}
