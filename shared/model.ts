/**
 * The notebook's generative model (DESIGN §2), drawn from stream 0 of the
 * seed: ids, base probabilities, creative effects, the creative -> target map
 * and the true label probability of every pair.
 */
import type {DatasetConfig} from './config.js';
import {MODEL_STREAM, streamFor, type Xoshiro128ss} from './prng.js';

export const TARGET_PREFIX = 'target_';
export const CREATIVE_PREFIX = 'creative_';
export const ID_LETTERS = 10;
export const EFFECT_BOUND = 0.01;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';

export interface DatasetModel {
  targetIds: string[];
  creativeIds: string[];
  /** p_t = (t + 1) / (nTargetStoreIds + 1) */
  targetProbs: Float64Array;
  /** e_c ~ Uniform(-0.01, 0.01) */
  creativeEffects: Float64Array;
  /** m(c): the target store creative c is served to */
  creativeTarget: Int32Array;
  /** q_c = p_m(c) + e_c, or p_m(c) - e_c where that leaves [0, 1] */
  pairProbs: Float64Array;
  /**
   * label = (uint32 draw < threshold_c), so P(label = 1) = threshold_c / 2^32,
   * within 2^-33 of q_c.
   */
  labelThresholds: Float64Array;
}

function randomId(rng: Xoshiro128ss, prefix: string): string {
  let id = prefix;
  for (let i = 0; i < ID_LETTERS; i++) id += ALPHABET[rng.nextBelow(26)];
  return id;
}

/** `count` distinct ids; a collision is redrawn, as the notebook intends. */
function distinctIds(
  rng: Xoshiro128ss,
  prefix: string,
  count: number,
): string[] {
  const seen = new Set<string>();
  const ids: string[] = [];
  while (ids.length < count) {
    const id = randomId(rng, prefix);
    if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  }
  return ids;
}

export function pairProbability(base: number, effect: number): number {
  const q = base + effect;
  return q < 0 || q > 1 ? base - effect : q;
}

export function buildModel(
  config: Pick<DatasetConfig, 'seed' | 'nTargetStoreIds' | 'nCreativePackIds'>,
): DatasetModel {
  const rng = streamFor(config.seed, MODEL_STREAM);
  const nTargets = config.nTargetStoreIds;
  const nCreatives = config.nCreativePackIds;

  const targetIds = distinctIds(rng, TARGET_PREFIX, nTargets);
  const creativeIds = distinctIds(rng, CREATIVE_PREFIX, nCreatives);

  const targetProbs = new Float64Array(nTargets);
  for (let t = 0; t < nTargets; t++) targetProbs[t] = (t + 1) / (nTargets + 1);

  const creativeEffects = new Float64Array(nCreatives);
  for (let c = 0; c < nCreatives; c++) {
    creativeEffects[c] = -EFFECT_BOUND + 2 * EFFECT_BOUND * rng.nextFloat53();
  }

  const creativeTarget = new Int32Array(nCreatives);
  const pairProbs = new Float64Array(nCreatives);
  const labelThresholds = new Float64Array(nCreatives);
  for (let c = 0; c < nCreatives; c++) {
    const t = rng.nextBelow(nTargets);
    creativeTarget[c] = t;
    const q = pairProbability(targetProbs[t], creativeEffects[c]);
    pairProbs[c] = q;
    labelThresholds[c] = Math.round(q * 0x1_0000_0000);
  }

  return {
    targetIds,
    creativeIds,
    targetProbs,
    creativeEffects,
    creativeTarget,
    pairProbs,
    labelThresholds,
  };
}
