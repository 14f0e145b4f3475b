/**
 * The policy of POST /evaluatePolicy and `exploration-data evaluate`
 * (docs/design.md §12): a named non-adaptive policy, or a table
 * `{"probs": {creative id: prob}}` checked against the version's model,
 * and the probabilities pi(c | m(c)) it stands for.
 */
import {InvalidArgumentError} from '../errors.js';
import type {DatasetModel} from '../dataset/model.js';
import {policyProbabilities} from './probabilities.js';
import {trueScores} from './scores.js';
import {
  describeValue,
  isPlainObject,
  parseLoggingPolicy,
  type LoggingPolicy,
} from './spec.js';
import {storesOf} from './stores.js';
import {CompensatedSum} from './values.js';

/** Named creatives of a store must sum to 1 within this. */
export const PROBS_SUM_TOLERANCE = 1e-9;

export interface NamedEvaluationPolicy {
  kind: 'named';
  /** resolved, never adaptive */
  policy: LoggingPolicy;
}

export interface ProbsEvaluationPolicy {
  kind: 'probs';
  /** Float64Array(C): the given probability, 0 for creatives not named */
  probs: Float64Array;
  /** Uint8Array(T): 1 for a store with a named creative (the table decides it) */
  namedStores: Uint8Array;
  /** how many creatives the table names */
  namedCreatives: number;
}

export type EvaluationPolicy = NamedEvaluationPolicy | ProbsEvaluationPolicy;

const PATH = 'policy';

function parseProbs(
  value: unknown,
  model: DatasetModel,
): ProbsEvaluationPolicy {
  const field = `${PATH}.probs`;
  if (!isPlainObject(value)) {
    throw new InvalidArgumentError(
      `${field} must be an object {creative id: probability}, got ${describeValue(value)}`,
      field,
    );
  }
  const keys = Object.keys(value);
  const given = new Map<string, number>();
  for (const id of keys) {
    const p = value[id];
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) {
      throw new InvalidArgumentError(
        `${field}[${JSON.stringify(id)}] must be a finite number in [0, 1], got ${describeValue(p)}`,
        field,
      );
    }
    given.set(id, p);
  }
  const nCreatives = model.creativeIds.length;
  const probs = new Float64Array(nCreatives);
  const namedStores = new Uint8Array(model.targetIds.length);
  const named = new Uint8Array(nCreatives);
  let found = 0;
  if (given.size > 0) {
    for (let c = 0; c < nCreatives && found < given.size; c++) {
      const p = given.get(model.creativeIds[c]);
      if (p === undefined) continue;
      probs[c] = p;
      named[c] = 1;
      namedStores[model.creativeTarget[c]] = 1;
      found++;
    }
  }
  if (found < given.size) {
    const known = new Set<string>();
    for (let c = 0; c < nCreatives; c++) {
      if (named[c]) known.add(model.creativeIds[c]);
    }
    const unknown = keys.find(id => !known.has(id));
    throw new InvalidArgumentError(
      `${field} names ${JSON.stringify(unknown)}, which is not a creative of this version`,
      field,
    );
  }
  const {offsets, creatives, nStores} = storesOf(model);
  for (let t = 0; t < nStores; t++) {
    if (!namedStores[t]) continue;
    const sum = new CompensatedSum();
    for (let i = offsets[t]; i < offsets[t + 1]; i++)
      sum.add(probs[creatives[i]]);
    const total = sum.value();
    if (!(Math.abs(total - 1) <= PROBS_SUM_TOLERANCE)) {
      throw new InvalidArgumentError(
        `${field} must sum to 1 (within ${PROBS_SUM_TOLERANCE}) over the creatives it names of each store; store ${JSON.stringify(model.targetIds[t])} sums to ${total}`,
        field,
      );
    }
  }
  return {kind: 'probs', probs, namedStores, namedCreatives: found};
}

/**
 * Validates the `policy` of an evaluation against the version's model.
 * `{"probs": ...}`: every key a creative (else `policy.probs` naming the
 * id), every value a finite number in [0, 1], each store it names summing
 * to 1 within 1e-9 (its unnamed creatives get 0); values are checked
 * before ids. Anything else is a named policy, as for loggingPolicy but
 * under `policy.` and never adaptive.
 */
export function parseEvaluationPolicy(
  value: unknown,
  model: DatasetModel,
): EvaluationPolicy {
  if (value === undefined) {
    throw new InvalidArgumentError(
      `${PATH} is required: a named policy such as {"type": "softmax", "beta": 10} or {"probs": {creative id: probability}}`,
      PATH,
    );
  }
  if (isPlainObject(value) && Object.hasOwn(value, 'probs')) {
    for (const key of Object.keys(value)) {
      if (key !== 'probs') {
        throw new InvalidArgumentError(
          `${PATH}.${key} is not a member of a probability table; allowed: probs`,
          `${PATH}.${key}`,
        );
      }
    }
    return parseProbs(value.probs, model);
  }
  const policy = parseLoggingPolicy(value, {
    nCreativePackIds: model.creativeIds.length,
    path: PATH,
    allowAdaptive: false,
  });
  return {kind: 'named', policy};
}

/**
 * pi(c | m(c)) of the evaluated policy. A table's stores take its
 * probabilities; the stores it leaves out take `loggingProbabilities`, the
 * version's logging pi (uniform for a version without a policy; for an
 * adaptive one, its row-weighted mixture: ProbabilityMixture).
 */
export function evaluationProbabilities(
  evaluation: EvaluationPolicy,
  model: DatasetModel,
  loggingProbabilities: Float64Array,
  noise: () => Float64Array,
): Float64Array {
  if (evaluation.kind === 'named') {
    const policy = evaluation.policy;
    const scores =
      policy.type === 'uniform'
        ? model.pairProbs
        : trueScores(model, policy.scoreNoise, noise);
    return policyProbabilities(policy, scores, model);
  }
  const {probs, namedStores} = evaluation;
  if (loggingProbabilities.length !== probs.length) {
    throw new RangeError(
      `${loggingProbabilities.length} logging probabilities for ${probs.length} creatives`,
    );
  }
  const target = model.creativeTarget;
  const pi = new Float64Array(probs.length);
  for (let c = 0; c < probs.length; c++) {
    pi[c] = namedStores[target[c]] ? probs[c] : loggingProbabilities[c];
  }
  return pi;
}
