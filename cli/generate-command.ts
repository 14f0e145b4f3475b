/**
 * `exploration-data generate`: a dataset into a local folder (DESIGN §9).
 */
import {resolve} from 'node:path';
import {
  resolveConfig,
  type DatasetConfig,
  type DatasetRequest,
  type Format,
} from '../shared/config.js';
import {DirectoryDestination} from '../shared/destinations/directory.js';
import {InvalidArgumentError} from '../shared/errors.js';
import {generateDataset, shardNames} from '../shared/generate.js';
import {filesOf, isSharded} from '../shared/metadata.js';
import {dataFileName, type DatasetFileKind} from '../shared/names.js';
import {settingsFromEnv} from '../shared/settings.js';
import {resolveShardCount, shardPlan} from '../shared/shards.js';
import {progressBar} from './progress.js';
import {
  defaultWorkers,
  generateSharded,
  type WorkerFigures,
} from './sharded-generate.js';

export interface GenerateFlags {
  samples?: string;
  targetStoreIds?: string;
  creativePackIds?: string;
  seed?: string;
  formats?: string;
  tfrecordCompression?: string;
  shards?: string;
  workers?: string;
  version: string;
  out: string;
  json?: boolean;
  progress?: boolean;
}

const FLAG_OF: Record<string, string> = {
  nSamples: '--samples',
  nTargetStoreIds: '--target-store-ids',
  nCreativePackIds: '--creative-pack-ids',
  seed: '--seed',
  formats: '--formats',
  tfrecordCompression: '--tfrecord-compression',
  shards: '--shards',
  workers: '--workers',
  version: '--version',
};

/** Upper bound of --workers: threads, each with its own block pipeline. */
export const MAX_WORKERS = 64;

/** --shards (default per DESIGN §2) and --workers (default one per core). */
export function layoutFromFlags(
  flags: Pick<GenerateFlags, 'shards' | 'workers'>,
  config: DatasetConfig,
): {shards: number; workers: number} {
  const requested = parseCount(flags.shards, 'shards');
  let shards: number;
  try {
    shards = resolveShardCount(config.nSamples, requested, '--shards');
  } catch (error) {
    if (error instanceof InvalidArgumentError)
      throw new InvalidArgumentError(error.message, 'shards');
    throw error;
  }
  const workers =
    parseCount(flags.workers, 'workers') ?? defaultWorkers(shards);
  if (workers < 1 || workers > MAX_WORKERS) {
    throw new InvalidArgumentError(
      `--workers must be an integer in 1..${MAX_WORKERS}, got ${flags.workers}`,
      'workers',
    );
  }
  return {shards, workers: Math.min(workers, shards)};
}

/** Digits, with optional _ separators (10_000_000); anything else is refused. */
export function parseCount(
  raw: string | undefined,
  field: string,
): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[0-9](_?[0-9])*$/.test(raw)) {
    throw new InvalidArgumentError(
      `${FLAG_OF[field]} must be a whole number, got ${JSON.stringify(raw)}`,
      field,
    );
  }
  return Number(raw.replaceAll('_', ''));
}

/** Turns flags into a validated config; errors name the flag. */
export function configFromFlags(
  flags: GenerateFlags,
  env = process.env,
): {config: DatasetConfig; version: number} {
  const request: DatasetRequest = {};
  const set = <K extends keyof DatasetRequest>(
    key: K,
    value: DatasetRequest[K] | undefined,
  ) => {
    if (value !== undefined) request[key] = value;
  };
  set('nSamples', parseCount(flags.samples, 'nSamples'));
  set('nTargetStoreIds', parseCount(flags.targetStoreIds, 'nTargetStoreIds'));
  set(
    'nCreativePackIds',
    parseCount(flags.creativePackIds, 'nCreativePackIds'),
  );
  set('seed', parseCount(flags.seed, 'seed'));
  if (flags.formats !== undefined)
    set('formats', flags.formats.split(',').map(f => f.trim()) as Format[]);
  if (flags.tfrecordCompression !== undefined) {
    set(
      'tfrecordCompression',
      flags.tfrecordCompression.toUpperCase() as DatasetConfig['tfrecordCompression'],
    );
  }
  const version = parseCount(flags.version, 'version') ?? 1;
  if (version < 1 || !Number.isSafeInteger(version)) {
    throw new InvalidArgumentError(
      `--version must be a positive integer, got ${flags.version}`,
      'version',
    );
  }
  try {
    return {
      config: resolveConfig(request, settingsFromEnv(env).limits),
      version,
    };
  } catch (error) {
    if (
      error instanceof InvalidArgumentError &&
      error.field &&
      FLAG_OF[error.field]
    ) {
      throw new InvalidArgumentError(
        `${FLAG_OF[error.field]}: ${error.message}`,
        error.field,
      );
    }
    throw error;
  }
}

export async function runGenerate(flags: GenerateFlags): Promise<void> {
  const {config, version} = configFromFlags(flags);
  const {shards, workers} = layoutFromFlags(flags, config);
  const directory = resolve(flags.out);
  const names = {} as Record<DatasetFileKind, string>;
  for (const kind of ['parquet', 'tfrecord', 'metadata'] as const) {
    names[kind] = dataFileName(kind, version, config.tfrecordCompression);
  }
  const fileNames: string[] = [names.metadata];
  for (const shard of shardPlan(config.nSamples, shards)) {
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
  const started = performance.now();
  let result;
  let workerFigures: WorkerFigures[] | undefined;
  try {
    if (shards === 1) {
      result = await generateDataset({
        config,
        version,
        names,
        destination,
        onProgress: (d, t) => bar.update(d, t),
      });
    } else {
      result = await generateSharded({
        config,
        version,
        shards,
        workers,
        names,
        directory,
        destination,
        onProgress: (d, t) => bar.update(d, t),
      });
      workerFigures = result.workers;
    }
  } finally {
    bar.stop();
  }
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
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
