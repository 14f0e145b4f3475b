/**
 * Generates a dataset into a destination: draws the model, streams the rows
 * block by block through the Parquet and TFRecord encoders (row i is the same
 * sample in both), checksums every byte on its way out, and writes the
 * metadata last, as the commit point. Memory does not grow with nSamples.
 */
import type {DatasetConfig, Format} from './config.js';
import {DigestPool} from './digest/digest-pool.js';
import {ParquetDatasetWriter} from './formats/parquet/dataset-writer.js';
import {TfrecordBlockEncoder} from './formats/tfrecord/block-encoder.js';
import {
  empiricalOf,
  metadataHead,
  RowTally,
  type MetadataHead,
  type ObjectRecord,
} from './metadata.js';
import {writeMetadata} from './metadata-stream.js';
import {buildModel, type DatasetModel} from './model.js';
import type {DatasetFileKind} from './names.js';
import {blockCount, drawBlock, newRowBlock, ROWS_PER_BLOCK} from './rows.js';
import {SharedSlots} from './sinks/shared-slots.js';
import {ChecksumSink} from './sinks/checksum-sink.js';
import {GzipSink} from './sinks/gzip-sink.js';
import type {ByteSink} from './sinks/sink.js';
import {PARQUET_CREATED_BY} from './version.js';
import type {ObjectDigests} from './digest/digests.js';

/** Where the files of one version go: a folder, a bucket, memory. */
export interface DatasetDestination {
  /** A sink for a new object or file; it must not overwrite an existing one. */
  open(kind: DatasetFileKind, name: string): Promise<ByteSink>;
}

export interface GenerateRequest {
  config: DatasetConfig;
  version: number;
  /** name of each file or object, by kind */
  names: Record<DatasetFileKind, string>;
  destination: DatasetDestination;
  now?: () => Date;
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

export interface GeneratedDataset {
  /** the metadata written, but for its four per-id maps (streamed from the model) */
  metadata: MetadataHead;
  metadataObject: ObjectDigests & {name: string};
  stages: {modelMs: number; rowsMs: number; metadataMs: number};
}

interface OpenFile {
  format: Format;
  name: string;
  checksum: ChecksumSink;
  /** what the encoder writes to: the checksum sink, or gzip in front of it */
  entry: ByteSink;
}

export async function generateDataset(
  request: GenerateRequest,
): Promise<GeneratedDataset> {
  const {config, version, names, destination} = request;
  const now = request.now ?? (() => new Date());
  const started = performance.now();
  const model = buildModel(config);
  const modelMs = performance.now() - started;

  // Up to one block, hashing inline is cheaper than starting the workers.
  const pool = new DigestPool({inline: config.nSamples <= ROWS_PER_BLOCK});
  const files: OpenFile[] = [];
  const opened: ByteSink[] = [];
  try {
    for (const format of config.formats) {
      const raw = await destination.open(format, names[format]);
      const checksum = new ChecksumSink(raw, pool.open());
      const entry =
        format === 'tfrecord' && config.tfrecordCompression === 'GZIP'
          ? new GzipSink(checksum)
          : checksum;
      opened.push(entry); // aborting the outermost sink aborts the chain
      files.push({format, name: names[format], checksum, entry});
    }
    const rowsStarted = performance.now();
    const tally = await streamRows(config, model, files, request.onProgress);
    await settleAll(files.map(f => f.entry.close()));
    const rowsMs = performance.now() - rowsStarted;

    const objects: Partial<Record<Format, ObjectRecord>> = {};
    for (const file of files) {
      objects[file.format] = {
        name: file.name,
        rows: config.nSamples,
        ...file.checksum.digests(),
      };
    }
    const metadataStarted = performance.now();
    const metadata = metadataHead({
      version,
      createdAt: now(),
      config,
      objects,
      empirical: empiricalOf(model, tally),
    });
    const metadataSink = await destination.open('metadata', names.metadata);
    opened.push(metadataSink);
    const metadataDigests = await writeMetadata(metadataSink, metadata, model);
    return {
      metadata,
      metadataObject: {name: names.metadata, ...metadataDigests},
      stages: {
        modelMs,
        rowsMs,
        metadataMs: performance.now() - metadataStarted,
      },
    };
  } catch (error) {
    // Also the sinks already closed: no file of a failed version is left behind.
    await Promise.allSettled(opened.map(sink => sink.abort(error)));
    throw error;
  } finally {
    await pool.close();
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
const TFRECORD_SLOTS = 12;

async function streamRows(
  config: DatasetConfig,
  model: DatasetModel,
  files: OpenFile[],
  onProgress: GenerateRequest['onProgress'],
): Promise<RowTally> {
  const tfrecordFile = files.find(f => f.format === 'tfrecord');
  const parquetFile = files.find(f => f.format === 'parquet');
  const tfrecord = tfrecordFile && new TfrecordBlockEncoder(model);
  const parquet =
    parquetFile &&
    new ParquetDatasetWriter(model, {createdBy: PARQUET_CREATED_BY});
  // No more slots, nor bigger ones, than the rows need: a small dataset
  // must not zero-fill ~100 MB of shared memory.
  const slots =
    tfrecord &&
    new SharedSlots(
      Math.min(TFRECORD_SLOTS, blockCount(config.nSamples)),
      tfrecord.bytesFor(Math.min(ROWS_PER_BLOCK, config.nSamples)),
    );
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

  if (parquet) writeParquet(parquet.start());
  const block = newRowBlock();
  const blocks = blockCount(config.nSamples);
  for (let b = 0; b < blocks && failure === undefined; b++) {
    drawBlock(model, config.seed, config.nSamples, b, block);
    tally.add(block.creative, block.label, block.count);
    if (tfrecord && tfrecordFile && slots) {
      const slot = await slots.acquire();
      const bytes = tfrecord.encode(block, slot);
      track(tfrecordFile.entry.write(bytes).finally(() => slots.release(slot)));
    }
    if (parquet) writeParquet(parquet.push(block));
    onProgress?.(block.start + block.count, config.nSamples);
  }
  if (parquet && failure === undefined) writeParquet(parquet.finish());
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  return tally;
}
