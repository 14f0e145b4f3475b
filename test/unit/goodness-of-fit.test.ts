import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {
  buildModel,
  pairProbability,
  type DatasetModel,
} from '../../shared/dataset/model.js';
import {streamFor} from '../../shared/dataset/prng.js';
import {rowBlocks} from '../../shared/dataset/rows.js';
import {
  binomialLowerTail,
  binomialTwoSidedPValue,
  binomialUpperTail,
} from '../../shared/verify/statistics/binomial.js';
import {ALPHA_PER_CHECK} from '../../shared/verify/statistics/family-wise.js';
import {
  binomialGoodnessOfFit,
  chiSquareSurvival,
  poolByTarget,
  pooledGoodnessOfFit,
  type Tally,
} from '../../shared/verify/statistics/goodness-of-fit.js';

/** Binomial pmf by direct multiplication, for small n. */
function pmf(n: number, k: number, q: number): number {
  let logChoose = 0;
  for (let i = 1; i <= k; i++) logChoose += Math.log(n - k + i) - Math.log(i);
  return Math.exp(logChoose + k * Math.log(q) + (n - k) * Math.log(1 - q));
}

describe('binomial tails', () => {
  it('match direct summation of the pmf', () => {
    for (const [n, q] of [
      [1, 0.3],
      [7, 0.5],
      [40, 0.01],
      [200, 0.9],
    ]) {
      for (let k = 0; k <= n; k++) {
        let lower = 0;
        let upper = 0;
        for (let j = 0; j <= n; j++) {
          if (j <= k) lower += pmf(n, j, q);
          if (j >= k) upper += pmf(n, j, q);
        }
        const tolerance = (x: number) => 1e-12 + 1e-9 * x;
        assert.ok(
          Math.abs(binomialLowerTail(n, k, q) - lower) <= tolerance(lower),
          `P(X <= ${k}) for Bin(${n}, ${q})`,
        );
        assert.ok(
          Math.abs(binomialUpperTail(n, k, q) - upper) <= tolerance(upper),
          `P(X >= ${k}) for Bin(${n}, ${q})`,
        );
      }
    }
  });

  it('give a two-sided p-value of 1 at the mean and tiny ones far out', () => {
    assert.equal(binomialTwoSidedPValue(100, 50, 0.5), 1);
    // 5 standard deviations above the mean at n = 10^9
    const n = 1e9;
    const k = Math.round(n * 0.3 + 5 * Math.sqrt(n * 0.3 * 0.7));
    const p = binomialTwoSidedPValue(n, k, 0.3);
    assert.ok(p > 4e-7 && p < 8e-7, `p = ${p}`); // normal: 5.7e-7
  });
});

describe('chiSquareSurvival', () => {
  it('matches the closed form for even degrees of freedom', () => {
    // P(chi2(2m) >= x) = exp(-x/2) sum_{j<m} (x/2)^j / j!
    for (const [x, m] of [
      [1, 1],
      [10, 3],
      [150, 50],
      [400, 100],
    ]) {
      let term = 1;
      let sum = 0;
      for (let j = 0; j < m; j++) {
        sum += term;
        term *= x / 2 / (j + 1);
      }
      const expected = Math.exp(-x / 2) * sum;
      const actual = chiSquareSurvival(x, 2 * m);
      assert.ok(
        Math.abs(actual - expected) <= 1e-10 * expected + 1e-300,
        `x ${x}, df ${2 * m}: ${actual} vs ${expected}`,
      );
    }
    assert.equal(chiSquareSurvival(0, 4), 1);
    assert.equal(chiSquareSurvival(Infinity, 4), 0);
  });
});

describe('goodness-of-fit with tiny expected counts', () => {
  it('rejects a true model no more often than alpha (2,000 creatives with 0..3 expected positives)', () => {
    const rng = streamFor(314, 0);
    const alpha = 0.05;
    const trials = 200;
    let rejected = 0;
    for (let trial = 0; trial < trials; trial++) {
      const tallies: Tally[] = [];
      for (let c = 0; c < 2000; c++) {
        const rows = 1 + rng.nextBelow(30);
        const q = 0.001 + 0.1 * rng.nextFloat53();
        let positives = 0;
        for (let i = 0; i < rows; i++)
          positives += rng.nextFloat53() < q ? 1 : 0;
        tallies.push({id: `c${c}`, rows, positives, q});
      }
      if (!binomialGoodnessOfFit(tallies, alpha).ok) rejected++;
    }
    // conservative by construction: at most alpha, with binomial slack
    assert.ok(
      rejected <= 18,
      `${rejected} of ${trials} rejected at alpha 0.05`,
    );
  });

  it('fails a label that contradicts q = 0 or 1, and skips groups without information', () => {
    const fit = binomialGoodnessOfFit(
      [
        {id: 'a', rows: 0, positives: 0, q: 0.5},
        {id: 'b', rows: 10, positives: 0, q: 0},
        {id: 'c', rows: 10, positives: 10, q: 1},
      ],
      ALPHA_PER_CHECK,
    );
    assert.deepEqual(
      [fit.groups, fit.skipped, fit.ok, fit.pValue],
      [0, 3, true, 1],
    );
    const broken = binomialGoodnessOfFit(
      [{id: 'b', rows: 10, positives: 1, q: 0}],
      ALPHA_PER_CHECK,
    );
    assert.deepEqual([broken.ok, broken.pValue], [false, 0]);
  });
});

/** Label thresholds as if labels were drawn with probabilities `probs`. */
function withLabelProbabilities(
  model: DatasetModel,
  probs: (c: number) => number,
): DatasetModel {
  const labelThresholds = new Float64Array(model.creativeIds.length);
  for (let c = 0; c < labelThresholds.length; c++) {
    labelThresholds[c] = Math.round(probs(c) * 0x1_0000_0000);
  }
  return {...model, labelThresholds};
}

/** Rows drawn by the generator's own blocks; counts tested against the true q. */
function fits(
  model: DatasetModel,
  truth: DatasetModel,
  seed: number,
  n: number,
) {
  const rows = new Float64Array(model.creativeIds.length);
  const positives = new Float64Array(model.creativeIds.length);
  for (const block of rowBlocks(model, seed, n)) {
    for (let i = 0; i < block.count; i++) {
      rows[block.creative[i]]++;
      positives[block.creative[i]] += block.label[i];
    }
  }
  const tallies: Tally[] = truth.creativeIds.map((id, c) => ({
    id,
    rows: rows[c],
    positives: positives[c],
    q: truth.pairProbs[c],
  }));
  const target = new Map(
    truth.creativeIds.map((id, c) => [
      id,
      truth.targetIds[truth.creativeTarget[c]],
    ]),
  );
  return {
    creatives: binomialGoodnessOfFit(tallies, ALPHA_PER_CHECK),
    targetStores: pooledGoodnessOfFit(
      poolByTarget(tallies, id => target.get(id)),
      ALPHA_PER_CHECK,
    ),
  };
}

const figure = (fit: ReturnType<typeof fits>['creatives']) =>
  `X ${fit.statistic.toFixed(1)} (${fit.degreesOfFreedom} d.f.), p ${fit.pValue.toPrecision(3)}`;

describe('goodness-of-fit power at 1M rows (10 target stores, 100 creatives)', () => {
  const n = 1_000_000;
  const config = {nTargetStoreIds: 10, nCreativePackIds: 100};

  it('passes 20 honest seeds, over creatives and over target stores', t => {
    for (let seed = 1; seed <= 20; seed++) {
      const model = buildModel({seed, ...config});
      const fit = fits(model, model, seed, n);
      if (seed === 1) {
        t.diagnostic(
          `honest seed 1: creatives ${figure(fit.creatives)}; target stores ${figure(fit.targetStores)}`,
        );
      }
      assert.ok(
        fit.creatives.ok,
        `seed ${seed}: creatives ${figure(fit.creatives)}`,
      );
      assert.ok(
        fit.targetStores.ok,
        `seed ${seed}: target stores ${figure(fit.targetStores)}`,
      );
      assert.equal(fit.creatives.groups, 100);
      assert.equal(fit.targetStores.groups, 10);
    }
  });

  it('fails labels drawn from p_t alone, ignoring the creative effects', t => {
    for (const seed of [1, 2, 3]) {
      const truth = buildModel({seed, ...config});
      const effectFree = withLabelProbabilities(
        truth,
        c => truth.targetProbs[truth.creativeTarget[c]],
      );
      const fit = fits(effectFree, truth, seed, n);
      t.diagnostic(
        `effect-free seed ${seed}: creatives ${figure(fit.creatives)}; target stores ${figure(fit.targetStores)}`,
      );
      assert.equal(
        fit.creatives.ok,
        false,
        `seed ${seed}: ${figure(fit.creatives)}`,
      );
      assert.ok(fit.creatives.pValue < ALPHA_PER_CHECK);
    }
  });

  it("fails labels drawn with the effect's sign flipped", t => {
    for (const seed of [1, 2, 3]) {
      const truth = buildModel({seed, ...config});
      const flipped = withLabelProbabilities(truth, c =>
        pairProbability(
          truth.targetProbs[truth.creativeTarget[c]],
          -truth.creativeEffects[c],
        ),
      );
      const fit = fits(flipped, truth, seed, n);
      t.diagnostic(
        `sign-flipped seed ${seed}: creatives ${figure(fit.creatives)}; target stores ${figure(fit.targetStores)}`,
      );
      assert.equal(
        fit.creatives.ok,
        false,
        `seed ${seed}: ${figure(fit.creatives)}`,
      );
    }
  });
});
