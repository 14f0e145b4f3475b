/**
 * recordDatasetMetadata's domain. A finalized `metadata_v{N}.json` commits
 * version N: it is read at the event's generation, checked against the data
 * objects actually in the bucket (size, CRC-32C), and recorded. Everything
 * else is acknowledged: data files (expected), foreign buckets and objects,
 * malformed metadata (logged; the version is marked failed). Only transient
 * failures throw, so that Eventarc retries.
 */
import {FORMATS, type Format} from '../config.js';
import type {DatasetRecord} from '../catalog/records.js';
import type {RecordOutcome} from '../catalog/firestore-catalog.js';
import type {MetadataHead, ObjectRecord} from '../metadata.js';
import {
  MalformedMetadataError,
  readMetadata,
  type MetadataRead,
} from '../metadata-reader.js';
import {
  INLINE_PROBABILITIES_MAX_BYTES,
  probabilitiesRecordOf,
} from '../probabilities-record.js';
import {metadataVersionOf, versionFolder} from '../names.js';
import {gsUri} from '../storage/gcs-destination.js';
import type {ServiceContext} from './context.js';

/** The parts of the Cloud Storage object resource an event carries that we use. */
export interface StorageObjectEvent {
  bucket: string;
  name: string;
  generation: string;
}

export type RecordResult =
  | RecordOutcome
  | 'ignored-foreign-bucket'
  | 'ignored-not-metadata'
  | 'ignored-object-gone'
  | 'rejected-malformed'
  | 'rejected-inconsistent';

class RejectedMetadata extends Error {
  constructor(
    readonly kind: 'rejected-malformed' | 'rejected-inconsistent',
    message: string,
  ) {
    super(message);
  }
}

function httpStatus(error: unknown): number | undefined {
  const code = (error as {code?: unknown})?.code;
  return typeof code === 'number' ? code : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the members besides the four maps, which readMetadata checked. */
function parseMetadata(
  parsed: Record<string, unknown>,
  version: number,
): MetadataHead {
  if (parsed.version !== version) {
    throw new RejectedMetadata(
      'rejected-malformed',
      `metadata says version ${JSON.stringify(parsed.version)}, its name says ${version}`,
    );
  }
  for (const key of ['config', 'objects', 'empirical', 'generator']) {
    if (!isRecord(parsed[key]))
      throw new RejectedMetadata(
        'rejected-malformed',
        `metadata has no object "${key}"`,
      );
  }
  if (typeof parsed.createdAt !== 'string')
    throw new RejectedMetadata(
      'rejected-malformed',
      'metadata has no createdAt',
    );
  return parsed as unknown as MetadataHead;
}

async function checkObjects(
  metadata: MetadataHead,
  version: number,
  context: ServiceContext,
): Promise<void> {
  const folder = versionFolder(context.settings.prefix, version);
  const formats = Object.keys(metadata.objects);
  if (
    formats.length === 0 ||
    formats.some(f => !FORMATS.includes(f as Format))
  ) {
    throw new RejectedMetadata(
      'rejected-malformed',
      `metadata lists objects ${formats.join(', ') || 'none'}`,
    );
  }
  for (const [format, object] of Object.entries(metadata.objects) as Array<
    [Format, ObjectRecord]
  >) {
    if (
      !isRecord(object) ||
      typeof object.name !== 'string' ||
      !object.name.startsWith(folder)
    ) {
      throw new RejectedMetadata(
        'rejected-malformed',
        `metadata's ${format} object is not inside ${folder}`,
      );
    }
    let actual;
    try {
      [actual] = await context.bucket.file(object.name).getMetadata();
    } catch (error) {
      if (httpStatus(error) === 404) {
        throw new RejectedMetadata(
          'rejected-inconsistent',
          `data object ${object.name} is missing`,
        );
      }
      throw error; // transient: retry
    }
    if (
      Number(actual.size) !== object.bytes ||
      actual.crc32c !== object.crc32c
    ) {
      throw new RejectedMetadata(
        'rejected-inconsistent',
        `data object ${object.name} is ${actual.size} bytes crc32c ${actual.crc32c}; metadata says ${object.bytes} bytes crc32c ${object.crc32c}`,
      );
    }
  }
}

export async function recordStorageEvent(
  event: StorageObjectEvent,
  context: ServiceContext,
): Promise<RecordResult> {
  const {settings, bucket, catalog} = context;
  const log = context.log.with({
    object: event.name,
    generation: event.generation,
  });
  if (event.bucket !== bucket.name) {
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
  // Streamed: at 1,000,000 creative packs the object is ~140 MB.
  let read: MetadataRead | MalformedMetadataError;
  try {
    read = await readMetadata(
      bucket
        .file(event.name, {generation: event.generation})
        .createReadStream(),
      {keepMapsUpToBytes: INLINE_PROBABILITIES_MAX_BYTES},
    );
  } catch (error) {
    if (httpStatus(error) === 404) {
      vlog.log(
        'WARNING',
        'metadata object generation no longer exists; acknowledged',
      );
      return 'ignored-object-gone';
    }
    if (!(error instanceof MalformedMetadataError)) throw error;
    read = error;
  }
  try {
    if (read instanceof MalformedMetadataError)
      throw new RejectedMetadata('rejected-malformed', read.message);
    const metadata = parseMetadata(read.head, version);
    await checkObjects(metadata, version, context);
    const metadataUri = gsUri(bucket.name, event.name);
    const record: DatasetRecord & {recordedGeneration: string} = {
      version,
      status: 'ready',
      config: metadata.config,
      createdAt: metadata.createdAt,
      generator: metadata.generator,
      recordedAt: context.now().toISOString(),
      recordedGeneration: event.generation,
      metadataObject: event.name,
      objects: metadata.objects,
      probabilities: probabilitiesRecordOf(read, metadataUri),
      empirical: {
        rows: metadata.empirical.rows,
        positives: metadata.empirical.positives,
        rate: metadata.empirical.rate,
      },
    };
    const outcome = await catalog.recordReady(record);
    vlog.log(
      outcome === 'recorded' ? 'INFO' : 'WARNING',
      `metadata event: ${outcome}`,
    );
    return outcome;
  } catch (error) {
    if (!(error instanceof RejectedMetadata)) throw error;
    vlog.log('ERROR', `metadata rejected: ${error.message}`);
    await catalog.markFailed(version, error.message);
    return error.kind;
  }
}
