import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {buildModel} from '../../shared/dataset/model.js';
import {rowBlocks} from '../../shared/dataset/rows.js';
import {bernsteinBound} from '../../shared/verify/statistics/bernstein.js';

describe('rows follow the model (1M rows)', () => {
  const nSamples = 1_000_000;
  for (const [nTargetStoreIds, nCreativePackIds, seed] of [
    [10, 100, 2024],
    [200, 1000, 99],
  ]) {
    it(`${nTargetStoreIds} targets x ${nCreativePackIds} creatives: every pair's rate and share within its bound`, () => {
      const model = buildModel({seed, nTargetStoreIds, nCreativePackIds});
      const rows = new Float64Array(nCreativePackIds);
      const positives = new Float64Array(nCreativePackIds);
      for (const block of rowBlocks(model, seed, nSamples)) {
        for (let i = 0; i < block.count; i++) {
          rows[block.creative[i]]++;
          positives[block.creative[i]] += block.label[i];
        }
      }
      let worst = 0;
      for (let c = 0; c < nCreativePackIds; c++) {
        const q = model.pairProbs[c];
        const rate = positives[c] / rows[c];
        const ratio =
          Math.abs(rate - q) / bernsteinBound(rows[c], q, nCreativePackIds);
        worst = Math.max(worst, ratio);
        // creatives are drawn uniformly: each share is Binomial(n, 1/C)
        const share = rows[c] / nSamples;
        assert.ok(
          Math.abs(share - 1 / nCreativePackIds) <=
            bernsteinBound(nSamples, 1 / nCreativePackIds, nCreativePackIds),
          `creative ${c} drawn ${rows[c]} times`,
        );
      }
      assert.ok(
        worst <= 1,
        `a pair's rate is ${worst.toFixed(2)} times its bound`,
      );
      // and the bound is not vacuous: the worst pair uses a real part of it
      assert.ok(worst > 0.05, `worst ratio ${worst} suspiciously small`);
    });
  }

  it('the bound shrinks like 1/sqrt(n) and is under 3.5 points at 10k rows', () => {
    const b1 = bernsteinBound(10_000, 0.5, 100);
    const b4 = bernsteinBound(40_000, 0.5, 100);
    assert.ok(Math.abs(b1 / b4 - 2) < 0.1);
    assert.ok(b1 < 0.035);
  });
});
