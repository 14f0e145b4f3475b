/**
 * The one orchestrator of generation (docs/design.md §3): the model, the
 * plan's shards written by a runner (this thread, or worker threads), and
 * the metadata last, as the commit point; on any failure the shards written
 * are removed again. The CLI (one file or sharded, any workers) and the
 * generateDataset function call generateDataset; generateShard writes its
 * one shard per delivery with generateShards and, for the last shard of a
 * version, the metadata with commitVersion.
 */
import type {DatasetConfig, Format} from '../dataset/config.js';
import {buildModel, type DatasetModel} from '../dataset/model.js';
import type {DatasetFileKind} from '../dataset/object-names.js';
import type {ShardPlan} from '../dataset/shard-plan.js';
import type {ObjectDigests} from '../digest/digests.js';
import type {MetadataHead} from '../metadata/document.js';
import type {DatasetDestination} from '../storage/destination.js';
import type {StageTimings} from './stage-timings.js';
import {loggingMetadataOf} from '../metadata/logging.js';
import {
  assembleMetadata,
  shardNames,
  writeMetadataFile,
  type ShardResult,
  type ShardSummary,
} from './generate.js';
import {
  InProcessShardRunner,
  type ShardRunner,
  type ShardTask,
} from './shard-runner.js';

export interface ShardsRequest {
  config: DatasetConfig;
  /** the config's plan (planOf), resolved once by the caller */
  plan: ShardPlan;
  /** the plan's shards to write, by index (default: every one) */
  only?: readonly number[];
  /** each format's single-file name; shards are named after it (shardFileName) */
  names: Partial<Record<Format, string>>;
  /** who writes the shards; the orchestrator closes it */
  runner: ShardRunner;
  /** buildModel(config), when the caller has it already */
  model?: DatasetModel;
  /** rows written so far, of the shards asked for */
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

export interface WrittenShards {
  model: DatasetModel;
  shards: ShardResult[];
  rowsMs: number;
}

export interface GenerateRequest {
  config: DatasetConfig;
  /** the config's plan (planOf), resolved once by the caller */
  plan: ShardPlan;
  version: number;
  /**
   * name of each file or object, by kind; with several shards the data
   * files are named after these (`dataset_v1-00000-of-00004.parquet`)
   */
  names: Record<DatasetFileKind, string>;
  /** where the metadata goes, and the shards unless a runner is given */
  destination: DatasetDestination;
  /** who writes the shards (default: this thread, into `destination`) */
  runner?: ShardRunner;
  /** the default runner hashes MD5 too (the CLI's --md5; docs/design.md §4) */
  md5?: boolean;
  /** the default runner adds each stage's time here (`generate --timings`) */
  timings?: StageTimings;
  now?: () => Date;
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

export interface GeneratedDataset {
  /** the metadata written, but for its four per-id maps (streamed from the model) */
  metadata: MetadataHead;
  metadataObject: ObjectDigests & {name: string};
  stages: {modelMs: number; rowsMs: number; metadataMs: number};
}

/** A whole version: every shard of the plan, then metadata_v{N}.json. */
export async function generateDataset(
  request: GenerateRequest,
): Promise<GeneratedDataset> {
  const {config, version, names, destination} = request;
  const runner =
    request.runner ??
    new InProcessShardRunner({
      destination,
      md5: request.md5 ?? false,
      timings: request.timings,
    });
  try {
    const started = performance.now();
    const model = buildModel(config);
    const modelMs = performance.now() - started;
    const written = await runShards({...request, names, runner, model});
    const metadataStarted = performance.now();
    const committed = await commitVersion({
      config,
      version,
      createdAt: (request.now ?? (() => new Date()))(),
      model,
      shards: written.shards,
      destination,
      name: names.metadata,
    });
    return {
      ...committed,
      stages: {
        modelMs,
        rowsMs: written.rowsMs,
        metadataMs: performance.now() - metadataStarted,
      },
    };
  } catch (error) {
    // The shards already written go too: no file of a failed version is left behind.
    await runner.abort(error);
    throw error;
  } finally {
    await runner.close();
  }
}

/** Some or all shards of the plan, without the metadata (a fan-out delivery writes one). */
export async function generateShards(
  request: ShardsRequest,
): Promise<WrittenShards> {
  try {
    return await runShards(request);
  } catch (error) {
    await request.runner.abort(error);
    throw error;
  } finally {
    await request.runner.close();
  }
}

/**
 * metadata_v{N}.json from every shard's result (this process) or summary
 * (the catalogue's shard records): the same bytes whoever writes it.
 */
export async function commitVersion(args: {
  config: DatasetConfig;
  version: number;
  createdAt: Date;
  model: DatasetModel;
  shards: Array<ShardResult | ShardSummary>;
  destination: DatasetDestination;
  name: string;
}): Promise<Pick<GeneratedDataset, 'metadata' | 'metadataObject'>> {
  // With a logging policy: its members, computed once (an adaptive log's epochs replayed).
  const logging = loggingMetadataOf(args.config, args.model);
  const metadata = assembleMetadata({...args, logging: logging?.head});
  const metadataObject = await writeMetadataFile(
    args.destination,
    args.name,
    metadata,
    args.model,
    logging?.probabilities,
  );
  return {metadata, metadataObject};
}

async function runShards(
  request: Omit<ShardsRequest, 'names'> & {
    names: Partial<Record<DatasetFileKind, string>>;
  },
): Promise<WrittenShards> {
  const {config, plan, runner} = request;
  if (plan.nSamples !== config.nSamples || plan.count !== config.shards)
    throw new RangeError(
      `the plan is ${plan.count} shards of ${plan.nSamples} rows; the config asks ${config.shards} of ${config.nSamples}`,
    );
  const model = request.model ?? buildModel(config);
  const single: Partial<Record<Format, string>> = {};
  for (const format of config.formats) {
    const name = request.names[format];
    if (name === undefined) throw new Error(`no file name for ${format}`);
    single[format] = name;
  }
  const shards = request.only
    ? request.only.map(k => {
        const shard = plan.shards[k];
        if (!shard)
          throw new RangeError(
            `shard ${k} is not in the plan's 0..${plan.count - 1}`,
          );
        return shard;
      })
    : plan.shards;
  const tasks: ShardTask[] = shards.map(shard => ({
    config,
    shard,
    names: shardNames(single, shard),
  }));
  const rowsTotal = shards.reduce((n, s) => n + s.end - s.start, 0);
  const done = new Float64Array(tasks.length);
  let rowsDone = 0;
  const onProgress = request.onProgress;
  const started = performance.now();
  const results = await runner.run(model, tasks, (task, rows) => {
    rowsDone += rows - done[task];
    done[task] = rows;
    onProgress?.(rowsDone, rowsTotal);
  });
  return {model, shards: results, rowsMs: performance.now() - started};
}
