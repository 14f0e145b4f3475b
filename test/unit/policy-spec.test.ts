import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {InvalidArgumentError} from '../../shared/errors.js';
import {
  isAdaptive,
  parseLoggingPolicy,
  type LoggingPolicy,
} from '../../shared/policy/spec.js';

const small = {nCreativePackIds: 100};

describe('parseLoggingPolicy resolves', () => {
  const good: Array<[string, unknown, LoggingPolicy]> = [
    ['uniform', {type: 'uniform'}, {type: 'uniform'}],
    [
      'softmax, scoreNoise made explicit',
      {type: 'softmax', beta: 10},
      {type: 'softmax', beta: 10, scoreNoise: 0},
    ],
    [
      'softmax at the beta bounds',
      {beta: -1e6, type: 'softmax', scoreNoise: 0.5},
      {type: 'softmax', beta: -1e6, scoreNoise: 0.5},
    ],
    [
      'epsilon-greedy, epsilon 0',
      {type: 'epsilon-greedy', epsilon: 0},
      {type: 'epsilon-greedy', epsilon: 0, scoreNoise: 0},
    ],
    [
      'epsilon-greedy adaptive',
      {
        adaptive: {updateEveryBlocks: 16_384},
        epsilon: 1,
        type: 'epsilon-greedy',
      },
      {
        type: 'epsilon-greedy',
        epsilon: 1,
        scoreNoise: 0,
        adaptive: {updateEveryBlocks: 16_384},
      },
    ],
    [
      'softmax adaptive every block',
      {type: 'softmax', beta: 0, adaptive: {updateEveryBlocks: 1}},
      {
        type: 'softmax',
        beta: 0,
        scoreNoise: 0,
        adaptive: {updateEveryBlocks: 1},
      },
    ],
  ];
  for (const [name, input, resolved] of good) {
    it(name, () => {
      const policy = parseLoggingPolicy(input, small);
      assert.deepEqual(policy, resolved);
      // the recorded form lists members in one order whatever the input's
      assert.equal(JSON.stringify(policy), JSON.stringify(resolved));
    });
  }

  it('accepts adaptive at exactly 10,000 creatives', () => {
    const policy = parseLoggingPolicy(
      {type: 'softmax', beta: 1, adaptive: {updateEveryBlocks: 4}},
      {nCreativePackIds: 10_000},
    );
    assert.ok(isAdaptive(policy));
    assert.ok(!isAdaptive(parseLoggingPolicy({type: 'uniform'}, small)));
  });
});

describe('parseLoggingPolicy refuses', () => {
  const bad: Array<[string, unknown, string, string, number?]> = [
    [
      'a string',
      'softmax',
      'loggingPolicy',
      'loggingPolicy must be an object such as {"type": "softmax", "beta": 10}, got "softmax"',
    ],
    [
      'an array',
      [],
      'loggingPolicy',
      'loggingPolicy must be an object such as {"type": "softmax", "beta": 10}, got an array',
    ],
    [
      'null',
      null,
      'loggingPolicy',
      'loggingPolicy must be an object such as {"type": "softmax", "beta": 10}, got null',
    ],
    [
      'an unknown member',
      {type: 'softmax', beta: 1, temperature: 2},
      'loggingPolicy.temperature',
      'loggingPolicy.temperature is not a member of a policy; allowed: type, beta, epsilon, scoreNoise, adaptive',
    ],
    [
      'an unknown member before a missing type',
      {tpye: 'softmax'},
      'loggingPolicy.tpye',
      'loggingPolicy.tpye is not a member of a policy; allowed: type, beta, epsilon, scoreNoise, adaptive',
    ],
    [
      'a member of another type',
      {type: 'epsilon-greedy', epsilon: 0.1, beta: 1},
      'loggingPolicy.beta',
      'loggingPolicy.beta is not a member of a policy of type "epsilon-greedy"; allowed: type, epsilon, scoreNoise, adaptive',
    ],
    [
      'a parameter on uniform',
      {type: 'uniform', scoreNoise: 0},
      'loggingPolicy.scoreNoise',
      'loggingPolicy.scoreNoise is not a member of a policy of type "uniform"; allowed: type',
    ],
    [
      'an unknown type',
      {type: 'thompson'},
      'loggingPolicy.type',
      'loggingPolicy.type must be one of uniform, softmax, epsilon-greedy, got "thompson"',
    ],
    [
      'a missing type',
      {beta: 1},
      'loggingPolicy.type',
      'loggingPolicy.type must be one of uniform, softmax, epsilon-greedy, got nothing',
    ],
    [
      'a missing beta',
      {type: 'softmax'},
      'loggingPolicy.beta',
      'loggingPolicy.beta must be a finite number in [-1000000, 1000000], got nothing',
    ],
    [
      'beta as a string',
      {type: 'softmax', beta: '10'},
      'loggingPolicy.beta',
      'loggingPolicy.beta must be a finite number in [-1000000, 1000000], got "10"',
    ],
    [
      'beta NaN',
      {type: 'softmax', beta: NaN},
      'loggingPolicy.beta',
      'loggingPolicy.beta must be a finite number in [-1000000, 1000000], got NaN',
    ],
    [
      'beta infinite',
      {type: 'softmax', beta: -Infinity},
      'loggingPolicy.beta',
      'loggingPolicy.beta must be a finite number in [-1000000, 1000000], got -Infinity',
    ],
    [
      'beta past 1e6',
      {type: 'softmax', beta: 1_000_000.5},
      'loggingPolicy.beta',
      'loggingPolicy.beta must be a finite number in [-1000000, 1000000], got 1000000.5',
    ],
    [
      'epsilon above 1',
      {type: 'epsilon-greedy', epsilon: 1.5},
      'loggingPolicy.epsilon',
      'loggingPolicy.epsilon must be a number in [0, 1], got 1.5',
    ],
    [
      'epsilon negative',
      {type: 'epsilon-greedy', epsilon: -0.01},
      'loggingPolicy.epsilon',
      'loggingPolicy.epsilon must be a number in [0, 1], got -0.01',
    ],
    [
      'epsilon missing',
      {type: 'epsilon-greedy'},
      'loggingPolicy.epsilon',
      'loggingPolicy.epsilon must be a number in [0, 1], got nothing',
    ],
    [
      'epsilon true',
      {type: 'epsilon-greedy', epsilon: true},
      'loggingPolicy.epsilon',
      'loggingPolicy.epsilon must be a number in [0, 1], got true',
    ],
    [
      'scoreNoise negative',
      {type: 'softmax', beta: 1, scoreNoise: -1},
      'loggingPolicy.scoreNoise',
      'loggingPolicy.scoreNoise must be a finite number >= 0, got -1',
    ],
    [
      'scoreNoise infinite',
      {type: 'epsilon-greedy', epsilon: 0.1, scoreNoise: Infinity},
      'loggingPolicy.scoreNoise',
      'loggingPolicy.scoreNoise must be a finite number >= 0, got Infinity',
    ],
    [
      'scoreNoise null',
      {type: 'softmax', beta: 1, scoreNoise: null},
      'loggingPolicy.scoreNoise',
      'loggingPolicy.scoreNoise must be a finite number >= 0, got null',
    ],
    [
      'adaptive on uniform',
      {type: 'uniform', adaptive: {updateEveryBlocks: 1}},
      'loggingPolicy.adaptive',
      'loggingPolicy.adaptive applies to softmax and epsilon-greedy only, got type "uniform"',
    ],
    [
      'adaptive not an object',
      {type: 'softmax', beta: 1, adaptive: 4},
      'loggingPolicy.adaptive',
      'loggingPolicy.adaptive must be an object {"updateEveryBlocks": k}, got 4',
    ],
    [
      'adaptive as an array',
      {type: 'softmax', beta: 1, adaptive: [4]},
      'loggingPolicy.adaptive',
      'loggingPolicy.adaptive must be an object {"updateEveryBlocks": k}, got an array',
    ],
    [
      'an unknown adaptive member',
      {type: 'softmax', beta: 1, adaptive: {updateEveryBlocks: 1, prior: 2}},
      'loggingPolicy.adaptive.prior',
      'loggingPolicy.adaptive.prior is not a member of loggingPolicy.adaptive; allowed: updateEveryBlocks',
    ],
    [
      'updateEveryBlocks missing',
      {type: 'softmax', beta: 1, adaptive: {}},
      'loggingPolicy.adaptive.updateEveryBlocks',
      'loggingPolicy.adaptive.updateEveryBlocks must be an integer in 1..16384, got nothing',
    ],
    [
      'updateEveryBlocks 0',
      {type: 'epsilon-greedy', epsilon: 0.1, adaptive: {updateEveryBlocks: 0}},
      'loggingPolicy.adaptive.updateEveryBlocks',
      'loggingPolicy.adaptive.updateEveryBlocks must be an integer in 1..16384, got 0',
    ],
    [
      'updateEveryBlocks fractional',
      {type: 'softmax', beta: 1, adaptive: {updateEveryBlocks: 2.5}},
      'loggingPolicy.adaptive.updateEveryBlocks',
      'loggingPolicy.adaptive.updateEveryBlocks must be an integer in 1..16384, got 2.5',
    ],
    [
      'updateEveryBlocks past 16,384',
      {type: 'softmax', beta: 1, adaptive: {updateEveryBlocks: 16_385}},
      'loggingPolicy.adaptive.updateEveryBlocks',
      'loggingPolicy.adaptive.updateEveryBlocks must be an integer in 1..16384, got 16385',
    ],
    [
      'adaptive past 10,000 creatives',
      {type: 'softmax', beta: 1, adaptive: {updateEveryBlocks: 1}},
      'loggingPolicy.adaptive',
      'loggingPolicy.adaptive needs nCreativePackIds in 1..10000, got 10001',
      10_001,
    ],
  ];
  for (const [name, input, field, message, nCreativePackIds] of bad) {
    it(name, () => {
      assert.throws(
        () =>
          parseLoggingPolicy(input, {
            nCreativePackIds: nCreativePackIds ?? 100,
          }),
        (error: unknown) => {
          assert.ok(error instanceof InvalidArgumentError);
          assert.equal(error.code, 'INVALID_ARGUMENT');
          assert.equal(error.field, field);
          assert.equal(error.message, message);
          return true;
        },
      );
    });
  }

  it('names another path and refuses adaptive where told to', () => {
    assert.throws(
      () =>
        parseLoggingPolicy(
          {type: 'softmax', beta: 1, adaptive: {updateEveryBlocks: 1}},
          {nCreativePackIds: 5, path: 'policy', allowAdaptive: false},
        ),
      {
        field: 'policy.adaptive',
        message:
          'policy.adaptive is not allowed here: an evaluated policy must not be adaptive',
      },
    );
    assert.throws(
      () =>
        parseLoggingPolicy(
          {type: 'epsilon-greedy', epsilon: 2},
          {nCreativePackIds: 5, path: 'policy'},
        ),
      {
        field: 'policy.epsilon',
        message: 'policy.epsilon must be a number in [0, 1], got 2',
      },
    );
  });
});
