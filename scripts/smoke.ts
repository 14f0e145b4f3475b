/**
 * `npm run smoke -- --base-url URL`: generate -> wait until ready -> loaders ->
 * download through the signed URLs (every shard of a sharded version, 4 at
 * once) -> check each file's size, CRC-32C and MD5 against its loader's
 * answer, against a deployed service (https://REGION-PROJECT.cloudfunctions.net)
 * or the local stack (http://127.0.0.1:8080), which has the same URL layout.
 * The downloads go to a temporary folder, removed afterwards.
 *
 * In the cloud the functions need an identity token: pass --token, set
 * SMOKE_ID_TOKEN, or --gcloud-token to run `gcloud auth print-identity-token`.
 */
import {execFileSync} from 'node:child_process';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {basename, join} from 'node:path';
import {parseArgs} from 'node:util';
import {
  ApiClient,
  describeError,
  generateAndWait,
  isGenerating,
} from '../clients/typescript/index.js';
import {fetchDataset} from '../cli/fetch-dataset.js';
import {parseIntegerInRange} from '../shared/dataset/integer.js';
import {settingsFromEnv} from '../shared/settings.js';
import {MAX_SHARDS, resolveShardCount} from '../shared/dataset/shard-plan.js';

export interface SmokeResult {
  version: number;
  rows: number;
  /** shards per format (1: one file) */
  shards: number;
  downloads: Record<string, {bytes: number; md5: string; crc32c: string}>;
  seconds: number;
}

export async function smoke(
  baseUrl: string,
  token: string | undefined,
  samples: number,
  log: (line: string) => void,
  shards?: number,
): Promise<SmokeResult> {
  const started = performance.now();
  const client = new ApiClient({baseUrl, token});
  const request: Record<string, number> = {nSamples: samples};
  if (shards !== undefined) request.shards = shards;
  const {answer, ready} = await generateAndWait(client, request, {
    timeoutMs: 10 * 60_000,
    intervalMs: 500,
    onAnswer: answer =>
      log(
        isGenerating(answer)
          ? `generateDataset: version ${answer.version} accepted (202), ${answer.rows} rows in ${answer.shards} shards`
          : `generateDataset: version ${answer.version}, ${answer.rows} rows`,
      ),
  });
  const {version} = answer;
  log(`loadMetadata: version ${version} is ready`);

  const listed = await client.listDatasets(5);
  if (!listed.datasets.some(d => d.version === version)) {
    throw new Error(`listDatasets does not list version ${version}`);
  }

  const directory = await mkdtemp(join(tmpdir(), 'exploration-smoke-'));
  try {
    const fetched = await fetchDataset(client, ready, directory, {
      ttlSeconds: 300,
    });
    if (isGenerating(answer) && fetched.shards !== answer.shards)
      throw new Error(
        `the loaders list ${fetched.shards} shards; generateDataset accepted ${answer.shards}`,
      );
    const downloads: SmokeResult['downloads'] = {};
    for (const [format, loader] of [
      ['parquet', 'loadParquet'],
      ['tfrecord', 'loadTfrecord'],
    ] as const) {
      const files = fetched.files.filter(f => f.format === format);
      for (const f of files)
        downloads[basename(f.path)] = {
          bytes: f.bytes,
          md5: f.md5,
          crc32c: f.crc32c,
        };
      const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
      if (files.length === 1)
        log(`${loader}: downloaded ${bytes} bytes, md5 and crc32c match`);
      else if (files.length > 1)
        log(
          `${loader}: downloaded ${files.length} shards, ${bytes} bytes, each one's size, md5 and crc32c match`,
        );
    }
    return {
      version,
      rows: answer.rows,
      shards: fetched.shards,
      downloads,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await rm(directory, {recursive: true, force: true});
  }
}

async function main(): Promise<number> {
  const {values} = parseArgs({
    options: {
      'base-url': {type: 'string'},
      token: {type: 'string'},
      'gcloud-token': {type: 'boolean'},
      samples: {type: 'string', default: '100000'},
      shards: {type: 'string'},
      help: {type: 'boolean'},
    },
  });
  if (values.help || !values['base-url']) {
    process.stdout.write(
      'usage: npm run smoke -- --base-url URL [--token T | --gcloud-token] [--samples N (default 100000)] [--shards S (1..min(1024, ceil(N / 65536)); S > 1 is answered 202 and written through Pub/Sub)]\n',
    );
    return values.help ? 0 : 2;
  }
  let samples: number;
  let shards: number | undefined;
  try {
    samples = parseIntegerInRange(values.samples ?? '', '--samples', {
      min: 1,
      max: settingsFromEnv().limits.maxSamples,
    });
    if (values.shards !== undefined)
      shards = resolveShardCount(
        samples,
        parseIntegerInRange(values.shards, '--shards', {
          min: 1,
          max: MAX_SHARDS,
        }),
        '--shards',
      );
  } catch (error) {
    process.stderr.write(`smoke: ${(error as Error).message}\n`);
    return 2;
  }
  let token = values.token ?? process.env.SMOKE_ID_TOKEN;
  if (!token && values['gcloud-token']) {
    token = execFileSync('gcloud', ['auth', 'print-identity-token'], {
      encoding: 'utf8',
    }).trim();
  }
  const result = await smoke(
    values['base-url'],
    token,
    samples,
    line => process.stdout.write(`smoke: ${line}\n`),
    shards,
  );
  process.stdout.write(`smoke: passed in ${result.seconds.toFixed(1)} s\n`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    code => {
      process.exitCode = code;
    },
    error => {
      process.stderr.write(`smoke: FAILED: ${describeError(error)}\n`);
      process.exitCode = 1;
    },
  );
}
