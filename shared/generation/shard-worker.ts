/**
 * A worker thread of ThreadShardRunner (thread-shard-runner.ts): writes the
 * shards it is handed into a folder with writeShard, and removes them again
 * if the version fails. Memory per worker is one block pipeline (TFRecord
 * slots, one Parquet row group), whatever the shard's size.
 */
import {rowSchemaFor} from '../formats/row-schema.js';
import {workerData} from 'node:worker_threads';
import type {DatasetConfig} from '../dataset/config.js';
import {DirectoryDestination} from '../storage/directory-destination.js';
import {DigestPool} from '../digest/digest-pool.js';
import {InlineDigester} from '../digest/inline-digester.js';
import {
  ShardBuffers,
  TFRECORD_SLOTS,
  writeShard,
  type ShardResult,
  type WrittenShard,
} from './generate.js';
import {buildModel, type DatasetModel} from '../dataset/model.js';
import {serveTasks} from '../parallel/serve-tasks.js';
import type {ShardTask} from './shard-runner.js';

export interface DirectoryShardTask extends ShardTask {
  directory: string;
}

export interface ShardTaskResult extends ShardResult {
  /** this worker's heap + array buffers at their largest so far */
  workerPeakBytes: number;
  workerId: number;
}

export interface ShardWorkerOptions {
  /** 'inline': hash on this thread; 'pool': on two digest threads of its own */
  digests: 'inline' | 'pool';
  workerId: number;
  /** hash MD5 too (the CLI's --md5) */
  md5: boolean;
}

const options = workerData as ShardWorkerOptions;
const written: WrittenShard[] = [];
/** Buffers not in use, for the config being written (handed on at onRowsWritten). */
let free:
  {key: string; model: DatasetModel; buffers: ShardBuffers[]} | undefined;
let pool: DigestPool | undefined;
let peak = 0;

function sampleMemory(): void {
  const usage = process.memoryUsage();
  peak = Math.max(peak, usage.heapTotal + usage.arrayBuffers);
}

/**
 * TFRecord blocks in flight per worker: with hashing in place a write is the
 * only wait, and a few slots keep the disk busy (each ~8 MB).
 */
const INLINE_SLOTS = 4;

/** Model and buffers, kept while the worker writes shards of one config. */
/** The model and the columns: what buffers may be shared across. */
function buffersKey(config: DatasetConfig): string {
  return `${config.seed}/${config.nTargetStoreIds}/${config.nCreativePackIds}/${rowSchemaFor(config).names.join(',')}`;
}

function takeBuffers(config: DatasetConfig): ShardBuffers {
  const key = buffersKey(config);
  if (free?.key !== key) free = {key, model: buildModel(config), buffers: []};
  const kept = free.buffers.pop();
  if (kept) return kept;
  return new ShardBuffers(
    free.model,
    options.digests === 'inline' ? INLINE_SLOTS : TFRECORD_SLOTS,
    rowSchemaFor(config),
  );
}

function giveBack(config: DatasetConfig, buffers: ShardBuffers): void {
  if (free?.key === buffersKey(config)) free.buffers.push(buffers);
}

serveTasks<DirectoryShardTask, ShardTaskResult, number>(
  async (task, progress, ready) => {
    const digester =
      options.digests === 'pool'
        ? () => (pool ??= new DigestPool({md5: options.md5})).open()
        : () => new InlineDigester({md5: options.md5});
    let reported = 0;
    const buffers = takeBuffers(task.config);
    const result = await writeShard({
      config: task.config,
      model: buffers.model,
      buffers,
      shard: task.shard,
      names: task.names,
      destination: new DirectoryDestination(task.directory),
      digester,
      // Every row is written and every slot released: the buffers go back
      // now, so the next shard, started while this one's files are flushed,
      // reuses them instead of allocating a second set.
      onRowsWritten: () => {
        giveBack(task.config, buffers);
        ready();
      },
      onProgress: done => {
        // about every 1M rows: enough for a bar, little traffic
        if (
          done - reported >= 1 << 20 ||
          done === task.shard.end - task.shard.start
        ) {
          reported = done;
          sampleMemory();
          progress(done);
        }
      },
    });
    written.push(result);
    sampleMemory();
    return {
      shard: result.shard,
      objects: result.objects,
      tally: result.tally,
      rowsMs: result.rowsMs,
      workerPeakBytes: peak,
      workerId: options.workerId,
    };
  },
  async message => {
    if (message === 'abort') {
      await Promise.allSettled(written.map(s => s.abort(new Error('aborted'))));
      written.length = 0;
    }
    await pool?.close();
    pool = undefined;
  },
);
