/**
 * Downloads through signed URLs into a folder: each file streamed to disk
 * (never held in memory) under a temporary name, its size, CRC-32C and MD5
 * computed on the way and compared with what the loader said (docs/design.md §5),
 * and only then linked to its own name, which is never overwritten. Several
 * files (a sharded version's shards) go at once, bounded; the first failure
 * stops the others and removes every file this call wrote.
 */
import {createHash} from 'node:crypto';
import {createWriteStream} from 'node:fs';
import {link, rm, unlink} from 'node:fs/promises';
import {basename} from 'node:path';
import {Readable, Transform, type TransformCallback} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import type {ReadableStream} from 'node:stream/web';
import {
  AlreadyExistsError,
  DataLossError,
  DatasetError,
} from '../../shared/errors.js';
import {crc32c, crc32cBase64} from '../../shared/formats/crc32c.js';
import {reach} from './api-client.js';
import type {SignedFile} from './api-types.js';

/** Files downloaded at once by default (fetch --parallel). */
export const DEFAULT_PARALLEL_DOWNLOADS = 4;
export const MAX_PARALLEL_DOWNLOADS = 64;

export interface Downloaded {
  path: string;
  bytes: number;
  crc32c: string;
  md5: string;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Called with each chunk's byte count as it is written. */
  onBytes?: (bytes: number) => void;
}

/** Counts, CRC-32C and MD5 of the bytes that flow through; stops past `limit` bytes. */
class CheckedBytes extends Transform {
  bytes = 0;
  crc = 0;
  readonly md5 = createHash('md5');

  constructor(
    private readonly limit: number,
    private readonly name: string,
    private readonly onBytes?: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: TransformCallback,
  ): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      done(
        new DataLossError(
          `${this.name}: the download holds more than the ${this.limit} bytes its loader announced`,
        ),
      );
      return;
    }
    this.crc = crc32c(chunk, this.crc);
    this.md5.update(chunk);
    this.onBytes?.(chunk.length);
    done(null, chunk);
  }
}

/** Streams `url` into `partial` (created new), through `through` when given. */
async function streamTo(
  url: string,
  partial: string,
  name: string,
  signal: AbortSignal | undefined,
  through?: Transform,
): Promise<void> {
  const response = await reach(url, {signal});
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    throw new DatasetError(
      'INTERNAL',
      `download of ${name} answered ${response.status}`,
    );
  }
  const body = Readable.fromWeb(response.body as ReadableStream);
  const sink = createWriteStream(partial, {flags: 'wx'});
  if (through) await pipeline(body, through, sink, {signal});
  else await pipeline(body, sink, {signal});
}

/** Moves a complete `partial` to `path`, which must not exist yet. */
async function publish(partial: string, path: string): Promise<void> {
  await link(partial, path).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EEXIST'
      ? new AlreadyExistsError(`${path} already exists; not overwritten`, error)
      : error;
  });
}

function partialName(path: string): string {
  return `${path}.partial-${process.pid}`;
}

/**
 * One file of known size and checksums, into `path`: DataLossError (nothing
 * left behind) when the bytes are not what the loader announced.
 */
export async function downloadVerified(
  file: SignedFile,
  path: string,
  options: DownloadOptions = {},
): Promise<Downloaded> {
  const name = basename(path);
  const partial = partialName(path);
  const checked = new CheckedBytes(file.sizeBytes, name, options.onBytes);
  try {
    await streamTo(file.url, partial, name, options.signal, checked);
    const crc = crc32cBase64(checked.crc);
    const md5 = checked.md5.digest('base64');
    const wrong = [
      checked.bytes !== file.sizeBytes &&
        `${checked.bytes} bytes, expected ${file.sizeBytes}`,
      crc !== file.crc32c && `crc32c ${crc}, expected ${file.crc32c}`,
      md5 !== file.md5 && `md5 ${md5}, expected ${file.md5}`,
    ].filter(Boolean);
    if (wrong.length > 0)
      throw new DataLossError(
        `${name}: the download does not match its loader's answer: ${wrong.join(', ')}`,
      );
    await publish(partial, path);
    return {path, bytes: checked.bytes, crc32c: crc, md5};
  } finally {
    await unlink(partial).catch(() => undefined);
  }
}

/** A file of unknown checksums (the metadata) into `path`; returns its bytes. */
export async function downloadTo(
  url: string,
  path: string,
  options: DownloadOptions = {},
): Promise<number> {
  const partial = partialName(path);
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      options.onBytes?.(chunk.length);
      done(null, chunk);
    },
  });
  try {
    await streamTo(url, partial, basename(path), options.signal, counter);
    await publish(partial, path);
    return bytes;
  } finally {
    await unlink(partial).catch(() => undefined);
  }
}

export interface DownloadJob {
  file: SignedFile;
  path: string;
}

/**
 * Every job, at most `parallel` at once, each verified (downloadVerified).
 * Resolves with the results in job order. On the first failure the others
 * are aborted, every file this call wrote is removed, and that failure is
 * thrown (not the aborts it caused).
 */
export async function downloadAll(
  jobs: readonly DownloadJob[],
  options: DownloadOptions & {parallel?: number} = {},
): Promise<Downloaded[]> {
  const parallel = Math.max(
    1,
    Math.min(options.parallel ?? DEFAULT_PARALLEL_DOWNLOADS, jobs.length),
  );
  const stop = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, stop.signal])
    : stop.signal;
  const results: Downloaded[] = new Array(jobs.length);
  let next = 0;
  let failure: {error: unknown} | undefined;
  const worker = async () => {
    while (failure === undefined && next < jobs.length) {
      const index = next++;
      try {
        results[index] = await downloadVerified(
          jobs[index].file,
          jobs[index].path,
          {signal, onBytes: options.onBytes},
        );
      } catch (error) {
        failure ??= {error};
        stop.abort();
      }
    }
  };
  await Promise.all(Array.from({length: parallel}, worker));
  if (failure === undefined) return results;
  await Promise.all(
    results.filter(Boolean).map(r => rm(r.path, {force: true})),
  );
  throw failure.error;
}
