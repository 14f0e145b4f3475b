/**
 * The datasets bucket in Cloud Storage (or fake-gcs-server) as an
 * ObjectStore. Objects are created with a does-not-exist precondition
 * (ifGenerationMatch: 0), streamed (data files through one resumable upload,
 * nothing buffered whole), and checked on close: the size, CRC-32C and MD5
 * that Cloud Storage reports must equal those computed while writing. A sink
 * remembers the generation it created; its abort deletes that generation
 * only (ifGenerationMatch), so an object another request created, or one the
 * precondition refused to replace, is never touched.
 */
import type {Bucket, File} from '@google-cloud/storage';
import type {Writable} from 'node:stream';
import type {ObjectDigests} from '../digest/digests.js';
import {
  AlreadyExistsError,
  DataLossError,
  UnavailableError,
} from '../errors.js';
import type {DatasetFileKind} from '../names.js';
import type {ByteSink} from '../sinks/sink.js';
import {
  ObjectGoneError,
  type ObjectStore,
  type StoredObject,
} from './object-store.js';
import {signedReadUrl, type SignedUrl} from './signed-url.js';

const CONTENT_TYPES: Record<DatasetFileKind, string> = {
  parquet: 'application/vnd.apache.parquet',
  tfrecord: 'application/octet-stream',
  metadata: 'application/json',
};

function httpStatus(error: unknown): number | undefined {
  const code = (error as {code?: unknown})?.code;
  return typeof code === 'number' ? code : undefined;
}

/** @google-cloud/storage's resumable upload gives up with this RangeError when the server lost bytes. */
function isLostUploadSession(error: unknown): boolean {
  return (
    error instanceof RangeError &&
    /Initiate a new upload to continue/.test(error.message)
  );
}

function generationOf(file: File): string | undefined {
  const generation = file.metadata.generation;
  return generation === undefined ? undefined : String(generation);
}

export class GcsObjectSink implements ByteSink {
  private readonly stream: Writable;
  private readonly finished: Promise<void>;
  private failure: unknown;
  /** the generation this sink created, once the upload finished */
  private created: string | undefined;

  constructor(
    readonly file: File,
    contentType: string,
    resumable: boolean,
    private readonly store: GcsObjectStore,
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
    // Every failure of the upload lands here, so none is ever unhandled.
    this.finished.then(
      () => {
        this.created = generationOf(this.file);
      },
      error => {
        this.failure ??= error;
      },
    );
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.failure) return Promise.reject(this.translate(this.failure));
    // The upload may hold on to a chunk after it is accepted; give it a copy,
    // so the caller can reuse its buffer as soon as this resolves.
    const copy = Buffer.from(chunk);
    return new Promise((resolve, reject) => {
      this.stream.write(copy, error =>
        error ? reject(this.translate(this.failure ?? error)) : resolve(),
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
    this.created = generationOf(this.file);
    if (!expected) return;
    const metadata = this.file.metadata;
    const size = Number(metadata.size);
    if (
      size !== expected.bytes ||
      metadata.crc32c !== expected.crc32c ||
      (metadata.md5Hash !== undefined && metadata.md5Hash !== expected.md5)
    ) {
      await this.removeOwn();
      throw new DataLossError(
        `upload of ${this.file.name} arrived corrupted: storage reports ${size} bytes crc32c ${metadata.crc32c} md5 ${metadata.md5Hash}, sent ${expected.bytes} bytes crc32c ${expected.crc32c} md5 ${expected.md5}`,
      );
    }
  }

  async abort(): Promise<void> {
    this.stream.destroy(new Error('aborted'));
    await this.finished.catch(() => undefined);
    // Only the generation this sink created; an unfinished upload never became an object.
    await this.removeOwn();
  }

  private async removeOwn(): Promise<void> {
    const generation = this.created;
    this.created = undefined;
    if (generation === undefined) return;
    await this.store
      .deleteGeneration(this.file.name, generation)
      .catch(() => undefined);
  }

  private translate(error: unknown): unknown {
    if (isLostUploadSession(error)) {
      // The resumable session lost bytes it had accepted (the storage
      // service restarted or dropped them): only a new upload can go on.
      return new UnavailableError(
        `the upload of gs://${this.file.bucket.name}/${this.file.name} was interrupted by the storage service; retry`,
        2,
        error,
      );
    }
    if (httpStatus(error) === 412) {
      return new AlreadyExistsError(
        `gs://${this.file.bucket.name}/${this.file.name} already exists; objects are never overwritten`,
        error,
      );
    }
    return error;
  }
}

export class GcsObjectStore implements ObjectStore {
  constructor(readonly bucket: Bucket) {}

  get bucketName(): string {
    return this.bucket.name;
  }

  async open(kind: DatasetFileKind, name: string): Promise<ByteSink> {
    return new GcsObjectSink(
      this.bucket.file(name),
      CONTENT_TYPES[kind],
      kind !== 'metadata',
      this,
    );
  }

  async read(name: string, generation?: string): Promise<Buffer | undefined> {
    const file =
      generation === undefined
        ? this.bucket.file(name)
        : this.bucket.file(name, {generation});
    try {
      const [bytes] = await file.download();
      return bytes;
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  async *readChunks(
    name: string,
    generation: string,
  ): AsyncIterable<Uint8Array> {
    try {
      for await (const chunk of this.bucket
        .file(name, {generation})
        .createReadStream({validation: false}))
        yield chunk as Buffer;
    } catch (error) {
      if (httpStatus(error) === 404)
        throw new ObjectGoneError(name, {cause: error});
      throw error;
    }
  }

  async stat(name: string): Promise<StoredObject | undefined> {
    try {
      const [metadata] = await this.bucket.file(name).getMetadata();
      return {
        name,
        generation: String(metadata.generation),
        size: Number(metadata.size),
        crc32c: metadata.crc32c,
        md5: metadata.md5Hash,
      };
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  async deleteGeneration(name: string, generation: string): Promise<void> {
    try {
      await this.bucket.file(name).delete({ifGenerationMatch: generation});
    } catch (error) {
      // Gone already, or replaced by someone else's generation: not ours to delete.
      const status = httpStatus(error);
      if (status === 404 || status === 412) return;
      throw error;
    }
  }

  signReadUrl(name: string, ttlSeconds: number, now: Date): Promise<SignedUrl> {
    return signedReadUrl(this.bucket, name, ttlSeconds, now);
  }
}
