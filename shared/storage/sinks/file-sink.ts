/**
 * Writes a file through a temporary name and links it into place on close,
 * so a file with the final name is always complete, and a failed run leaves
 * nothing behind. Writes are positional, so several can be in flight while
 * the next chunk is encoded.
 */
import {link, open, rm, unlink, type FileHandle} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';
import {AlreadyExistsError} from '../../errors.js';
import type {ByteSink} from './sink.js';

/** Bytes written between two background flushes to disk. */
const SYNC_EVERY_BYTES = 128 * 1024 * 1024;

export class FileSink implements ByteSink {
  private handle: FileHandle | undefined;
  private position = 0;
  private committed = false;
  private unsyncedBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();

  private constructor(
    readonly path: string,
    handle: FileHandle,
    private readonly temporaryPath: string,
  ) {
    this.handle = handle;
  }

  /** Opens `.NAME.partial-PID` exclusively; the final name appears on close. */
  static async create(path: string): Promise<FileSink> {
    const temporaryPath = join(
      dirname(path),
      `.${basename(path)}.partial-${process.pid}`,
    );
    const handle = await open(temporaryPath, 'wx', 0o644);
    return new FileSink(path, handle, temporaryPath);
  }

  write(chunk: Uint8Array): Promise<void> {
    const handle = this.requireOpen();
    const position = this.position;
    this.position += chunk.byteLength;
    const pending = writeFully(handle, chunk, position);
    this.inFlight.add(pending);
    this.unsyncedBytes += chunk.byteLength;
    if (this.unsyncedBytes >= SYNC_EVERY_BYTES) {
      // Keep the disk busy while we generate, instead of one long flush at close.
      this.unsyncedBytes = 0;
      const syncing = pending.then(() => handle.datasync());
      this.inFlight.add(syncing);
      const done = () => this.inFlight.delete(syncing);
      syncing.then(done, done);
    }
    const forget = () => this.inFlight.delete(pending);
    pending.then(forget, forget);
    return pending;
  }

  async close(): Promise<void> {
    const handle = this.requireOpen();
    await Promise.all(this.inFlight);
    await handle.sync();
    await handle.close();
    this.handle = undefined;
    // link() refuses an existing name, so a file is never overwritten.
    try {
      await link(this.temporaryPath, this.path);
    } catch (error) {
      await rm(this.temporaryPath, {force: true});
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new AlreadyExistsError(
          `${this.path} already exists; not overwritten`,
          error,
        );
      }
      throw error;
    }
    this.committed = true;
    await unlink(this.temporaryPath);
  }

  /** Removes what this sink wrote, even after close (a failed version leaves nothing). */
  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await rm(this.temporaryPath, {force: true});
    if (this.committed) await rm(this.path, {force: true});
  }

  private requireOpen(): FileHandle {
    if (!this.handle) throw new Error(`${this.path} is already closed`);
    return this.handle;
  }
}

async function writeFully(
  handle: FileHandle,
  chunk: Uint8Array,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < chunk.byteLength) {
    const {bytesWritten} = await handle.write(
      chunk,
      done,
      chunk.byteLength - done,
      position + done,
    );
    done += bytesWritten;
  }
}
