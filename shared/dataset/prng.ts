/**
 * The one source of randomness: xoshiro128** (Blackman & Vigna), seeded per
 * stream by a SHA-256 hash of (seed, stream index). A stream is named by
 * (seed, stream index), so the model and every block of rows can be drawn independently and in any
 * order, and still give the same values on every machine.
 */
import {createHash} from 'node:crypto';

const TWO_32 = 0x1_0000_0000;
const INV_TWO_32 = 1 / TWO_32; // exact: a power of two
const TWO_53 = 2 ** 53;
const MASK_64 = (1n << 64n) - 1n;
/** Largest bound for which `x * bound` stays exact in a double. */
export const MAX_BOUND = 2 ** 21;

/** SplitMix64 (Steele, Lea & Flood), the seeding generator Vigna recommends. */
export class SplitMix64 {
  private state: bigint;

  constructor(seed: bigint) {
    this.state = seed & MASK_64;
  }

  next(): bigint {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & MASK_64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
    return z ^ (z >> 31n);
  }
}

/** xoshiro128**: 32-bit output, 2^128 - 1 period, fast with Math.imul. */
export class Xoshiro128ss {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(s0: number, s1: number, s2: number, s3: number) {
    if ((s0 | s1 | s2 | s3) === 0) {
      throw new RangeError('xoshiro128** state must not be all zero');
    }
    this.s0 = s0 | 0;
    this.s1 = s1 | 0;
    this.s2 = s2 | 0;
    this.s3 = s3 | 0;
  }

  /** Next 32-bit output as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /**
   * Uniform integer in [0, bound), without bias (Lemire's multiply-shift with
   * rejection). `bound` must be an integer in 1..2^21.
   */
  nextBelow(bound: number): number {
    // m = x * bound < 2^53 is exact; its high and low 32 bits without fmod.
    let m = this.nextUint32() * bound;
    let high = Math.floor(m * INV_TWO_32);
    let low = m - high * TWO_32;
    if (low < bound) {
      const threshold = (TWO_32 - bound) % bound;
      while (low < threshold) {
        m = this.nextUint32() * bound;
        high = Math.floor(m * INV_TWO_32);
        low = m - high * TWO_32;
      }
    }
    return high;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat53(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / TWO_53;
  }
}

/** Stream 0 draws the model; stream 1 + b draws the rows of block b. */
export const MODEL_STREAM = 0;
export function rowBlockStream(blockIndex: number): number {
  return 1 + blockIndex;
}

/** Domain tag of the stream key, so the key is this generator's alone. */
const STREAM_KEY_DOMAIN = 'exploration-data/stream-key/v1';

/**
 * The 128-bit key of stream `stream` for `seed`: the first 16 bytes of
 * SHA-256(domain || seed as u64 big-endian || stream as u64 big-endian).
 * A hash of both numbers (docs/design.md §2), so no two (seed, stream) pairs share a
 * stream except by a 2^-128 accident; the old `seed XOR (stream * constant)`
 * key let seed 0 block 1 and seed 7892186128520289 block 460 coincide.
 * Costs about 2 microseconds per 65,536-row block (docs/generator.md).
 */
export function streamKey(seed: number, stream: number): Buffer {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be an integer in 0..2^53-1, got ${seed}`);
  }
  if (!Number.isSafeInteger(stream) || stream < 0) {
    throw new RangeError(
      `stream must be an integer in 0..2^53-1, got ${stream}`,
    );
  }
  const numbers = Buffer.alloc(16);
  numbers.writeBigUInt64BE(BigInt(seed), 0);
  numbers.writeBigUInt64BE(BigInt(stream), 8);
  return createHash('sha256')
    .update(STREAM_KEY_DOMAIN)
    .update(numbers)
    .digest()
    .subarray(0, 16);
}

/**
 * The generator of stream `stream` for `seed`: xoshiro128** whose four state
 * words are the stream key (little-endian 32-bit words). An all-zero key,
 * which xoshiro cannot take, is replaced by SplitMix64 outputs of the seed.
 */
export function streamFor(seed: number, stream: number): Xoshiro128ss {
  const key = streamKey(seed, stream);
  const words = [0, 4, 8, 12].map(offset => key.readUInt32LE(offset));
  if ((words[0] | words[1] | words[2] | words[3]) === 0) {
    const mixer = new SplitMix64(BigInt(seed));
    const a = mixer.next();
    const b = mixer.next();
    words.splice(
      0,
      4,
      ...[a & 0xffffffffn, a >> 32n, b & 0xffffffffn, b >> 32n].map(Number),
    );
  }
  return new Xoshiro128ss(words[0], words[1], words[2], words[3]);
}
