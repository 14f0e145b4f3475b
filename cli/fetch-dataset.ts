/**
 * A ready version's files, one per format or every shard, through the
 * loader functions' signed URLs into a folder: the shared part of
 * `exploration-data fetch`, `npm run smoke` and the demo. Every data file is
 * streamed to disk and checked against the loader's size, CRC-32C and MD5
 * (clients/typescript/download.ts), several at once; the metadata comes last. On
 * any failure every file this call wrote is removed.
 */
import {access, rm} from 'node:fs/promises';
import {basename, join} from 'node:path';
import {
  ApiError,
  filesOfLink,
  isShardedLink,
  type ApiClient,
  type FileLink,
  type MetadataLink,
} from '../clients/typescript/index.js';
import {
  DEFAULT_PARALLEL_DOWNLOADS,
  downloadAll,
  downloadTo,
  type DownloadJob,
} from '../clients/typescript/download.js';
import type {Format} from '../shared/dataset/config.js';
import {AlreadyExistsError} from '../shared/errors.js';

export interface FetchedFile {
  format: Format;
  /** shard index, or null for a version of one file per format */
  shard: number | null;
  path: string;
  bytes: number;
  crc32c: string;
  md5: string;
}

export interface FetchedDataset {
  version: number;
  /** shards per format (1 for a one-file version) */
  shards: number;
  files: FetchedFile[];
  metadata: {path: string; bytes: number};
  /** data bytes plus the metadata's */
  bytes: number;
}

export interface FetchDatasetOptions {
  /** Files downloaded at once (default 4). */
  parallel?: number;
  /** Called once with the data bytes to come, before any download. */
  onTotal?: (bytes: number) => void;
  /** Called with each chunk's byte count. */
  onBytes?: (bytes: number) => void;
  /** Signed URL lifetime asked of the loaders, seconds (default the server's). */
  ttlSeconds?: number;
  signal?: AbortSignal;
}

const LOADERS = [
  ['parquet', 'loadParquet'],
  ['tfrecord', 'loadTfrecord'],
] as const;

/** A loader's answer, or undefined when the version has no file of that format (404). */
async function optional(
  answer: Promise<FileLink>,
): Promise<FileLink | undefined> {
  try {
    return await answer;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Downloads the files of `ready` (loadMetadata's answer for a ready version)
 * into `directory` (which must exist). Refuses, before downloading anything,
 * when any of its files is already there.
 */
export async function fetchDataset(
  client: ApiClient,
  ready: MetadataLink,
  directory: string,
  options: FetchDatasetOptions = {},
): Promise<FetchedDataset> {
  const {version} = ready;
  const jobs: Array<DownloadJob & {format: Format; shard: number | null}> = [];
  let shards = 1;
  for (const [format, loader] of LOADERS) {
    const link = await optional(client[loader](version, options.ttlSeconds));
    if (link === undefined) continue; // the version has no file of that format
    const sharded = isShardedLink(link);
    if (sharded) shards = link.shards.length;
    filesOfLink(link).forEach((file, index) =>
      jobs.push({
        format,
        shard: sharded ? index : null,
        file,
        path: join(directory, basename(file.object)),
      }),
    );
  }
  const metadataPath = join(directory, `metadata_v${version}.json`);
  for (const path of [...jobs.map(j => j.path), metadataPath]) {
    if (await exists(path))
      throw new AlreadyExistsError(`${path} already exists; not overwritten`);
  }

  options.onTotal?.(jobs.reduce((sum, j) => sum + j.file.sizeBytes, 0));
  const downloaded = await downloadAll(jobs, {
    parallel: options.parallel ?? DEFAULT_PARALLEL_DOWNLOADS,
    onBytes: options.onBytes,
    signal: options.signal,
  });
  let metadataBytes: number;
  try {
    metadataBytes = await downloadTo(ready.url, metadataPath, {
      signal: options.signal,
    });
  } catch (error) {
    await removeAll(downloaded.map(d => d.path));
    throw error;
  }
  const files = downloaded.map((d, i) => ({
    format: jobs[i].format,
    shard: jobs[i].shard,
    path: d.path,
    bytes: d.bytes,
    crc32c: d.crc32c,
    md5: d.md5,
  }));
  return {
    version,
    shards,
    files,
    metadata: {path: metadataPath, bytes: metadataBytes},
    bytes: files.reduce((sum, f) => sum + f.bytes, metadataBytes),
  };
}

/** Removes what fetchDataset wrote (after a failed verify, say). */
export async function removeFetched(fetched: FetchedDataset): Promise<void> {
  await removeAll([...fetched.files.map(f => f.path), fetched.metadata.path]);
}

async function removeAll(paths: string[]): Promise<void> {
  await Promise.all(paths.map(path => rm(path, {force: true})));
}
