/**
 * A version folder in a Cloud Storage bucket as a dataset destination.
 * Objects are created with a does-not-exist precondition (ifGenerationMatch:
 * 0), streamed (data files through one resumable upload, nothing buffered
 * whole), and checked on close: the size, CRC-32C and MD5 that Cloud Storage
 * reports must equal those computed while writing.
 */
import type {Bucket, File} from '@google-cloud/storage';
import type {Writable} from 'node:stream';
import type {ObjectDigests} from '../digest/digests.js';
import {AlreadyExistsError, DataLossError} from '../errors.js';
import type {DatasetDestination} from '../generate.js';
import type {DatasetFileKind} from '../names.js';
import type {ByteSink} from '../sinks/sink.js';

const CONTENT_TYPES: Record<DatasetFileKind, string> = {
  parquet: 'application/vnd.apache.parquet',
  tfrecord: 'application/octet-stream',
  metadata: 'application/json',
};

function httpStatus(error: unknown): number | undefined {
  const code = (error as {code?: unknown})?.code;
  return typeof code === 'number' ? code : undefined;
}

export class GcsObjectSink implements ByteSink {
  private readonly stream: Writable;
  private readonly finished: Promise<void>;
  private failure: unknown;

  constructor(
    readonly file: File,
    contentType: string,
    resumable: boolean,
  ) {
    this.stream = file.createWriteStream({
      resumable,
      validation: false, // checked on close against our own digests (the client's JS hashing is slow)
      preconditionOpts: {ifGenerationMatch: 0},
      metadata: {contentType},
    });
    this.finished = new Promise<void>((resolve, reject) => {
      this.stream.on('finish', resolve);
      this.stream.on('error', reject);
    });
    this.finished.catch(error => {
      this.failure ??= error;
    });
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.failure) return Promise.reject(this.translate(this.failure));
    // The upload may hold on to a chunk after it is accepted; give it a copy,
    // so the caller can reuse its buffer as soon as this resolves.
    const copy = Buffer.from(chunk);
    return new Promise((resolve, reject) => {
      this.stream.write(copy, error =>
        error ? reject(this.translate(error)) : resolve(),
      );
    });
  }

  async close(expected?: ObjectDigests): Promise<void> {
    this.stream.end();
    try {
      await this.finished;
    } catch (error) {
      throw this.translate(error);
    }
    if (!expected) return;
    const metadata = this.file.metadata;
    const size = Number(metadata.size);
    if (
      size !== expected.bytes ||
      metadata.crc32c !== expected.crc32c ||
      (metadata.md5Hash !== undefined && metadata.md5Hash !== expected.md5)
    ) {
      await this.file.delete({ignoreNotFound: true}).catch(() => undefined);
      throw new DataLossError(
        `upload of ${this.file.name} arrived corrupted: storage reports ${size} bytes crc32c ${metadata.crc32c} md5 ${metadata.md5Hash}, sent ${expected.bytes} bytes crc32c ${expected.crc32c} md5 ${expected.md5}`,
      );
    }
  }

  async abort(): Promise<void> {
    this.stream.destroy(new Error('aborted'));
    await this.finished.catch(() => undefined);
    // A completed object of a failed version is removed; an unfinished upload never became one.
    await this.file.delete({ignoreNotFound: true}).catch(() => undefined);
  }

  private translate(error: unknown): unknown {
    if (httpStatus(error) === 412) {
      return new AlreadyExistsError(
        `gs://${this.file.bucket.name}/${this.file.name} already exists; objects are never overwritten`,
        error,
      );
    }
    return error;
  }
}

export class GcsDestination implements DatasetDestination {
  constructor(private readonly bucket: Bucket) {}

  async open(kind: DatasetFileKind, name: string): Promise<ByteSink> {
    return new GcsObjectSink(
      this.bucket.file(name),
      CONTENT_TYPES[kind],
      kind !== 'metadata',
    );
  }
}

export function gsUri(bucket: string, name: string): string {
  return `gs://${bucket}/${name}`;
}
