import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {buildModel} from '../../shared/dataset/model.js';
import {
  policyProbabilities,
  uniformProbabilities,
} from '../../shared/policy/probabilities.js';
import {lazyScoreNoise, trueScores} from '../../shared/policy/scores.js';
import type {LoggingPolicy} from '../../shared/policy/spec.js';
import {buildStoreIndex, storesOf} from '../../shared/policy/stores.js';
import {handModel} from '../support/hand-model.js';

// store 0: creatives 0, 2, 5 (best 2); store 1: 1, 4 (tied); store 2: 3, 6
// (best 3); store 3: none.
const model = handModel(
  4,
  [0, 1, 0, 2, 1, 0, 2],
  [0.2, 0.5, 0.4, 0.7, 0.5, 0.1, 0.3],
);
const q = model.pairProbs;
const softmax = (beta: number): LoggingPolicy => ({
  type: 'softmax',
  beta,
  scoreNoise: 0,
});
const greedy = (epsilon: number): LoggingPolicy => ({
  type: 'epsilon-greedy',
  epsilon,
  scoreNoise: 0,
});
const pi = (policy: LoggingPolicy, scores: Float64Array = q) =>
  Array.from(policyProbabilities(policy, scores, model));

/** exp(beta q_c) / sum over the store, written out naively. */
function naiveSoftmax(beta: number): number[] {
  const targets = Array.from(model.creativeTarget);
  return targets.map((t, c) => {
    let sum = 0;
    targets.forEach((u, d) => {
      if (u === t) sum += Math.exp(beta * q[d]);
    });
    return Math.exp(beta * q[c]) / sum;
  });
}

function assertClose(actual: number[], expected: number[], tolerance: number) {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) =>
    assert.ok(
      Math.abs(a - expected[i]) <= tolerance,
      `entry ${i}: ${a} vs ${expected[i]}`,
    ),
  );
}

describe('buildStoreIndex', () => {
  it('groups creatives by store, ascending, empty stores included', () => {
    const stores = buildStoreIndex(model.creativeTarget, 4);
    assert.deepEqual(Array.from(stores.offsets), [0, 3, 5, 7, 7]);
    assert.deepEqual(Array.from(stores.creatives), [0, 2, 5, 1, 4, 3, 6]);
    assert.equal(storesOf(model), storesOf(model));
    assert.throws(() => buildStoreIndex(Int32Array.of(0, 4), 4), /store 4/);
  });
});

describe('policyProbabilities', () => {
  const third = 1 / 3;
  const uniform = [third, 0.5, third, 0.5, 0.5, third, 0.5];
  const cases: Array<[string, LoggingPolicy, number[]]> = [
    ['uniform: 1/|C_t|', {type: 'uniform'}, uniform],
    ['softmax beta = 0 is uniform', softmax(0), uniform],
    ['epsilon 1 is uniform', greedy(1), uniform],
    // ties in store 1: the lowest index takes the greedy share
    [
      'epsilon 0 is greedy, lowest index on ties',
      greedy(0),
      [0, 1, 1, 1, 0, 0, 0],
    ],
    ['epsilon 0.3', greedy(0.3), [0.1, 0.85, 0.8, 0.85, 0.15, 0.1, 0.15]],
    [
      'softmax beta 1e6 is greedy; ties share',
      softmax(1e6),
      [0, 0.5, 1, 1, 0.5, 0, 0],
    ],
    [
      'softmax beta -1e6 prefers the worst',
      softmax(-1e6),
      [0, 0.5, 0, 0, 0.5, 1, 1],
    ],
  ];
  for (const [name, policy, expected] of cases) {
    it(name, () => assertClose(pi(policy), expected, 1e-15));
  }

  for (const beta of [3, -3, 40]) {
    it(`softmax beta ${beta} equals exp(beta q) / sum exp(beta q) per store`, () => {
      assertClose(pi(softmax(beta)), naiveSoftmax(beta), 1e-15);
    });
  }

  it('beta = 0 is uniform exactly, also on a seeded model with noise', () => {
    const seeded = buildModel({
      seed: 4,
      nTargetStoreIds: 7,
      nCreativePackIds: 300,
    });
    const scores = trueScores(seeded, 0.3, lazyScoreNoise(4, seeded));
    assert.deepEqual(
      policyProbabilities(softmax(0), scores, seeded),
      uniformProbabilities(seeded),
    );
  });

  it('softmax nears greedy as beta grows: 1 - pi(best) <= sum exp(-beta * gap)', () => {
    const seeded = buildModel({
      seed: 8,
      nTargetStoreIds: 5,
      nCreativePackIds: 400,
    });
    const {offsets, creatives} = storesOf(seeded);
    const qs = seeded.pairProbs;
    let previousMiss = Infinity;
    for (const beta of [10, 1e3, 1e5, 1e6]) {
      const p = policyProbabilities(softmax(beta), qs, seeded);
      const g = policyProbabilities(greedy(0), qs, seeded);
      let miss = 0;
      for (let t = 0; t < 5; t++) {
        let best = -1;
        for (let i = offsets[t]; i < offsets[t + 1]; i++) {
          if (g[creatives[i]] === 1) best = creatives[i];
        }
        let bound = 0;
        for (let i = offsets[t]; i < offsets[t + 1]; i++) {
          const c = creatives[i];
          if (c !== best) bound += Math.exp(-beta * (qs[best] - qs[c]));
        }
        const storeMiss = 1 - p[best];
        assert.ok(storeMiss <= bound + 1e-15, `store ${t} beta ${beta}`);
        miss += storeMiss;
      }
      assert.ok(
        miss < previousMiss,
        `beta ${beta}: ${miss} >= ${previousMiss}`,
      );
      previousMiss = miss;
    }
  });

  it('every store sums to 1 and every entry is in [0, 1]', () => {
    const seeded = buildModel({
      seed: 9,
      nTargetStoreIds: 50,
      nCreativePackIds: 2000,
    });
    const scores = trueScores(seeded, 0.05, lazyScoreNoise(9, seeded));
    const {offsets, creatives} = storesOf(seeded);
    for (const policy of [
      softmax(25),
      softmax(-7),
      greedy(0.2),
      {type: 'uniform'} as const,
    ]) {
      const p = policyProbabilities(policy, scores, seeded);
      for (let t = 0; t < 50; t++) {
        let sum = 0;
        for (let i = offsets[t]; i < offsets[t + 1]; i++) {
          const v = p[creatives[i]];
          assert.ok(v >= 0 && v <= 1);
          sum += v;
        }
        if (offsets[t + 1] > offsets[t]) {
          assert.ok(
            Math.abs(sum - 1) < 1e-12,
            `${policy.type} store ${t}: ${sum}`,
          );
        }
      }
    }
  });

  it('stays finite for huge and infinite scores', () => {
    const huge = Float64Array.of(1e300, -1e300, 2e300, 0, 1, 1e308, -1e308);
    assertClose(pi(softmax(1e6), huge), [0, 0, 0, 1, 1, 1, 0], 0);
    assertClose(pi(softmax(-1e6), huge), [1, 1, 0, 0, 0, 0, 1], 0);
    const infinite = Float64Array.of(
      Infinity,
      -Infinity,
      Infinity,
      -Infinity,
      -Infinity,
      0,
      -Infinity,
    );
    assertClose(pi(softmax(2), infinite), [0.5, 0.5, 0.5, 0.5, 0.5, 0, 0.5], 0);
    assertClose(pi(greedy(0), infinite), [1, 1, 0, 1, 0, 0, 0], 0);
  });

  it('refuses scores of the wrong length', () => {
    assert.throws(
      () => policyProbabilities(softmax(1), new Float64Array(3), model),
      /3 scores for 7 creatives/,
    );
  });
});
