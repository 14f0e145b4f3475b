/**
 * `npm run smoke -- --base-url URL`: generate -> wait until ready -> loaders ->
 * download through the signed URLs -> check sizes and checksums, against a
 * deployed service (https://REGION-PROJECT.cloudfunctions.net) or the local
 * stack (http://127.0.0.1:8080), which has the same URL layout.
 *
 * In the cloud the functions need an identity token: pass --token, set
 * SMOKE_ID_TOKEN, or --gcloud-token to run `gcloud auth print-identity-token`.
 */
import {execFileSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {parseArgs} from 'node:util';
import {ApiClient, describeError, reach} from '../shared/api/index.js';
import {parseIntegerInRange} from '../shared/integer.js';
import {settingsFromEnv} from '../shared/settings.js';
import {crc32c, crc32cBase64} from '../shared/formats/crc32c.js';

export interface SmokeResult {
  version: number;
  rows: number;
  downloads: Record<string, {bytes: number; md5: string; crc32c: string}>;
  seconds: number;
}

export async function smoke(
  baseUrl: string,
  token: string | undefined,
  samples: number,
  log: (line: string) => void,
): Promise<SmokeResult> {
  const started = performance.now();
  const client = new ApiClient({baseUrl, token});
  const generated = await client.generate({nSamples: samples});
  const {version} = generated;
  log(`generateDataset: version ${version}, ${generated.rows} rows`);

  await client.waitReady(version, {timeoutMs: 5 * 60_000, intervalMs: 500});
  log(`loadMetadata: version ${version} is ready`);

  const listed = await client.listDatasets(5);
  if (!listed.datasets.some(d => d.version === version)) {
    throw new Error(`listDatasets does not list version ${version}`);
  }

  const downloads: SmokeResult['downloads'] = {};
  for (const loader of ['loadParquet', 'loadTfrecord'] as const) {
    const link =
      loader === 'loadParquet'
        ? await client.loadParquet(version, 300)
        : await client.loadTfrecord(version, 300);
    if (!('url' in link))
      throw new Error(
        `${loader}: version ${version} is sharded; smoke asks for one file`,
      );
    const response = await reach(link.url); // a signed URL needs no token
    if (response.status !== 200)
      throw new Error(
        `download from ${loader}'s signed URL answered ${response.status}`,
      );
    const bytes = Buffer.from(await response.arrayBuffer());
    const md5 = createHash('md5').update(bytes).digest('base64');
    const crc = crc32cBase64(crc32c(bytes));
    if (
      bytes.length !== link.sizeBytes ||
      md5 !== link.md5 ||
      crc !== link.crc32c
    ) {
      throw new Error(
        `${loader}: downloaded ${bytes.length} bytes md5 ${md5} crc32c ${crc}; expected ${link.sizeBytes} ${link.md5} ${link.crc32c}`,
      );
    }
    downloads[loader] = {bytes: bytes.length, md5, crc32c: crc};
    log(`${loader}: downloaded ${bytes.length} bytes, md5 and crc32c match`);
  }
  return {
    version,
    rows: generated.rows,
    downloads,
    seconds: (performance.now() - started) / 1000,
  };
}

async function main(): Promise<number> {
  const {values} = parseArgs({
    options: {
      'base-url': {type: 'string'},
      token: {type: 'string'},
      'gcloud-token': {type: 'boolean'},
      samples: {type: 'string', default: '100000'},
      help: {type: 'boolean'},
    },
  });
  if (values.help || !values['base-url']) {
    process.stdout.write(
      'usage: npm run smoke -- --base-url URL [--token T | --gcloud-token] [--samples N (default 100000)]\n',
    );
    return values.help ? 0 : 2;
  }
  let samples: number;
  try {
    samples = parseIntegerInRange(values.samples ?? '', '--samples', {
      min: 1,
      max: settingsFromEnv().limits.maxSamples,
    });
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
  const result = await smoke(values['base-url'], token, samples, line =>
    process.stdout.write(`smoke: ${line}\n`),
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
