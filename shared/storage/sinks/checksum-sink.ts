/**
 * A sink that checksums what passes through it on the way to another sink,
 * and hands the checksums to that sink on close, so an upload can compare
 * them with what Cloud Storage received. When the inner sink's store
 * computes the MD5 itself (Cloud Storage), that MD5 is the one recorded
 * (docs/design.md §4), and a store that reports none fails the object.
 */
import {objectDigests, type ObjectDigests} from '../../digest/digests.js';
import {DataLossError} from '../../errors.js';
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
    let md5 = digests.md5;
    if (this.inner.storedMd5) {
      md5 = this.inner.storedMd5();
      if (md5 === undefined) {
        await this.inner.abort(new Error('no md5Hash')).catch(() => undefined);
        throw new DataLossError(
          'the storage service reported no md5Hash for an object it finished; the metadata records its MD5',
        );
      }
    }
    this.result = objectDigests(
      digests.bytes,
      digests.crc32c,
      md5,
      digests.sha256,
    );
  }

  abort(reason: unknown): Promise<void> {
    return this.inner.abort(reason);
  }

  digests(): ObjectDigests {
    if (!this.result) throw new Error('checksums are known only after close');
    return this.result;
  }
}
