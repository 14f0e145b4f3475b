/**
 * A fixed set of shared-memory buffers that encoded chunks are written into
 * and reused from. Checksum workers read them without a copy, and memory
 * stays at `count * bytes` however many rows go through: a slot is reused
 * only after every consumer of its chunk (file or upload, checksums) is done.
 */
export class SharedSlots {
  private readonly free: Buffer[] = [];
  private readonly waiting: Array<(slot: Buffer) => void> = [];

  constructor(
    count: number,
    readonly bytes: number,
  ) {
    for (let i = 0; i < count; i++)
      this.free.push(Buffer.from(new SharedArrayBuffer(bytes)));
  }

  /** A free slot; waits while all are in use. */
  acquire(): Promise<Buffer> {
    const slot = this.free.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise(resolve => this.waiting.push(resolve));
  }

  release(slot: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}
