/**
 * `exploration-data fetch`: a version's files through the loader functions
 * (signed URLs), into a folder, ready for `verify` (DESIGN §9).
 */
import {execFileSync} from 'node:child_process';
import {createWriteStream} from 'node:fs';
import {link, mkdir, rm, unlink} from 'node:fs/promises';
import {basename, join} from 'node:path';
import {Readable} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import type {ReadableStream} from 'node:stream/web';
import {ApiClient, ApiError, reach} from '../shared/api/index.js';
import {
  AlreadyExistsError,
  DatasetError,
  InvalidArgumentError,
} from '../shared/errors.js';
import {
  checkOutFolder,
  DATASET_VERSION_BOUNDS,
  parseIntegerFlag,
} from './generate-command.js';

/** `--base-url` must be an http(s) URL. */
export function checkBaseUrl(raw: string): void {
  let protocol = '';
  try {
    protocol = new URL(raw).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new InvalidArgumentError(
      `--base-url must be an http:// or https:// URL, got ${JSON.stringify(raw)}`,
      'baseUrl',
    );
  }
}

/** `--dataset-version`: N or "latest". */
export function parseVersionFlag(raw: string): number | 'latest' {
  if (raw === 'latest') return 'latest';
  try {
    return parseIntegerFlag(raw, 'datasetVersion', DATASET_VERSION_BOUNDS)!;
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw new InvalidArgumentError(
      error.message.replace(/, got /, ' or "latest", got '),
      'datasetVersion',
    );
  }
}

export interface FetchFlags {
  baseUrl: string;
  datasetVersion: string;
  out: string;
  token?: string;
  gcloudToken?: boolean;
  json?: boolean;
}

/** Streams a URL into `path`, which appears only when complete and is never overwritten. */
export async function downloadTo(url: string, path: string): Promise<number> {
  const response = await reach(url);
  if (response.status !== 200 || !response.body) {
    throw new DatasetError(
      'INTERNAL',
      `download of ${basename(path)} answered ${response.status}`,
    );
  }
  const partial = `${path}.partial-${process.pid}`;
  let bytes = 0;
  const counted = Readable.fromWeb(response.body as ReadableStream).on(
    'data',
    (chunk: Buffer) => {
      bytes += chunk.length;
    },
  );
  try {
    await pipeline(counted, createWriteStream(partial, {flags: 'wx'}));
    await link(partial, path).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EEXIST'
        ? new AlreadyExistsError(
            `${path} already exists; not overwritten`,
            error,
          )
        : error;
    });
  } finally {
    await unlink(partial).catch(() => undefined);
  }
  return bytes;
}

/** A loader's answer, or undefined when the version has no file of that format (404). */
async function optional<T>(answer: Promise<T>): Promise<T | undefined> {
  try {
    return await answer;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

export async function runFetch(flags: FetchFlags): Promise<void> {
  const selector = parseVersionFlag(flags.datasetVersion);
  checkBaseUrl(flags.baseUrl);
  const directory = await checkOutFolder(flags.out);
  const token =
    flags.token ??
    process.env.EXPLORATION_DATA_ID_TOKEN ??
    (flags.gcloudToken
      ? execFileSync('gcloud', ['auth', 'print-identity-token'], {
          encoding: 'utf8',
        }).trim()
      : undefined);

  const client = new ApiClient({baseUrl: flags.baseUrl, token});
  const metadata = await client.loadMetadata(selector);
  const {version} = metadata;

  const files: Record<string, {path: string; bytes: number}> = {};
  const written: string[] = [];
  // The folder appears only once there is something to put in it, and goes
  // again (when this run made it) if the fetch fails.
  const created = await mkdir(directory, {recursive: true});
  try {
    for (const loader of ['loadParquet', 'loadTfrecord'] as const) {
      const link = await optional(
        loader === 'loadParquet'
          ? client.loadParquet(version)
          : client.loadTfrecord(version),
      );
      if (link === undefined) continue; // the version has no file of that format
      if (!('url' in link))
        throw new DatasetError(
          'FAILED_PRECONDITION',
          `version ${version} is sharded (${link.shards.length} shards); fetch takes one-file versions`,
        );
      const path = join(directory, basename(link.object));
      const bytes = await downloadTo(link.url, path);
      written.push(path);
      files[loader === 'loadParquet' ? 'parquet' : 'tfrecord'] = {path, bytes};
    }
    const metadataPath = join(directory, `metadata_v${version}.json`);
    files.metadata = {
      path: metadataPath,
      bytes: await downloadTo(metadata.url, metadataPath),
    };
  } catch (error) {
    await Promise.all(written.map(path => rm(path, {force: true})));
    if (created !== undefined)
      await rm(created, {recursive: true, force: true});
    throw error;
  }
  if (flags.json) {
    process.stdout.write(JSON.stringify({version, files}) + '\n');
  } else {
    const lines = [
      `dataset v${version} fetched into ${directory}`,
      ...Object.values(files).map(
        f => `  ${f.path}  ${f.bytes.toLocaleString('en-US')} bytes`,
      ),
      `check it: exploration-data verify ${directory} --dataset-version ${version}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  }
}
