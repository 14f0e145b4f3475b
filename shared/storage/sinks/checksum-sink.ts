/**
 * A sink that checksums what passes through it on the way to another sink,
 * and hands the checksums to that sink on close, so an upload can compare
 * them with what Cloud Storage received.
 */
import type {ObjectDigests} from '../../digest/digests.js';
import type {ChunkDigest} from '../../digest/digest-pool.js';
import type {ByteSink} from './sink.js';

export class ChecksumSink implements ByteSink {
  private result: ObjectDigests | undefined;

  constructor(
    private readonly inner: ByteSink,
    private readonly digest: ChunkDigest,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    await Promise.all([this.digest.update(chunk), this.inner.write(chunk)]);
  }

  async close(): Promise<void> {
    const digests = await this.digest.digest();
    await this.inner.close(digests);
    this.result = digests;
  }

  abort(reason: unknown): Promise<void> {
    return this.inner.abort(reason);
  }

  digests(): ObjectDigests {
    if (!this.result) throw new Error('checksums are known only after close');
    return this.result;
  }
}
