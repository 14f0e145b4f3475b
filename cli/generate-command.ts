/**
 * `exploration-data generate`: a dataset into a local folder (docs/design.md §9).
 */
import {stat} from 'node:fs/promises';
import {resolve} from 'node:path';
import {
  MAX_SEED,
  resolveConfig,
  type DatasetConfig,
  type DatasetLimits,
  type DatasetRequest,
  type Format,
} from '../shared/dataset/config.js';
import {DirectoryDestination} from '../shared/storage/directory-destination.js';
import {InvalidArgumentError} from '../shared/errors.js';
import {shardNames} from '../shared/generation/generate.js';
import {generateDataset} from '../shared/generation/orchestrator.js';
import {
  defaultWorkers,
  ThreadShardRunner,
  type WorkerFigures,
} from '../shared/generation/thread-shard-runner.js';
import {
  parseOptionalIntegerInRange,
  type IntegerBounds,
} from '../shared/dataset/integer.js';
import {filesOf, isSharded} from '../shared/metadata/document.js';
import {
  dataFileName,
  type DatasetFileKind,
} from '../shared/dataset/object-names.js';
import {settingsFromEnv} from '../shared/settings.js';
import {MAX_SHARDS, planOf} from '../shared/dataset/shard-plan.js';
import {parseJsonFlag} from './json-flag.js';
import {progressBar} from './progress.js';
import {
  StageTimings,
  type TimingsReport,
} from '../shared/generation/stage-timings.js';

/** `--timings` as text: CPU seconds per 1M rows per stage, and in all. */
function timingLines(report: TimingsReport): string[] {
  const per = report.cpuSecondsPerMillionRows;
  const all = report.cpuSeconds;
  return [
    'CPU seconds per 1M rows (all rows): ' +
      (['draw', 'encode', 'hash', 'write', 'total'] as const)
        .map(k => `${k} ${per[k].toFixed(3)} (${all[k].toFixed(2)})`)
        .join(', '),
    `  encode = TFRecord ${per.encodeTfrecord.toFixed(3)} + Parquet ${per.encodeParquet.toFixed(3)}; write = the process's CPU minus the others (of the total, system ${per.system.toFixed(3)})`,
  ];
}

export interface GenerateFlags {
  samples?: string;
  targetStoreIds?: string;
  creativePackIds?: string;
  seed?: string;
  formats?: string;
  tfrecordCompression?: string;
  loggingPolicy?: string;
  shards?: string;
  workers?: string;
  datasetVersion: string;
  out: string;
  json?: boolean;
  progress?: boolean;
  /** record each data file's MD5 too (docs/design.md §4) */
  md5?: boolean;
  /** CPU seconds per stage (draw, encode, hash, write) in the summary */
  timings?: boolean;
}

const FLAG_OF: Record<string, string> = {
  nSamples: '--samples',
  nTargetStoreIds: '--target-store-ids',
  nCreativePackIds: '--creative-pack-ids',
  seed: '--seed',
  formats: '--formats',
  tfrecordCompression: '--tfrecord-compression',
  loggingPolicy: '--logging-policy',
  shards: '--shards',
  workers: '--workers',
  datasetVersion: '--dataset-version',
};

/** Upper bound of --workers: threads, each with its own block pipeline. */
export const MAX_WORKERS = 64;

/** --workers (default one per core, never more than the config's shards). */
export function layoutFromFlags(
  flags: Pick<GenerateFlags, 'workers'>,
  config: DatasetConfig,
): {shards: number; workers: number} {
  const shards = config.shards;
  const workers =
    parseIntegerFlag(flags.workers, 'workers', {min: 1, max: MAX_WORKERS}) ??
    defaultWorkers(shards);
  return {shards, workers: Math.min(workers, shards)};
}

/** A dataset version N, the number in dataset_v{N} and metadata_v{N}. */
export const DATASET_VERSION_BOUNDS: IntegerBounds = {
  min: 1,
  max: Number.MAX_SAFE_INTEGER,
  maxLabel: '2^53-1',
};

/** The bounds of each integer flag of `generate`, under these limits. */
export function integerFlagBounds(
  limits: DatasetLimits,
): Record<
  'nSamples' | 'nTargetStoreIds' | 'nCreativePackIds' | 'seed',
  IntegerBounds
> {
  return {
    nSamples: {min: 1, max: limits.maxSamples},
    nTargetStoreIds: {min: 1, max: limits.maxTargetStoreIds},
    nCreativePackIds: {min: 1, max: limits.maxCreativePackIds},
    seed: {min: 0, max: MAX_SEED, maxLabel: '2^53-1'},
  };
}

/** A flag's integer (digits, `_` separators allowed), named by its flag. */
export function parseIntegerFlag(
  raw: string | undefined,
  field: string,
  bounds: IntegerBounds,
): number | undefined {
  return parseOptionalIntegerInRange(raw, FLAG_OF[field] ?? field, bounds, {
    field,
    separators: true,
  });
}

/** The flag's field of an error's JSON path: loggingPolicy.beta is --logging-policy's. */
function flagFieldOf(field: string): string {
  return field.split('.')[0];
}

/** Turns flags into a validated config; errors name the flag. */
export function configFromFlags(
  flags: GenerateFlags,
  env = process.env,
): {config: DatasetConfig; version: number} {
  const limits = settingsFromEnv(env).limits;
  const bounds = integerFlagBounds(limits);
  const request: DatasetRequest = {};
  for (const [field, raw] of [
    ['nSamples', flags.samples],
    ['nTargetStoreIds', flags.targetStoreIds],
    ['nCreativePackIds', flags.creativePackIds],
    ['seed', flags.seed],
  ] as const) {
    const value = parseIntegerFlag(raw, field, bounds[field]);
    if (value !== undefined) request[field] = value;
  }
  // --shards goes through the config (resolveConfig checks it against the
  // rows), so the metadata's config records it.
  const shards = parseIntegerFlag(flags.shards, 'shards', {
    min: 1,
    max: MAX_SHARDS,
  });
  if (shards !== undefined) request.shards = shards;
  if (flags.formats !== undefined)
    request.formats = flags.formats.split(',').map(f => f.trim()) as Format[];
  if (flags.tfrecordCompression !== undefined) {
    request.tfrecordCompression =
      flags.tfrecordCompression.toUpperCase() as DatasetConfig['tfrecordCompression'];
  }
  if (flags.loggingPolicy !== undefined) {
    // resolveConfig validates it
    request.loggingPolicy = parseJsonFlag(
      flags.loggingPolicy,
      '--logging-policy',
      'loggingPolicy',
    );
  }
  const version =
    parseIntegerFlag(
      flags.datasetVersion,
      'datasetVersion',
      DATASET_VERSION_BOUNDS,
    ) ?? 1;
  try {
    return {config: resolveConfig(request, limits), version};
  } catch (error) {
    if (
      error instanceof InvalidArgumentError &&
      error.field &&
      FLAG_OF[flagFieldOf(error.field)]
    ) {
      // "shards must be ..." -> "--shards must be ...", as --shards always said.
      const flag = FLAG_OF[flagFieldOf(error.field)];
      const message =
        error.field === 'shards' && error.message.startsWith(error.field)
          ? flag + error.message.slice(error.field.length)
          : `${flag}: ${error.message}`;
      throw new InvalidArgumentError(message, error.field);
    }
    throw error;
  }
}

/** `--out` must be a folder or not exist yet; a file there is bad input. */
export async function checkOutFolder(out: string): Promise<string> {
  const directory = resolve(out);
  const kind = await stat(directory).then(
    s => (s.isDirectory() ? 'folder' : 'file'),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return 'missing';
      if (error.code === 'ENOTDIR') return 'file';
      throw error;
    },
  );
  if (kind === 'file') {
    throw new InvalidArgumentError(
      `--out must be a folder (existing or new), got ${JSON.stringify(out)}, which is a file or lies under one`,
      'out',
    );
  }
  return directory;
}

export async function runGenerate(flags: GenerateFlags): Promise<void> {
  const {config, version} = configFromFlags(flags);
  const plan = planOf(config);
  const {shards, workers} = layoutFromFlags(flags, config);
  if (flags.timings && shards > 1) {
    throw new InvalidArgumentError(
      `--timings measures one file written by this thread; it cannot be used with --shards ${shards}`,
      'timings',
    );
  }
  const directory = await checkOutFolder(flags.out);
  const names = {} as Record<DatasetFileKind, string>;
  for (const kind of ['parquet', 'tfrecord', 'metadata'] as const) {
    names[kind] = dataFileName(kind, version, config.tfrecordCompression);
  }
  const fileNames: string[] = [names.metadata];
  for (const shard of plan.shards) {
    const perFormat = shardNames(
      Object.fromEntries(config.formats.map(f => [f, names[f]])),
      shard,
    );
    fileNames.push(...Object.values(perFormat));
  }
  const destination = new DirectoryDestination(directory);
  await destination.prepare(fileNames);

  const showProgress =
    flags.progress !== false && !flags.json && process.stderr.isTTY === true;
  const bar = progressBar(
    showProgress,
    shards === 1
      ? 'generating'
      : `generating ${shards} shards on ${workers} workers`,
  );
  const timings = flags.timings ? new StageTimings() : undefined;
  timings?.start();
  const started = performance.now();
  // One file is written in this thread; shards on worker threads.
  const runner =
    shards === 1
      ? undefined
      : new ThreadShardRunner({directory, workers, md5: flags.md5 === true});
  let result;
  try {
    result = await generateDataset({
      config,
      plan,
      version,
      names,
      destination,
      runner,
      md5: flags.md5 === true,
      timings,
      onProgress: (d, t) => bar.update(d, t),
    });
  } finally {
    bar.stop();
  }
  timings?.stop();
  const timingsReport = timings?.report(config.nSamples);
  const workerFigures: WorkerFigures[] | undefined = runner?.workerFigures();
  const durationMs = Math.round(performance.now() - started);
  const withPath = <T extends {name: string}>(o: T) => ({
    path: `${directory}/${o.name}`,
    ...o,
  });
  const files = Object.fromEntries(
    Object.entries(result.metadata.objects).map(([format, o]) => [
      format,
      isSharded(o) ? {...o, shards: o.shards.map(withPath)} : withPath(o),
    ]),
  );
  const summary = {
    version,
    rows: config.nSamples,
    seed: config.seed,
    config,
    files: {
      ...files,
      metadata: {
        path: `${directory}/${names.metadata}`,
        ...result.metadataObject,
      },
    },
    shards,
    workers: shards === 1 ? 1 : workers,
    durationMs,
    rowsPerSecond: Math.round(config.nSamples / (durationMs / 1000)),
    stages: result.stages,
    /** the whole process (worker threads share it), in bytes */
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    ...(workerFigures ? {workerFigures} : {}),
    ...(timingsReport ? {timings: timingsReport} : {}),
  };
  if (flags.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  const lines = [
    `dataset v${version}: ${config.nSamples.toLocaleString('en-US')} rows, seed ${config.seed}, ${config.nTargetStoreIds} target stores, ${config.nCreativePackIds} creative packs`,
    ...[
      ...Object.values(result.metadata.objects).flatMap(o => filesOf(o)),
      result.metadataObject,
    ].map(
      f =>
        `  ${directory}/${f.name}  ${f.bytes.toLocaleString('en-US')} bytes  crc32c ${f.crc32c}`,
    ),
    ...(shards > 1
      ? [`  ${shards} shards written by ${workers} worker threads`]
      : []),
    `done in ${(durationMs / 1000).toFixed(2)} s (${summary.rowsPerSecond.toLocaleString('en-US')} rows/s); observed rate ${result.metadata.empirical.rate.toFixed(4)}`,
    ...(timingsReport ? timingLines(timingsReport) : []),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
