/**
 * The datasets bucket in Cloud Storage (or fake-gcs-server) as an
 * ObjectStore. Objects are created with a does-not-exist precondition
 * (ifGenerationMatch: 0), streamed (data files through one resumable upload,
 * nothing buffered whole), and checked on close: the size and CRC-32C that
 * Cloud Storage reports must equal those computed while writing (and the MD5,
 * when one was computed). Cloud Storage's own md5Hash of the finished object
 * is what the metadata records (docs/design.md §4: nobody here hashes MD5
 * for a data object). A sink
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
  ObjectGoneError,
} from '../errors.js';
import type {DatasetFileKind} from '../dataset/object-names.js';
import type {ByteSink} from './sinks/sink.js';
import {type ObjectStore, type StoredObject} from './object-store.js';
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

/**
 * An upload's own request answered 404 (the resumable session is gone: the
 * object is new, so nothing else can be missing), or the client's retries
 * against an unreachable service ran out.
 */
function isLostUpload(error: unknown): boolean {
  const status =
    httpStatus(error) ?? (error as {status?: unknown} | undefined)?.status;
  if (status === 404) return true;
  return (
    error instanceof Error &&
    /^Retry (total time )?limit exceeded/.test(error.message)
  );
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function generationOf(file: File): string | undefined {
  const generation = file.metadata.generation;
  return generation === undefined ? undefined : String(generation);
}

/** No upload progress for this long while a write or close waits: the upload is stalled. */
export const UPLOAD_STALL_MS = 60_000;

export interface GcsSinkOptions {
  /** fail a write or close with UnavailableError after this long without progress */
  stallMs: number;
}

/**
 * The upload stream of @google-cloud/storage can end without settling a
 * write: when the upload fails (say the storage service restarted and
 * forgot the session, 404), the stream errors or is destroyed, but the
 * callback of the write in flight is never called. So every write and close
 * here waits for its own callback or the first failure of the stream,
 * whichever comes first: an 'error', a 'close' before 'finish', or a stall
 * (no progress for stallMs while something waits).
 */
export class GcsObjectSink implements ByteSink {
  private readonly stream: Writable;
  private readonly finished: Promise<void>;
  private failure: unknown;
  /** the generation this sink created, once the upload finished */
  private created: string | undefined;
  /** rejecters of the writes and close waiting on the stream */
  private readonly waiting = new Set<(error: unknown) => void>();
  private lastProgress = Date.now();
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    readonly file: File,
    contentType: string,
    resumable: boolean,
    private readonly store: GcsObjectStore,
    private readonly options: GcsSinkOptions = {stallMs: UPLOAD_STALL_MS},
  ) {
    this.stream = file.createWriteStream({
      resumable,
      validation: false, // checked on close against our own digests (the client's JS hashing is slow)
      preconditionOpts: {ifGenerationMatch: 0},
      metadata: {contentType},
    });
    this.stream.on('progress', () => this.progressed());
    this.finished = new Promise<void>((resolve, reject) => {
      let done = false;
      this.stream.once('finish', () => {
        done = true;
        resolve();
      });
      this.stream.on('error', reject);
      // Destroyed without an error (or the error went to an inner stream only).
      this.stream.once('close', () => {
        if (!done) reject(this.closedEarly());
      });
    });
    // Every failure of the upload lands here, so none is ever unhandled.
    this.finished.then(
      () => {
        this.created = generationOf(this.file);
        this.stopWatchdog();
      },
      error => this.fail(error),
    );
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.failure) return Promise.reject(this.translate(this.failure));
    // The upload may hold on to a chunk after it is accepted; give it a copy,
    // so the caller can reuse its buffer as soon as this resolves.
    const copy = Buffer.from(chunk);
    return this.untilSettled(
      new Promise<void>((resolve, reject) => {
        this.stream.write(copy, error => {
          if (error) return reject(error);
          this.progressed();
          resolve();
        });
      }),
    );
  }

  async close(expected?: ObjectDigests): Promise<void> {
    if (this.failure) throw this.translate(this.failure);
    this.stream.end();
    await this.untilSettled(this.finished);
    this.created = generationOf(this.file);
    if (!expected) return;
    const metadata = this.file.metadata;
    const size = Number(metadata.size);
    if (
      size !== expected.bytes ||
      metadata.crc32c !== expected.crc32c ||
      (metadata.md5Hash !== undefined &&
        expected.md5 !== undefined &&
        metadata.md5Hash !== expected.md5)
    ) {
      await this.removeOwn();
      throw new DataLossError(
        `upload of ${this.file.name} arrived corrupted: storage reports ${size} bytes crc32c ${metadata.crc32c} md5 ${metadata.md5Hash}, sent ${expected.bytes} bytes crc32c ${expected.crc32c}${expected.md5 === undefined ? '' : ` md5 ${expected.md5}`}`,
      );
    }
  }

  /** Cloud Storage's md5Hash of the object this sink finished (base64). */
  storedMd5(): string | undefined {
    const md5 = this.file.metadata.md5Hash;
    return typeof md5 === 'string' && md5 !== '' ? md5 : undefined;
  }

  /** `operation`, or the first failure of the upload, whichever settles first. */
  private untilSettled(operation: Promise<void>): Promise<void> {
    if (this.waiting.size === 0) this.lastProgress = Date.now();
    return new Promise<void>((resolve, reject) => {
      const onFailure = (error: unknown) => {
        this.waiting.delete(onFailure);
        reject(this.translate(error));
      };
      this.waiting.add(onFailure);
      this.startWatchdog();
      operation.then(
        () => {
          this.waiting.delete(onFailure);
          resolve();
        },
        error => onFailure(this.failure ?? error),
      );
    });
  }

  /** The upload failed: every waiting write and close fails with it, and the stream is torn down. */
  private fail(error: unknown): void {
    this.failure ??= error;
    this.stopWatchdog();
    for (const reject of [...this.waiting]) reject(this.failure);
    this.waiting.clear();
    if (!this.stream.destroyed) this.stream.destroy(toError(this.failure));
  }

  private progressed(): void {
    this.lastProgress = Date.now();
  }

  private startWatchdog(): void {
    if (this.watchdog || this.failure) return;
    const {stallMs} = this.options;
    this.watchdog = setInterval(
      () => {
        if (this.waiting.size === 0) return this.stopWatchdog();
        const idleMs = Date.now() - this.lastProgress;
        if (idleMs < stallMs) return;
        this.fail(
          new UnavailableError(
            `the upload of gs://${this.file.bucket.name}/${this.file.name} made no progress for ${Math.round(idleMs / 1000)} s; retry`,
            5,
          ),
        );
      },
      Math.max(10, Math.min(1_000, stallMs / 4)),
    );
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  private closedEarly(): UnavailableError {
    return new UnavailableError(
      `the upload of gs://${this.file.bucket.name}/${this.file.name} ended before it finished (the storage service dropped it); retry`,
      2,
    );
  }

  async abort(): Promise<void> {
    this.fail(new Error('aborted'));
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
    if (isLostUpload(error)) {
      // The storage service forgot the upload session (restarted) or could
      // not be reached within the client's retries: a new upload can go on.
      return new UnavailableError(
        `the upload of gs://${this.file.bucket.name}/${this.file.name} was lost by the storage service (${(error as Error).message}); retry`,
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
  constructor(
    readonly bucket: Bucket,
    private readonly sinkOptions: GcsSinkOptions = {stallMs: UPLOAD_STALL_MS},
  ) {}

  get bucketName(): string {
    return this.bucket.name;
  }

  async open(kind: DatasetFileKind, name: string): Promise<ByteSink> {
    return new GcsObjectSink(
      this.bucket.file(name),
      CONTENT_TYPES[kind],
      kind !== 'metadata',
      this,
      this.sinkOptions,
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
