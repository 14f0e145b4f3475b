import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {DatasetModel} from '../../shared/dataset/model.js';
import {streamFor} from '../../shared/dataset/prng.js';
import {rowSampler, UNITS_PER_COLUMN} from '../../shared/policy/alias.js';
import {policyProbabilities} from '../../shared/policy/probabilities.js';
import {storesOf} from '../../shared/policy/stores.js';
import {policyValues} from '../../shared/policy/values.js';

/** 1,000,000 creatives over 10,000 stores, drawn directly (buildModel alone takes ~1 s). */
function largeModel(nCreatives: number, nStores: number): DatasetModel {
  const rng = streamFor(1, 0);
  const creativeTarget = new Int32Array(nCreatives);
  const pairProbs = new Float64Array(nCreatives);
  for (let c = 0; c < nCreatives; c++) {
    creativeTarget[c] = rng.nextBelow(nStores);
    pairProbs[c] = rng.nextFloat53();
  }
  return {
    targetIds: Array.from({length: nStores}, (_, t) => `t${t}`),
    creativeIds: Array.from({length: nCreatives}, (_, c) => `c${c}`),
    targetProbs: new Float64Array(nStores),
    creativeEffects: new Float64Array(nCreatives),
    creativeTarget,
    pairProbs,
    labelThresholds: new Float64Array(nCreatives),
  };
}

describe('performance sanity (times printed, not asserted)', () => {
  it('pi + alias table for C = 1e6, T = 1e4', () => {
    const model = largeModel(1_000_000, 10_000);
    const times: Record<string, number> = {};
    let start = performance.now();
    const stores = storesOf(model);
    times.stores = performance.now() - start;
    start = performance.now();
    const pi = policyProbabilities(
      {type: 'softmax', beta: 10, scoreNoise: 0},
      model.pairProbs,
      model,
    );
    times.softmax = performance.now() - start;
    start = performance.now();
    const table = rowSampler(pi, model);
    times.alias = performance.now() - start;
    start = performance.now();
    const values = policyValues(pi, model);
    times.values = performance.now() - start;
    const rng = streamFor(1, 1);
    start = performance.now();
    let sum = 0;
    for (let i = 0; i < 1_000_000; i++) sum += table.sample(rng);
    times.sample1M = performance.now() - start;
    console.log(
      `# C=1e6 T=1e4 (ms): ${Object.entries(times)
        .map(([k, v]) => `${k} ${v.toFixed(0)}`)
        .join(', ')}; pi + alias ${(times.softmax + times.alias).toFixed(0)}`,
    );
    assert.equal(table.size, 1_000_000);
    assert.equal(stores.offsets[10_000], 1_000_000);
    let units = 0;
    for (let i = 0; i < table.size; i++) units += table.thresholds[i];
    assert.ok(units <= 1_000_000 * UNITS_PER_COLUMN);
    // softmax beta 10 over q ~ U(0, 1) favours the good creatives
    assert.ok(values.uniform < values.logging && values.logging < values.best);
    assert.ok(sum > 0);
  });
});
