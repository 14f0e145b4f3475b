/**
 * `npm run bench`: our CLI side by side with the notebook it replaces, the
 * vectorised Python a careful user would write, the expert Python that skips
 * checksums (the peer to beat, bench/baselines/expert.py), and the floor (the
 * same bytes written to the same disk), at 1M and 10M rows; then scale runs of our CLI
 * alone (one file, 16 shards on 1 and 2 workers) at 100M and 1B rows for
 * rows/s and peak RSS (Parquet only where the disk cannot hold the TFRecord).
 * At 10M rows and more, `verify` of one file and of 16 shards is timed too.
 * Then the local stack at 10M and 100M rows, one file against 16 shards,
 * from POST to ready, with the whole stack's peak RSS (bench/stack-shards.ts).
 * The policy section times our CLI without and with a softmax logging policy
 * at 1M to 1B rows, and the adaptive policy at 100M rows; the OBP section
 * times Open Bandit Pipeline's SyntheticBanditDataset when the optional OBP
 * venv is there (bench/policy.ts).
 * Prints the tables and saves JSON + markdown to bench/results/. Measures;
 * asserts nothing.
 *
 *   node build/bench/run.js --python PY [--sizes 1000000,10000000]
 *     [--rss-sizes 100000000,1000000000|none] [--stack-sizes 10000000,100000000|none]
 *     [--skip notebook@10000000]... [--only ours,floor|stack]
 *     [--policy-sizes 1000000,...|none] [--adaptive-sizes 100000000|none]
 *     [--obp-sizes 1000000,auto|none] [--obp-python PY | --obp-unavailable WHY]
 *     [--quick] [--seed 42] [--tmp DIR] [--results DIR]
 */
import {mkdir, mkdtemp, readdir, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {formatLoad, freeBytes, loadAverage, machineFacts} from './machine.js';
import {
  lastJsonLine,
  runMeasured,
  stopActiveChildren,
  type MeasuredRun,
} from './measured.js';
import {resolveShardCount} from '../shared/dataset/shard-plan.js';
import {
  ADAPTIVE_POLICY,
  ADAPTIVE_SIZES,
  cliTakesLoggingPolicy,
  OBP_ACTIONS,
  OBP_MEMORY_BYTES,
  OBP_SIZES,
  obpLargestRounds,
  obpMemoryRefusal,
  parseObpSizes,
  POLICY_BYTES_PER_ROW,
  POLICY_PARQUET_BYTES_PER_ROW,
  POLICY_SIZES,
  policyLines,
  policyTargets,
  SOFTMAX_POLICY,
} from './policy.js';
import {
  describeStackRun,
  measureStackRun,
  STACK_SHARD_COUNTS,
  STACK_SIZES,
  stackMarkdownTable,
  stackTargetLines,
  stackTextTable,
  stopActiveStack,
  type StackRun,
} from './stack-shards.js';
import {
  compare,
  comparisonLines,
  fmtInt,
  markdownReport,
  PRODUCER_LABEL,
  runLabel,
  SHARDED_WORKERS,
  stageLines,
  SHARDS,
  targetLines,
  targets,
  textTable,
  type BenchReport,
  type Measurement,
  type ProducerName,
} from './report.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // build/bench
const ROOT = resolve(HERE, '..', '..');
const CLI = join(ROOT, 'build', 'cli', 'main.js');
const FLOOR = join(HERE, 'floor.js');
const MEASURE = join(ROOT, 'bench', 'measure.py');
const BASELINES = join(ROOT, 'bench', 'baselines');

const PRODUCERS: ProducerName[] = [
  'ours',
  'shards16w1',
  'shards16w2',
  'floor',
  'expert',
  'vectorised',
  'notebook',
];
/** Our files hold ~122 bytes a row; ask for 2.5x that free before a run. */
const BYTES_PER_ROW = 122;
/** Parquet alone: ~1.5 bytes a row at the default shape. */
const PARQUET_BYTES_PER_ROW = 2;
const FREE_FACTOR = 2.5;
/** Our producers in the scale runs: one file, and 16 shards on 1 and 2 workers. */
const SCALE_PRODUCERS: ProducerName[] = ['ours', 'shards16w1', 'shards16w2'];
/** Whose output `verify` checks at the compare sizes of 10M rows and more. */
const VERIFIED_PRODUCERS: ProducerName[] = ['ours', 'shards16w2'];
const VERIFY_MIN_ROWS = 10_000_000;
/** Sections that --only and --skip name besides the producers. */
const SECTIONS = ['stack', 'policy', 'obp'];
/** Our CLI under a logging policy (the policy and OBP sections). */
const POLICY_PRODUCERS: ProducerName[] = ['softmax', 'adaptive1', 'adaptive16'];

interface Options {
  python: string;
  sizes: number[];
  rssSizes: number[];
  /** the local-stack section's sizes (each: one file, then 16 shards) */
  stackSizes: number[];
  /** the local-stack section's shard counts (default 1 and 16) */
  stackShards: number[];
  /** JSON of a loggingPolicy for the local-stack section's requests */
  stackPolicy?: string;
  skip: Set<string>;
  only: Set<ProducerName>;
  seed: number;
  tmp: string;
  results: string;
  quick: boolean;
  /** the policy section's sizes: no policy, then softmax, at each */
  policySizes: number[];
  /** the adaptive softmax's sizes: one file, then 16 shards */
  adaptiveSizes: number[];
  /** the OBP section's sizes ('auto': the largest n within OBP_MEMORY_BYTES) */
  obpSizes: (number | 'auto')[];
  /** the OBP venv's python (scripts/obp-env.sh), when it is made */
  obpPython?: string;
  /** why there is no OBP venv, when --obp asked for one and it could not be made */
  obpUnavailable?: string;
  obpMemoryBytes: number;
}

function parseCountList(raw: string, flag: string): number[] {
  if (raw === '' || raw === 'none') return [];
  return raw.split(',').map(s => {
    const n = Number(s.trim().replaceAll('_', ''));
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new Error(`${flag}: not a row count: ${s}`);
    }
    return n;
  });
}

function parseOptions(argv: string[]): Options {
  const {values} = parseArgs({
    args: argv,
    options: {
      python: {type: 'string', default: process.env.BENCH_PYTHON ?? 'python3'},
      sizes: {type: 'string'},
      'rss-sizes': {type: 'string'},
      'stack-sizes': {type: 'string'},
      'stack-shards': {type: 'string'},
      'stack-policy': {type: 'string'},
      skip: {type: 'string', multiple: true, default: []},
      only: {type: 'string'},
      seed: {type: 'string', default: '42'},
      tmp: {type: 'string', default: tmpdir()},
      results: {type: 'string', default: join(ROOT, 'bench', 'results')},
      quick: {type: 'boolean', default: false},
      'policy-sizes': {type: 'string'},
      'adaptive-sizes': {type: 'string'},
      'obp-sizes': {type: 'string'},
      'obp-python': {type: 'string'},
      'obp-unavailable': {type: 'string'},
      'obp-memory-gb': {
        type: 'string',
        default: String(OBP_MEMORY_BYTES / 1e9),
      },
      obp: {type: 'boolean', default: false},
      help: {type: 'boolean', default: false},
    },
  });
  if (values.help) {
    process.stdout.write(
      [
        'usage: npm run bench -- [options]',
        '  --sizes N,N        row counts to compare at (default 1000000,10000000; --quick: 1000000)',
        '  --rss-sizes N,N    scale runs of our CLI alone (one file, 16 shards on 1 and 2 workers), for rows/s and',
        '                     peak RSS (default 100000000,1000000000; --quick: none; "none" skips); Parquet only',
        '                     at a size whose TFRecord the disk cannot hold (1B rows: 121 GB)',
        '  --stack-sizes N,N  the local stack, one file then 16 shards, POST to ready, whole-stack peak RSS',
        '                     (default 10000000,100000000; --quick: none; "none" skips; ~12 GB of disk at 100M)',
        "  --stack-shards N,N the local-stack section's shard counts (default 1,16)",
        "  --stack-policy J   a loggingPolicy (JSON) in the local-stack section's requests",
        '  --skip P@N         skip producer P at N rows (P: ours, shards16w1, shards16w2, floor, expert, vectorised,',
        '                     notebook;',
        '                     P alone: all sizes;',
        '                     "rss" skips the RSS runs, "stack" the local-stack runs); repeatable, or comma-separated',
        '  --only P,P         run only these producers; "stack", "policy" and "obp" are the local-stack,',
        '                     logging-policy and OBP sections (--only stack runs it alone)',
        '  --policy-sizes N,N our CLI without, then with --logging-policy ' +
          SOFTMAX_POLICY +
          ', back to back',
        '                     (default 1000000,10000000,100000000,1000000000; --quick: 1000000; "none" skips;',
        '                     Parquet only where the disk cannot hold the TFRecord)',
        '  --adaptive-sizes N the adaptive softmax ' + ADAPTIVE_POLICY,
        '                     at N rows, one file then 16 shards on 2 workers (default 100000000; --quick: none)',
        '  --obp              make the optional OBP venv first (scripts/obp-env.sh; bench.sh does it) and run the',
        '                     OBP section; without it the section runs only when that venv is already made',
        '  --obp-sizes N,auto OBP SyntheticBanditDataset(n_actions=100) rounds, each beside ours with the softmax',
        '                     policy; "auto" is the largest n within --obp-memory-gb, from the first size\'s peak RSS',
        '                     (default 1000000,auto; --quick: 1000000; "none" skips)',
        '  --obp-memory-gb G  the memory "auto" fits (default 16)',
        '  --obp-python PY    the OBP venv python (bench.sh passes it); --obp-unavailable WHY: why there is none',
        '  --quick            1M rows only, no RSS run, no local-stack run',
        '  --seed S           seed for every producer (default 42)',
        '  --tmp DIR          where outputs go (removed after each producer; default the OS temp dir)',
        '  --results DIR      where the JSON and markdown go (default bench/results)',
        '  --python PY        the venv python (scripts/bench.sh passes it)',
        '',
      ].join('\n'),
    );
    process.exit(0);
  }
  const quick = values.quick;
  const sizes = parseCountList(
    values.sizes ?? (quick ? '1000000' : '1000000,10000000'),
    '--sizes',
  );
  const rssSizes = parseCountList(
    values['rss-sizes'] ?? (quick ? 'none' : '100000000,1000000000'),
    '--rss-sizes',
  );
  const stackSizes = parseCountList(
    values['stack-sizes'] ?? (quick ? 'none' : STACK_SIZES.join(',')),
    '--stack-sizes',
  );
  const skip = new Set(
    values.skip
      .flatMap(s => s.split(','))
      .map(s => s.trim().replaceAll('_', '')),
  );
  const onlyList = (values.only ?? [...PRODUCERS, ...SECTIONS].join(','))
    .split(',')
    .map(s => s.trim());
  for (const p of onlyList) {
    if (!SECTIONS.includes(p) && !PRODUCERS.includes(p as ProducerName))
      throw new Error(`--only: unknown producer ${p}`);
  }
  const only = new Set(
    onlyList.filter((p): p is ProducerName => !SECTIONS.includes(p)),
  );
  const stackRuns = onlyList.includes('stack') && !skip.has('stack');
  const policyRuns = onlyList.includes('policy') && !skip.has('policy');
  const obpRuns = onlyList.includes('obp') && !skip.has('obp');
  const policySizes = parseCountList(
    values['policy-sizes'] ?? (quick ? '1000000' : POLICY_SIZES.join(',')),
    '--policy-sizes',
  );
  const adaptiveSizes = parseCountList(
    values['adaptive-sizes'] ?? (quick ? 'none' : ADAPTIVE_SIZES.join(',')),
    '--adaptive-sizes',
  );
  const obpSizes = parseObpSizes(
    values['obp-sizes'] ?? (quick ? '1000000' : OBP_SIZES.join(',')),
  );
  return {
    python: values.python,
    // --only stack: no CLI runs at all, not a row of "skipped by flag" each
    sizes: only.size > 0 ? sizes : [],
    rssSizes: only.size > 0 ? rssSizes : [],
    stackSizes: stackRuns ? stackSizes : [],
    stackShards: parseCountList(
      values['stack-shards'] ?? STACK_SHARD_COUNTS.join(','),
      '--stack-shards',
    ),
    stackPolicy: values['stack-policy'],
    skip,
    only,
    seed: Number(values.seed),
    tmp: resolve(values.tmp),
    results: resolve(values.results),
    quick,
    policySizes: policyRuns ? policySizes : [],
    adaptiveSizes: policyRuns ? adaptiveSizes : [],
    obpSizes: obpRuns ? obpSizes : [],
    obpPython: values['obp-python'],
    obpUnavailable:
      values['obp-unavailable'] ??
      (values.obp && !values['obp-python']
        ? '--obp without --obp-python: run it through npm run bench (scripts/bench.sh makes the venv)'
        : undefined),
    obpMemoryBytes: Number(values['obp-memory-gb']) * 1e9,
  };
}

function skipped(opts: Options, producer: ProducerName, rows: number): boolean {
  return (
    !opts.only.has(producer) ||
    opts.skip.has(producer) ||
    opts.skip.has(`${producer}@${rows}`)
  );
}

async function dirBytes(dir: string): Promise<Record<string, number>> {
  const files: Record<string, number> = {};
  for (const name of await readdir(dir)) {
    const s = await stat(join(dir, name));
    if (s.isFile()) files[name] = s.size;
  }
  return files;
}

function commandFor(
  producer: ProducerName,
  rows: number,
  out: string,
  opts: Options,
  floorBytes: number[] | undefined,
  formats?: 'parquet',
): string[] {
  // Our CLI, as a user runs it: default checksums (SHA-256 + CRC-32C, no --md5).
  const cli = [
    process.execPath,
    CLI,
    'generate',
    '--samples',
    String(rows),
    '--seed',
    String(opts.seed),
    '--out',
    out,
    '--json',
    '--no-progress',
    ...(formats ? ['--formats', formats] : []),
  ];
  switch (producer) {
    case 'ours':
      // --timings: CPU per stage in the summary (a few clock reads per
      // block); one file only, and past 33,554,432 rows the CLI's default is shards
      return resolveShardCount(rows) === 1 ? [...cli, '--timings'] : cli;
    case 'shards16w1':
    case 'shards16w2':
      return [
        ...cli,
        '--shards',
        String(SHARDS),
        '--workers',
        String(SHARDED_WORKERS[producer]),
      ];
    case 'floor':
      return [
        process.execPath,
        FLOOR,
        '--out',
        out,
        '--bytes',
        floorBytes!.join(','),
      ];
    case 'softmax':
      return [
        ...commandFor('ours', rows, out, opts, floorBytes, formats),
        '--logging-policy',
        SOFTMAX_POLICY,
      ];
    case 'adaptive1':
      return [
        ...commandFor('ours', rows, out, opts, floorBytes, formats),
        '--logging-policy',
        ADAPTIVE_POLICY,
      ];
    case 'adaptive16':
      return [
        ...commandFor('adaptive1', rows, out, opts, floorBytes, formats),
        '--shards',
        String(SHARDS),
        '--workers',
        String(SHARDED_WORKERS[producer]),
      ];
    case 'obp':
      return [
        opts.obpPython!,
        join(BASELINES, 'obp_synthetic.py'),
        '--rounds',
        String(rows),
        '--actions',
        String(OBP_ACTIONS),
        '--seed',
        String(opts.seed),
      ];
    case 'expert':
    case 'vectorised':
    case 'notebook':
      return [
        opts.python,
        join(BASELINES, `${producer}.py`),
        '--samples',
        String(rows),
        '--seed',
        String(opts.seed),
        '--out',
        out,
      ];
  }
}

/** Our CLI, whatever its flags. */
function isOurs(producer: ProducerName): boolean {
  return (
    producer === 'ours' ||
    SHARDED_WORKERS[producer] !== undefined ||
    POLICY_PRODUCERS.includes(producer)
  );
}

/** Bytes a row to ask the disk for (times FREE_FACTOR); OBP writes nothing. */
function bytesPerRow(producer: ProducerName, formats?: 'parquet'): number {
  if (producer === 'obp') return 0;
  const policy = POLICY_PRODUCERS.includes(producer);
  if (formats)
    return policy ? POLICY_PARQUET_BYTES_PER_ROW : PARQUET_BYTES_PER_ROW;
  return policy ? POLICY_BYTES_PER_ROW : BYTES_PER_ROW;
}

/** Seconds the producer reports for itself (its JSON summary's stages). */
function producerSeconds(
  producer: ProducerName,
  summary: Record<string, unknown> | null,
): Record<string, number> | undefined {
  if (!summary) return undefined;
  if (isOurs(producer)) {
    const stages = summary.stages as Record<string, number> | undefined;
    const seconds: Record<string, number> = {
      total: Number(summary.durationMs) / 1000,
    };
    for (const [k, v] of Object.entries(stages ?? {})) {
      seconds[k.replace(/Ms$/, '')] = Math.round(v) / 1000;
    }
    return seconds;
  }
  return summary.seconds as Record<string, number> | undefined;
}

/** How the run was asked for, without the venv path bench.sh adds. */
function commandLine(argv: string[]): string {
  const shown: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--python') i++;
    else if (!argv[i].startsWith('--python=')) shown.push(argv[i]);
  }
  return ['npm run bench', ...(shown.length ? ['--', ...shown] : [])].join(' ');
}

let currentChildDir: string | undefined;

async function measureOne(
  producer: ProducerName,
  rows: number,
  run: Measurement['run'],
  opts: Options,
  logDir: string,
  floorBytes?: number[],
  formats?: 'parquet',
  onOutput?: (out: string) => Promise<void>,
): Promise<Measurement> {
  const base: Measurement = {
    producer,
    rows,
    run,
    status: 'skipped',
    ...(formats ? {formats} : {}),
  };
  const needed = rows * bytesPerRow(producer, formats) * FREE_FACTOR;
  const free = freeBytes(opts.tmp);
  if (free < needed) {
    return {
      ...base,
      reason: `needs ${(needed / 1e9).toFixed(1)} GB free on ${opts.tmp}, has ${(free / 1e9).toFixed(1)} GB`,
    };
  }
  if (SHARDED_WORKERS[producer] !== undefined) {
    try {
      resolveShardCount(rows, SHARDS);
    } catch (error) {
      return {...base, reason: (error as Error).message};
    }
  }
  if (producer === 'floor' && !floorBytes) {
    return {...base, reason: "needs our CLI's byte counts at this size"};
  }
  const dir = await mkdtemp(join(opts.tmp, 'exploration-bench-'));
  currentChildDir = dir;
  const out = join(dir, 'out');
  await mkdir(out);
  const log = join(
    logDir,
    `${producer}-${rows}${run === 'compare' ? '' : `-${run}`}.log`,
  );
  const startedAt = new Date().toISOString();
  try {
    const measured = await runMeasured({
      python: opts.python,
      measureScript: MEASURE,
      command: commandFor(producer, rows, out, opts, floorBytes, formats),
      // OBP writes no file: no sync, which would charge it other processes' pages.
      syncDir: producer === 'obp' ? undefined : out,
      stdoutFile: join(dir, 'stdout.txt'),
      logFile: log,
      env: {...process.env, TF_CPP_MIN_LOG_LEVEL: '2'},
    });
    const files = await dirBytes(out);
    const summary = lastJsonLine(measured.stdout);
    const stageCpu = (
      summary?.timings as
        {cpuSecondsPerMillionRows?: Record<string, number>} | undefined
    )?.cpuSecondsPerMillionRows;
    const result: Measurement = {
      ...base,
      ...measuredFields(measured, rows, log, startedAt),
      outputBytes: Object.values(files).reduce((a, b) => a + b, 0),
      files,
      producerSeconds: producerSeconds(producer, summary),
      ...(producer === 'obp' && summary
        ? {
            details: {
              baseRssBytes: summary.baseRssBytes,
              feedbackBytes: summary.feedbackBytes,
              behavior: summary.behavior,
              obp: summary.obp,
            },
          }
        : {}),
      ...(stageCpu ? {stageCpuPerMillionRows: stageCpu} : {}),
    };
    if (result.status === 'ok') await onOutput?.(out);
    return result;
  } finally {
    await rm(dir, {recursive: true, force: true});
    currentChildDir = undefined;
  }
}

/** What every Measurement takes from a measured run: status, times, memory, load. */
function measuredFields(
  run: MeasuredRun,
  rows: number,
  log: string,
  startedAt: string,
): Omit<Measurement, 'producer' | 'rows' | 'run'> {
  const {measure} = run;
  const ok = measure.exitCode === 0;
  return {
    status: ok ? 'ok' : 'failed',
    ...(ok ? {} : {reason: `exit ${measure.exitCode}; see ${log}`}),
    wallSeconds: measure.wallSeconds,
    commandSeconds: measure.commandSeconds,
    syncSeconds: measure.syncSeconds,
    userSeconds: measure.userSeconds,
    systemSeconds: measure.systemSeconds,
    rowsPerSecond: rows / measure.wallSeconds,
    peakRssBytes: measure.peakRssBytes,
    loadBefore: run.loadBefore,
    loadAfter: run.loadAfter,
    startedAt,
    log,
  };
}

/** `exploration-data verify` of a producer's output, measured like a producer. */
async function measureVerify(
  producer: ProducerName,
  rows: number,
  out: string,
  opts: Options,
  logDir: string,
): Promise<Measurement> {
  const dir = await mkdtemp(join(opts.tmp, 'exploration-bench-verify-'));
  const log = join(logDir, `verify-${producer}-${rows}.log`);
  const startedAt = new Date().toISOString();
  try {
    const measured = await runMeasured({
      python: opts.python,
      measureScript: MEASURE,
      command: [process.execPath, CLI, 'verify', out, '--json'],
      syncDir: dir,
      stdoutFile: join(dir, 'stdout.txt'),
      logFile: log,
    });
    return {
      producer,
      rows,
      run: 'verify',
      ...measuredFields(measured, rows, log, startedAt),
      outputBytes: 0,
    };
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}

function describe(m: Measurement): string {
  const head = `${runLabel(m)}, ${fmtInt(m.rows)} rows`;
  if (m.status !== 'ok')
    return `${head}: ${m.status}${m.reason ? ` (${m.reason})` : ''}`;
  return (
    `${head}: ${m.wallSeconds!.toFixed(2)} s wall, ${fmtInt(m.rowsPerSecond!)} rows/s, ` +
    `peak RSS ${(m.peakRssBytes! / 1e6).toFixed(0)} MB, output ${(m.outputBytes! / 1e6).toFixed(1)} MB ` +
    `(load ${formatLoad(m.loadBefore!)} -> ${formatLoad(m.loadAfter!)})`
  );
}

function expectation(producer: ProducerName, rows: number): string {
  if (producer === 'notebook' && rows >= 10_000_000) {
    return ` (the notebook took ~3 min per million rows on this 2-core machine, so expect ~${Math.round((rows / 1e6) * 3.2)} min; --skip notebook@${rows} leaves it out)`;
  }
  if (rows >= 1_000_000_000) return ' (ten minutes or more)';
  if (rows >= 100_000_000) return ' (a few minutes)';
  return '';
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
  const machine = machineFacts(opts.python);
  const logDir = join(opts.tmp, `exploration-bench-logs-${stamp}`);
  await mkdir(logDir, {recursive: true});
  await mkdir(opts.results, {recursive: true});
  const loadBefore = loadAverage();
  const freeDiskBytesBefore = freeBytes(opts.tmp);
  const say = (s: string) =>
    process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
  say(
    `bench: ${machine.nproc} cores (${machine.cpuModel}), node ${machine.node}, python ${machine.python ?? '?'}; ` +
      `load ${formatLoad(loadBefore)}; ${(freeDiskBytesBefore / 1e9).toFixed(0)} GB free on ${opts.tmp}; logs in ${logDir}`,
  );

  const measurements: Measurement[] = [];
  const notes: string[] = [];
  const record = (m: Measurement) => {
    measurements.push(m);
    say(describe(m));
  };

  for (const rows of opts.sizes) {
    let floorBytes: number[] | undefined;
    for (const producer of PRODUCERS) {
      if (skipped(opts, producer, rows)) {
        record({
          producer,
          rows,
          run: 'compare',
          status: 'skipped',
          reason: 'skipped by flag',
        });
        continue;
      }
      say(
        `running ${PRODUCER_LABEL[producer]} at ${fmtInt(rows)} rows${expectation(producer, rows)}`,
      );
      const verify =
        rows >= VERIFY_MIN_ROWS && VERIFIED_PRODUCERS.includes(producer);
      let verified: Measurement | undefined;
      const m = await measureOne(
        producer,
        rows,
        'compare',
        opts,
        logDir,
        floorBytes,
        undefined,
        verify
          ? async out => {
              say(
                `running verify of ${PRODUCER_LABEL[producer]} at ${fmtInt(rows)} rows`,
              );
              verified = await measureVerify(producer, rows, out, opts, logDir);
            }
          : undefined,
      );
      record(m);
      if (verified) record(verified);
      if (producer === 'ours' && m.status === 'ok' && m.files) {
        floorBytes = Object.values(m.files);
      }
    }
  }
  for (const rows of opts.rssSizes) {
    // Both formats when the disk holds them; else Parquet alone, and say so.
    const bothFit = freeBytes(opts.tmp) >= rows * BYTES_PER_ROW * FREE_FACTOR;
    const formats = bothFit ? undefined : ('parquet' as const);
    if (formats) {
      notes.push(
        `${fmtInt(rows)} rows: Parquet only; the TFRecord (~${((rows * 121) / 1e9).toFixed(0)} GB) does not fit the ${(freeBytes(opts.tmp) / 1e9).toFixed(0)} GB free on ${opts.tmp}.`,
      );
    }
    for (const producer of SCALE_PRODUCERS) {
      if (skipped(opts, producer, rows) || opts.skip.has('rss')) {
        record({
          producer,
          rows,
          run: 'rss',
          status: 'skipped',
          reason: 'skipped by flag',
        });
        continue;
      }
      say(
        `running ${PRODUCER_LABEL[producer]} at ${fmtInt(rows)} rows${formats ? ', Parquet only' : ''}${expectation(producer, rows)}`,
      );
      record(
        await measureOne(
          producer,
          rows,
          'rss',
          opts,
          logDir,
          undefined,
          formats,
        ),
      );
    }
  }

  await runPolicySection(opts, logDir, say, record, notes);
  await runObpSection(opts, logDir, say, record, notes);

  const stackRuns: StackRun[] = [];
  for (const rows of opts.stackSizes) {
    for (const shards of opts.stackShards) {
      say(
        `running the local stack at ${fmtInt(rows)} rows, ${shards === 1 ? 'one file' : `${shards} shards`}${expectation('ours', rows)}`,
      );
      const run = await measureStackRun(rows, shards, {
        loggingPolicy: opts.stackPolicy,
        tmp: opts.tmp,
        seed: opts.seed,
        log: line => say(`  ${line}`),
      });
      stackRuns.push(run);
      say(describeStackRun(run));
    }
  }
  // The CLI's one-file time at that size, both formats (not a verify run).
  const cliSecondsAt = (rows: number) =>
    measurements.find(
      m =>
        m.producer === 'ours' &&
        m.run !== 'verify' &&
        m.formats === undefined &&
        m.rows === rows &&
        m.status === 'ok',
    )?.wallSeconds;
  const stackTargets = stackTargetLines(stackRuns, cliSecondsAt);

  const comparisons = compare(measurements);
  const checks = [
    ...targets(measurements, comparisons),
    ...policyTargets(measurements),
  ];
  const sideBySide = policyLines(measurements);
  notes.push(
    'Python producers pay their imports (TensorFlow: seconds) inside their wall time; their own stage timings are in the JSON (producerSeconds).',
    'The floor writes as many bytes as our CLI wrote at that size (zeroed 8 MiB chunks, fsync per file).',
  );
  const report: BenchReport & {
    stack: StackRun[];
    stackTargets: string[];
    sideBySide: string[];
  } = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: commandLine(process.argv.slice(2)),
    options: {
      sizes: opts.sizes,
      policySizes: opts.policySizes,
      adaptiveSizes: opts.adaptiveSizes,
      obpSizes: opts.obpSizes,
      obpMemoryBytes: opts.obpMemoryBytes,
      rssSizes: opts.rssSizes,
      skip: [...opts.skip],
      only: [...opts.only],
      stackSizes: opts.stackSizes,
      stackShards: opts.stackShards,
      stackPolicy: opts.stackPolicy,
      seed: opts.seed,
      quick: opts.quick,
    },
    machine,
    loadBefore,
    loadAfter: loadAverage(),
    tmpDir: opts.tmp,
    freeDiskBytesBefore,
    measurements,
    comparisons,
    targets: checks,
    notes,
    stack: stackRuns,
    stackTargets,
    sideBySide,
  };

  if (measurements.length > 0)
    process.stdout.write(`\n${textTable(measurements)}\n\n`);
  for (const line of [...comparisonLines(comparisons), ...sideBySide])
    process.stdout.write(`${line}\n`);
  for (const line of stageLines(measurements))
    process.stdout.write(`${line}\n`);
  if (stackRuns.length > 0)
    process.stdout.write(
      `\n${opts.stackPolicy ? `local stack with loggingPolicy ${opts.stackPolicy}:\n` : ''}${stackTextTable(stackRuns)}\n`,
    );
  if (checks.length > 0 || stackTargets.length > 0) {
    process.stdout.write('\ntargets (shown, not asserted):\n');
    for (const line of [...targetLines(checks), ...stackTargets])
      process.stdout.write(`  ${line}\n`);
  }
  process.stdout.write(
    `\nload average before ${formatLoad(report.loadBefore)}, after ${formatLoad(report.loadAfter)}\n`,
  );

  const base = join(opts.results, `${stamp}-${machine.host}`);
  await writeFile(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  await writeFile(
    `${base}.md`,
    markdownReport(report) +
      (sideBySide.length > 0
        ? [
            '',
            '## Logging policies and OBP, side by side',
            '',
            ...sideBySide.map(l => `- ${l}`),
            '',
          ].join('\n')
        : '') +
      (stackRuns.length > 0
        ? [
            '',
            '## The local stack, one file against 16 shards',
            '',
            'A fresh local stack per run; POST /generateDataset, then loadMetadata until ready. Peak RSS is the sum over every',
            "process of the stack at one instant (fake-gcs-server, the Java emulators, every function process, and the bench's",
            'own node process, which runs the storage front, router and event bridges), sampled every 250 ms from /proc.',
            '',
            stackMarkdownTable(stackRuns),
            '',
            ...stackTargets.map(l => `- ${l}`),
            '',
          ].join('\n')
        : ''),
  );
  process.stdout.write(`saved ${base}.json and ${base}.md\n`);
}

type Say = (s: string) => void;
type Record_ = (m: Measurement) => void;

/** Both formats when the disk holds them with a policy's pscore; else Parquet alone, and say so. */
function policyFormats(
  rows: number,
  opts: Options,
  notes: string[],
): 'parquet' | undefined {
  const bothFit =
    freeBytes(opts.tmp) >= rows * POLICY_BYTES_PER_ROW * FREE_FACTOR;
  if (bothFit) return undefined;
  notes.push(
    `${fmtInt(rows)} rows, policy section: Parquet only, with and without the policy; the TFRecord (~${((rows * POLICY_BYTES_PER_ROW) / 1e9).toFixed(0)} GB with pscore) does not fit ${FREE_FACTOR}x into the ${(freeBytes(opts.tmp) / 1e9).toFixed(0)} GB free on ${opts.tmp}.`,
  );
  return 'parquet';
}

const NO_POLICY_CLI =
  "this build's CLI takes no --logging-policy (docs/design.md §12's generator is not built in it)";

/**
 * At each size, our CLI without a policy and right after with the softmax one
 * (the same load for both); then the adaptive softmax, one file and 16 shards.
 */
async function runPolicySection(
  opts: Options,
  logDir: string,
  say: Say,
  record: Record_,
  notes: string[],
): Promise<void> {
  if (opts.policySizes.length === 0 && opts.adaptiveSizes.length === 0) return;
  const supported = cliTakesLoggingPolicy(CLI);
  const skip = (producer: ProducerName, rows: number, reason: string) =>
    record({producer, rows, run: 'policy', status: 'skipped', reason});
  const flagged = (producer: ProducerName, rows: number) =>
    opts.skip.has(producer) ||
    opts.skip.has(`${producer}@${rows}`) ||
    opts.skip.has(`policy@${rows}`);
  const run = async (
    producer: ProducerName,
    rows: number,
    formats: 'parquet' | undefined,
  ) => {
    if (flagged(producer, rows)) return skip(producer, rows, 'skipped by flag');
    if (producer !== 'ours' && !supported)
      return skip(producer, rows, NO_POLICY_CLI);
    say(
      `running ${PRODUCER_LABEL[producer]} at ${fmtInt(rows)} rows${formats ? ', Parquet only' : ''} (policy section)${expectation('ours', rows)}`,
    );
    record(
      await measureOne(
        producer,
        rows,
        'policy',
        opts,
        logDir,
        undefined,
        formats,
      ),
    );
  };
  const sizes = [...new Set([...opts.policySizes, ...opts.adaptiveSizes])].sort(
    (a, b) => a - b,
  );
  for (const rows of sizes) {
    const formats = policyFormats(rows, opts, notes);
    // The comparator runs wherever a policy run at this size does.
    await run('ours', rows, formats);
    if (opts.policySizes.includes(rows)) await run('softmax', rows, formats);
    if (opts.adaptiveSizes.includes(rows)) {
      await run('adaptive1', rows, formats);
      await run('adaptive16', rows, formats);
    }
  }
}

/**
 * OBP's SyntheticBanditDataset at each size ('auto': the largest n that fits
 * opts.obpMemoryBytes, from the first OBP run's peak RSS), each beside our
 * CLI with the softmax policy at the same n.
 */
async function runObpSection(
  opts: Options,
  logDir: string,
  say: Say,
  record: Record_,
  notes: string[],
): Promise<void> {
  if (opts.obpSizes.length === 0) return;
  const supported = cliTakesLoggingPolicy(CLI);
  let first: Measurement | undefined;
  for (const size of opts.obpSizes) {
    let rows: number;
    if (size === 'auto') {
      const estimate = first
        ? obpLargestRounds(first, opts.obpMemoryBytes)
        : undefined;
      if (!estimate) {
        record({
          producer: 'obp',
          rows: 0,
          run: 'obp',
          status: 'skipped',
          reason: `"auto" needs a measured OBP run first${first ? ` (${first.status}: ${first.reason ?? ''})` : ''}`,
        });
        continue;
      }
      notes.push(estimate.note);
      say(estimate.note);
      rows = estimate.rounds;
      const refusal = obpMemoryRefusal(estimate);
      if (refusal) {
        record({
          producer: 'obp',
          rows,
          run: 'obp',
          status: 'skipped',
          reason: refusal,
        });
        continue;
      }
    } else {
      rows = size;
    }
    if (opts.skip.has(`obp@${rows}`)) {
      record({
        producer: 'obp',
        rows,
        run: 'obp',
        status: 'skipped',
        reason: 'skipped by flag',
      });
    } else if (!opts.obpPython) {
      record({
        producer: 'obp',
        rows,
        run: 'obp',
        status: 'skipped',
        reason:
          opts.obpUnavailable ??
          'the optional OBP venv is not made (npm run bench -- --obp makes it: scripts/obp-env.sh)',
      });
    } else {
      say(
        `running ${PRODUCER_LABEL.obp} at ${fmtInt(rows)} rounds x ${OBP_ACTIONS} actions`,
      );
      const m = await measureOne('obp', rows, 'obp', opts, logDir);
      record(m);
      first ??= m;
    }
    if (opts.skip.has(`softmax@${rows}`)) {
      record({
        producer: 'softmax',
        rows,
        run: 'obp',
        status: 'skipped',
        reason: 'skipped by flag',
      });
    } else if (!supported) {
      record({
        producer: 'softmax',
        rows,
        run: 'obp',
        status: 'skipped',
        reason: NO_POLICY_CLI,
      });
    } else {
      say(
        `running ${PRODUCER_LABEL.softmax} at ${fmtInt(rows)} rows (beside OBP)`,
      );
      record(await measureOne('softmax', rows, 'obp', opts, logDir));
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // measure.py runs in its own process group: stop it and its producer.
    process.stderr.write(`bench: ${signal}, stopping\n`);
    stopActiveChildren();
    // ... and the local stack of a stack run, with its bucket directory.
    void Promise.all([
      stopActiveStack(),
      currentChildDir
        ? rm(currentChildDir, {recursive: true, force: true})
        : undefined,
    ]).finally(() => process.exit(130));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
