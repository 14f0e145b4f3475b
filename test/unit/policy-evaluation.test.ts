import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {InvalidArgumentError} from '../../shared/errors.js';
import {buildModel} from '../../shared/dataset/model.js';
import {
  evaluationProbabilities,
  parseEvaluationPolicy,
} from '../../shared/policy/evaluation.js';
import {
  policyProbabilities,
  uniformProbabilities,
} from '../../shared/policy/probabilities.js';
import {lazyScoreNoise, trueScores} from '../../shared/policy/scores.js';
import {storesOf} from '../../shared/policy/stores.js';
import {policyValue} from '../../shared/policy/values.js';

const seed = 6;
const model = buildModel({seed, nTargetStoreIds: 4, nCreativePackIds: 12});
const noise = lazyScoreNoise(seed, model);
const {offsets, creatives} = storesOf(model);
/** creative ids of store t, ascending */
const idsOf = (t: number) =>
  Array.from(
    creatives.subarray(offsets[t], offsets[t + 1]),
    c => model.creativeIds[c],
  );
const store = [0, 1, 2, 3].find(t => offsets[t + 1] - offsets[t] >= 3)!;
const [a, b, c] = idsOf(store);
const storeId = model.targetIds[store];

describe('parseEvaluationPolicy refuses', () => {
  const bad: Array<[string, unknown, string, string]> = [
    [
      'a missing policy',
      undefined,
      'policy',
      'policy is required: a named policy such as {"type": "softmax", "beta": 10} or {"probs": {creative id: probability}}',
    ],
    [
      'a number',
      3,
      'policy',
      'policy must be an object such as {"type": "softmax", "beta": 10}, got 3',
    ],
    [
      'an unknown member of a named policy',
      {type: 'uniform', weights: 1},
      'policy.weights',
      'policy.weights is not a member of a policy; allowed: type, beta, epsilon, scoreNoise, adaptive',
    ],
    [
      'an unknown type',
      {type: 'best'},
      'policy.type',
      'policy.type must be one of uniform, softmax, epsilon-greedy, got "best"',
    ],
    [
      'beta out of bounds',
      {type: 'softmax', beta: 2e6},
      'policy.beta',
      'policy.beta must be a finite number in [-1000000, 1000000], got 2000000',
    ],
    [
      'an adaptive policy',
      {type: 'epsilon-greedy', epsilon: 0.1, adaptive: {updateEveryBlocks: 2}},
      'policy.adaptive',
      'policy.adaptive is not allowed here: an evaluated policy must not be adaptive',
    ],
    [
      'a member beside probs',
      {probs: {}, type: 'uniform'},
      'policy.type',
      'policy.type is not a member of a probability table; allowed: probs',
    ],
    [
      'probs as an array',
      {probs: [0.5, 0.5]},
      'policy.probs',
      'policy.probs must be an object {creative id: probability}, got an array',
    ],
    [
      'a negative probability',
      {probs: {[a]: -0.1, [b]: 1.1}},
      'policy.probs',
      `policy.probs["${a}"] must be a finite number in [0, 1], got -0.1`,
    ],
    [
      'a probability above 1',
      {probs: {[a]: 1.5}},
      'policy.probs',
      `policy.probs["${a}"] must be a finite number in [0, 1], got 1.5`,
    ],
    [
      'a non-finite probability',
      {probs: {[b]: NaN}},
      'policy.probs',
      `policy.probs["${b}"] must be a finite number in [0, 1], got NaN`,
    ],
    [
      'a probability as a string',
      {probs: {[c]: '1'}},
      'policy.probs',
      `policy.probs["${c}"] must be a finite number in [0, 1], got "1"`,
    ],
    [
      'an unknown creative',
      {probs: {[a]: 1, creative_zzzzzzzzzz: 0}},
      'policy.probs',
      'policy.probs names "creative_zzzzzzzzzz", which is not a creative of this version',
    ],
    [
      'a store id as a creative',
      {probs: {[storeId]: 1}},
      'policy.probs',
      `policy.probs names "${storeId}", which is not a creative of this version`,
    ],
    [
      'a store summing to 0.9',
      {probs: {[a]: 0.5, [b]: 0.4}},
      'policy.probs',
      `policy.probs must sum to 1 (within 1e-9) over the creatives it names of each store; store "${storeId}" sums to 0.9`,
    ],
    [
      'a store summing past 1 + 1e-9',
      {probs: {[a]: 0.5, [b]: 0.5 + 2e-9}},
      'policy.probs',
      `policy.probs must sum to 1 (within 1e-9) over the creatives it names of each store; store "${storeId}" sums to ${0.5 + (0.5 + 2e-9)}`,
    ],
  ];
  for (const [name, input, field, message] of bad) {
    it(name, () => {
      assert.throws(
        () => parseEvaluationPolicy(input, model),
        (error: unknown) => {
          assert.ok(error instanceof InvalidArgumentError);
          assert.equal(error.field, field);
          assert.equal(error.message, message);
          return true;
        },
      );
    });
  }
});

describe('parseEvaluationPolicy accepts', () => {
  it('a named policy, resolved', () => {
    assert.deepEqual(
      parseEvaluationPolicy({type: 'softmax', beta: 2, scoreNoise: 0.1}, model),
      {kind: 'named', policy: {type: 'softmax', beta: 2, scoreNoise: 0.1}},
    );
    assert.deepEqual(parseEvaluationPolicy({type: 'uniform'}, model), {
      kind: 'named',
      policy: {type: 'uniform'},
    });
  });

  it('a table: named stores take it (unnamed creatives 0), the others the logging pi', () => {
    const evaluation = parseEvaluationPolicy(
      {probs: {[b]: 0.25, [a]: 0.75 - 5e-10}},
      model,
    );
    assert.equal(evaluation.kind, 'probs');
    if (evaluation.kind !== 'probs') return;
    assert.equal(evaluation.namedCreatives, 2);
    assert.deepEqual(
      Array.from(evaluation.namedStores),
      [0, 1, 2, 3].map(t => (t === store ? 1 : 0)),
    );
    const logging = policyProbabilities(
      {type: 'softmax', beta: 20, scoreNoise: 0},
      model.pairProbs,
      model,
    );
    const pi = evaluationProbabilities(evaluation, model, logging, noise);
    const ia = model.creativeIds.indexOf(a);
    const ib = model.creativeIds.indexOf(b);
    const ic = model.creativeIds.indexOf(c);
    for (let i = 0; i < pi.length; i++) {
      if (i === ia) assert.equal(pi[i], 0.75 - 5e-10);
      else if (i === ib) assert.equal(pi[i], 0.25);
      else if (model.creativeTarget[i] === store) assert.equal(pi[i], 0);
      else assert.equal(pi[i], logging[i]);
    }
    assert.equal(pi[ic], 0);
    // the value, by hand: store's share times its mix, plus the others
    let expected = 0;
    const n = model.creativeIds.length;
    for (let t = 0; t < 4; t++) {
      let inner = 0;
      for (let i = offsets[t]; i < offsets[t + 1]; i++) {
        inner += pi[creatives[i]] * model.pairProbs[creatives[i]];
      }
      expected += ((offsets[t + 1] - offsets[t]) / n) * inner;
    }
    assert.ok(Math.abs(policyValue(pi, model) - expected) < 1e-15);
  });

  it('an empty table: every store follows the logging policy', () => {
    const evaluation = parseEvaluationPolicy({probs: {}}, model);
    const logging = uniformProbabilities(model);
    assert.deepEqual(
      evaluationProbabilities(evaluation, model, logging, noise),
      logging,
    );
  });

  it('a named policy with noise: the model noise, as a logging policy would use it', () => {
    const evaluation = parseEvaluationPolicy(
      {type: 'epsilon-greedy', epsilon: 0.2, scoreNoise: 0.3},
      model,
    );
    const expected = policyProbabilities(
      {type: 'epsilon-greedy', epsilon: 0.2, scoreNoise: 0.3},
      trueScores(model, 0.3, noise),
      model,
    );
    const pi = evaluationProbabilities(
      evaluation,
      model,
      uniformProbabilities(model),
      noise,
    );
    assert.deepEqual(pi, expected);
    // noise 0.3 against gaps of ~0.01 reorders some stores' favourites
    const noiseless = policyProbabilities(
      {type: 'epsilon-greedy', epsilon: 0.2, scoreNoise: 0},
      model.pairProbs,
      model,
    );
    assert.notDeepEqual(pi, noiseless);
  });
});
