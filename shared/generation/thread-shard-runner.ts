/**
 * Shards written in parallel on W worker threads (shard-worker.ts) into a
 * local folder: the CLI's `generate --shards S --workers W`. Each worker
 * takes the next unwritten shard; abort has every worker remove the shards
 * it wrote.
 */
import {availableParallelism} from 'node:os';
import type {DatasetModel} from '../dataset/model.js';
import {WorkerPool} from '../parallel/worker-pool.js';
import type {ShardResult} from './generate.js';
import type {ShardRunner, ShardTask} from './shard-runner.js';
import type {
  DirectoryShardTask,
  ShardTaskResult,
  ShardWorkerOptions,
} from './shard-worker.js';

export interface WorkerFigures {
  worker: number;
  shards: number[];
  /** the worker's V8 heap + array buffers at their largest */
  peakBytes: number;
  rowsMs: number;
}

/**
 * A shard worker's young generation, in MB. Its rows live in typed arrays
 * and shared buffers kept across shards, so what V8 allocates young is
 * short-lived (pages, chunks, promises); Node 24's default lets each isolate
 * grow it to tens of MB of mostly empty new space. 1B rows Parquet-only
 * (60 shards on 2 workers): 402 MB uncapped, 305-313 MB at 8, 294-297 at
 * 4, 279 at 2, in the same time (docs/benchmark.md).
 */
export const SHARD_WORKER_YOUNG_MB = 2;
const SHARD_WORKER_LIMITS = {maxYoungGenerationSizeMb: SHARD_WORKER_YOUNG_MB};

/** Default workers: one per core, never more than shards. */
export function defaultWorkers(shards: number): number {
  return Math.min(shards, availableParallelism());
}

export class ThreadShardRunner implements ShardRunner {
  private pool:
    WorkerPool<DirectoryShardTask, ShardTaskResult, number> | undefined;
  private results: ShardTaskResult[] = [];
  private aborted = false;

  constructor(
    private readonly options: {
      directory: string;
      workers: number;
      /** hash MD5 of every shard too (the CLI's --md5) */
      md5?: boolean;
    },
  ) {}

  async run(
    _model: DatasetModel,
    tasks: readonly ShardTask[],
    onRows: (task: number, rowsDone: number) => void,
  ): Promise<ShardResult[]> {
    const workers = Math.min(this.options.workers, tasks.length);
    // With a core to spare, each worker hashes on digest threads of its own;
    // with every core generating, hashing in place avoids the hand-offs.
    const digests = workers < availableParallelism() ? 'pool' : 'inline';
    this.pool ??= new WorkerPool<DirectoryShardTask, ShardTaskResult, number>(
      new URL('./shard-worker.js', import.meta.url),
      workers,
      workerId =>
        ({
          digests,
          workerId,
          md5: this.options.md5 ?? false,
        }) satisfies ShardWorkerOptions,
      SHARD_WORKER_LIMITS,
    );
    const directory = this.options.directory;
    this.results = await this.pool.run(
      tasks.map(task => ({...task, directory})),
      onRows,
    );
    return this.results;
  }

  async abort(): Promise<void> {
    this.aborted = true;
    await this.pool?.broadcast('abort');
  }

  async close(): Promise<void> {
    // After an abort the workers have closed their digest threads already.
    if (!this.aborted) await this.pool?.broadcast('close');
    await this.pool?.close();
  }

  /** Per worker: the shards it wrote, its memory at its largest, its time. */
  workerFigures(): WorkerFigures[] {
    const byWorker = new Map<number, WorkerFigures>();
    for (const r of this.results) {
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
}
