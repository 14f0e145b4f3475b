/**
 * Resident memory of the whole local stack while it generates one dataset:
 * for each size, a fresh stack (local/ startLocalStack), one POST
 * /generateDataset, then loadMetadata polled until the version is ready.
 * VmRSS of every process in the stack's tree is sampled every 250 ms:
 * fake-gcs-server, the two Java emulators (with their gcloud wrappers), the
 * seven function processes, and this process (storage front, router and event
 * bridge run in it). Prints per-process and total peaks, the steady state a
 * few seconds after ready, and the time from POST to ready; saves JSON to
 * bench/results/. Measures; asserts nothing (the bound is asserted by
 * test/integration/storage-memory.test.ts).
 *
 *   node build/bench/local-stack-memory.js [--sizes 1000000,10000000]
 *     [--steady-seconds 5] [--results DIR] [--no-save]
 *
 * Each size writes its rows twice to disk (Parquet + TFRecord, ~120 bytes a
 * row of TFRecord) under a temporary run directory, removed afterwards.
 */
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {request} from 'node:http';
import {hostname, tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {startLocalStack, type LocalStack} from '../local/index.js';
import {RssSampler, treeLabeller, type RssSummary} from './process-rss.js';
import {ApiClient} from '../clients/typescript/index.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // build/bench
const ROOT = resolve(HERE, '..', '..');
const SELF_LABEL = 'node: storage front + router + bridge';

export interface StackMemoryRun {
  rows: number;
  version: number;
  /** POST /generateDataset until it answered */
  generateSeconds: number;
  /** POST until loadMetadata answered 200 */
  postToReadySeconds: number;
  /** peaks from the POST until ready */
  during: RssSummary;
  /** the sample `steadySeconds` after ready */
  steady: RssSummary['last'];
  /** the stack before the POST (after start-up) */
  idle: RssSummary['last'];
  steadySeconds: number;
}

/** pgid -> name for every process group the stack started. */
function stackGroups(stack: LocalStack): Map<number, string> {
  const groups = new Map<number, string>();
  for (const p of stack.emulators.processes) groups.set(p.pid, p.name);
  for (const f of stack.functions) groups.set(f.process.pid, `fn ${f.name}`);
  return groups;
}

/**
 * POST with node:http and no timeouts: a 100M-row generate answers after
 * minutes, beyond fetch's default headers timeout.
 */
function postJson(
  url: string,
  body: unknown,
): Promise<{status: number; body: unknown}> {
  return new Promise((done, fail) => {
    const payload = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep the text
          }
          done({status: res.statusCode ?? 0, body: parsed});
        });
      },
    );
    req.on('error', fail);
    req.end(payload);
  });
}

/** One size on a fresh stack; the stack and its run directory are removed after. */
export async function measureStackMemory(
  rows: number,
  options: {steadySeconds?: number; log?: (line: string) => void} = {},
): Promise<StackMemoryRun> {
  const steadySeconds = options.steadySeconds ?? 5;
  const log = options.log ?? (() => {});
  const runDir = await mkdtemp(join(tmpdir(), 'stack-memory-'));
  let stack: LocalStack | undefined;
  let sampler: RssSampler | undefined;
  try {
    log(`[${rows}] starting the local stack in ${runDir}`);
    stack = await startLocalStack({
      port: 0,
      runDir,
      functionEnv: {MAX_SAMPLES: String(Math.max(rows, 100_000_000))},
    });
    const started = stack;
    sampler = new RssSampler(
      treeLabeller(process.pid, SELF_LABEL, () => stackGroups(started)),
      250,
    );
    await new Promise(r => setTimeout(r, 1000));
    const idle = sampler.summary().last;
    sampler.reset();
    log(`[${rows}] POST /generateDataset`);
    const t0 = performance.now();
    const generated = await postJson(`${stack.url}/generateDataset`, {
      nSamples: rows,
      // one file, as measured so far (past 33,554,432 rows the default is sharded: 202)
      shards: 1,
      seed: 42,
    });
    const generateSeconds = (performance.now() - t0) / 1000;
    const version = (generated.body as {version?: unknown}).version;
    if (generated.status !== 201 || typeof version !== 'number')
      throw new Error(
        `generateDataset answered ${generated.status}: ${JSON.stringify(generated.body)}`,
      );
    await new ApiClient({baseUrl: stack.url}).waitReady(version, {
      timeoutMs: 30 * 60_000,
      intervalMs: 200,
    });
    const postToReadySeconds = (performance.now() - t0) / 1000;
    const during = sampler.summary();
    log(
      `[${rows}] ready after ${postToReadySeconds.toFixed(1)} s; steady state in ${steadySeconds} s`,
    );
    await new Promise(r => setTimeout(r, steadySeconds * 1000));
    const steady = sampler.stop().last;
    return {
      rows,
      version,
      generateSeconds,
      postToReadySeconds,
      during,
      steady,
      idle,
      steadySeconds,
    };
  } finally {
    sampler?.stop();
    await stack?.stop().catch(err => log(`stopping the stack: ${err}`));
    await rm(runDir, {recursive: true, force: true});
  }
}

const MB = 1024 * 1024;
const mb = (bytes: number | undefined) =>
  bytes === undefined ? '-' : (bytes / MB).toFixed(0);

/** One table: a row per process label, idle / peak / steady MiB, then the totals. */
export function formatRun(run: StackMemoryRun): string {
  const labels = [
    ...new Set([
      ...Object.keys(run.during.peakByLabel),
      ...Object.keys(run.steady.byLabel),
    ]),
  ].sort(
    (a, b) =>
      (run.during.peakByLabel[b] ?? 0) - (run.during.peakByLabel[a] ?? 0),
  );
  const width = Math.max(20, ...labels.map(l => l.length));
  const line = (label: string, idle: string, peak: string, steady: string) =>
    `  ${label.padEnd(width)} ${idle.padStart(8)} ${peak.padStart(8)} ${steady.padStart(8)}`;
  return [
    `${run.rows.toLocaleString('en-US')} rows (v${run.version}): POST answered in ${run.generateSeconds.toFixed(1)} s, ready ${run.postToReadySeconds.toFixed(1)} s after the POST; ${run.during.samples} samples`,
    line('process (RSS, MiB)', 'idle', 'peak', `+${run.steadySeconds}s`),
    ...labels.map(l =>
      line(
        l,
        mb(run.idle.byLabel[l]),
        mb(run.during.peakByLabel[l]),
        mb(run.steady.byLabel[l]),
      ),
    ),
    line(
      'TOTAL (sum at one instant)',
      mb(run.idle.total),
      mb(run.during.peakTotal),
      mb(run.steady.total),
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {
      sizes: {type: 'string', default: '1000000,10000000'},
      'steady-seconds': {type: 'string', default: '5'},
      results: {type: 'string', default: join(ROOT, 'bench', 'results')},
      'no-save': {type: 'boolean', default: false},
      help: {type: 'boolean', default: false},
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: node build/bench/local-stack-memory.js [--sizes 1000000,10000000] [--steady-seconds 5] [--results DIR] [--no-save]\n',
    );
    return;
  }
  const sizes = values.sizes.split(',').map(s => Number(s.replace(/_/g, '')));
  const steadySeconds = Number(values['steady-seconds']);
  if (sizes.some(n => !Number.isInteger(n) || n < 1) || !(steadySeconds >= 0)) {
    process.stderr.write(
      `local-stack-memory: --sizes must be positive integers and --steady-seconds >= 0, got ${values.sizes} / ${values['steady-seconds']}\n`,
    );
    process.exit(2);
  }
  const runs: StackMemoryRun[] = [];
  for (const rows of sizes) {
    const run = await measureStackMemory(rows, {
      steadySeconds,
      log: line => process.stderr.write(`${line}\n`),
    });
    runs.push(run);
    process.stdout.write(`${formatRun(run)}\n\n`);
  }
  if (!values['no-save']) {
    await mkdir(values.results, {recursive: true});
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    const file = join(
      values.results,
      `${stamp}Z-${hostname()}-local-stack-memory.json`,
    );
    await writeFile(file, JSON.stringify({when: stamp, runs}, null, 2) + '\n');
    process.stderr.write(`saved ${file}\n`);
  }
}

if (
  process.argv[1] &&
  resolve(process.argv[1]) === fileURLToPath(import.meta.url)
)
  await main();
