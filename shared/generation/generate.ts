/**
 * The unit of work of generation: `writeShard` streams one shard's rows
 * block by block through the Parquet and TFRecord encoders (row i is the
 * same sample in both, and in the same bytes whatever the number of shards)
 * and checksums every byte on its way out; "shard k of this config" is
 * deterministic bytes wherever it runs. `assembleMetadata` merges the
 * shards' results. The orchestrator (orchestrator.ts) runs them.
 */
import type {DatasetConfig, Format} from '../dataset/config.js';
import {
  threadCpuMs,
  type Digester,
  type ObjectDigests,
} from '../digest/digests.js';
import {ParquetDatasetWriter} from '../formats/parquet/dataset-writer.js';
import {TfrecordBlockEncoder} from '../formats/tfrecord/block-encoder.js';
import {
  empiricalOf,
  mergeTargetTallies,
  metadataHead,
  RowTally,
  targetTallyOf,
  type FormatObjects,
  type MetadataHead,
  type ObjectRecord,
  type TargetTally,
} from '../metadata/document.js';
import type {LoggingHead} from '../metadata/logging.js';
import {writeMetadata} from '../metadata/write.js';
import type {DatasetModel} from '../dataset/model.js';
import {shardFileName} from '../dataset/object-names.js';
import {
  BASE_SCHEMA,
  rowSchemaFor,
  type RowSchema,
} from '../formats/row-schema.js';
import {rowDrawerFor} from '../policy/row-drawer.js';
import type {ShardRange} from '../dataset/shard-plan.js';
import type {DatasetDestination} from '../storage/destination.js';
import {SharedSlots} from '../storage/sinks/shared-slots.js';
import {ChecksumSink} from '../storage/sinks/checksum-sink.js';
import {GzipSink} from '../storage/sinks/gzip-sink.js';
import type {ByteSink} from '../storage/sinks/sink.js';
import {PARQUET_CREATED_BY} from '../dataset/generator-version.js';
import {ROWS_PER_BLOCK} from '../dataset/blocks.js';
import type {StageTimings} from './stage-timings.js';

/** One shard to write: its rows, its file names, where they go. */
export interface ShardRequest {
  config: DatasetConfig;
  /** buildModel(config); passed in so that several shards share one */
  model: DatasetModel;
  shard: ShardRange;
  /** the shard's file or object name for each format of the config */
  names: Partial<Record<Format, string>>;
  destination: DatasetDestination;
  /** a new checksum stream per file (a DigestPool's `open`, or inline) */
  digester: () => Digester;
  /** rows of this shard written so far, of the shard's rows */
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
  /** buffers kept across the shards one writer writes (default: fresh ones) */
  buffers?: ShardBuffers;
  /**
   * Called once every row is written to the files (every TFRecord slot
   * released), before they are flushed and closed: from here on the shard
   * only waits on the disk or network, and its `buffers` may serve the next
   * shard.
   */
  onRowsWritten?: () => void;
  /** where to add the time spent drawing and encoding (`generate --timings`) */
  timings?: StageTimings;
}

/** What a shard's results are made of, and all that crosses a thread. */
export interface ShardResult {
  shard: ShardRange;
  objects: Partial<Record<Format, ObjectRecord>>;
  /** per creative: rows and positives in this shard */
  tally: {rows: Float64Array; positives: Float64Array};
  rowsMs: number;
}

export interface WrittenShard extends ShardResult {
  /** Removes the shard's files again (when the version fails later). */
  abort(reason: unknown): Promise<void>;
}

interface OpenFile {
  format: Format;
  name: string;
  checksum: ChecksumSink;
  /** what the encoder writes to: the checksum sink, or gzip in front of it */
  entry: ByteSink;
}

/** Each format's file name for every shard of a plan. */
export function shardNames(
  names: Partial<Record<Format, string>>,
  shard: Pick<ShardRange, 'index' | 'count'>,
): Partial<Record<Format, string>> {
  const out: Partial<Record<Format, string>> = {};
  for (const [format, name] of Object.entries(names) as Array<
    [Format, string]
  >) {
    out[format] = shardFileName(name, shard.index, shard.count);
  }
  return out;
}

/**
 * Writes one shard: a Parquet and/or a TFRecord file holding rows
 * [shard.start, shard.end), with their checksums and the shard's tally.
 * On failure nothing of the shard is left behind.
 */
export async function writeShard(request: ShardRequest): Promise<WrittenShard> {
  const {config, model, shard, destination} = request;
  const files: OpenFile[] = [];
  const opened: ByteSink[] = [];
  try {
    for (const format of config.formats) {
      const name = request.names[format];
      if (name === undefined) throw new Error(`no file name for ${format}`);
      const raw = await destination.open(format, name);
      const checksum = new ChecksumSink(raw, request.digester());
      const entry =
        format === 'tfrecord' && config.tfrecordCompression === 'GZIP'
          ? new GzipSink(checksum)
          : checksum;
      opened.push(entry); // aborting the outermost sink aborts the chain
      files.push({format, name, checksum, entry});
    }
    const rowsStarted = performance.now();
    const schema = rowSchemaFor(config);
    const buffers =
      request.buffers ?? new ShardBuffers(model, TFRECORD_SLOTS, schema);
    if (buffers.model !== model)
      throw new Error('ShardBuffers were made for another model');
    if (buffers.schema.names.join() !== schema.names.join())
      throw new Error(
        `ShardBuffers were made for columns ${buffers.schema.names.join(', ')}, this config has ${schema.names.join(', ')}`,
      );
    const tally = await streamRows(
      config,
      buffers,
      shard,
      files,
      request.onProgress,
      request.timings,
    );
    request.onRowsWritten?.();
    await settleAll(files.map(f => f.entry.close()));
    const objects: Partial<Record<Format, ObjectRecord>> = {};
    for (const file of files) {
      objects[file.format] = {
        name: file.name,
        rows: shard.end - shard.start,
        ...file.checksum.digests(),
      };
    }
    return {
      shard,
      objects,
      tally: {rows: tally.rows, positives: tally.positives},
      rowsMs: performance.now() - rowsStarted,
      abort: async reason => {
        await Promise.allSettled(opened.map(sink => sink.abort(reason)));
      },
    };
  } catch (error) {
    // Also the sinks already closed: no file of a failed shard is left behind.
    await Promise.allSettled(opened.map(sink => sink.abort(error)));
    throw error;
  }
}

/**
 * What the metadata needs of one shard: its files and its rows and
 * positives per target store (what the catalogue records per shard).
 */
export interface ShardSummary {
  index: number;
  /** how many shards the dataset has */
  count: number;
  objects: Partial<Record<Format, ObjectRecord>>;
  targets: TargetTally;
}

function summaryOf(
  model: DatasetModel,
  shard: ShardResult | ShardSummary,
): ShardSummary {
  if (!('shard' in shard)) return shard;
  return {
    index: shard.shard.index,
    count: shard.shard.count,
    objects: shard.objects,
    targets: targetTallyOf(model, shard.tally),
  };
}

/**
 * `objects` of the metadata from the shards' summaries, in shard order: the
 * file itself for one shard; totals and `shards: [...]` for several.
 */
export function objectsOf(
  config: DatasetConfig,
  shards: ShardSummary[],
): Partial<Record<Format, FormatObjects>> {
  const ordered = [...shards].sort((a, b) => a.index - b.index);
  const objects: Partial<Record<Format, FormatObjects>> = {};
  for (const format of config.formats) {
    const files = ordered.map(s => {
      const file = s.objects[format];
      if (!file) throw new Error(`shard ${s.index} has no ${format} file`);
      return file;
    });
    objects[format] =
      files.length === 1
        ? files[0]
        : {
            rows: files.reduce((sum, f) => sum + f.rows, 0),
            bytes: files.reduce((sum, f) => sum + f.bytes, 0),
            shards: files,
          };
  }
  return objects;
}

/**
 * The version's metadata from every shard's result (in this process) or
 * summary (from the catalogue), but for the four per-id maps (written from
 * the model by writeMetadataFile): the objects, and the shards' tallies
 * merged per target store (integer counts, so exactly the single run's).
 */
export function assembleMetadata(args: {
  config: DatasetConfig;
  version: number;
  createdAt: Date;
  model: DatasetModel;
  shards: Array<ShardResult | ShardSummary>;
  /** the logging members (metadata/logging.ts), with a policy */
  logging?: LoggingHead;
}): MetadataHead {
  const {config, model} = args;
  const shards = args.shards.map(s => summaryOf(model, s));
  const count = shards[0]?.count ?? 0;
  const seen = new Set(shards.map(s => s.index));
  if (shards.length !== count || seen.size !== count) {
    throw new Error(
      `metadata needs every shard once: have ${[...seen].sort((a, b) => a - b).join(', ')} of ${count}`,
    );
  }
  const targets = mergeTargetTallies(
    model.targetIds.length,
    shards.map(s => s.targets),
  );
  return metadataHead({
    version: args.version,
    createdAt: args.createdAt,
    config,
    objects: objectsOf(config, shards),
    empirical: empiricalOf(model, targets),
    logging: args.logging,
  });
}

/** Streams metadata_v{N}.json (metadata/write.ts); returns its checksums. */
export async function writeMetadataFile(
  destination: DatasetDestination,
  name: string,
  head: MetadataHead,
  model: DatasetModel,
  /** pi_b per creative: logging_probs (a non-adaptive logging policy) */
  loggingProbabilities?: Float64Array,
): Promise<ObjectDigests & {name: string}> {
  const sink = await destination.open('metadata', name);
  try {
    return {
      name,
      ...(await writeMetadata(sink, head, model, loggingProbabilities)),
    };
  } catch (error) {
    await sink.abort(error).catch(() => undefined);
    throw error;
  }
}

/**
 * Waits for every promise, then throws the first failure: no close is still
 * in flight when the caller aborts, so an abort sees every object its sink
 * created and removes it.
 */
async function settleAll(promises: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find(r => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** Shared buffers for TFRecord blocks in flight: bounds memory at ~100 MB. */
export const TFRECORD_SLOTS = 12;

/**
 * What a writer of several shards keeps from one shard to the next: the
 * TFRecord record tables, the shared-memory block buffers and the Parquet
 * writer's row-group columns (allocating and zeroing ~100 MB per shard would
 * cost more than a small shard's rows, and each shard's dead set would wait
 * in the old generation for a full GC).
 * One shard at a time may use it: until that shard's onRowsWritten.
 */
export class ShardBuffers {
  private encoder: TfrecordBlockEncoder | undefined;
  private sharedSlots: SharedSlots | undefined;
  private parquetWriter: ParquetDatasetWriter | undefined;

  constructor(
    readonly model: DatasetModel,
    /** TFRecord blocks in flight (each ~8 MB at the default shape) */
    readonly slotCount = TFRECORD_SLOTS,
    /** the columns of the configs these buffers serve (rowSchemaFor) */
    readonly schema: RowSchema = BASE_SCHEMA,
  ) {}

  tfrecord(): TfrecordBlockEncoder {
    return (this.encoder ??= new TfrecordBlockEncoder(this.model, {
      schema: this.schema,
    }));
  }

  /** One writer for each shard's Parquet file in turn (start() begins a file). */
  parquet(): ParquetDatasetWriter {
    return (this.parquetWriter ??= new ParquetDatasetWriter(this.model, {
      createdBy: PARQUET_CREATED_BY,
      schema: this.schema,
    }));
  }

  slots(): SharedSlots {
    return (this.sharedSlots ??= new SharedSlots(
      this.slotCount,
      this.tfrecord().bytesFor(ROWS_PER_BLOCK),
    ));
  }
}

async function streamRows(
  config: DatasetConfig,
  buffers: ShardBuffers,
  shard: ShardRange,
  files: OpenFile[],
  onProgress: ShardRequest['onProgress'],
  timings: StageTimings | undefined,
): Promise<RowTally> {
  const model = buffers.model;
  const tfrecordFile = files.find(f => f.format === 'tfrecord');
  const parquetFile = files.find(f => f.format === 'parquet');
  const tfrecord = tfrecordFile && buffers.tfrecord();
  const parquet = parquetFile && buffers.parquet();
  const slots = tfrecord && buffers.slots();
  const tally = new RowTally(model.creativeIds.length);

  // Writes stay in flight while the next block is drawn; the first failure stops the loop.
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const track = (write: Promise<void>) => {
    const tracked = write.then(
      () => void inFlight.delete(tracked),
      error => {
        failure ??= error;
        inFlight.delete(tracked);
      },
    );
    inFlight.add(tracked);
  };
  const writeParquet = (chunks: Uint8Array[]) => {
    for (const chunk of chunks)
      if (parquetFile) track(parquetFile.entry.write(chunk));
  };

  // Each stage is synchronous on this thread: its share of the thread's CPU.
  const now = timings ? threadCpuMs : () => 0;
  let t = now();
  if (parquet) writeParquet(parquet.start());
  if (timings) timings.encodeParquetMs += now() - t;
  t = now();
  const drawer = rowDrawerFor(config, model);
  const block = drawer.newBlock();
  if (timings) timings.drawMs += now() - t;
  const rows = shard.end - shard.start;
  for (
    let b = shard.firstBlock;
    b < shard.endBlock && failure === undefined;
    b++
  ) {
    t = now();
    drawer.draw(b, block);
    tally.add(block.creative, block.label, block.count);
    if (timings) timings.drawMs += now() - t;
    if (tfrecord && tfrecordFile && slots) {
      const slot = await slots.acquire();
      t = now();
      const bytes = tfrecord.encode(block, slot);
      if (timings) timings.encodeTfrecordMs += now() - t;
      track(tfrecordFile.entry.write(bytes).finally(() => slots.release(slot)));
    }
    if (parquet) {
      t = now();
      const chunks = parquet.push(block);
      if (timings) timings.encodeParquetMs += now() - t;
      writeParquet(chunks);
    }
    onProgress?.(block.start + block.count - shard.start, rows);
  }
  if (parquet && failure === undefined) {
    t = now();
    const chunks = parquet.finish();
    if (timings) timings.encodeParquetMs += now() - t;
    writeParquet(chunks);
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  return tally;
}
