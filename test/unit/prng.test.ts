import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {createHash} from 'node:crypto';
import {
  rowBlockStream,
  SplitMix64,
  streamFor,
  streamKey,
  Xoshiro128ss,
} from '../../shared/dataset/prng.js';

describe('SplitMix64', () => {
  it('matches the reference implementation (seed 1234567)', () => {
    const rng = new SplitMix64(1234567n);
    assert.deepEqual(
      [rng.next(), rng.next(), rng.next()],
      [6457827717110365317n, 3203168211198807973n, 9817491932198370423n],
    );
  });
});

describe('Xoshiro128ss', () => {
  it('matches the reference C implementation (state 1, 2, 3, 4)', () => {
    const rng = new Xoshiro128ss(1, 2, 3, 4);
    const out = Array.from({length: 6}, () => rng.nextUint32());
    assert.deepEqual(
      out,
      [11520, 0, 5927040, 70819200, 2031721883, 1637235492],
    );
  });

  it('refuses the all-zero state', () => {
    assert.throws(() => new Xoshiro128ss(0, 0, 0, 0), /all zero/);
  });

  it('nextBelow stays in range and hits every value', () => {
    const rng = streamFor(9, 0);
    for (const bound of [1, 2, 3, 26, 100, 1_000_000]) {
      const seen = new Set<number>();
      for (let i = 0; i < 5000; i++) {
        const v = rng.nextBelow(bound);
        assert.ok(
          Number.isInteger(v) && v >= 0 && v < bound,
          `${v} outside [0, ${bound})`,
        );
        seen.add(v);
      }
      if (bound <= 100) assert.equal(seen.size, bound);
    }
  });

  it('nextBelow is uniform: chi-square over 26 letters within the 0.999 quantile', () => {
    const rng = streamFor(123, 5);
    const counts = new Array(26).fill(0);
    const n = 260_000;
    for (let i = 0; i < n; i++) counts[rng.nextBelow(26)]++;
    const expected = n / 26;
    const chi2 = counts.reduce(
      (sum, c) => sum + (c - expected) ** 2 / expected,
      0,
    );
    assert.ok(
      chi2 < 52.6,
      `chi-square ${chi2.toFixed(1)} >= 52.6 (25 d.f., p = 0.001)`,
    );
  });

  it('nextFloat53 is in [0, 1) with mean near 1/2', () => {
    const rng = streamFor(77, 1);
    let sum = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const u = rng.nextFloat53();
      assert.ok(u >= 0 && u < 1);
      sum += u;
    }
    assert.ok(Math.abs(sum / n - 0.5) < 5 * Math.sqrt(1 / 12 / n));
  });
});

describe('streamFor', () => {
  it('is deterministic per (seed, stream) and differs across seeds and streams', () => {
    const draw = (seed: number, stream: number) => {
      const rng = streamFor(seed, stream);
      return Array.from({length: 4}, () => rng.nextUint32());
    };
    assert.deepEqual(draw(42, 3), draw(42, 3));
    assert.notDeepEqual(draw(42, 3), draw(43, 3));
    assert.notDeepEqual(draw(42, 3), draw(42, 4));
    assert.deepEqual(
      draw(Number.MAX_SAFE_INTEGER, 0),
      draw(Number.MAX_SAFE_INTEGER, 0),
    );
  });

  it('refuses seeds outside 0..2^53-1', () => {
    for (const seed of [-1, 1.5, 2 ** 53])
      assert.throws(() => streamFor(seed, 0), RangeError);
  });

  it('keys a stream by SHA-256(domain, seed, stream), truncated to 128 bits', () => {
    const numbers = Buffer.alloc(16);
    numbers.writeBigUInt64BE(7892186128520289n, 0);
    numbers.writeBigUInt64BE(461n, 8);
    const expected = createHash('sha256')
      .update('exploration-data/stream-key/v1')
      .update(numbers)
      .digest()
      .subarray(0, 16);
    assert.deepEqual(streamKey(7892186128520289, 461), expected);
    assert.equal(
      streamKey(0, 0).toString('hex'),
      createHash('sha256')
        .update('exploration-data/stream-key/v1')
        .update(Buffer.alloc(16))
        .digest('hex')
        .slice(0, 32),
    );
  });

  it('no longer gives seed 0 block 1 and seed 7892186128520289 block 460 the same creatives', () => {
    // Under the old key, seed XOR (stream * 0xd1b54a32d192ed03), these two
    // streams were one and the same.
    const mask = (1n << 64n) - 1n;
    const oldKey = (seed: bigint, stream: bigint) =>
      (seed ^ ((stream * 0xd1b54a32d192ed03n) & mask)) & mask;
    assert.equal(
      oldKey(0n, BigInt(rowBlockStream(1))),
      oldKey(7892186128520289n, BigInt(rowBlockStream(460))),
    );
    const creatives = (seed: number, block: number) => {
      const rng = streamFor(seed, rowBlockStream(block));
      return Array.from({length: 1000}, () => {
        const c = rng.nextBelow(100);
        rng.nextUint32(); // the label draw
        return c;
      });
    };
    const a = creatives(0, 1);
    const b = creatives(7892186128520289, 460);
    const same = a.filter((c, i) => c === b[i]).length;
    // independent sequences agree at about 1 in 100 places
    assert.ok(same < 40, `${same} of 1000 creatives coincide`);
    assert.notDeepEqual(streamKey(0, 2), streamKey(7892186128520289, 461));
  });

  it('refuses stream indices that are not whole numbers >= 0', () => {
    for (const stream of [-1, 0.5, 2 ** 53])
      assert.throws(() => streamFor(1, stream), RangeError);
  });
});
