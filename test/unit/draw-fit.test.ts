import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {blockCount} from '../../shared/dataset/blocks.js';
import {buildModel} from '../../shared/dataset/model.js';
import {streamFor} from '../../shared/dataset/prng.js';
import {drawBlock, newRowBlock} from '../../shared/dataset/rows.js';
import {drawSampledBlock} from '../../shared/policy/adaptive-replay.js';
import {rowSampler, rowUnitWeights} from '../../shared/policy/alias.js';
import {policyProbabilities} from '../../shared/policy/probabilities.js';
import {storesOf} from '../../shared/policy/stores.js';
import {binomialTwoSidedPValue} from '../../shared/verify/statistics/binomial.js';
import {
  addChain,
  addCreativeChains,
  addStoreChain,
  drawFitOf,
  emptyPart,
} from '../../shared/verify/statistics/draw-fit.js';
import {POLICY_ALPHA_PER_CHECK} from '../../shared/verify/statistics/family-wise.js';

describe('conditional binomial chains', () => {
  it('two members: one binomial, Bin(4, 1/2) with 3 drawn has p = 2 * 5/16', () => {
    const part = emptyPart();
    addChain(part, [0, 1], [3, 1], [1, 1], m => `c${m}`);
    assert.equal(part.groups, 1);
    assert.equal(part.skipped, 0);
    assert.ok(Math.abs(part.statistic - -2 * Math.log(0.625)) < 1e-12);
    assert.deepEqual(
      {...part.worst, pValue: Number(part.worst!.pValue.toFixed(12))},
      {id: 'c0', drawn: 3, trials: 4, probability: 0.5, pValue: 0.625},
    );
  });

  it('weights are exact: the second of three is tested at W_1 / (W_1 + W_2) of what is left', () => {
    const part = emptyPart();
    addChain(part, [0, 1, 2], [2, 5, 3], [2, 3, 1], m => `c${m}`);
    assert.equal(part.groups, 2);
    // c0: 2 of Bin(10, 2/6); c1: 5 of Bin(8, 3/4)
    const expected =
      -2 * Math.log(binomialTwoSidedPValue(10, 2, 2 / 6)) +
      -2 * Math.log(binomialTwoSidedPValue(8, 5, 3 / 4));
    assert.ok(Math.abs(part.statistic - expected) < 1e-12);
  });

  it('a creative of weight 0 that was drawn fails at once (p = 0)', () => {
    const part = emptyPart();
    addChain(part, [0, 1], [5, 1], [1, 0], m => `c${m}`);
    const fit = drawFitOf(part, POLICY_ALPHA_PER_CHECK);
    assert.equal(fit.statistic, Infinity);
    assert.equal(fit.pValue, 0);
    assert.equal(fit.ok, false);
    // c0 of weight 1 of 1 must have taken all 6 rows: it took 5
    assert.deepEqual(
      [fit.worst!.id, fit.worst!.trials, fit.worst!.probability],
      ['c0', 6, 1],
    );
  });

  it('one creative, or no rows: nothing to test, nothing fails', () => {
    const part = emptyPart();
    addChain(part, [0], [7], [4], m => `c${m}`);
    addChain(part, [0, 1], [0, 0], [1, 1], m => `c${m}`);
    assert.deepEqual(part, {statistic: 0, groups: 0, skipped: 1, worst: null});
    assert.equal(drawFitOf(part, 0.01).ok, true);
  });

  it('keeps its alpha: 400 honest multinomials of small stores fail at most ~alpha of the time', () => {
    const rng = streamFor(7, 1);
    const alpha = 0.05;
    let failures = 0;
    const trials = 400;
    const weights = [1, 2, 3, 4, 10];
    const total = weights.reduce((a, b) => a + b);
    for (let r = 0; r < trials; r++) {
      const counts = [0, 0, 0, 0, 0];
      const n = 1 + rng.nextBelow(60);
      for (let i = 0; i < n; i++) {
        let u = rng.nextBelow(total);
        let c = 0;
        while (u >= weights[c]) u -= weights[c++];
        counts[c]++;
      }
      const part = emptyPart();
      addChain(part, [0, 1, 2, 3, 4], counts, weights, m => `c${m}`);
      if (!drawFitOf(part, alpha).ok) failures++;
    }
    // binomial(400, 0.05): mean 20, sd 4.4; discreteness makes it conservative
    assert.ok(
      failures <= 34,
      `${failures} of ${trials} failed at alpha ${alpha}`,
    );
  });
});

describe('creatives drawn under softmax beta = 5, 1M rows (10 stores, 100 creatives)', () => {
  const seed = 1;
  const nSamples = 1_000_000;
  const model = buildModel({seed, nTargetStoreIds: 10, nCreativePackIds: 100});
  const policy = {type: 'softmax', beta: 5, scoreNoise: 0} as const;
  const pi = policyProbabilities(policy, model.pairProbs, model);
  const weights = rowUnitWeights(pi, model);
  const stores = storesOf(model);

  function fitOf(draw: 'policy' | 'uniform') {
    const sampler = rowSampler(pi, model);
    const block = newRowBlock();
    const counts = new Float64Array(100);
    const storeCounts = new Float64Array(10);
    for (let b = 0; b < blockCount(nSamples); b++) {
      if (draw === 'policy')
        drawSampledBlock(model, seed, nSamples, b, sampler, block);
      else drawBlock(model, seed, nSamples, b, block);
      for (let i = 0; i < block.count; i++) {
        counts[block.creative[i]]++;
        storeCounts[model.creativeTarget[block.creative[i]]]++;
      }
    }
    const part = emptyPart();
    addStoreChain(part, stores, storeCounts, model.targetIds);
    addCreativeChains(part, stores, counts, weights, model.creativeIds);
    return drawFitOf(part, POLICY_ALPHA_PER_CHECK);
  }

  it('the policy draw passes', t => {
    const fit = fitOf('policy');
    t.diagnostic(
      `policy draw: X = ${fit.statistic.toFixed(1)}, ${fit.degreesOfFreedom} d.f., p = ${fit.pValue.toPrecision(3)}`,
    );
    assert.equal(fit.groups, 9 + 100 - 10);
    assert.ok(fit.ok, `p = ${fit.pValue}`);
    assert.ok(fit.pValue > 1e-3, `an honest draw at p = ${fit.pValue}`);
  });

  it('creatives redrawn uniformly fail, far below the threshold', t => {
    const fit = fitOf('uniform');
    t.diagnostic(
      `uniform redraw: X = ${fit.statistic.toFixed(1)}, ${fit.degreesOfFreedom} d.f., p = ${fit.pValue.toPrecision(3)}`,
    );
    assert.equal(fit.ok, false);
    assert.ok(fit.pValue < POLICY_ALPHA_PER_CHECK * 1e-6, `p = ${fit.pValue}`);
  });
});
