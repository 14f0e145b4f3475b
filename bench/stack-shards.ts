/**
 * The local stack, one file against 16 shards (issue 9's benchmark): for
 * each size and shard count, a fresh stack (local/ startLocalStack) in a
 * run directory under the bench's --tmp, one POST /generateDataset, then
 * loadMetadata followed until `ready` (generateAndWait). The time from the
 * POST to `ready`, the POST's own answer time (201 after writing one file;
 * 202 at once for shards), and the peak resident memory of the whole stack
 * (every process in this process's tree at one instant, sampled every
 * 250 ms: fake-gcs-server, the Java emulators, every function process, and
 * this process, which runs the storage front, router and event bridges).
 * The bucket's bytes are counted, then the run directory is removed.
 */
import {mkdtemp, readdir, rm, stat} from 'node:fs/promises';
import {join} from 'node:path';
import {startLocalStack, type LocalStack} from '../local/index.js';
import {
  ApiClient,
  describeError,
  generateAndWait,
  isGenerating,
} from '../clients/typescript/index.js';
import {resolveShardCount} from '../shared/dataset/shard-plan.js';
import {fmtInt} from './report.js';
import {
  formatLoad,
  freeBytes,
  loadAverage,
  type LoadAverage,
} from './machine.js';
import {RssSampler, treeLabeller} from './process-rss.js';

/** The shard counts compared: one file, and 16 shards. */
export const STACK_SHARD_COUNTS = [1, 16] as const;
/** Default sizes of the section; --stack-sizes overrides. */
export const STACK_SIZES = [10_000_000, 100_000_000];
/** Both formats, ~122 bytes a row; ask for 1.5x that free in the bucket's directory. */
const BUCKET_BYTES_PER_ROW = 122;
const FREE_FACTOR = 1.5;
const SELF_LABEL = 'bench node: storage front + router + bridges';

export interface StackRun {
  rows: number;
  shards: number;
  /** the request's loggingPolicy (JSON), when the run had one (--stack-policy) */
  loggingPolicy?: string;
  status: 'ok' | 'failed' | 'skipped';
  reason?: string;
  version?: number;
  /** the POST's status: 201 (one file) or 202 (sharded) */
  answer?: 201 | 202;
  /** POST until it answered, s */
  answeredSeconds?: number;
  /** POST until loadMetadata answered ready, s */
  postToReadySeconds?: number;
  /** the whole stack's resident memory, the sum at one instant, highest seen from POST to ready */
  peakRssBytes?: number;
  /** each process group's own peak */
  peakRssByLabel?: Record<string, number>;
  /** the stack idle, just before the POST */
  idleRssBytes?: number;
  samples?: number;
  /** bytes of the version's objects in the bucket */
  bucketBytes?: number;
  loadBefore?: LoadAverage;
  loadAfter?: LoadAverage;
  startedAt?: string;
}

let activeStack: LocalStack | undefined;

/** Stops the stack being measured, if any (the bench's SIGINT handler). */
export async function stopActiveStack(): Promise<void> {
  const stack = activeStack;
  if (!stack) return;
  await stack.stop().catch(() => undefined);
  await rm(stack.runDir.root, {recursive: true, force: true});
}

/** pgid -> name for every process group the stack started. */
function stackGroups(stack: LocalStack): Map<number, string> {
  const groups = new Map<number, string>();
  for (const p of stack.emulators.processes) groups.set(p.pid, p.name);
  for (const f of stack.functions) groups.set(f.process.pid, `fn ${f.name}`);
  return groups;
}

async function treeBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, {withFileTypes: true})) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) total += await treeBytes(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

/** One size and shard count on a fresh stack; the stack and its files are gone after. */
export async function measureStackRun(
  rows: number,
  shards: number,
  options: {
    tmp: string;
    seed: number;
    log: (line: string) => void;
    /** JSON of the request's loggingPolicy (docs/design.md §12) */
    loggingPolicy?: string;
  },
): Promise<StackRun> {
  const policy = options.loggingPolicy;
  const base: StackRun = {
    rows,
    shards,
    status: 'skipped',
    ...(policy ? {loggingPolicy: policy} : {}),
  };
  try {
    resolveShardCount(rows, shards);
  } catch (error) {
    return {...base, reason: (error as Error).message};
  }
  const needed = rows * BUCKET_BYTES_PER_ROW * FREE_FACTOR;
  const free = freeBytes(options.tmp);
  if (free < needed)
    return {
      ...base,
      reason: `needs ${(needed / 1e9).toFixed(1)} GB free on ${options.tmp} for the bucket, has ${(free / 1e9).toFixed(1)} GB`,
    };
  const runDir = await mkdtemp(join(options.tmp, 'exploration-bench-stack-'));
  let stack: LocalStack | undefined;
  let sampler: RssSampler | undefined;
  let keepLogs = false;
  const loadBefore = loadAverage();
  const startedAt = new Date().toISOString();
  try {
    stack = await startLocalStack({
      port: 0,
      runDir,
      functionEnv: {MAX_SAMPLES: String(Math.max(rows, 1_000_000_000))},
    });
    const started = stack;
    activeStack = stack;
    sampler = new RssSampler(
      treeLabeller(process.pid, SELF_LABEL, () => stackGroups(started)),
      250,
    );
    await new Promise(resolve => setTimeout(resolve, 1000));
    const idle = sampler.summary().last.total;
    sampler.reset();
    options.log(
      `POST /generateDataset {nSamples: ${rows}, shards: ${shards}${policy ? `, loggingPolicy: ${policy}` : ''}} (logs in ${stack.runDir.logs})`,
    );
    const done = await generateAndWait(
      new ApiClient({baseUrl: stack.url}),
      {
        nSamples: rows,
        seed: options.seed,
        shards,
        ...(policy ? {loggingPolicy: JSON.parse(policy) as unknown} : {}),
      },
      {
        timeoutMs: 60 * 60_000,
        intervalMs: 250,
        onAnswer: answer =>
          options.log(
            `answered ${isGenerating(answer) ? `202 (${answer.shards} shards)` : '201'} for v${answer.version}; waiting until ready`,
          ),
      },
    );
    const during = sampler.stop();
    const bucketBytes = await treeBytes(stack.runDir.data);
    return {
      ...base,
      status: 'ok',
      version: done.answer.version,
      answer: isGenerating(done.answer) ? 202 : 201,
      answeredSeconds: done.answeredMs / 1000,
      postToReadySeconds: done.readyMs / 1000,
      peakRssBytes: during.peakTotal,
      peakRssByLabel: during.peakByLabel,
      idleRssBytes: idle,
      samples: during.samples,
      bucketBytes,
      loadBefore,
      loadAfter: loadAverage(),
      startedAt,
    };
  } catch (error) {
    keepLogs = true;
    return {
      ...base,
      status: 'failed',
      reason: `${describeError(error)} (the stack's logs are kept in ${join(runDir, 'logs')})`,
      loadBefore,
      loadAfter: loadAverage(),
      startedAt,
    };
  } finally {
    sampler?.stop();
    activeStack = undefined;
    await stack
      ?.stop()
      .catch(error =>
        options.log(`stopping the stack: ${describeError(error)}`),
      );
    // The bucket goes in any case; the logs stay when the run failed.
    await rm(keepLogs ? join(runDir, 'data') : runDir, {
      recursive: true,
      force: true,
    });
  }
}

const MB = 1e6;

export function describeStackRun(run: StackRun): string {
  const head = `local stack, ${run.shards === 1 ? 'one file' : `${run.shards} shards`}${run.loggingPolicy ? `, logging policy ${run.loggingPolicy}` : ''}, ${fmtInt(run.rows)} rows`;
  if (run.status !== 'ok') return `${head}: ${run.status} (${run.reason})`;
  return (
    `${head}: POST -> ready ${run.postToReadySeconds!.toFixed(1)} s (answered ${run.answer} in ${run.answeredSeconds!.toFixed(1)} s), ` +
    `whole-stack peak RSS ${(run.peakRssBytes! / MB).toFixed(0)} MB (idle ${(run.idleRssBytes! / MB).toFixed(0)} MB), ` +
    `bucket ${(run.bucketBytes! / MB).toFixed(0)} MB (load ${formatLoad(run.loadBefore!)} -> ${formatLoad(run.loadAfter!)})`
  );
}

const HEADERS = [
  'local stack',
  'rows',
  'answer',
  'POST answered s',
  'POST -> ready s',
  'rows/s',
  'peak RSS MB (all processes)',
  'largest process MB',
  'load 1-min before -> after',
];

function cells(run: StackRun): string[] {
  const label = run.shards === 1 ? 'one file' : `${run.shards} shards`;
  if (run.status !== 'ok')
    return [
      label,
      fmtInt(run.rows),
      run.status,
      '',
      '',
      '',
      '',
      '',
      run.reason ?? '',
    ];
  const [largest, bytes] = Object.entries(run.peakRssByLabel ?? {}).sort(
    (a, b) => b[1] - a[1],
  )[0] ?? ['-', 0];
  return [
    label,
    fmtInt(run.rows),
    String(run.answer),
    run.answeredSeconds!.toFixed(1),
    run.postToReadySeconds!.toFixed(1),
    fmtInt(run.rows / run.postToReadySeconds!),
    (run.peakRssBytes! / MB).toFixed(0),
    `${(bytes / MB).toFixed(0)} (${largest})`,
    `${run.loadBefore![0].toFixed(2)} -> ${run.loadAfter![0].toFixed(2)}`,
  ];
}

export function stackTextTable(runs: StackRun[]): string {
  const rows = [HEADERS, ...runs.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map(r => r[i].length)));
  const left = new Set([0, 7, 8]);
  return rows
    .map(r =>
      r
        .map((c, i) =>
          left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function stackMarkdownTable(runs: StackRun[]): string {
  return [
    `| ${HEADERS.join(' | ')} |`,
    `|${HEADERS.map((_, i) => ([0, 7, 8].includes(i) ? '---' : '---:')).join('|')}|`,
    ...runs.map(r => `| ${cells(r).join(' | ')} |`),
  ].join('\n');
}

/**
 * The issue's local-stack targets beside the figures: the whole stack under
 * 2 GB at every size, and 100M rows from POST to ready within 3x the CLI's
 * time for the same rows (when this bench run measured the CLI at that size).
 */
export function stackTargetLines(
  runs: StackRun[],
  cliSecondsAt: (rows: number) => number | undefined,
): string[] {
  const lines: string[] = [];
  for (const run of runs) {
    if (run.status !== 'ok') continue;
    const label = `${fmtInt(run.rows)} rows, local stack, ${run.shards === 1 ? 'one file' : `${run.shards} shards`}`;
    const peak = run.peakRssBytes! / 2 ** 30;
    lines.push(
      `${label}: whole stack under 2 GiB (2,147 MB): measured ${fmtInt(run.peakRssBytes! / MB)} MB = ${peak.toFixed(2)} GiB -> ${peak < 2 ? 'met' : 'NOT met'}${peak < 2 && run.peakRssBytes! >= 2e9 ? ' (over 2 GB counted in 10^9 bytes)' : ''}`,
    );
    if (run.rows >= 100_000_000) {
      const cli = cliSecondsAt(run.rows);
      lines.push(
        cli === undefined
          ? `${label}: POST -> ready within 3x the CLI's time: no CLI run at ${fmtInt(run.rows)} rows in this bench run (measured ${run.postToReadySeconds!.toFixed(1)} s)`
          : `${label}: POST -> ready within 3x the CLI's time (${cli.toFixed(1)} s): measured ${run.postToReadySeconds!.toFixed(1)} s = ${(run.postToReadySeconds! / cli).toFixed(2)}x -> ${run.postToReadySeconds! <= 3 * cli ? 'met' : 'NOT met'}`,
      );
    }
  }
  const sizes = [...new Set(runs.map(r => r.rows))];
  for (const rows of sizes) {
    const one = runs.find(
      r => r.rows === rows && r.shards === 1 && r.status === 'ok',
    );
    const many = runs.find(
      r => r.rows === rows && r.shards > 1 && r.status === 'ok',
    );
    if (one && many)
      lines.push(
        `${fmtInt(rows)} rows, local stack: ${many.shards} shards take ${(many.postToReadySeconds! / one.postToReadySeconds!).toFixed(2)}x one file's time from POST to ready, at ${(many.peakRssBytes! / one.peakRssBytes!).toFixed(2)}x its peak RSS`,
      );
  }
  return lines;
}
