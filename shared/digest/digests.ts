/**
 * The checksums recorded for every object: size, CRC-32C and MD5 in the
 * base64 form Cloud Storage reports, and SHA-256 in hex.
 */
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
