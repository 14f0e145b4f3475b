import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {buildModel, type DatasetModel} from '../../shared/dataset/model.js';
import {
  policyProbabilities,
  uniformProbabilities,
} from '../../shared/policy/probabilities.js';
import {lazyScoreNoise, trueScores} from '../../shared/policy/scores.js';
import type {LoggingPolicy} from '../../shared/policy/spec.js';
import {
  bestCreative,
  bestCreativeIds,
  bestValue,
  CompensatedSum,
  policyValue,
  policyValues,
  uniformValue,
} from '../../shared/policy/values.js';
import {handModel} from '../support/hand-model.js';

/** sum_t (|C_t| / C) sum_{c in C_t} pi_c q_c, straight from the definition. */
function bruteValue(pi: Float64Array, model: DatasetModel): number {
  const n = model.creativeIds.length;
  let value = 0;
  for (let t = 0; t < model.targetIds.length; t++) {
    const members = [...model.creativeTarget.keys()].filter(
      c => model.creativeTarget[c] === t,
    );
    let inner = 0;
    for (const c of members) inner += pi[c] * model.pairProbs[c];
    value += (members.length / n) * inner;
  }
  return value;
}

function bruteBest(model: DatasetModel): number {
  const n = model.creativeIds.length;
  let value = 0;
  for (let t = 0; t < model.targetIds.length; t++) {
    const qs = [...model.creativeTarget.keys()]
      .filter(c => model.creativeTarget[c] === t)
      .map(c => model.pairProbs[c]);
    if (qs.length > 0) value += (qs.length / n) * Math.max(...qs);
  }
  return value;
}

describe('policy values against brute force', () => {
  const shapes = [
    {seed: 1, nTargetStoreIds: 3, nCreativePackIds: 10},
    {seed: 2, nTargetStoreIds: 10, nCreativePackIds: 100},
    {seed: 3, nTargetStoreIds: 50, nCreativePackIds: 20}, // empty stores
    {seed: 4, nTargetStoreIds: 1, nCreativePackIds: 500},
    {seed: 5, nTargetStoreIds: 200, nCreativePackIds: 2000},
  ];
  const policies: LoggingPolicy[] = [
    {type: 'uniform'},
    {type: 'softmax', beta: 30, scoreNoise: 0},
    {type: 'softmax', beta: -5, scoreNoise: 0.1},
    {type: 'epsilon-greedy', epsilon: 0.1, scoreNoise: 0},
    {type: 'epsilon-greedy', epsilon: 0.5, scoreNoise: 0.02},
  ];
  for (const shape of shapes) {
    it(`seed ${shape.seed}: ${shape.nTargetStoreIds} stores x ${shape.nCreativePackIds} creatives, exact to 1e-12`, () => {
      const model = buildModel(shape);
      const noise = lazyScoreNoise(shape.seed, model);
      for (const policy of policies) {
        const scores =
          policy.type === 'uniform'
            ? model.pairProbs
            : trueScores(model, policy.scoreNoise, noise);
        const pi = policyProbabilities(policy, scores, model);
        const expected = bruteValue(pi, model);
        assert.ok(
          Math.abs(policyValue(pi, model) - expected) <= 1e-12,
          `${JSON.stringify(policy)}: ${policyValue(pi, model)} vs ${expected}`,
        );
      }
      const q = Array.from(model.pairProbs);
      const mean = q.reduce((a, b) => a + b, 0) / q.length;
      assert.ok(Math.abs(uniformValue(model) - mean) <= 1e-12);
      assert.ok(
        Math.abs(
          uniformValue(model) - policyValue(uniformProbabilities(model), model),
        ) <= 1e-12,
      );
      assert.ok(Math.abs(bestValue(model) - bruteBest(model)) <= 1e-12);
      const greedy = policyProbabilities(
        {type: 'epsilon-greedy', epsilon: 0, scoreNoise: 0},
        model.pairProbs,
        model,
      );
      assert.ok(
        Math.abs(policyValue(greedy, model) - bestValue(model)) <= 1e-12,
      );
      assert.ok(uniformValue(model) <= bestValue(model));
    });
  }
});

describe('best creative and hand-computed values', () => {
  // store 0: c0 0.2, c2 0.4, c5 0.4 (tie: c2); store 1: c1 0.5; store 2: none;
  // store 3: c3 0.7, c4 0.9
  const model = handModel(
    4,
    [0, 1, 0, 3, 3, 0],
    [0.2, 0.5, 0.4, 0.7, 0.9, 0.4],
  );

  it('takes the lowest index on ties; stores without creatives are -1 and absent', () => {
    assert.deepEqual(Array.from(bestCreative(model)), [2, 1, -1, 4]);
    const ids = bestCreativeIds(model);
    assert.deepEqual(ids, {
      target_0: 'creative_2',
      target_1: 'creative_1',
      target_3: 'creative_4',
    });
    assert.deepEqual(Object.keys(ids), ['target_0', 'target_1', 'target_3']);
  });

  it('values: p(t) = |C_t| / C', () => {
    // best = 3/6 * 0.4 + 1/6 * 0.5 + 2/6 * 0.9; uniform = mean q = 3.1 / 6
    assert.ok(Math.abs(bestValue(model) - (1.2 + 0.5 + 1.8) / 6) < 1e-15);
    assert.ok(Math.abs(uniformValue(model) - 3.1 / 6) < 1e-15);
    const pi = Float64Array.of(1, 1, 0, 0.25, 0.75, 0);
    // store 0: 0.2; store 1: 0.5; store 3: 0.175 + 0.675
    const logging = (3 / 6) * 0.2 + (1 / 6) * 0.5 + (2 / 6) * 0.85;
    const values = policyValues(pi, model);
    assert.ok(Math.abs(values.logging - logging) < 1e-15);
    assert.equal(values.uniform, uniformValue(model));
    assert.equal(values.best, bestValue(model));
    assert.throws(
      () => policyValue(new Float64Array(5), model),
      /5 probabilities for 6 creatives/,
    );
  });
});

describe('CompensatedSum', () => {
  it('keeps what plain summation loses', () => {
    const sum = new CompensatedSum();
    for (const x of [1, 1e100, 1, -1e100]) sum.add(x);
    assert.equal(sum.value(), 2);
    const tenth = new CompensatedSum();
    for (let i = 0; i < 1_000_000; i++) tenth.add(0.1);
    assert.ok(Math.abs(tenth.value() - 100_000) < 1e-9);
  });
});
