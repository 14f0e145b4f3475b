import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {buildModel, type DatasetModel} from '../../shared/dataset/model.js';
import {streamFor} from '../../shared/dataset/prng.js';
import {
  buildAliasTable,
  rowSampler,
  rowUnitWeights,
  UNITS_PER_COLUMN,
  type AliasTable,
} from '../../shared/policy/alias.js';
import {policyProbabilities} from '../../shared/policy/probabilities.js';
import {lazyScoreNoise, trueScores} from '../../shared/policy/scores.js';
import type {LoggingPolicy} from '../../shared/policy/spec.js';
import {storesOf} from '../../shared/policy/stores.js';
import {chiSquareSurvival} from '../../shared/verify/statistics/goodness-of-fit.js';

const U = UNITS_PER_COLUMN;

/** The units each creative gets from the table: its column's threshold plus what aliases to it. */
function unitsDrawn(table: AliasTable): Float64Array {
  const units = new Float64Array(table.size);
  for (let i = 0; i < table.size; i++) {
    units[i] += table.thresholds[i];
    units[table.alias[i]] += U - table.thresholds[i];
  }
  return units;
}

function piOf(policy: LoggingPolicy, model: DatasetModel, seed: number) {
  const scores =
    policy.type === 'uniform'
      ? model.pairProbs
      : trueScores(model, policy.scoreNoise, lazyScoreNoise(seed, model));
  return policyProbabilities(policy, scores, model);
}

describe('rowUnitWeights and the alias table: exact threshold arithmetic', () => {
  const cases: Array<
    [
      string,
      {seed: number; nTargetStoreIds: number; nCreativePackIds: number},
      LoggingPolicy,
    ]
  > = [
    [
      'softmax beta 40',
      {seed: 1, nTargetStoreIds: 7, nCreativePackIds: 300},
      {type: 'softmax', beta: 40, scoreNoise: 0.05},
    ],
    [
      'softmax beta 1e6 (one creative per store)',
      {seed: 2, nTargetStoreIds: 20, nCreativePackIds: 500},
      {type: 'softmax', beta: 1e6, scoreNoise: 0},
    ],
    [
      'epsilon-greedy 0.1',
      {seed: 3, nTargetStoreIds: 30, nCreativePackIds: 40},
      {type: 'epsilon-greedy', epsilon: 0.1, scoreNoise: 0},
    ],
    [
      'epsilon-greedy 0 (zeros)',
      {seed: 4, nTargetStoreIds: 5, nCreativePackIds: 1000},
      {type: 'epsilon-greedy', epsilon: 0, scoreNoise: 0},
    ],
    [
      'uniform, thirds',
      {seed: 5, nTargetStoreIds: 3, nCreativePackIds: 9},
      {type: 'uniform'},
    ],
  ];
  for (const [name, shape, policy] of cases) {
    it(name, () => {
      const model = buildModel(shape);
      const pi = piOf(policy, model, shape.seed);
      const weights = rowUnitWeights(pi, model);
      const table = rowSampler(pi, model);
      const {offsets, creatives, nStores} = storesOf(model);
      // every threshold a whole number of units in [0, 2^32], aliases in range
      for (let i = 0; i < table.size; i++) {
        const th = table.thresholds[i];
        assert.ok(Number.isInteger(th) && th >= 0 && th <= U);
        assert.ok(table.alias[i] >= 0 && table.alias[i] < table.size);
      }
      // the table draws c with probability W_c / (C 2^32), exactly
      assert.deepEqual(unitsDrawn(table), weights);
      let worst = 0;
      for (let t = 0; t < nStores; t++) {
        const n = offsets[t + 1] - offsets[t];
        let units = 0;
        for (let i = offsets[t]; i < offsets[t + 1]; i++) {
          const c = creatives[i];
          units += weights[c];
          // within 2 units of pi_c |C_t| 2^32; zero stays zero
          const error = Math.abs(weights[c] - pi[c] * n * U);
          worst = Math.max(worst, error);
          assert.ok(error <= 2, `creative ${c}: ${error} units`);
          if (pi[c] === 0) assert.equal(weights[c], 0);
        }
        // p(t) = |C_t| / C exactly
        assert.equal(units, n * U);
      }
      assert.ok(worst <= 2);
    });
  }

  it('moves whole units by hand: weights [0.5, 1.5, 1, 1] x 2^32', () => {
    const table = buildAliasTable(Float64Array.of(0.5 * U, 1.5 * U, U, U));
    assert.deepEqual(Array.from(table.thresholds), [0.5 * U, U, U, U]);
    assert.equal(table.alias[0], 1);
    assert.deepEqual(
      unitsDrawn(table),
      Float64Array.of(0.5 * U, 1.5 * U, U, U),
    );
  });

  it('samples column or alias by one uint32 against the threshold', () => {
    const table = buildAliasTable(Float64Array.of(3, 2 * U - 3));
    assert.deepEqual(Array.from(table.thresholds), [3, U]);
    const script = (column: number, u: number) => ({
      nextBelow: (bound: number) => {
        assert.equal(bound, 2);
        return column;
      },
      nextUint32: () => u,
    });
    assert.equal(table.sample(script(0, 0)), 0);
    assert.equal(table.sample(script(0, 2)), 0);
    assert.equal(table.sample(script(0, 3)), 1);
    assert.equal(table.sample(script(0, U - 1)), 1);
    assert.equal(table.sample(script(1, U - 1)), 1);
  });

  const bad: Array<[string, () => unknown, RegExp]> = [
    [
      'weights not summing to C 2^32',
      () => buildAliasTable(Float64Array.of(U, U - 1)),
      /sum to/,
    ],
    [
      'fractional weights',
      () => buildAliasTable(Float64Array.of(U - 0.5, U + 0.5)),
      /whole number/,
    ],
    [
      'no columns',
      () => buildAliasTable(new Float64Array(0)),
      /1\.\.2097152 columns/,
    ],
  ];
  for (const [name, build, message] of bad) {
    it(`refuses ${name}`, () => assert.throws(build, message));
  }

  it('refuses pi that is not a distribution per store', () => {
    const model = buildModel({
      seed: 1,
      nTargetStoreIds: 2,
      nCreativePackIds: 6,
    });
    const pi = piOf({type: 'uniform'}, model, 1);
    pi[0] *= 1.01;
    assert.throws(() => rowUnitWeights(pi, model), /sums to/);
    pi[0] = -0.1;
    assert.throws(() => rowUnitWeights(pi, model), /outside \[0, 1\]/);
  });
});

describe('rowSampler draws P(c) = p(m(c)) pi(c|m(c))', () => {
  it('chi-square over 1e6 draws at alpha = 1e-6; zero-probability creatives never drawn', () => {
    // 60 creatives, 6 stores: softmax with noise gives a spread of P(c);
    // epsilon-greedy 0 adds creatives of probability 0
    const model = buildModel({
      seed: 17,
      nTargetStoreIds: 6,
      nCreativePackIds: 60,
    });
    for (const policy of [
      {type: 'softmax', beta: 8, scoreNoise: 0.2},
      {type: 'epsilon-greedy', epsilon: 0, scoreNoise: 0.1},
    ] as LoggingPolicy[]) {
      const pi = piOf(policy, model, 17);
      const table = rowSampler(pi, model);
      const {nCreatives} = storesOf(model);
      const target = model.creativeTarget;
      const storeSize = new Float64Array(6);
      for (const t of target) storeSize[t]++;
      const counts = new Float64Array(nCreatives);
      const draws = 1_000_000;
      const rng = streamFor(99, 1);
      for (let i = 0; i < draws; i++) counts[table.sample(rng)]++;
      let chi2 = 0;
      let categories = 0;
      for (let c = 0; c < nCreatives; c++) {
        const p = (storeSize[target[c]] / nCreatives) * pi[c];
        if (p === 0) {
          assert.equal(counts[c], 0, `creative ${c} has pi 0`);
          continue;
        }
        const expected = draws * p;
        chi2 += (counts[c] - expected) ** 2 / expected;
        categories++;
      }
      const pValue = chiSquareSurvival(chi2, categories - 1);
      assert.ok(
        pValue >= 1e-6,
        `${policy.type}: chi2 ${chi2.toFixed(1)} on ${categories - 1} df, p ${pValue}`,
      );
      assert.ok(categories >= 6);
    }
  });
});
