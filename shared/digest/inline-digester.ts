/**
 * Checksums a stream on the calling thread. For a thread that is itself one
 * of several parallel workers (the CLI's shard workers): there the cores are
 * already busy, and hashing in place saves the copies and hand-offs to the
 * digest threads of DigestPool.
 */
import {createHash, type Hash} from 'node:crypto';
import {crc32c, crc32cBase64} from '../formats/crc32c.js';
import {
  objectDigests,
  threadCpuMs,
  type Digester,
  type DigestOptions,
  type DigestTiming,
  type ObjectDigests,
} from './digests.js';

export class InlineDigester implements Digester {
  private readonly md5: Hash | undefined;
  private readonly sha256 = createHash('sha256');
  private crc = 0;
  private bytes = 0;

  /** `timing`: where to add the milliseconds spent hashing */
  constructor(
    options: DigestOptions,
    private readonly timing?: DigestTiming,
  ) {
    this.md5 = options.md5 ? createHash('md5') : undefined;
  }

  async update(chunk: Uint8Array): Promise<void> {
    const started = this.timing && threadCpuMs();
    this.md5?.update(chunk);
    this.sha256.update(chunk);
    this.crc = crc32c(chunk, this.crc);
    this.bytes += chunk.byteLength;
    if (this.timing && started !== undefined)
      this.timing.ms += threadCpuMs() - started;
  }

  async digest(): Promise<ObjectDigests> {
    return objectDigests(
      this.bytes,
      crc32cBase64(this.crc),
      this.md5?.digest('base64'),
      this.sha256.digest('hex'),
    );
  }
}
