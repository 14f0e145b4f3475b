/**
 * Writes a file through a temporary name and links it into place on close,
 * so a file with the final name is always complete, and a failed run leaves
 * nothing behind. Writes are positional and several may be in flight, so
 * encoding the next chunk overlaps with writing this one.
 */
import {link, open, rm, unlink, type FileHandle} from 'node:fs/promises';
import {AlreadyExistsError} from '../errors.js';
import {basename, dirname, join} from 'node:path';
import type {ByteSink} from './sink.js';

const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

export class FileSink implements ByteSink {
  private handle: FileHandle | undefined;
  private readonly temporaryPath: string;
  private position = 0;
  private inFlightBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;

  private constructor(
    readonly path: string,
    handle: FileHandle,
    temporaryPath: string,
  ) {
    this.handle = handle;
    this.temporaryPath = temporaryPath;
  }

  /** Opens `path.partial-PID` exclusively; the final name appears on close. */
  static async create(path: string): Promise<FileSink> {
    const temporaryPath = join(
      dirname(path),
      `.${basename(path)}.partial-${process.pid}`,
    );
    const handle = await open(temporaryPath, 'wx', 0o644);
    return new FileSink(path, handle, temporaryPath);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    const handle = this.requireOpen();
    const position = this.position;
    this.position += chunk.byteLength;
    this.inFlightBytes += chunk.byteLength;
    const pending: Promise<void> = writeFully(handle, chunk, position).then(
      () => {
        this.inFlightBytes -= chunk.byteLength;
        this.inFlight.delete(pending);
      },
      (error: unknown) => {
        this.failure ??= error;
        this.inFlight.delete(pending);
      },
    );
    this.inFlight.add(pending);
    while (this.inFlightBytes > MAX_IN_FLIGHT_BYTES && this.inFlight.size > 0) {
      await Promise.race(this.inFlight);
    }
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    const handle = this.requireOpen();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
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
    await unlink(this.temporaryPath);
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await rm(this.temporaryPath, {force: true});
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
