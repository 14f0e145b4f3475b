import type {ByteSink} from '../../shared/storage/sinks/sink.js';

/** Keeps the bytes in memory; for tests. */
export class MemorySink implements ByteSink {
  private readonly chunks: Uint8Array[] = [];
  closed = false;
  aborted = false;

  async write(chunk: Uint8Array): Promise<void> {
    if (this.closed || this.aborted)
      throw new Error('write after end of MemorySink');
    // A copy: the caller may reuse `chunk` once this resolves (the contract above).
    this.chunks.push(Buffer.from(chunk));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async abort(): Promise<void> {
    this.aborted = true;
    this.chunks.length = 0;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
