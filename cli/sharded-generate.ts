/**
 * `generate --shards S --workers W`: the shards of one version written in
 * parallel on W worker threads (cli/shard-worker.ts), then the metadata,
 * assembled from every shard's result, written last. If any shard fails,
 * every shard already written is removed again and no metadata is written.
 */
import {availableParallelism} from 'node:os';
import type {DatasetConfig, Format} from '../shared/dataset/config.js';
import type {DatasetDestination} from '../shared/generation/generate.js';
import {
  assembleMetadata,
  shardNames,
  writeMetadataFile,
  type GeneratedDataset,
} from '../shared/generation/generate.js';
import {buildModel} from '../shared/dataset/model.js';
import type {DatasetFileKind} from '../shared/dataset/object-names.js';
import {WorkerPool} from '../shared/parallel/worker-pool.js';
import {shardPlan} from '../shared/dataset/shard-plan.js';
import type {
  ShardTask,
  ShardTaskResult,
  ShardWorkerOptions,
} from './shard-worker.js';

export interface ShardedGenerateRequest {
  config: DatasetConfig;
  version: number;
  shards: number;
  workers: number;
  names: Record<DatasetFileKind, string>;
  directory: string;
  destination: DatasetDestination;
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

export interface WorkerFigures {
  worker: number;
  shards: number[];
  /** the worker's V8 heap + array buffers at their largest */
  peakBytes: number;
  rowsMs: number;
}

export interface ShardedDataset extends GeneratedDataset {
  workers: WorkerFigures[];
}

/** Default workers: one per core, never more than shards. */
export function defaultWorkers(shards: number): number {
  return Math.min(shards, availableParallelism());
}

export async function generateSharded(
  request: ShardedGenerateRequest,
): Promise<ShardedDataset> {
  const {config, version, shards, names, directory} = request;
  const workers = Math.min(request.workers, shards);
  // With a core to spare, each worker hashes on digest threads of its own;
  // with every core generating, hashing in place avoids the hand-offs.
  const digests = workers < availableParallelism() ? 'pool' : 'inline';
  const started = performance.now();
  const model = buildModel(config);
  const modelMs = performance.now() - started;
  const plan = shardPlan(config.nSamples, shards);
  const dataNames: Partial<Record<Format, string>> = {};
  for (const format of config.formats) dataNames[format] = names[format];
  const tasks: ShardTask[] = plan.map(shard => ({
    config,
    shard,
    names: shardNames(dataNames, shard),
    directory,
  }));

  const pool = new WorkerPool<ShardTask, ShardTaskResult, number>(
    new URL('./shard-worker.js', import.meta.url),
    workers,
    workerId => ({digests, workerId}) satisfies ShardWorkerOptions,
  );
  const done = new Float64Array(shards);
  let total = 0;
  const rowsStarted = performance.now();
  try {
    let results: ShardTaskResult[];
    try {
      results = await pool.run(tasks, (task, rows) => {
        total += rows - done[task];
        done[task] = rows;
        request.onProgress?.(total, config.nSamples);
      });
    } catch (error) {
      await pool.broadcast('abort');
      throw error;
    }
    const rowsMs = performance.now() - rowsStarted;
    const metadataStarted = performance.now();
    const metadata = assembleMetadata({
      config,
      version,
      createdAt: new Date(),
      model,
      shards: results,
    });
    let object;
    try {
      object = await writeMetadataFile(
        request.destination,
        names.metadata,
        metadata,
        model,
      );
    } catch (error) {
      await pool.broadcast('abort');
      throw error;
    }
    await pool.broadcast('close');
    return {
      metadata,
      metadataObject: object,
      stages: {
        modelMs,
        rowsMs,
        metadataMs: performance.now() - metadataStarted,
      },
      workers: workerFigures(results),
    };
  } finally {
    await pool.close();
  }
}

function workerFigures(results: ShardTaskResult[]): WorkerFigures[] {
  const byWorker = new Map<number, WorkerFigures>();
  for (const r of results) {
    const figures = byWorker.get(r.workerId) ?? {
      worker: r.workerId,
      shards: [],
      peakBytes: 0,
      rowsMs: 0,
    };
    figures.shards.push(r.shard.index);
    figures.peakBytes = Math.max(figures.peakBytes, r.workerPeakBytes);
    figures.rowsMs += Math.round(r.rowsMs);
    byWorker.set(r.workerId, figures);
  }
  return [...byWorker.values()].sort((a, b) => a.worker - b.worker);
}
