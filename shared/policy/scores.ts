/**
 * The scores a policy ranks creatives by (docs/design.md §12): s_c = q_c, or
 * s_c = q_c + sigma * z_c with z_c standard normal, one per creative in
 * index order, drawn from the model stream (stream 0) right after
 * buildModel's own draws. buildModel does not hand out its generator, so
 * modelStreamAfterModel replays its draws (and checks them against the
 * model, so a change to buildModel cannot silently shift the noise).
 */
import {
  EFFECT_BOUND,
  ID_LETTERS,
  IdCodeSet,
  type DatasetModel,
} from '../dataset/model.js';
import {MODEL_STREAM, streamFor, type Xoshiro128ss} from '../dataset/prng.js';

/** buildModel's distinctIds, drawing the same numbers without making strings. */
function skipDistinctIds(rng: Xoshiro128ss, count: number): void {
  const seen = new IdCodeSet(count);
  let drawn = 0;
  while (drawn < count) {
    let code = 0;
    for (let i = 0; i < ID_LETTERS; i++) code = code * 26 + rng.nextBelow(26);
    if (seen.add(code)) drawn++;
  }
}

/**
 * Stream 0 of `seed` positioned just after buildModel's draws for `model`
 * (which must be buildModel's answer for that seed): the ids, the effects,
 * the creative -> store map. Throws if the replay disagrees with the model.
 * Costs about what buildModel costs, less the strings.
 */
export function modelStreamAfterModel(
  seed: number,
  model: DatasetModel,
): Xoshiro128ss {
  const rng = streamFor(seed, MODEL_STREAM);
  const nTargets = model.targetIds.length;
  const nCreatives = model.creativeIds.length;
  skipDistinctIds(rng, nTargets);
  skipDistinctIds(rng, nCreatives);
  const effects = model.creativeEffects;
  for (let c = 0; c < nCreatives; c++) {
    const effect = -EFFECT_BOUND + 2 * EFFECT_BOUND * rng.nextFloat53();
    if (effect !== effects[c]) {
      throw new Error(
        `the model stream replay disagrees with the model at creative ${c}'s effect (is the model of seed ${seed}?)`,
      );
    }
  }
  const targets = model.creativeTarget;
  for (let c = 0; c < nCreatives; c++) {
    if (rng.nextBelow(nTargets) !== targets[c]) {
      throw new Error(
        `the model stream replay disagrees with the model at creative ${c}'s store (is the model of seed ${seed}?)`,
      );
    }
  }
  return rng;
}

/**
 * `count` standard normals, Box–Muller on pairs of nextFloat53 draws, one z
 * per pair: z = sqrt(-2 ln(1 - u1)) * cos(2 pi u2). 1 - u1 is in (0, 1], so
 * z is finite (|z| <= 8.58).
 */
export function drawStandardNormals(
  rng: Xoshiro128ss,
  count: number,
): Float64Array {
  const z = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const u1 = rng.nextFloat53();
    const u2 = rng.nextFloat53();
    z[i] = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
  return z;
}

/** z_c for every creative of the model of `seed`, in creative index order. */
export function modelScoreNoise(
  seed: number,
  model: DatasetModel,
): Float64Array {
  return drawStandardNormals(
    modelStreamAfterModel(seed, model),
    model.creativeIds.length,
  );
}

/** The same, computed on first call only: most policies need no noise. */
export function lazyScoreNoise(
  seed: number,
  model: DatasetModel,
): () => Float64Array {
  let z: Float64Array | undefined;
  return () => (z ??= modelScoreNoise(seed, model));
}

/**
 * base_c + sigma * z_c; `base` itself (not a copy) when sigma is 0, so the
 * noise is neither drawn nor allocated then.
 */
export function noisyScores(
  base: Float64Array,
  sigma: number,
  noise: () => Float64Array,
): Float64Array {
  if (sigma === 0) return base;
  const z = noise();
  if (z.length !== base.length) {
    throw new RangeError(
      `score noise has ${z.length} values for ${base.length} creatives`,
    );
  }
  const scores = new Float64Array(base.length);
  for (let c = 0; c < base.length; c++) scores[c] = base[c] + sigma * z[c];
  return scores;
}

/** s_c = q_c (+ sigma z_c): a non-adaptive policy's scores. */
export function trueScores(
  model: DatasetModel,
  sigma: number,
  noise: () => Float64Array,
): Float64Array {
  return noisyScores(model.pairProbs, sigma, noise);
}
