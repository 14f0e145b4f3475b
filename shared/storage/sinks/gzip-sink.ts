/**
 * GZIP of the whole stream (what tf.data.TFRecordDataset(compression_type=
 * "GZIP") reads), on zlib's thread pool, passed on to another sink.
 */
import {Writable} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import {createGzip, constants, type Gzip} from 'node:zlib';
import type {ByteSink} from './sink.js';

/** zlib level 6 (its default): the best size per second on this data. */
export const GZIP_LEVEL = constants.Z_DEFAULT_COMPRESSION;

export class GzipSink implements ByteSink {
  private readonly gzip: Gzip;
  private readonly done: Promise<void>;
  private failure: unknown;

  constructor(private readonly inner: ByteSink) {
    this.gzip = createGzip({level: GZIP_LEVEL, chunkSize: 1024 * 1024});
    const forward = new Writable({
      highWaterMark: 4,
      objectMode: true,
      write: (chunk: Buffer, _encoding, callback) => {
        inner.write(chunk).then(() => callback(), callback);
      },
    });
    this.done = pipeline(this.gzip, forward);
    this.done.catch(error => {
      this.failure ??= error;
    });
  }

  /** Resolves when zlib has consumed `chunk`. */
  write(chunk: Uint8Array): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.gzip.write(chunk, error => (error ? reject(error) : resolve()));
    });
  }

  async close(): Promise<void> {
    this.gzip.end();
    await this.done;
    await this.inner.close();
  }

  async abort(reason: unknown): Promise<void> {
    this.gzip.destroy();
    await this.done.catch(() => undefined);
    await this.inner.abort(reason);
  }
}
