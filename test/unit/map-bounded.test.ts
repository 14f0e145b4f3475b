import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {mapBounded} from '../../shared/parallel/map-bounded.js';

const tick = () => new Promise(resolve => setImmediate(resolve));

describe('mapBounded', () => {
  it('keeps input order and never has more than `limit` calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapBounded(
      Array.from({length: 50}, (_, i) => i),
      16,
      async (n, index) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        for (let t = 0; t < (n * 7) % 5; t++) await tick();
        inFlight--;
        return n * 10 + (index === n ? 0 : 1);
      },
    );
    assert.deepEqual(
      results,
      Array.from({length: 50}, (_, i) => i * 10),
    );
    assert.equal(peak, 16);
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    await assert.rejects(
      mapBounded([0, 1, 2, 3, 4, 5], 2, async n => {
        started.push(n);
        await tick();
        if (n === 1) throw new Error('no 1');
        return n;
      }),
      /no 1/,
    );
    await tick();
    await tick();
    assert.deepEqual(started, [0, 1, 2]);
  });

  it('handles no items, and refuses a limit below 1', async () => {
    assert.deepEqual(await mapBounded([], 4, async () => 1), []);
    await assert.rejects(
      mapBounded([1], 0, async n => n),
      /limit/,
    );
  });
});
