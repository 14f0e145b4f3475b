import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {rowBlockStream, streamFor} from '../../shared/dataset/prng.js';
import {ROWS_PER_BLOCK} from '../../shared/dataset/blocks.js';
import {newRowBlock} from '../../shared/dataset/rows.js';
import {
  AdaptiveState,
  epochOfBlock,
  epochPlan,
  ProbabilityMixture,
  rowWeightedValue,
} from '../../shared/policy/adaptive.js';
import {rowSampler} from '../../shared/policy/alias.js';
import {policyProbabilities} from '../../shared/policy/probabilities.js';
import type {AdaptivePolicy} from '../../shared/policy/spec.js';
import {storesOf} from '../../shared/policy/stores.js';
import {bestCreative, policyValue} from '../../shared/policy/values.js';
import {handModel} from '../support/hand-model.js';

// store 0: creatives 0, 2, 4; store 1: 1, 3, 5
const model = handModel(2, [0, 1, 0, 1, 0, 1], [0.1, 0.3, 0.8, 0.6, 0.5, 0.2]);
const greedy = (k: number, scoreNoise = 0): AdaptivePolicy => ({
  type: 'epsilon-greedy',
  epsilon: 0.1,
  scoreNoise,
  adaptive: {updateEveryBlocks: k},
});
const noNoise = () => {
  throw new Error('noise drawn for scoreNoise 0');
};

describe('epochPlan', () => {
  const R = ROWS_PER_BLOCK;
  const cases: Array<
    [number, number, Array<[number, number, number, number, number]>]
  > = [
    // nSamples, k, [epoch, firstBlock, endBlock, firstRow, rows]
    [100, 1, [[0, 0, 1, 0, 100]]],
    [R, 3, [[0, 0, 1, 0, R]]],
    [
      5 * R + 3,
      2,
      [
        [0, 0, 2, 0, 2 * R],
        [1, 2, 4, 2 * R, 2 * R],
        [2, 4, 6, 4 * R, R + 3],
      ],
    ],
    [
      3 * R,
      1,
      [
        [0, 0, 1, 0, R],
        [1, 1, 2, R, R],
        [2, 2, 3, 2 * R, R],
      ],
    ],
    [1_000_000_000, 16_384, [[0, 0, 15_259, 0, 1_000_000_000]]],
  ];
  for (const [nSamples, k, expected] of cases) {
    it(`${nSamples} rows, every ${k} blocks`, () => {
      const plan = epochPlan(nSamples, k);
      assert.deepEqual(
        plan.map(e => [e.epoch, e.firstBlock, e.endBlock, e.firstRow, e.rows]),
        expected,
      );
      assert.equal(
        plan.reduce((sum, e) => sum + e.rows, 0),
        nSamples,
      );
      for (const e of plan) {
        for (let b = e.firstBlock; b < e.endBlock; b++) {
          assert.equal(epochOfBlock(b, k), e.epoch);
        }
      }
    });
  }
});

describe('AdaptiveState', () => {
  it('counts a hand-made block and gives posterior means (1 + pos) / (2 + rows)', () => {
    const state = new AdaptiveState(greedy(1), model, noNoise);
    // the last entry lies past count and must be ignored
    state.addBlock({
      count: 7,
      creative: Int32Array.of(0, 0, 1, 2, 2, 2, 3, 5),
      label: Uint8Array.of(1, 0, 1, 1, 1, 0, 0, 1),
    });
    assert.equal(state.blocksAdded, 1);
    assert.deepEqual(Array.from(state.rows), [2, 1, 3, 1, 0, 0]);
    assert.deepEqual(Array.from(state.positives), [1, 1, 2, 0, 0, 0]);
    assert.deepEqual(Array.from(state.posteriorMeans()), [
      2 / 4,
      2 / 3,
      3 / 5,
      1 / 3,
      1 / 2,
      1 / 2,
    ]);
    // store 0: means 0.5, 0.6, 0.5 -> creative 2; store 1: 2/3, 1/3, 1/2 -> 1
    const pi = Array.from(state.epochProbabilities(1));
    const spread = 0.1 / 3;
    const expected = [
      spread,
      0.9 + spread,
      0.9 + spread,
      spread,
      spread,
      spread,
    ];
    pi.forEach((p, i) =>
      assert.ok(Math.abs(p - expected[i]) < 1e-15, `${i}: ${p}`),
    );
  });

  it('epoch 0 has no counts: all means 1/2, greedy on the lowest index', () => {
    const state = new AdaptiveState(greedy(4), model, noNoise);
    const pi = Array.from(state.epochProbabilities(0));
    const spread = 0.1 / 3;
    [0.9 + spread, 0.9 + spread, spread, spread, spread, spread].forEach(
      (p, i) => assert.ok(Math.abs(pi[i] - p) < 1e-15),
    );
    const softmax = new AdaptiveState(
      {
        type: 'softmax',
        beta: 50,
        scoreNoise: 0,
        adaptive: {updateEveryBlocks: 1},
      },
      model,
      noNoise,
    );
    assert.deepEqual(
      Array.from(softmax.epochProbabilities(0)),
      Array(6).fill(1 / 3),
    );
  });

  it('adds the model noise to the posterior means when scoreNoise > 0', () => {
    const z = Float64Array.of(1, -1, 0.5, 2, -2, 0);
    const state = new AdaptiveState(greedy(1, 0.1), model, () => z);
    const scores = Float64Array.from(z, v => 0.5 + 0.1 * v);
    assert.deepEqual(
      state.epochProbabilities(0),
      policyProbabilities(greedy(1, 0.1), scores, model),
    );
  });

  it('refuses an epoch whose blocks were not all, or only, counted', () => {
    const state = new AdaptiveState(greedy(2), model, noNoise);
    assert.throws(
      () => state.epochProbabilities(1),
      /blocks \[0, 2\), have \[0, 0\)/,
    );
    state.addBlock({
      count: 0,
      creative: new Int32Array(0),
      label: new Uint8Array(0),
    });
    assert.throws(
      () => state.epochProbabilities(0),
      /blocks \[0, 0\), have \[0, 1\)/,
    );
  });
});

describe('an adaptive run, drawn with the row sampler', () => {
  it('learns each store best creative; mixture value = row-weighted value', () => {
    const policy = greedy(1);
    const nSamples = 4 * ROWS_PER_BLOCK - 1000;
    const state = new AdaptiveState(policy, model, noNoise);
    const block = newRowBlock();
    const mixture = new ProbabilityMixture(6);
    const epochs: Array<{rows: number; value: number}> = [];
    const best = bestCreative(model);
    for (const e of epochPlan(nSamples, 1)) {
      const pi = state.epochProbabilities(e.epoch);
      if (e.epoch > 0) {
        // 65,536 rows put every posterior mean within ~0.01 of q_c
        for (let t = 0; t < 2; t++)
          assert.ok(pi[best[t]] > 0.9, `epoch ${e.epoch} store ${t}`);
      }
      const sampler = rowSampler(pi, model);
      const rng = streamFor(5, rowBlockStream(e.firstBlock));
      for (let i = 0; i < e.rows; i++) {
        const c = sampler.sample(rng);
        block.creative[i] = c;
        block.label[i] = rng.nextUint32() < model.labelThresholds[c] ? 1 : 0;
      }
      block.count = e.rows;
      state.addBlock(block);
      const value = policyValue(pi, model);
      epochs.push({rows: e.rows, value});
      mixture.add(e.rows, pi);
    }
    const logging = rowWeightedValue(epochs, nSamples);
    const byHand = epochs.reduce((s, e) => s + e.rows * e.value, 0) / nSamples;
    assert.ok(Math.abs(logging - byHand) < 1e-15);
    const mixed = mixture.probabilities();
    assert.ok(Math.abs(policyValue(mixed, model) - logging) < 1e-12);
    const {offsets, creatives} = storesOf(model);
    for (let t = 0; t < 2; t++) {
      let sum = 0;
      for (let i = offsets[t]; i < offsets[t + 1]; i++)
        sum += mixed[creatives[i]];
      assert.ok(Math.abs(sum - 1) < 1e-15);
    }
    // rows counted: every row of every block
    assert.equal(
      state.rows.reduce((a, b) => a + b, 0),
      nSamples,
    );
  });
});
