/**
 * recordDatasetMetadata's domain (docs/design.md §6). A finalized
 * `metadata_v{N}.json` commits version N only when this service allocated N,
 * N is still `generating` under its lease, and the metadata (read at the
 * event's generation) matches the allocation and the data objects actually
 * in the bucket. Everything else is logged and acknowledged, creates no
 * document and moves nothing: foreign buckets, data files, unallocated or
 * future versions, forged objects. A malformed or mismatched metadata object
 * for a version that is ours and generating marks that version failed (its
 * name is taken, so our generator can never commit it). Only transient
 * failures throw, so that Eventarc retries; deterministic ones mark the
 * version failed and acknowledge; events older than the retry window are
 * acknowledged.
 */
import {
  leaseExpiredMessage,
  readyOutcome,
  type ReadyRecord,
  type RecordOutcome,
} from '../catalog/catalog.js';
import {describeFailure, isTransient} from '../catalog/failures.js';
import type {Format} from '../dataset/config.js';
import {
  filesOf,
  type FormatObjects,
  type MetadataHead,
} from '../metadata/document.js';
import {mapBounded} from '../parallel/map-bounded.js';
import {readMetadata, type MetadataRead} from '../metadata/read.js';
import {
  INLINE_PROBABILITIES_MAX_BYTES,
  probabilitiesRecordOf,
} from '../metadata/probabilities-record.js';

/** What a version document may hold besides its probabilities and objects. */
const RECORD_ROOM_BYTES = 900 * 1024;

/** Bytes left for inline probabilities beside `objects` in one Firestore document. */
function inlineBudgetBeside(objects: MetadataHead['objects']): number {
  return Math.min(
    INLINE_PROBABILITIES_MAX_BYTES,
    RECORD_ROOM_BYTES - Buffer.byteLength(JSON.stringify(objects)),
  );
}
import {metadataVersionOf} from '../dataset/object-names.js';
import {gsUri} from '../storage/object-store.js';
import {allocationMismatch} from './allocation-check.js';
import type {ServiceContext} from './service-context.js';
import {MalformedMetadataError, ObjectGoneError} from '../errors.js';

/** The parts of the Cloud Storage object resource an event carries that we use. */
export interface StorageObjectEvent {
  bucket: string;
  name: string;
  generation: string;
  /** the CloudEvent's `time` (ISO 8601), when it has one */
  time?: string;
}

export type RecordResult =
  | RecordOutcome
  | 'ignored-foreign-bucket'
  | 'ignored-not-metadata'
  | 'ignored-stale-event'
  | 'ignored-object-gone'
  | 'rejected-malformed'
  | 'rejected-mismatch'
  | 'rejected-inconsistent'
  | 'failed-deterministic';

class RejectedMetadata extends Error {
  constructor(
    readonly kind:
      'rejected-malformed' | 'rejected-mismatch' | 'rejected-inconsistent',
    message: string,
  ) {
    super(message);
  }
}

/** Stat calls in flight at once while checking a sharded version's objects. */
const STAT_CONCURRENCY = 16;

/** Every data object the metadata lists (every shard) is in the bucket with its size and CRC-32C. */
async function checkObjects(
  metadata: MetadataHead,
  context: ServiceContext,
): Promise<void> {
  const files = (
    Object.entries(metadata.objects) as Array<[Format, FormatObjects]>
  ).flatMap(([format, object]) =>
    filesOf(object).map(file => ({format, file})),
  );
  const problems = await mapBounded(
    files,
    STAT_CONCURRENCY,
    async ({format, file}) => {
      const actual = await context.store.stat(file.name);
      if (!actual) return `data object ${file.name} is missing`;
      if (actual.size !== file.bytes || actual.crc32c !== file.crc32c)
        return `${format} object ${file.name} is ${actual.size} bytes crc32c ${actual.crc32c}; metadata says ${file.bytes} bytes crc32c ${file.crc32c}`;
      return undefined;
    },
  );
  const problem = problems.find(p => p !== undefined);
  if (problem) throw new RejectedMetadata('rejected-inconsistent', problem);
}

/** True when the event is older than the retry window (a missing or bad time is not). */
function isStale(event: StorageObjectEvent, context: ServiceContext): boolean {
  if (event.time === undefined) return false;
  const time = Date.parse(event.time);
  if (!Number.isFinite(time)) return false;
  return (
    context.now().getTime() - time > context.settings.eventMaxAgeSeconds * 1000
  );
}

export async function recordStorageEvent(
  event: StorageObjectEvent,
  context: ServiceContext,
): Promise<RecordResult> {
  const {settings, store, catalog} = context;
  const log = context.log.with({
    object: event.name,
    generation: event.generation,
  });
  if (event.bucket !== store.bucketName) {
    log.log('WARNING', 'event from a foreign bucket ignored', {
      bucket: event.bucket,
    });
    return 'ignored-foreign-bucket';
  }
  const version = metadataVersionOf(settings.prefix, event.name);
  if (version === undefined) {
    log.log('DEBUG', 'not a metadata object; nothing to record');
    return 'ignored-not-metadata';
  }
  const vlog = log.with({version});
  if (isStale(event, context)) {
    vlog.log(
      'WARNING',
      'event older than the retry window; acknowledged unrecorded',
      {time: event.time ?? null},
    );
    return 'ignored-stale-event';
  }
  try {
    return await recordVersion(event, version, {...context, log: vlog});
  } catch (error) {
    const reason = describeFailure(error);
    if (error instanceof RejectedMetadata) {
      vlog.log('ERROR', `metadata rejected: ${error.message}`);
      // A transient failure here throws: the version must end failed.
      await catalog.markFailed(version, error.message, context.now());
      return error.kind;
    }
    if (isTransient(error)) {
      vlog.log('WARNING', 'transient failure; the event will be retried', {
        error: reason,
      });
      throw error;
    }
    vlog.log('ERROR', 'deterministic failure; version failed, acknowledged', {
      error: reason,
    });
    await catalog.markFailed(
      version,
      `recording failed: ${reason}`,
      context.now(),
    );
    return 'failed-deterministic';
  }
}

async function recordVersion(
  event: StorageObjectEvent,
  version: number,
  context: ServiceContext,
): Promise<RecordResult> {
  const {settings, store, catalog, log} = context;
  const allocation = await catalog.get(version);
  const precheck = readyOutcome(allocation, event.generation, context.now());
  if (precheck !== 'recorded' || !allocation) {
    if (precheck === 'lease-expired' && allocation) {
      await catalog.markFailed(
        version,
        leaseExpiredMessage(allocation),
        context.now(),
      );
    }
    log.log(
      precheck === 'duplicate' ? 'INFO' : 'WARNING',
      `metadata event acknowledged unrecorded: ${precheck}`,
      {status: allocation?.status ?? null},
    );
    return precheck;
  }
  // Streamed: at 1,000,000 creative packs the object is ~140 MB.
  let read: MetadataRead;
  try {
    read = await readMetadata(store.readChunks(event.name, event.generation), {
      keepMapsUpToBytes: INLINE_PROBABILITIES_MAX_BYTES,
    });
  } catch (error) {
    if (error instanceof ObjectGoneError) {
      log.log(
        'WARNING',
        'metadata object generation no longer exists; acknowledged',
      );
      return 'ignored-object-gone';
    }
    if (error instanceof MalformedMetadataError)
      throw new RejectedMetadata('rejected-malformed', error.message);
    throw error;
  }
  const mismatch = allocationMismatch(read.head, allocation, settings.prefix);
  if (mismatch) throw new RejectedMetadata('rejected-mismatch', mismatch);
  const metadata = read.head;
  await checkObjects(metadata, context);
  const ready: ReadyRecord = {
    version,
    recordedAt: context.now().toISOString(),
    recordedGeneration: event.generation,
    metadataObject: event.name,
    objects: metadata.objects,
    // A sharded version's objects take room in the document too (~200 bytes a shard).
    probabilities: probabilitiesRecordOf(
      read,
      gsUri(store.bucketName, event.name),
      inlineBudgetBeside(metadata.objects),
    ),
    empirical: {
      rows: metadata.empirical.rows,
      positives: metadata.empirical.positives,
      rate: metadata.empirical.rate,
    },
  };
  const outcome = await catalog.recordReady(ready, context.now());
  log.log(
    outcome === 'recorded' ? 'INFO' : 'WARNING',
    `metadata event: ${outcome}`,
  );
  return outcome;
}
