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
import {
  AlreadyExistsError,
  DatasetError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
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

/**
 * fetch(), with a failure to connect told as the URL and its cause
 * (`cannot reach http://127.0.0.1:9/loadMetadata: ECONNREFUSED`), not as
 * undici's bare "fetch failed".
 */
export async function reach(
  url: string,
  init?: RequestInit,
): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = (error as {cause?: {code?: string; message?: string}}).cause;
    const why =
      cause?.code ?? cause?.message ?? (error as Error).message ?? 'unknown';
    throw new UnavailableError(`cannot reach ${url}: ${why}`, 1, error);
  }
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

async function callLoader<T>(
  baseUrl: string,
  path: string,
  token: string | undefined,
): Promise<{status: number; body: T}> {
  const response = await reach(`${baseUrl.replace(/\/+$/, '')}${path}`, {
    headers: token ? {Authorization: `Bearer ${token}`} : {},
  });
  const text = await response.text();
  try {
    return {status: response.status, body: JSON.parse(text) as T};
  } catch {
    throw new DatasetError(
      'INTERNAL',
      `${path} answered ${response.status} with a body that is not JSON`,
    );
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

  type Failure = {error?: {code: string; message: string}};
  const metadata = await callLoader<{version: number; url: string} & Failure>(
    flags.baseUrl,
    `/loadMetadata?version=${selector}`,
    token,
  );
  if (metadata.status === 404)
    throw new NotFoundError(
      metadata.body.error?.message ?? `version ${selector} not found`,
    );
  if (metadata.status !== 200)
    throw new DatasetError(
      'FAILED_PRECONDITION',
      `loadMetadata answered ${metadata.status}: ${metadata.body.error?.message}`,
    );
  const version = metadata.body.version;

  const files: Record<string, {path: string; bytes: number}> = {};
  const written: string[] = [];
  // The folder appears only once there is something to put in it, and goes
  // again (when this run made it) if the fetch fails.
  const created = await mkdir(directory, {recursive: true});
  try {
    for (const loader of ['loadParquet', 'loadTfrecord'] as const) {
      const link = await callLoader<
        {object: string; url: string; sizeBytes: number} & Failure
      >(flags.baseUrl, `/${loader}?version=${version}`, token);
      if (link.status === 404) continue; // the version has no file of that format
      if (link.status !== 200)
        throw new DatasetError(
          'INTERNAL',
          `${loader} answered ${link.status}: ${link.body.error?.message}`,
        );
      const path = join(directory, basename(link.body.object));
      const bytes = await downloadTo(link.body.url, path);
      written.push(path);
      files[loader === 'loadParquet' ? 'parquet' : 'tfrecord'] = {path, bytes};
    }
    const metadataPath = join(directory, `metadata_v${version}.json`);
    files.metadata = {
      path: metadataPath,
      bytes: await downloadTo(metadata.body.url, metadataPath),
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
