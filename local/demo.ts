/**
 * `npm run demo`: the main job on the local stack. Starts everything, asks
 * for a dataset (10M rows by default), waits until it is recorded ready,
 * downloads both files (or every shard, several at once) through their signed
 * URLs, verifies them against the metadata, prints a report, and stops
 * everything. With --shards S the POST answers 202 and the shards are
 * written by generateShard through the Pub/Sub emulator.
 *
 *   node build/local/demo.js [--samples N] [--seed S] [--shards S] [--keep DIR]
 *   (usage: local/demo-usage.txt)
 */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {mkdir} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {basename, join, resolve} from 'node:path';
import {
  ApiClient,
  describeError,
  generateAndWait,
  isGenerating,
} from '../clients/typescript/index.js';
import {fetchDataset, type FetchedDataset} from '../cli/fetch-dataset.js';
import {checkOutFolder} from '../cli/generate-command.js';
import {isBadInput} from '../cli/program.js';
import {describeFit, verifyDirectory} from '../shared/verify/verify.js';
import {parseDemoFlags} from './demo-flags.js';
import {startLocalStack, type LocalStack} from './stack.js';

interface Timings {
  [stage: string]: number;
}

async function timed<T>(
  timings: Timings,
  stage: string,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings[stage] = (performance.now() - started) / 1000;
  }
}

async function run(
  stack: LocalStack,
  request: Record<string, number>,
  directory: string,
  timings: Timings,
): Promise<boolean> {
  const client = new ApiClient({baseUrl: stack.url});
  const started = performance.now();
  const {answer, ready, answeredMs, readyMs} = await generateAndWait(
    client,
    request,
    {
      intervalMs: 200,
      onAnswer: answer =>
        process.stderr.write(
          isGenerating(answer)
            ? `[demo] version ${answer.version} accepted (202): ${answer.shards} shards through Pub/Sub to generateShard; waiting until it is ready\n`
            : `[demo] version ${answer.version} written; waiting for the storage trigger to record it\n`,
        ),
    },
  );
  timings[
    isGenerating(answer)
      ? 'POST /generateDataset -> 202 accepted'
      : 'generate (POST /generateDataset)'
  ] = answeredMs / 1000;
  timings[
    isGenerating(answer)
      ? 'shards written -> metadata -> ready'
      : 'storage trigger -> ready in Firestore'
  ] = (readyMs - answeredMs) / 1000;
  if (isGenerating(answer))
    timings['POST -> ready'] = (performance.now() - started) / 1000;
  const {version} = answer;

  await mkdir(directory, {recursive: true});
  const fetched = await timed(timings, 'download through signed URLs', () =>
    fetchDataset(client, ready, directory),
  );

  const report = await timed(timings, 'verify against metadata', () =>
    verifyDirectory(directory, version),
  );

  const lines = [
    '',
    `dataset v${version}: ${answer.rows.toLocaleString('en-US')} rows, seed ${answer.seed}${fetched.shards > 1 ? `, ${fetched.shards} shards per format` : ''}`,
    ...fileLines(fetched),
    '',
    'time per stage:',
    ...Object.entries(timings).map(
      ([stage, s]) => `  ${stage.padEnd(40)} ${s.toFixed(1).padStart(7)} s`,
    ),
    '',
    'install rate per target store (true = mean q of its creatives, observed = positives / rows):',
    `  ${'target store'.padEnd(20)} ${'rows'.padStart(10)} ${'true'.padStart(8)} ${'observed'.padStart(9)}`,
    ...Object.entries(ready.metadata.empirical.perTargetStore).map(
      ([id, o]) =>
        `  ${id.padEnd(20)} ${String(o.rows).padStart(10)} ${(o.expectedRate ?? NaN).toFixed(4).padStart(8)} ${(o.rate ?? NaN).toFixed(4).padStart(9)}`,
    ),
    '',
    ...(report.statistics.creatives && report.statistics.targetStores
      ? [
          'labels against the true probabilities (goodness-of-fit, docs/verify.md):',
          `  creatives:     ${describeFit(report.statistics.creatives, 'creatives')}`,
          `  target stores: ${describeFit(report.statistics.targetStores, 'target stores')}`,
          '',
        ]
      : []),
    report.ok
      ? `verified: all ${report.checks.length} checks passed (checksums${fetched.shards > 1 ? ', shard layout' : ''}, rows, same rows in both formats, every creative within its bound, goodness-of-fit over creatives and target stores)`
      : `VERIFY FAILED:\n${report.checks
          .filter(c => !c.ok)
          .map(c => `  ${c.name}: ${c.detail}`)
          .join('\n')}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return report.ok;
}

/** A line per file; many shards: a line per format. */
function fileLines(fetched: FetchedDataset): string[] {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1).padStart(9);
  if (fetched.shards === 1)
    return fetched.files.map(
      f => `  ${basename(f.path).padEnd(36)} ${mb(f.bytes)} MB`,
    );
  return (['parquet', 'tfrecord'] as const).flatMap(format => {
    const files = fetched.files.filter(f => f.format === format);
    if (files.length === 0) return [];
    const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
    return [
      `  ${`${basename(files[0].path)} ..`.padEnd(36)} ${mb(bytes)} MB in ${files.length} shards`,
    ];
  });
}

/** The usage text, shared with scripts/demo.sh (which prints it without building). */
export function usage(): string {
  return readFileSync(
    new URL('../../local/demo-usage.txt', import.meta.url),
    'utf8',
  );
}

async function main(): Promise<number> {
  let flags;
  try {
    flags = parseDemoFlags(process.argv.slice(2));
  } catch (error) {
    if (!isBadInput(error)) throw error;
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(usage());
    return 0;
  }
  const {request} = flags;
  const values = {keep: flags.keep};
  const directory = values.keep
    ? resolve(values.keep)
    : mkdtempSync(join(tmpdir(), 'exploration-demo-'));
  const timings: Timings = {};
  if (values.keep) await checkOutFolder(values.keep);
  process.stderr.write(
    '[demo] starting the local stack (emulators + functions)\n',
  );
  const stack = await timed(timings, 'start the local stack', () =>
    startLocalStack({port: 0}),
  );
  let ok = false;
  const stop = async () => {
    await stack.stop();
  };
  // Any signal stops the whole stack (emulators, functions) before exiting.
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.once(signal, () => void stop().then(() => process.exit(code)));
  }
  try {
    ok = await run(stack, request, directory, timings);
  } finally {
    await stop();
    if (!values.keep) rmSync(directory, {recursive: true, force: true});
    else process.stdout.write(`files kept in ${directory}\n`);
  }
  return ok ? 0 : 1;
}

main().then(
  code => {
    process.exitCode = code;
  },
  error => {
    process.stderr.write(`demo: ${describeError(error)}\n`);
    process.exitCode = 1;
  },
);
