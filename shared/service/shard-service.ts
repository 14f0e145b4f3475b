/**
 * generateShard's domain (docs/design.md §3, §7): write shard k of a sharded
 * version, record it, and, for whoever records the last shard, write
 * `metadata_v{N}.json` (the storage trigger then commits the version).
 *
 * The message only names the work; the config comes from the version's
 * allocation. A message for a version that is not ours, not generating,
 * past its lease, or whose shard count is not the allocation's is logged
 * and acknowledged with nothing written; one allocated by another generator
 * version (its other shards are that generator's bytes) fails the version.
 *
 * Idempotent under Pub/Sub's at-least-once delivery. A shard's bytes are
 * deterministic, so:
 * - shard recorded already: its objects are checked against the record
 *   (size, CRC-32C), and if every shard is recorded but the metadata object
 *   is missing (a crash between the last record and the metadata), the
 *   metadata is written;
 * - objects there but the shard not recorded (a crash after the upload, a
 *   concurrent duplicate): the shard's digests are recomputed without
 *   uploading and the objects adopted when size and CRC-32C match (their
 *   MD5 is the one Cloud Storage reports);
 *   anything else fails the version;
 * - the metadata is the same bytes whoever writes it (createdAt is the
 *   allocation's), and its does-not-exist precondition lets one writer win.
 * Transient failures throw, so the message is redelivered; deterministic
 * ones fail the version and acknowledge; a shard whose deliveries began
 * `shardMaxAttempts` times fails the version.
 */
import {
  isPastLease,
  leaseExpiredMessage,
  shardsOfRecord,
} from '../catalog/catalog.js';
import {describeFailure, isTransient} from '../catalog/failures.js';
import type {DatasetRecord, ShardRecord} from '../catalog/records.js';
import type {DatasetConfig, Format} from '../dataset/config.js';
import {AlreadyExistsError, DataLossError} from '../errors.js';
import {shardNames, type ShardResult} from '../generation/generate.js';
import {commitVersion, generateShards} from '../generation/orchestrator.js';
import {InProcessShardRunner} from '../generation/shard-runner.js';
import {targetTallyOf} from '../metadata/document.js';
import {buildModel, type DatasetModel} from '../dataset/model.js';
import {objectName, type DatasetFileKind} from '../dataset/object-names.js';
import {shardPlan} from '../dataset/shard-plan.js';
import {GENERATOR, isThisGenerator} from '../dataset/generator-version.js';
import type {DatasetDestination} from '../storage/destination.js';
import type {ByteSink} from '../storage/sinks/sink.js';
import type {ObjectStore, StoredObject} from '../storage/object-store.js';
import type {ServiceContext} from './service-context.js';
import {markFailedBounded} from './lifecycle.js';
import type {ShardMessage} from '../messaging/shard-messages.js';

/**
 * TFRecord blocks in flight per delivery (~8 MB each at the default shape),
 * against generateDataset's 12: a generateShard process may hold several
 * deliveries at once (the local stack runs two), and 4 is what each of the
 * CLI's shard workers runs at full speed with. It keeps the local stack
 * under 2 GB with 16 shards (docs/local-stack-memory.md).
 */
export const SHARD_TFRECORD_SLOTS = 4;

/**
 * How a delivery ended (every one of them acknowledges; transient failures
 * throw instead):
 * - `written`: the shard's objects uploaded and recorded;
 * - `adopted`: its objects were found in place, unrecorded, with the
 *   expected checksums, and recorded;
 * - `already-recorded`: a redelivery; the recorded objects are in place;
 * - `ignored-*`: nothing to do for this version (see the module comment);
 * - `failed-version`: a deterministic failure; the version is failed;
 * - `failed-attempts`: the shard failed too many deliveries; version failed.
 */
export const SHARD_OUTCOMES = [
  'written',
  'adopted',
  'already-recorded',
  'ignored-not-allocated',
  'ignored-not-generating',
  'ignored-lease-expired',
  'ignored-shard-count-mismatch',
  'failed-version',
  'failed-attempts',
] as const;
export type ShardOutcomeKind = (typeof SHARD_OUTCOMES)[number];

export interface ShardOutcome {
  outcome: ShardOutcomeKind;
  version: number;
  shard: number;
  shards: number;
  /** the delivery's number (1-based) when it did work */
  attempt?: number;
  /** shards recorded after this delivery, of the version's */
  recorded?: number;
  /** true when this delivery wrote metadata_v{N}.json */
  metadataWritten?: boolean;
  /** why the version failed */
  error?: string;
}

/**
 * A sink that only lets bytes pass to be checksummed: recomputing a shard's
 * digests uploads nothing. The object's MD5 is the one Cloud Storage
 * reported for the object in place (docs/design.md §4).
 */
class DiscardSink implements ByteSink {
  constructor(private readonly present: StoredObject) {}
  async write(): Promise<void> {}
  async close(): Promise<void> {}
  async abort(): Promise<void> {}
  storedMd5(): string | undefined {
    return this.present.md5;
  }
}

/**
 * An upload that stays once it completed: its bytes are the shard's (the
 * upload checked them), so a later failure of the shard (a sibling object
 * that a duplicate delivery created first) must not delete it from under
 * that duplicate. An unfinished upload is still aborted.
 */
class KeptOnceClosed implements ByteSink {
  private closed = false;

  constructor(private readonly inner: ByteSink) {}

  write(chunk: Uint8Array): Promise<void> {
    return this.inner.write(chunk);
  }

  async close(expected?: Parameters<ByteSink['close']>[0]): Promise<void> {
    await this.inner.close(expected);
    this.closed = true;
  }

  async abort(reason: unknown): Promise<void> {
    if (!this.closed) await this.inner.abort(reason);
  }

  storedMd5(): string | undefined {
    return this.inner.storedMd5?.();
  }
}

/**
 * Uploads the objects that are missing and only checksums those that are
 * there, so one pass over the rows both fills in and checks.
 */
class FillInDestination implements DatasetDestination {
  constructor(
    private readonly store: ObjectStore,
    private readonly present: ReadonlyMap<string, StoredObject>,
  ) {}

  async open(kind: DatasetFileKind, name: string): Promise<ByteSink> {
    const present = this.present.get(name);
    return present
      ? new DiscardSink(present)
      : new KeptOnceClosed(await this.store.open(kind, name));
  }
}

/** The single object name of each format of the config (shards are named after it). */
function dataObjectNames(
  prefix: string,
  version: number,
  config: DatasetConfig,
): Partial<Record<Format, string>> {
  const single: Partial<Record<Format, string>> = {};
  for (const format of config.formats) {
    single[format] = objectName(
      prefix,
      format,
      version,
      config.tfrecordCompression,
    );
  }
  return single;
}

/** The shard's object name for each format of the config. */
export function shardObjectNames(
  prefix: string,
  version: number,
  config: DatasetConfig,
  shard: {index: number; count: number},
): Partial<Record<Format, string>> {
  return shardNames(dataObjectNames(prefix, version, config), shard);
}

export async function generateShardOfVersion(
  message: ShardMessage,
  context: ServiceContext,
): Promise<ShardOutcome> {
  const {version, shard, shards} = message;
  const log = context.log.with({version, shard, shards});
  const ctx = {...context, log};
  const base = {version, shard, shards};
  const allocation = await context.catalog.get(version);
  const ignored = await whyIgnored(allocation, message, ctx);
  if (ignored) {
    log.log('WARNING', `shard message acknowledged unwritten: ${ignored}`, {
      status: allocation?.status ?? null,
    });
    return {...base, outcome: ignored};
  }
  const record = allocation as DatasetRecord;
  if (!isThisGenerator(record.generator)) {
    // Its other shards hold another generator's rows (0.2.0: another plan).
    return failVersion(
      ctx,
      base,
      `version ${version} was allocated by generator ${record.generator.version}; this generateShard is ${GENERATOR.version} and writes other shard bytes`,
      'failed-version',
      undefined,
    );
  }
  const begun = await context.catalog.beginShard(version, shard, context.now());
  if (begun.state !== 'attempt' && begun.state !== 'recorded') {
    log.log('WARNING', `shard message acknowledged unwritten: ${begun.state}`);
    return {...base, outcome: `ignored-${begun.state}`};
  }
  const attempt = begun.state === 'attempt' ? begun.attempt : undefined;
  const maxAttempts = context.settings.shardMaxAttempts;
  if (attempt !== undefined && attempt > maxAttempts) {
    // Earlier deliveries died without a word (killed, out of memory).
    return failVersion(
      ctx,
      base,
      `shard ${shard} of ${shards} did not finish in ${maxAttempts} deliveries`,
      'failed-attempts',
      attempt,
    );
  }
  try {
    if (begun.state === 'recorded') {
      await checkRecordedObjects(begun.record, context);
      const metadataWritten = await writeMetadataIfComplete(record, ctx);
      log.log('INFO', 'shard already recorded; its objects are in place', {
        metadataWritten,
      });
      return {...base, outcome: 'already-recorded', metadataWritten};
    }
    return await writeAndRecord(record, message, attempt ?? 1, ctx);
  } catch (error) {
    const reason = describeFailure(error);
    if (isTransient(error)) {
      if (attempt !== undefined && attempt >= maxAttempts) {
        return failVersion(
          ctx,
          base,
          `shard ${shard} of ${shards} failed ${attempt} deliveries, the last with ${reason}`,
          'failed-attempts',
          attempt,
        );
      }
      log.log('WARNING', 'transient failure; the message will be redelivered', {
        error: reason,
        attempt: attempt ?? null,
      });
      throw error;
    }
    return failVersion(
      ctx,
      base,
      `shard ${shard} of ${shards}: ${reason}`,
      'failed-version',
      attempt,
    );
  }
}

async function whyIgnored(
  allocation: DatasetRecord | undefined,
  message: ShardMessage,
  context: ServiceContext,
): Promise<ShardOutcomeKind | undefined> {
  if (!allocation) return 'ignored-not-allocated';
  if (allocation.status !== 'generating') return 'ignored-not-generating';
  if (isPastLease(allocation, context.now())) {
    await markFailedBounded(
      context,
      allocation.version,
      leaseExpiredMessage(allocation),
    );
    return 'ignored-lease-expired';
  }
  if (shardsOfRecord(allocation) !== message.shards)
    return 'ignored-shard-count-mismatch';
  return undefined;
}

async function failVersion(
  context: ServiceContext,
  base: Pick<ShardOutcome, 'version' | 'shard' | 'shards'>,
  reason: string,
  outcome: 'failed-version' | 'failed-attempts',
  attempt: number | undefined,
): Promise<ShardOutcome> {
  context.log.log('ERROR', 'shard failed; version failed, acknowledged', {
    error: reason,
    attempt: attempt ?? null,
  });
  // A catalogue that is down cannot hold the delivery: the lease ends the version then.
  await markFailedBounded(context, base.version, reason);
  return {...base, outcome, attempt, error: reason};
}

/** The objects of a recorded shard are in the bucket with the recorded size and CRC-32C. */
async function checkRecordedObjects(
  record: ShardRecord,
  context: ServiceContext,
): Promise<void> {
  for (const [format, object] of Object.entries(record.objects)) {
    const actual = await context.store.stat(object.name);
    if (!actual)
      throw new DataLossError(
        `recorded ${format} object ${object.name} is missing`,
      );
    if (actual.size !== object.bytes || actual.crc32c !== object.crc32c)
      throw new DataLossError(
        `recorded ${format} object ${object.name} is ${actual.size} bytes crc32c ${actual.crc32c}; recorded ${object.bytes} bytes crc32c ${object.crc32c}`,
      );
  }
}

/** Passes over the rows tried: a duplicate that uploads between our look and our upload costs one more. */
const WRITE_PASSES = 2;

async function writeAndRecord(
  allocation: DatasetRecord,
  message: ShardMessage,
  attempt: number,
  context: ServiceContext,
): Promise<ShardOutcome> {
  const {version, shard, shards} = message;
  const {config} = allocation;
  const plan = shardPlan(config.nSamples, shards);
  const range = plan.shards[shard];
  const single = dataObjectNames(context.settings.prefix, version, config);
  const names = shardNames(single, range);
  const model = buildModel(config);
  const rows = range.end - range.start;
  let written: ShardResult | undefined;
  let present: Map<string, StoredObject> = new Map();
  for (let pass = 1; ; pass++) {
    present = await presentObjects(Object.values(names), context.store);
    try {
      [written] = (
        await generateShards({
          config,
          plan,
          only: [shard],
          names: single,
          model,
          runner: new InProcessShardRunner({
            destination: new FillInDestination(context.store, present),
            slots: SHARD_TFRECORD_SLOTS,
          }),
        })
      ).shards;
      break;
    } catch (error) {
      // Another delivery of this shard created an object meanwhile: look again.
      if (!(error instanceof AlreadyExistsError) || pass >= WRITE_PASSES)
        throw error;
      context.log.log('INFO', 'a shard object appeared meanwhile; again', {
        pass,
      });
    }
  }
  const adopted = present.size > 0;
  for (const [format, object] of Object.entries(written.objects)) {
    const existing = present.get(object.name);
    // Its MD5 is Cloud Storage's (DiscardSink); size and CRC-32C are ours.
    if (
      existing &&
      (existing.size !== object.bytes || existing.crc32c !== object.crc32c)
    ) {
      throw new DataLossError(
        `${format} object ${object.name} is in the bucket but not this shard: ${existing.size} bytes crc32c ${existing.crc32c}; the shard is ${object.bytes} bytes crc32c ${object.crc32c}`,
      );
    }
  }
  const shardRecord: ShardRecord = {
    shard,
    rows,
    objects: written.objects,
    targets: targetTallyOf(model, written.tally),
    recordedAt: context.now().toISOString(),
  };
  const result = await context.catalog.recordShard(
    version,
    shardRecord,
    context.now(),
  );
  const base = {version, shard, shards, attempt, recorded: result.recorded};
  if (result.outcome === 'duplicate') {
    context.log.log('INFO', 'shard recorded meanwhile by a duplicate');
    return {...base, outcome: 'already-recorded', metadataWritten: false};
  }
  if (result.outcome !== 'recorded') {
    context.log.log(
      'WARNING',
      `shard written but not recorded: ${result.outcome}`,
    );
    return {...base, outcome: `ignored-${result.outcome}`};
  }
  const metadataWritten = result.completedNow
    ? await writeVersionMetadata(allocation, model, context)
    : false;
  context.log.log('INFO', adopted ? 'shard adopted' : 'shard written', {
    rows,
    recorded: result.recorded,
    of: result.of,
    metadataWritten,
    rowsMs: Math.round(written.rowsMs),
  });
  return {
    ...base,
    outcome: adopted ? 'adopted' : 'written',
    metadataWritten,
  };
}

/** The live objects among `names`, by name. */
async function presentObjects(
  names: string[],
  store: ObjectStore,
): Promise<Map<string, StoredObject>> {
  const present = new Map<string, StoredObject>();
  for (const name of names) {
    const object = await store.stat(name);
    if (object) present.set(name, object);
  }
  return present;
}

/**
 * After a redelivery of a recorded shard: if every shard is recorded and
 * the metadata object is missing, write it. True when this call wrote it.
 */
async function writeMetadataIfComplete(
  allocation: DatasetRecord,
  context: ServiceContext,
): Promise<boolean> {
  const current = await context.catalog.get(allocation.version);
  if (
    !current ||
    current.status !== 'generating' ||
    (current.shardsRecorded ?? 0) < shardsOfRecord(current)
  )
    return false;
  const name = metadataObjectName(allocation, context);
  if (await context.store.stat(name)) return false;
  context.log.log('WARNING', 'every shard recorded, no metadata: writing it');
  return writeVersionMetadata(
    allocation,
    buildModel(allocation.config),
    context,
  );
}

function metadataObjectName(
  allocation: DatasetRecord,
  context: ServiceContext,
): string {
  return objectName(context.settings.prefix, 'metadata', allocation.version);
}

/**
 * metadata_v{N}.json from the recorded shards: the same bytes whoever
 * writes it (createdAt is the allocation's). False when it exists already.
 */
async function writeVersionMetadata(
  allocation: DatasetRecord,
  model: DatasetModel,
  context: ServiceContext,
): Promise<boolean> {
  const of = shardsOfRecord(allocation);
  const records = await context.catalog.shardRecords(allocation.version);
  try {
    await commitVersion({
      config: allocation.config,
      version: allocation.version,
      createdAt: new Date(allocation.createdAt),
      model,
      shards: records.map(r => ({
        index: r.shard,
        count: of,
        objects: r.objects,
        targets: r.targets,
      })),
      destination: context.store,
      name: metadataObjectName(allocation, context),
    });
    return true;
  } catch (error) {
    if (error instanceof AlreadyExistsError) return false;
    throw error;
  }
}
