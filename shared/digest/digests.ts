/**
 * The checksums recorded for every object: size, CRC-32C and MD5 in the
 * base64 form Cloud Storage reports, and SHA-256 in hex.
 */
import {createHash} from 'node:crypto';
import {crc32c, crc32cBase64} from '../formats/crc32c.js';

export interface ObjectDigests {
  bytes: number;
  crc32c: string;
  md5: string;
  sha256: string;
}

export const DIGEST_ALGORITHMS = ['md5', 'sha256', 'crc32c'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

export type WorkerRequest =
  | {op: 'update'; stream: number; chunk: Uint8Array}
  | {op: 'finish'; stream: number};

export type WorkerReply =
  | {op: 'updated'; stream: number; bytes: number}
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

/** The four digests of bytes held whole (small objects, tests). */
export function digestsOf(bytes: Uint8Array): ObjectDigests {
  return {
    bytes: bytes.byteLength,
    crc32c: crc32cBase64(crc32c(bytes)),
    md5: createHash('md5').update(bytes).digest('base64'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
