/**
 * `exploration-data fetch`: a ready version's files (one per format, or every
 * shard, several at once) through the loader functions' signed URLs into a
 * folder, each checked against the loader's size, CRC-32C and MD5 as it
 * streams in, then the whole folder through the checks `verify` makes
 * (docs/design.md §9). Whatever fails, nothing it wrote is left behind.
 */
import {execFileSync} from 'node:child_process';
import {mkdir, rm} from 'node:fs/promises';
import {ApiClient} from '../clients/typescript/index.js';
import {
  DEFAULT_PARALLEL_DOWNLOADS,
  MAX_PARALLEL_DOWNLOADS,
} from '../clients/typescript/download.js';
import {DataLossError, InvalidArgumentError} from '../shared/errors.js';
import {parseOptionalIntegerInRange} from '../shared/dataset/integer.js';
import {verifyDirectory} from '../shared/verify/verify.js';
import {
  fetchDataset,
  removeFetched,
  type FetchedDataset,
} from './fetch-dataset.js';
import {
  checkOutFolder,
  DATASET_VERSION_BOUNDS,
  parseIntegerFlag,
} from './generate-command.js';
import {progressBar} from './progress.js';

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
  parallel?: string;
  /** false with --no-verify */
  verify?: boolean;
  /** false with --no-progress */
  progress?: boolean;
}

/** `--parallel`: files downloaded at once. */
export function parseParallelFlag(raw: string | undefined): number {
  return (
    parseOptionalIntegerInRange(
      raw,
      '--parallel',
      {min: 1, max: MAX_PARALLEL_DOWNLOADS},
      {field: 'parallel'},
    ) ?? DEFAULT_PARALLEL_DOWNLOADS
  );
}

const MB = 1e6;

export async function runFetch(flags: FetchFlags): Promise<void> {
  const selector = parseVersionFlag(flags.datasetVersion);
  checkBaseUrl(flags.baseUrl);
  const parallel = parseParallelFlag(flags.parallel);
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
  const ready = await client.loadMetadata(selector);
  const started = performance.now();

  // The folder appears only once there is something to put in it, and goes
  // again (when this run made it) if the fetch fails.
  const created = await mkdir(directory, {recursive: true});
  const showProgress =
    flags.progress !== false && !flags.json && process.stderr.isTTY === true;
  const bar = progressBar(showProgress, `fetching v${ready.version}`, 'MB');
  let fetched: FetchedDataset | undefined;
  let verified: boolean | null = null;
  // Ctrl-C stops the downloads, and the cleanup below still runs.
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    let total = 0;
    let done = 0;
    fetched = await fetchDataset(client, ready, directory, {
      parallel,
      signal: interrupt.signal,
      onTotal: bytes => {
        total = bytes;
      },
      onBytes: bytes => {
        done += bytes;
        bar.update(Math.floor(done / MB), Math.ceil(total / MB));
      },
    });
    bar.stop();
    if (flags.verify !== false && !interrupt.signal.aborted) {
      const report = await verifyDirectory(directory, ready.version);
      verified = report.ok;
      if (!report.ok) {
        const failed = report.checks.filter(c => !c.ok);
        throw new DataLossError(
          `the downloaded files of v${ready.version} fail ${failed.length} of verify's ${report.checks.length} checks (first: ${failed[0].name}: ${failed[0].detail}); nothing kept`,
        );
      }
    }
    // Ctrl-C after the last download (during verify) keeps nothing either.
    if (interrupt.signal.aborted) throw interrupt.signal.reason;
  } catch (error) {
    bar.stop();
    if (fetched) await removeFetched(fetched);
    if (created !== undefined)
      await rm(created, {recursive: true, force: true});
    throw interrupt.signal.aborted
      ? new Error(`fetch interrupted; nothing of v${ready.version} kept`)
      : error;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) {
    process.stdout.write(
      JSON.stringify({
        version: fetched.version,
        shards: fetched.shards,
        files: fetched.files,
        metadata: fetched.metadata,
        bytes: fetched.bytes,
        parallel,
        verified,
        seconds,
      }) + '\n',
    );
    return;
  }
  const lines = [
    `dataset v${fetched.version} fetched into ${directory}: ${fetched.files.length} data files${fetched.shards > 1 ? ` (${fetched.shards} shards per format)` : ''}, ${(fetched.bytes / MB).toFixed(1)} MB in ${seconds.toFixed(1)} s, ${parallel} at once`,
    ...(fetched.shards > 1 && fetched.files.length > 8
      ? summarizeShards(fetched)
      : [...fetched.files, fetched.metadata].map(
          f => `  ${f.path}  ${f.bytes.toLocaleString('en-US')} bytes`,
        )),
    verified
      ? "verified: every size, crc32c and md5 as the loaders said, and all of verify's checks passed"
      : `sizes, crc32c and md5 as the loaders said (--no-verify: check the rest with exploration-data verify ${directory} --dataset-version ${fetched.version})`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/** Many shards: one line per format, and the metadata. */
function summarizeShards(fetched: FetchedDataset): string[] {
  const lines: string[] = [];
  for (const format of ['parquet', 'tfrecord'] as const) {
    const files = fetched.files.filter(f => f.format === format);
    if (files.length === 0) continue;
    const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
    lines.push(
      `  ${files[0].path} .. ${files[files.length - 1].path}  ${bytes.toLocaleString('en-US')} bytes`,
    );
  }
  lines.push(
    `  ${fetched.metadata.path}  ${fetched.metadata.bytes.toLocaleString('en-US')} bytes`,
  );
  return lines;
}
