import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {buildModel} from '../../shared/dataset/model.js';
import {MODEL_STREAM, streamFor} from '../../shared/dataset/prng.js';
import {
  drawStandardNormals,
  lazyScoreNoise,
  modelScoreNoise,
  modelStreamAfterModel,
  noisyScores,
  trueScores,
} from '../../shared/policy/scores.js';

const tiny = {nTargetStoreIds: 1, nCreativePackIds: 1};

describe('modelStreamAfterModel', () => {
  it('continues stream 0 right after buildModel (1 store, 1 creative, by hand)', () => {
    for (const seed of [0, 1, 77, 2 ** 40]) {
      const model = buildModel({seed, ...tiny});
      // buildModel's draws: 10 letters per id (one id cannot collide), the
      // effect (one nextFloat53), the store (nextBelow(1) = one uint32)
      const rng = streamFor(seed, MODEL_STREAM);
      for (let i = 0; i < 20; i++) rng.nextBelow(26);
      rng.nextFloat53();
      assert.equal(rng.nextBelow(1), 0);
      const u1 = rng.nextFloat53();
      const u2 = rng.nextFloat53();
      const z = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
      assert.deepEqual(Array.from(modelScoreNoise(seed, model)), [z]);
      // and the stream itself is at that point
      const after = modelStreamAfterModel(seed, model);
      assert.equal(after.nextFloat53(), u1);
      assert.equal(after.nextFloat53(), u2);
    }
  });

  it('refuses a model of another seed', () => {
    const model = buildModel({
      seed: 5,
      nTargetStoreIds: 3,
      nCreativePackIds: 20,
    });
    assert.throws(
      () => modelStreamAfterModel(6, model),
      /replay disagrees with the model at creative 0's effect/,
    );
  });
});

describe('modelScoreNoise', () => {
  const config = {nTargetStoreIds: 100, nCreativePackIds: 100_000};
  const modelA = buildModel({seed: 21, ...config});
  const zA = modelScoreNoise(21, modelA);

  it('is reproducible for a seed and changes with the seed', () => {
    assert.deepEqual(
      modelScoreNoise(21, buildModel({seed: 21, ...config})),
      zA,
    );
    const zB = modelScoreNoise(22, buildModel({seed: 22, ...config}));
    let same = 0;
    for (let c = 0; c < zA.length; c++) if (zA[c] === zB[c]) same++;
    assert.equal(same, 0);
  });

  it('is standard normal: mean and sd over 100k creatives within 5 standard errors', () => {
    const n = zA.length;
    let sum = 0;
    for (const z of zA) sum += z;
    const mean = sum / n;
    let squares = 0;
    for (const z of zA) squares += (z - mean) ** 2;
    const sd = Math.sqrt(squares / (n - 1));
    // se(mean) = 1/sqrt(n) = 0.00316; se(sd) ~ 1/sqrt(2n) = 0.00224
    assert.ok(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
    assert.ok(Math.abs(sd - 1) < 5 / Math.sqrt(2 * n), `sd ${sd}`);
    // tails: P(|z| > 2) = 0.0455, binomial se over 100k = 0.00066
    let outside = 0;
    for (const z of zA) if (Math.abs(z) > 2) outside++;
    assert.ok(
      Math.abs(outside / n - 0.0455) < 5 * 0.00066,
      `tail ${outside / n}`,
    );
  });

  it('scales to sd sigma around q in the scores; sigma 0 leaves q itself', () => {
    const sigma = 0.25;
    const scores = trueScores(modelA, sigma, () => zA);
    const n = scores.length;
    let sum = 0;
    let squares = 0;
    for (let c = 0; c < n; c++) {
      const d = scores[c] - modelA.pairProbs[c];
      assert.equal(d, scores[c] - modelA.pairProbs[c]);
      sum += d;
      squares += d * d;
    }
    const mean = sum / n;
    const sd = Math.sqrt(squares / n - mean * mean);
    assert.ok(Math.abs(mean) < (5 * sigma) / Math.sqrt(n), `mean ${mean}`);
    assert.ok(Math.abs(sd / sigma - 1) < 5 / Math.sqrt(2 * n), `sd ${sd}`);
    assert.equal(scores[17], modelA.pairProbs[17] + sigma * zA[17]);
    const noNoise = trueScores(modelA, 0, () => {
      throw new Error('noise drawn for sigma 0');
    });
    assert.equal(noNoise, modelA.pairProbs);
  });

  it('draws once when lazy, and checks the noise length', () => {
    const small = buildModel({
      seed: 3,
      nTargetStoreIds: 2,
      nCreativePackIds: 10,
    });
    const noise = lazyScoreNoise(3, small);
    assert.equal(noise(), noise());
    assert.deepEqual(noise(), modelScoreNoise(3, small));
    assert.throws(
      () => noisyScores(new Float64Array(4), 1, () => new Float64Array(3)),
      /3 values for 4 creatives/,
    );
  });

  it('Box–Muller stays finite at the extremes of u1', () => {
    // all bits set: u1 = 1 - 2^-53, z = sqrt(-2 ln 2^-53) cos(~2 pi) = 8.5724
    const ones = streamFor(1, 1);
    ones.nextUint32 = () => 0xffffffff;
    const [high] = drawStandardNormals(ones, 1);
    assert.ok(Math.abs(high - Math.sqrt(106 * Math.LN2)) < 1e-6, `${high}`);
    // all bits clear: u1 = 0, z = 0
    const zeros = streamFor(1, 1);
    zeros.nextUint32 = () => 0;
    for (const v of drawStandardNormals(zeros, 2)) assert.ok(v === 0, `${v}`);
  });
});
