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
 * Prints the tables and saves JSON + markdown to bench/results/. Measures;
 * asserts nothing.
 *
 *   node build/bench/run.js --python PY [--sizes 1000000,10000000]
 *     [--rss-sizes 100000000,1000000000|none] [--stack-sizes 10000000,100000000|none]
 *     [--skip notebook@10000000]... [--only ours,floor|stack]
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

interface Options {
  python: string;
  sizes: number[];
  rssSizes: number[];
  /** the local-stack section's sizes (each: one file, then 16 shards) */
  stackSizes: number[];
  skip: Set<string>;
  only: Set<ProducerName>;
  seed: number;
  tmp: string;
  results: string;
  quick: boolean;
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
      skip: {type: 'string', multiple: true, default: []},
      only: {type: 'string'},
      seed: {type: 'string', default: '42'},
      tmp: {type: 'string', default: tmpdir()},
      results: {type: 'string', default: join(ROOT, 'bench', 'results')},
      quick: {type: 'boolean', default: false},
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
        '  --skip P@N         skip producer P at N rows (P: ours, shards16w1, shards16w2, floor, expert, vectorised,',
        '                     notebook;',
        '                     P alone: all sizes;',
        '                     "rss" skips the RSS runs, "stack" the local-stack runs); repeatable, or comma-separated',
        '  --only P,P         run only these producers; "stack" is the local-stack section',
        '                     (--only stack runs it alone)',
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
  const onlyList = (values.only ?? [...PRODUCERS, 'stack'].join(','))
    .split(',')
    .map(s => s.trim());
  for (const p of onlyList) {
    if (p !== 'stack' && !PRODUCERS.includes(p as ProducerName))
      throw new Error(`--only: unknown producer ${p}`);
  }
  const only = new Set(
    onlyList.filter((p): p is ProducerName => p !== 'stack'),
  );
  const stackRuns = onlyList.includes('stack') && !skip.has('stack');
  return {
    python: values.python,
    // --only stack: no CLI runs at all, not a row of "skipped by flag" each
    sizes: only.size > 0 ? sizes : [],
    rssSizes: only.size > 0 ? rssSizes : [],
    stackSizes: stackRuns ? stackSizes : [],
    skip,
    only,
    seed: Number(values.seed),
    tmp: resolve(values.tmp),
    results: resolve(values.results),
    quick,
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

/** Seconds the producer reports for itself (its JSON summary's stages). */
function producerSeconds(
  producer: ProducerName,
  summary: Record<string, unknown> | null,
): Record<string, number> | undefined {
  if (!summary) return undefined;
  if (producer === 'ours' || SHARDED_WORKERS[producer] !== undefined) {
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
  const needed =
    rows * (formats ? PARQUET_BYTES_PER_ROW : BYTES_PER_ROW) * FREE_FACTOR;
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
    `${producer}-${rows}${run === 'rss' ? '-rss' : ''}.log`,
  );
  const startedAt = new Date().toISOString();
  try {
    const measured = await runMeasured({
      python: opts.python,
      measureScript: MEASURE,
      command: commandFor(producer, rows, out, opts, floorBytes, formats),
      syncDir: out,
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

  const stackRuns: StackRun[] = [];
  for (const rows of opts.stackSizes) {
    for (const shards of STACK_SHARD_COUNTS) {
      say(
        `running the local stack at ${fmtInt(rows)} rows, ${shards === 1 ? 'one file' : `${shards} shards`}${expectation('ours', rows)}`,
      );
      const run = await measureStackRun(rows, shards, {
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
  const checks = targets(measurements, comparisons);
  notes.push(
    'Python producers pay their imports (TensorFlow: seconds) inside their wall time; their own stage timings are in the JSON (producerSeconds).',
    'The floor writes as many bytes as our CLI wrote at that size (zeroed 8 MiB chunks, fsync per file).',
  );
  const report: BenchReport & {stack: StackRun[]; stackTargets: string[]} = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: commandLine(process.argv.slice(2)),
    options: {
      sizes: opts.sizes,
      rssSizes: opts.rssSizes,
      skip: [...opts.skip],
      only: [...opts.only],
      stackSizes: opts.stackSizes,
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
  };

  if (measurements.length > 0)
    process.stdout.write(`\n${textTable(measurements)}\n\n`);
  for (const line of comparisonLines(comparisons))
    process.stdout.write(`${line}\n`);
  for (const line of stageLines(measurements))
    process.stdout.write(`${line}\n`);
  if (stackRuns.length > 0)
    process.stdout.write(`\n${stackTextTable(stackRuns)}\n`);
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
