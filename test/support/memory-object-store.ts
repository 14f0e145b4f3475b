/**
 * The ObjectStore in memory, for unit tests of the services: objects with
 * generations, create-if-absent sinks whose abort removes only their own
 * generation, strangers' objects put straight in, injected failures
 * (including a sink whose upload breaks after some bytes), and a log.
 */
import {digestsOf} from '../../shared/digest/digests.js';
import type {ObjectDigests} from '../../shared/digest/digests.js';
import {
  AlreadyExistsError,
  DataLossError,
  ObjectGoneError,
} from '../../shared/errors.js';
import type {DatasetFileKind} from '../../shared/dataset/object-names.js';
import type {ByteSink} from '../../shared/storage/sinks/sink.js';
import {
  type ObjectStore,
  type SignedUrl,
  type StoredObject,
} from '../../shared/storage/object-store.js';

export interface MemoryObject {
  generation: string;
  bytes: Buffer;
  digests: ObjectDigests;
}

type Operation = 'read' | 'stat' | 'sign' | 'delete';

export class MemoryObjectStore implements ObjectStore {
  /** live objects by name */
  readonly objects = new Map<string, MemoryObject>();
  /** every generation ever written, by "name#generation" (reads at a generation) */
  private readonly generations = new Map<string, MemoryObject>();
  readonly log: string[] = [];
  private nextGeneration = 1_000_000n;
  private readonly failures = new Map<Operation, unknown[]>();
  /** name -> error thrown by that object's upload once it has taken `afterBytes` */
  private readonly brokenUploads = new Map<
    string,
    {afterBytes: number; error: unknown}
  >();

  constructor(readonly bucketName = 'test-bucket') {}

  failNext(operation: Operation, error: unknown): this {
    const queue = this.failures.get(operation) ?? [];
    queue.push(error);
    this.failures.set(operation, queue);
    return this;
  }

  /** The upload of `name` fails with `error` once more than `afterBytes` were written. */
  breakUpload(name: string, error: unknown, afterBytes = 0): this {
    this.brokenUploads.set(name, {afterBytes, error});
    return this;
  }

  /** Uploads of `name` work again. */
  repairUpload(name: string): this {
    this.brokenUploads.delete(name);
    return this;
  }

  private check(operation: Operation): void {
    const error = this.failures.get(operation)?.shift();
    if (error !== undefined) throw error;
  }

  /** Creates (or, like a stranger with write access, replaces) an object. */
  put(name: string, bytes: Buffer | string): MemoryObject {
    const data = Buffer.from(bytes);
    const object: MemoryObject = {
      generation: String(this.nextGeneration++),
      bytes: data,
      digests: digestsOf(data),
    };
    this.objects.set(name, object);
    this.generations.set(`${name}#${object.generation}`, object);
    this.log.push(`put ${name}`);
    return object;
  }

  /** Creates `name` only if absent (the does-not-exist precondition). */
  createIfAbsent(name: string, bytes: Buffer): MemoryObject {
    if (this.objects.has(name))
      throw new AlreadyExistsError(`${name} already exists`);
    return this.put(name, bytes);
  }

  async open(kind: DatasetFileKind, name: string): Promise<ByteSink> {
    this.log.push(`open ${kind} ${name}`);
    return new MemoryObjectSink(this, name, this.brokenUploads.get(name));
  }

  async read(name: string, generation?: string): Promise<Buffer | undefined> {
    this.log.push(`read ${name}`);
    this.check('read');
    const object =
      generation === undefined
        ? this.objects.get(name)
        : this.generations.get(`${name}#${generation}`);
    return object && Buffer.from(object.bytes);
  }

  async *readChunks(
    name: string,
    generation: string,
  ): AsyncIterable<Uint8Array> {
    const bytes = await this.read(name, generation);
    if (!bytes) throw new ObjectGoneError(name);
    // In pieces, as a stream would give them.
    for (let i = 0; i < bytes.length; i += 4096)
      yield bytes.subarray(i, i + 4096);
  }

  async stat(name: string): Promise<StoredObject | undefined> {
    this.log.push(`stat ${name}`);
    this.check('stat');
    const object = this.objects.get(name);
    if (!object) return undefined;
    return {
      name,
      generation: object.generation,
      size: object.bytes.length,
      crc32c: object.digests.crc32c,
      md5: object.digests.md5,
    };
  }

  async deleteGeneration(name: string, generation: string): Promise<void> {
    this.check('delete');
    if (this.objects.get(name)?.generation !== generation) return;
    this.objects.delete(name);
    this.log.push(`delete ${name}#${generation}`);
  }

  async signReadUrl(
    name: string,
    ttlSeconds: number,
    now: Date,
  ): Promise<SignedUrl> {
    this.check('sign');
    const expires = Math.floor(now.getTime() / 1000) * 1000 + ttlSeconds * 1000;
    return {
      url: `https://storage.test/${this.bucketName}/${name}?expires=${expires}`,
      expiresAt: new Date(expires).toISOString(),
    };
  }
}

class MemoryObjectSink implements ByteSink {
  private readonly chunks: Buffer[] = [];
  private written = 0;
  private created: MemoryObject | undefined;

  constructor(
    private readonly store: MemoryObjectStore,
    private readonly name: string,
    private readonly broken: {afterBytes: number; error: unknown} | undefined,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.written += chunk.byteLength;
    if (this.broken && this.written > this.broken.afterBytes)
      throw this.broken.error;
    this.chunks.push(Buffer.from(chunk));
  }

  async close(expected?: ObjectDigests): Promise<void> {
    if (this.broken) throw this.broken.error;
    this.created = this.store.createIfAbsent(
      this.name,
      Buffer.concat(this.chunks),
    );
    if (expected && expected.crc32c !== this.created.digests.crc32c) {
      await this.abort();
      throw new DataLossError(`${this.name} arrived corrupted`);
    }
  }

  /** What Cloud Storage does: it computes the MD5 of what it stored. */
  storedMd5(): string | undefined {
    return this.created?.digests.md5;
  }

  async abort(): Promise<void> {
    const created = this.created;
    this.created = undefined;
    if (created)
      await this.store.deleteGeneration(this.name, created.generation);
  }
}
