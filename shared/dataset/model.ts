/**
 * The notebook's generative model (docs/design.md §2), drawn from stream 0 of the
 * seed: ids, base probabilities, creative effects, the creative -> target map
 * and the true label probability of every pair.
 */
import type {DatasetConfig} from './config.js';
import {MODEL_STREAM, streamFor, type Xoshiro128ss} from './prng.js';

export const TARGET_PREFIX = 'target_';
export const CREATIVE_PREFIX = 'creative_';
export const ID_LETTERS = 10;
export const EFFECT_BOUND = 0.01;
/** 'a': ids are lowercase ASCII letters a..z */
const FIRST_LETTER = 0x61;

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

/**
 * The ids drawn so far, by the number their letters spell in base 26 (at
 * most 26^10 < 2^53): an open-addressing table in a Float64Array, ~16 MB at
 * 1,000,000 ids where a Set of strings took ~100 MB.
 */
export class IdCodeSet {
  private readonly slots: Float64Array;
  private readonly mask: number;

  constructor(capacityFor: number) {
    let size = 16;
    while (size < capacityFor * 2) size *= 2;
    this.slots = new Float64Array(size); // 0: empty; else code + 1
    this.mask = size - 1;
  }

  /** Adds `code`; false when it was there already. */
  add(code: number): boolean {
    const stored = code + 1;
    const low = code >>> 0;
    const high = Math.floor(code / 0x1_0000_0000);
    let slot =
      (Math.imul(low ^ Math.imul(high, 0x85ebca6b), 0x9e3779b1) >>> 0) &
      this.mask;
    for (;;) {
      const held = this.slots[slot];
      if (held === 0) {
        this.slots[slot] = stored;
        return true;
      }
      if (held === stored) return false;
      slot = (slot + 1) & this.mask;
    }
  }
}

/**
 * `count` distinct ids; a collision is redrawn, as the notebook intends.
 * Each id is made flat from its bytes (one 40-byte string), not by appending
 * letter by letter, which left a chain of partial strings per id.
 */
function distinctIds(
  rng: Xoshiro128ss,
  prefix: string,
  count: number,
): string[] {
  const seen = new IdCodeSet(count);
  const bytes = Buffer.from(prefix + 'a'.repeat(ID_LETTERS), 'latin1');
  const start = prefix.length;
  const ids: string[] = [];
  while (ids.length < count) {
    let code = 0;
    for (let i = 0; i < ID_LETTERS; i++) {
      const letter = rng.nextBelow(26);
      bytes[start + i] = FIRST_LETTER + letter;
      code = code * 26 + letter;
    }
    if (seen.add(code)) ids.push(bytes.toString('latin1'));
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
