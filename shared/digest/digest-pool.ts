/**
 * Two worker threads that checksum any number of byte streams: one MD5, one
 * SHA-256 and CRC-32C (so on two cores the main thread keeps generating).
 * Chunks go to the workers through shared memory, never copied twice.
 */
import {Worker} from 'node:worker_threads';
import type {
  DigestAlgorithm,
  ObjectDigests,
  WorkerReply,
  WorkerRequest,
} from './digests.js';

const WORKER_ALGORITHMS: DigestAlgorithm[][] = [['md5'], ['sha256', 'crc32c']];
/** Bytes a worker may have queued before writers wait. */
const MAX_QUEUED_BYTES = 96 * 1024 * 1024;

interface Pending {
  resolve(
    values: Partial<Record<DigestAlgorithm, string>>,
    bytes: number,
  ): void;
  reject(error: Error): void;
}

class DigestWorker {
  private readonly worker: Worker;
  queuedBytes = 0;
  private readonly finishing = new Map<number, Pending>();
  private drainWaiters: Array<() => void> = [];
  private failure: Error | undefined;

  constructor(algorithms: DigestAlgorithm[]) {
    this.worker = new Worker(new URL('./digest-worker.js', import.meta.url), {
      workerData: algorithms,
    });
    this.worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    this.worker.on('error', error => this.fail(error));
  }

  post(request: WorkerRequest): void {
    if (this.failure) throw this.failure;
    if (request.op === 'update') this.queuedBytes += request.chunk.byteLength;
    this.worker.postMessage(request);
  }

  finish(stream: number): Promise<{
    values: Partial<Record<DigestAlgorithm, string>>;
    bytes: number;
  }> {
    return new Promise((resolve, reject) => {
      this.finishing.set(stream, {
        resolve: (values, bytes) => resolve({values, bytes}),
        reject,
      });
      try {
        this.post({op: 'finish', stream});
      } catch (error) {
        this.finishing.delete(stream);
        reject(error as Error);
      }
    });
  }

  async drained(limit: number): Promise<void> {
    while (this.queuedBytes > limit && !this.failure) {
      await new Promise<void>(resolve => this.drainWaiters.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  private onReply(reply: WorkerReply): void {
    if (reply.op === 'updated') {
      this.queuedBytes -= reply.bytes;
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const wake of waiters) wake();
    } else if (reply.op === 'finished') {
      this.finishing.get(reply.stream)?.resolve(reply.values, reply.bytes);
      this.finishing.delete(reply.stream);
    } else {
      this.fail(new Error(`digest worker: ${reply.message}`));
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.finishing.values()) pending.reject(error);
    this.finishing.clear();
    for (const wake of this.drainWaiters) wake();
    this.drainWaiters = [];
  }
}

/** Shares a chunk with the workers without copying it twice. */
function shared(chunk: Uint8Array): Uint8Array {
  if (chunk.buffer instanceof SharedArrayBuffer) return chunk;
  const copy = new Uint8Array(new SharedArrayBuffer(chunk.byteLength));
  copy.set(chunk);
  return copy;
}

export class DigestPool {
  private readonly workers = WORKER_ALGORITHMS.map(a => new DigestWorker(a));
  private nextStream = 0;

  /** A new stream of bytes to checksum. */
  open(): DigestStream {
    return new DigestStream(this.workers, this.nextStream++);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map(w => w.terminate()));
  }
}

export class DigestStream {
  constructor(
    private readonly workers: DigestWorker[],
    private readonly stream: number,
  ) {}

  /** Queues a chunk; waits while the workers are too far behind. */
  async update(chunk: Uint8Array): Promise<void> {
    if (chunk.byteLength === 0) return;
    const view = shared(chunk);
    for (const worker of this.workers) {
      worker.post({op: 'update', stream: this.stream, chunk: view});
    }
    await Promise.all(this.workers.map(w => w.drained(MAX_QUEUED_BYTES)));
  }

  async digest(): Promise<ObjectDigests> {
    const results = await Promise.all(
      this.workers.map(w => w.finish(this.stream)),
    );
    const values = Object.assign({}, ...results.map(r => r.values)) as Partial<
      Record<DigestAlgorithm, string>
    >;
    const {md5, sha256, crc32c} = values;
    if (!md5 || !sha256 || !crc32c)
      throw new Error('digest workers returned incomplete digests');
    return {bytes: results[0].bytes, crc32c, md5, sha256};
  }
}
