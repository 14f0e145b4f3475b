import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {RunningSummary} from '../../shared/metadata/probabilities-summary.js';
import {summarizeProbabilities} from '../support/summarize-probabilities.js';

/** i / 2^20 for every i < 2^20, in a scrambled order: every partial sum is exact. */
function scrambledGrid(): Float64Array {
  const n = 1 << 20;
  const values = new Float64Array(n);
  // i -> (i * 0x9e3779b1) mod 2^20 is a permutation (odd multiplier)
  for (let i = 0; i < n; i++)
    values[i] = (Math.imul(i, 0x9e3779b1) & (n - 1)) / n;
  return values;
}

describe('summarizeProbabilities', () => {
  it('summarizes 1,048,576 values exactly, without spreading them into a call', () => {
    const values = scrambledGrid();
    const summary = summarizeProbabilities(values);
    assert.deepEqual(summary, {
      count: 1 << 20,
      min: 0,
      max: ((1 << 20) - 1) / (1 << 20),
      // sum = (2^20 - 1) / 2 exactly, so the mean is exact too
      mean: ((1 << 20) - 1) / 2 / (1 << 20),
    });
  });

  it('takes plain arrays, and finds min and max wherever they are', () => {
    assert.deepEqual(summarizeProbabilities([0.25, 0.75, 0.5]), {
      count: 3,
      min: 0.25,
      max: 0.75,
      mean: 0.5,
    });
    assert.deepEqual(summarizeProbabilities([0.5]), {
      count: 1,
      min: 0.5,
      max: 0.5,
      mean: 0.5,
    });
  });

  it('answers NaN, not Infinity, for no values', () => {
    const summary = summarizeProbabilities([]);
    assert.equal(summary.count, 0);
    for (const value of [summary.min, summary.max, summary.mean])
      assert.ok(Number.isNaN(value));
  });

  it('gives the same bits one value at a time as over an array', () => {
    const values = Float64Array.from(
      {length: 1000},
      (_, i) => Math.sin(i * 1.7) ** 2,
    );
    const running = new RunningSummary();
    for (const value of values) running.add(value);
    assert.deepEqual(running.result(), summarizeProbabilities(values));
  });
});
