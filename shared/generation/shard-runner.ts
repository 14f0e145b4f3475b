/**
 * Who writes a version's shards for the orchestrator (orchestrator.ts): this
 * thread, one shard after another (InProcessShardRunner: one file, and the
 * service's one shard per delivery), or worker threads
 * (thread-shard-runner.ts: the CLI's `--shards S --workers W`).
 */
import {rowSchemaFor} from '../formats/row-schema.js';
import type {DatasetConfig, Format} from '../dataset/config.js';
import type {DatasetModel} from '../dataset/model.js';
import type {ShardRange} from '../dataset/shard-plan.js';
import {ROWS_PER_BLOCK} from '../dataset/blocks.js';
import {DigestPool} from '../digest/digest-pool.js';
import type {DatasetDestination} from '../storage/destination.js';
import type {StageTimings} from './stage-timings.js';
import {
  ShardBuffers,
  TFRECORD_SLOTS,
  writeShard,
  type ShardResult,
  type WrittenShard,
} from './generate.js';

/** One shard to write: its rows and its file names (plain data: it crosses threads). */
export interface ShardTask {
  config: DatasetConfig;
  shard: ShardRange;
  /** the shard's file or object name for each format of the config */
  names: Partial<Record<Format, string>>;
}

export interface ShardRunner {
  /**
   * Writes every task's shard and resolves with the results in task order;
   * `onRows(task, rowsDone)` reports a task's rows written so far. The first
   * failure rejects (a failed shard leaves nothing behind; abort removes
   * the others).
   */
  run(
    model: DatasetModel,
    tasks: readonly ShardTask[],
    onRows: (task: number, rowsDone: number) => void,
  ): Promise<ShardResult[]>;
  /** Removes every shard this runner wrote (the version failed). */
  abort(reason: unknown): Promise<void>;
  /** Frees threads and buffers; the shards written stay. */
  close(): Promise<void>;
}

export interface InProcessOptions {
  destination: DatasetDestination;
  /** TFRecord blocks in flight (default TFRECORD_SLOTS) */
  slots?: number;
  /**
   * Hash MD5 of every file here (the CLI's --md5). Default false: a bucket
   * reports its own MD5 (ChecksumSink records it), a folder gets none.
   */
  md5?: boolean;
  /** where to add each stage's time (`generate --timings`) */
  timings?: StageTimings;
}

/** Shards written in this thread, in order, sharing one set of buffers. */
export class InProcessShardRunner implements ShardRunner {
  private readonly written: WrittenShard[] = [];
  private digests: DigestPool | undefined;

  constructor(private readonly options: InProcessOptions) {}

  async run(
    model: DatasetModel,
    tasks: readonly ShardTask[],
    onRows: (task: number, rowsDone: number) => void,
  ): Promise<ShardResult[]> {
    const rows = tasks.reduce((n, t) => n + t.shard.end - t.shard.start, 0);
    // Up to one block, hashing inline is cheaper than starting the workers.
    const digests = (this.digests ??= new DigestPool({
      inline: rows <= ROWS_PER_BLOCK,
      md5: this.options.md5 ?? false,
    }));
    const buffers = tasks[0]
      ? new ShardBuffers(
          model,
          this.options.slots ?? TFRECORD_SLOTS,
          rowSchemaFor(tasks[0].config),
        )
      : undefined;
    const results: ShardResult[] = [];
    for (const [i, task] of tasks.entries()) {
      const written = await writeShard({
        config: task.config,
        model,
        shard: task.shard,
        names: task.names,
        destination: this.options.destination,
        digester: () => digests.open(),
        buffers,
        onProgress: done => onRows(i, done),
        timings: this.options.timings,
      });
      this.written.push(written);
      results.push(written);
    }
    // Every chunk is hashed once its file is closed.
    if (this.options.timings) this.options.timings.hash.ms = digests.hashMs();
    return results;
  }

  async abort(reason: unknown): Promise<void> {
    const written = this.written.splice(0);
    await Promise.allSettled(written.map(shard => shard.abort(reason)));
  }

  async close(): Promise<void> {
    await this.digests?.close();
    this.digests = undefined;
  }
}
