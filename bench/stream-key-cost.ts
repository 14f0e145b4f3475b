/**
 * What keying a stream by SHA-256(seed, stream) costs next to the old key,
 * SplitMix64 of seed XOR (stream * constant) (docs/generator.md):
 *
 *   npm run build && node build/bench/stream-key-cost.js
 *
 * Interleaved, five rounds, best of each: 100 blocks of 65,536 rows drawn as
 * drawBlock draws them, and 50,000 stream keys.
 */
import {buildModel} from '../shared/dataset/model.js';
import {SplitMix64, streamFor, Xoshiro128ss} from '../shared/dataset/prng.js';
import {ROWS_PER_BLOCK} from '../shared/dataset/blocks.js';

const MASK_64 = (1n << 64n) - 1n;

/** The key of generator 0.1.0. */
function oldStreamFor(seed: number, stream: number): Xoshiro128ss {
  const key =
    (BigInt(seed) ^ ((BigInt(stream) * 0xd1b54a32d192ed03n) & MASK_64)) &
    MASK_64;
  const mixer = new SplitMix64(key);
  const a = mixer.next();
  const b = mixer.next();
  const w = [a & 0xffffffffn, a >> 32n, b & 0xffffffffn, b >> 32n].map(Number);
  return new Xoshiro128ss(w[0], w[1], w[2], w[3]);
}

type Keyed = (seed: number, stream: number) => Xoshiro128ss;

const model = buildModel({seed: 7, nTargetStoreIds: 10, nCreativePackIds: 100});
const creative = new Int32Array(ROWS_PER_BLOCK);
const label = new Uint8Array(ROWS_PER_BLOCK);

function rowsPerSecond(keyed: Keyed, blocks: number): number {
  const started = performance.now();
  for (let b = 0; b < blocks; b++) {
    const rng = keyed(7, 1 + b);
    for (let i = 0; i < ROWS_PER_BLOCK; i++) {
      const c = rng.nextBelow(100);
      creative[i] = c;
      label[i] = rng.nextUint32() < model.labelThresholds[c] ? 1 : 0;
    }
  }
  return (blocks * ROWS_PER_BLOCK) / ((performance.now() - started) / 1000);
}

function microsecondsPerKey(keyed: Keyed, count: number): number {
  const started = performance.now();
  for (let i = 0; i < count; i++) keyed(7, i);
  return ((performance.now() - started) * 1000) / count;
}

const keys: Record<string, Keyed> = {
  '0.1.0 SplitMix64(seed ^ stream*K)': oldStreamFor,
  '0.2.0 SHA-256(seed, stream)': streamFor,
};
const best = new Map<string, {rows: number; us: number}>();
for (let round = 0; round < 5; round++) {
  for (const [name, keyed] of Object.entries(keys)) {
    const b = best.get(name) ?? {rows: 0, us: Infinity};
    b.rows = Math.max(b.rows, rowsPerSecond(keyed, 100));
    b.us = Math.min(b.us, microsecondsPerKey(keyed, 50_000));
    best.set(name, b);
  }
}
for (const [name, b] of best) {
  process.stdout.write(
    `${name.padEnd(36)} ${(b.rows / 1e6).toFixed(1)} M rows/s, ${b.us.toFixed(2)} us per stream key\n`,
  );
}
