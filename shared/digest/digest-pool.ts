/**
 * Worker threads that checksum any number of byte streams: one SHA-256 and
 * CRC-32C, and with MD5 asked for (the CLI's --md5) a second one for MD5,
 * which cannot be split and would hold the first back (so on two cores the
 * main thread keeps generating). Chunks go to the workers through shared
 * memory, never copied twice.
 */
import {Worker} from 'node:worker_threads';
import {InlineDigester} from './inline-digester.js';
import {
  objectDigests,
  type Digester,
  type DigestAlgorithm,
  type DigestOptions,
  type DigestTiming,
  type ObjectDigests,
  type WorkerReply,
  type WorkerRequest,
} from './digests.js';

/** The algorithms of each worker thread, with and without MD5. */
function workerAlgorithms(md5: boolean): DigestAlgorithm[][] {
  return md5 ? [['md5'], ['sha256', 'crc32c']] : [['sha256', 'crc32c']];
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

interface PendingDigest {
  resolve(result: {
    values: Partial<Record<DigestAlgorithm, string>>;
    bytes: number;
  }): void;
  reject(error: Error): void;
}

/** One worker; it answers every request, in the order it got them. */
class DigestWorker {
  private readonly worker: Worker;
  private readonly updates: Pending[] = [];
  private readonly finishing = new Map<number, PendingDigest>();
  private failure: Error | undefined;
  /** milliseconds this worker spent hashing, as it reported them */
  hashMs = 0;

  constructor(algorithms: DigestAlgorithm[]) {
    this.worker = new Worker(new URL('./digest-worker.js', import.meta.url), {
      workerData: algorithms,
    });
    this.worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    this.worker.on('error', error => this.fail(error));
  }

  /** Resolves when the worker has hashed `chunk`. */
  update(stream: number, chunk: Uint8Array): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.updates.push({resolve, reject});
      this.worker.postMessage({
        op: 'update',
        stream,
        chunk,
      } satisfies WorkerRequest);
    });
  }

  finish(stream: number): Promise<{
    values: Partial<Record<DigestAlgorithm, string>>;
    bytes: number;
  }> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.finishing.set(stream, {resolve, reject});
      this.worker.postMessage({op: 'finish', stream} satisfies WorkerRequest);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  private onReply(reply: WorkerReply): void {
    if (reply.op === 'updated') {
      this.hashMs += reply.ms;
      this.updates.shift()?.resolve();
    } else if (reply.op === 'finished') {
      this.finishing
        .get(reply.stream)
        ?.resolve({values: reply.values, bytes: reply.bytes});
      this.finishing.delete(reply.stream);
    } else {
      this.fail(new Error(`digest worker: ${reply.message}`));
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.updates.splice(0)) pending.reject(error);
    for (const pending of this.finishing.values()) pending.reject(error);
    this.finishing.clear();
  }
}

/** Shares a chunk with the workers: as it is when in shared memory, else one copy. */
function shared(chunk: Uint8Array): Uint8Array {
  if (chunk.buffer instanceof SharedArrayBuffer) return chunk;
  const copy = new Uint8Array(new SharedArrayBuffer(chunk.byteLength));
  copy.set(chunk);
  return copy;
}

/** What a checksum sink needs: bytes in, digests out. */
/** One stream's digests: the same contract as a Digester (digests.ts). */
export type ChunkDigest = Digester;

export class DigestPool {
  private readonly workers: DigestWorker[];
  private readonly md5: boolean;
  private readonly inlineTiming: DigestTiming = {ms: 0};
  private nextStream = 0;

  /**
   * `inline`: hash on the calling thread instead. Starting the workers costs
   * more than hashing a small dataset (hundreds of ms each time, which 100
   * concurrent small generates in one process pay 100 times). `md5`: hash
   * MD5 too (default: SHA-256 and CRC-32C only).
   */
  constructor(options: {inline?: boolean} & Partial<DigestOptions> = {}) {
    this.md5 = options.md5 ?? false;
    this.workers = options.inline
      ? []
      : workerAlgorithms(this.md5).map(a => new DigestWorker(a));
  }

  /** A new stream of bytes to checksum. */
  open(): ChunkDigest {
    if (this.workers.length === 0)
      return new InlineDigester({md5: this.md5}, this.inlineTiming);
    return new DigestStream(this.workers, this.nextStream++, this.md5);
  }

  /** Milliseconds spent hashing so far, over every thread of this pool. */
  hashMs(): number {
    return this.workers.reduce((ms, w) => ms + w.hashMs, this.inlineTiming.ms);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map(w => w.terminate()));
  }
}

export class DigestStream implements Digester {
  constructor(
    private readonly workers: DigestWorker[],
    private readonly stream: number,
    private readonly md5: boolean,
  ) {}

  /** Resolves when every worker has hashed `chunk` (then it may be reused). */
  async update(chunk: Uint8Array): Promise<void> {
    if (chunk.byteLength === 0) return;
    const view = shared(chunk);
    await Promise.all(this.workers.map(w => w.update(this.stream, view)));
  }

  async digest(): Promise<ObjectDigests> {
    const results = await Promise.all(
      this.workers.map(w => w.finish(this.stream)),
    );
    const values = Object.assign({}, ...results.map(r => r.values)) as Partial<
      Record<DigestAlgorithm, string>
    >;
    const {md5, sha256, crc32c} = values;
    if ((this.md5 && !md5) || !sha256 || !crc32c)
      throw new Error('digest workers returned incomplete digests');
    return objectDigests(results[0].bytes, crc32c, md5, sha256);
  }
}
