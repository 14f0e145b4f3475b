/**
 * The checksums recorded for every object: size, CRC-32C and MD5 in the
 * base64 form Cloud Storage reports, and SHA-256 in hex. MD5 is optional
 * (docs/design.md §4): the service takes it from Cloud Storage, which
 * computes it itself; the CLI hashes it only when asked (--md5).
 */
import {createHash} from 'node:crypto';
import {crc32c, crc32cBase64} from '../formats/crc32c.js';

export interface ObjectDigests {
  bytes: number;
  crc32c: string;
  /** absent unless Cloud Storage reported it or MD5 was asked for */
  md5?: string;
  sha256: string;
}

/** How a stream is checksummed: MD5 too, or only SHA-256 and CRC-32C. */
export interface DigestOptions {
  /** hash MD5 as well (the CLI's --md5); ~2.5 s of one core per 10M rows */
  md5: boolean;
}

/** The digests in the metadata's key order (bytes, crc32c, md5?, sha256). */
export function objectDigests(
  bytes: number,
  crc32c: string,
  md5: string | undefined,
  sha256: string,
): ObjectDigests {
  return md5 === undefined
    ? {bytes, crc32c, sha256}
    : {bytes, crc32c, md5, sha256};
}

export const DIGEST_ALGORITHMS = ['md5', 'sha256', 'crc32c'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

export type WorkerRequest =
  | {op: 'update'; stream: number; chunk: Uint8Array}
  | {op: 'finish'; stream: number};

/** CPU milliseconds spent hashing, summed (`generate --timings`). */
export interface DigestTiming {
  ms: number;
}

/**
 * This thread's CPU time so far (user + system), in ms. Not the elapsed
 * time: on a busy machine a preempted thread's wall clock keeps running.
 */
export function threadCpuMs(): number {
  const {user, system} = process.threadCpuUsage();
  return (user + system) / 1000;
}

export type WorkerReply =
  | {op: 'updated'; stream: number; bytes: number; ms: number}
  | {
      op: 'finished';
      stream: number;
      values: Partial<Record<DigestAlgorithm, string>>;
      bytes: number;
    }
  | {op: 'failed'; stream: number; message: string};

/** One stream of bytes being checksummed (in worker threads, or inline). */
export interface Digester {
  /** Resolves when `chunk` is hashed (then it may be reused). */
  update(chunk: Uint8Array): Promise<void>;
  digest(): Promise<ObjectDigests>;
}

/** The four digests of bytes held whole (small objects, a store's own MD5, tests). */
export function digestsOf(
  bytes: Uint8Array,
  options: DigestOptions = {md5: true},
): ObjectDigests {
  return objectDigests(
    bytes.byteLength,
    crc32cBase64(crc32c(bytes)),
    options.md5 ? createHash('md5').update(bytes).digest('base64') : undefined,
    createHash('sha256').update(bytes).digest('hex'),
  );
}
