/**
 * The loaders' domain: resolve `version=N|latest` to a ready version and hand
 * out V4 signed URLs, the metadata, or a page of the catalogue.
 */
import type {Format} from '../dataset/config.js';
import type {DatasetRecord, DatasetStatus} from '../catalog/records.js';
import {requireServable} from '../catalog/statuses.js';
import {
  DataLossError,
  InvalidArgumentError,
  NotFoundError,
  MalformedMetadataError,
} from '../errors.js';
import {parseMetadata} from '../metadata/read.js';
import {
  METADATA_ANSWER_MAX_BYTES,
  summarizedMetadata,
} from '../metadata/view.js';
import {filesOf, isSharded, type FormatObjects} from '../metadata/document.js';
import {mapBounded} from '../parallel/map-bounded.js';
import {gsUri} from '../storage/object-store.js';
import type {ServiceContext} from './service-context.js';
import {withLeaseApplied} from './lifecycle.js';

export type VersionSelector = number | 'latest';

export function parseVersionSelector(raw: string | undefined): VersionSelector {
  if (raw === undefined || raw === '') {
    throw new InvalidArgumentError(
      'version is required: a positive integer or "latest"',
      'version',
    );
  }
  if (raw === 'latest') return 'latest';
  if (!/^[1-9][0-9]{0,14}$/.test(raw)) {
    throw new InvalidArgumentError(
      `version must be a positive integer or "latest", got ${JSON.stringify(raw)}`,
      'version',
    );
  }
  return Number(raw);
}

/** A version by number or `latest` (the newest ready one), its lease applied. */
export async function resolveVersion(
  selector: VersionSelector,
  context: ServiceContext,
): Promise<DatasetRecord> {
  if (selector === 'latest') {
    const latest = await context.catalog.latestReady();
    if (!latest) throw new NotFoundError('no dataset version is ready yet');
    return latest;
  }
  const record = await context.catalog.get(selector);
  if (!record)
    throw new NotFoundError(`dataset version ${selector} does not exist`);
  return withLeaseApplied(record, context);
}

/**
 * Like resolveVersion, but only a version the status table lets loaders serve
 * (ready); any other is a VersionNotReadyError (409 with `versionStatus`).
 */
export async function resolveReady(
  selector: VersionSelector,
  context: ServiceContext,
): Promise<DatasetRecord> {
  return requireServable(await resolveVersion(selector, context));
}

export interface ObjectLink {
  version: number;
  url: string;
  expiresAt: string;
  object: string;
  sizeBytes: number;
  crc32c: string;
  /** Cloud Storage's md5Hash, which the service always records (docs/design.md §4) */
  md5?: string;
}

/** One shard of a sharded version's format, signed (docs/design.md §5). */
export interface ShardLink {
  url: string;
  object: string;
  rows: number;
  sizeBytes: number;
  crc32c: string;
  /** Cloud Storage's md5Hash, which the service always records (docs/design.md §4) */
  md5?: string;
}

/** A sharded version's format: every shard in order, one expiresAt for all. */
export interface ShardedObjectLink {
  version: number;
  expiresAt: string;
  /** all shards together */
  sizeBytes: number;
  shards: ShardLink[];
}

export type ObjectLinks = ObjectLink | ShardedObjectLink;

/** Signing calls in flight at once for one answer (in the cloud, one IAM signBlob each). */
export const SIGN_CONCURRENCY = 16;

export async function loadObject(
  format: Format,
  selector: VersionSelector,
  ttlSeconds: number,
  context: ServiceContext,
): Promise<ObjectLinks> {
  const record = await resolveReady(selector, context);
  const object = record.objects?.[format];
  if (!object)
    throw new NotFoundError(
      `dataset version ${record.version} has no ${format} file`,
    );
  // One clock reading for every URL: they all expire at the same second.
  const now = context.now();
  const bucket = context.store.bucketName;
  if (isSharded(object)) {
    const signed = await mapBounded(object.shards, SIGN_CONCURRENCY, shard =>
      context.store.signReadUrl(shard.name, ttlSeconds, now),
    );
    context.log.log('INFO', `signed ${format} URLs`, {
      version: record.version,
      ttlSeconds,
      shards: object.shards.length,
    });
    return {
      version: record.version,
      expiresAt: signed[0].expiresAt,
      sizeBytes: object.bytes,
      shards: object.shards.map((shard, k) => ({
        url: signed[k].url,
        object: gsUri(bucket, shard.name),
        rows: shard.rows,
        sizeBytes: shard.bytes,
        crc32c: shard.crc32c,
        ...(shard.md5 === undefined ? {} : {md5: shard.md5}),
      })),
    };
  }
  const signed = await context.store.signReadUrl(object.name, ttlSeconds, now);
  context.log.log('INFO', `signed ${format} URL`, {
    version: record.version,
    ttlSeconds,
  });
  return {
    version: record.version,
    url: signed.url,
    expiresAt: signed.expiresAt,
    object: gsUri(bucket, object.name),
    sizeBytes: object.bytes,
    crc32c: object.crc32c,
    ...(object.md5 === undefined ? {} : {md5: object.md5}),
  };
}

export interface MetadataResponse {
  version: number;
  status: DatasetStatus;
  metadata: unknown;
  url: string;
  expiresAt: string;
}

export async function loadMetadata(
  selector: VersionSelector,
  ttlSeconds: number,
  context: ServiceContext,
): Promise<MetadataResponse> {
  const record = await resolveReady(selector, context);
  const name = record.metadataObject;
  if (!name)
    throw new NotFoundError(
      `dataset version ${record.version} has no metadata object`,
    );
  // Past a size the metadata is answered summarized (metadata/view.ts), never read whole.
  const gone = () =>
    new NotFoundError(
      `the metadata object of dataset version ${record.version} is gone from the bucket`,
    );
  const info = await context.store.stat(name);
  if (!info) throw gone();
  let metadata: unknown;
  if (info.size > METADATA_ANSWER_MAX_BYTES) {
    metadata = summarizedMetadata(record, info.size);
  } else {
    const bytes = await context.store.read(name, record.recordedGeneration);
    if (!bytes) throw gone();
    metadata = parseRecordedMetadata(bytes, record.version);
  }
  const signed = await context.store.signReadUrl(
    name,
    ttlSeconds,
    context.now(),
  );
  return {
    version: record.version,
    status: record.status,
    metadata,
    url: signed.url,
    expiresAt: signed.expiresAt,
  };
}

/** The recorded object through the one parser; bytes it rejects are data loss (500). */
function parseRecordedMetadata(bytes: Uint8Array, version: number) {
  try {
    return parseMetadata(bytes);
  } catch (error) {
    if (!(error instanceof MalformedMetadataError)) throw error;
    throw new DataLossError(
      `the metadata object of dataset version ${version} is malformed: ${error.message}`,
      error,
    );
  }
}

export interface DatasetSummary {
  version: number;
  status: DatasetStatus;
  createdAt: string;
  recordedAt: string | null;
  config: DatasetRecord['config'];
  rows: number;
  /**
   * per format: the object, or for a sharded version the first shard's
   * object, the total size and the shard count
   */
  objects: Partial<
    Record<Format, {object: string; sizeBytes: number; shards?: number}>
  >;
  error?: string;
}

export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 100;

export function parseListParameters(
  limitRaw: string | undefined,
  tokenRaw: string | undefined,
): {limit: number; after?: number} {
  let limit = LIST_DEFAULT_LIMIT;
  if (limitRaw !== undefined) {
    if (
      !/^[0-9]{1,4}$/.test(limitRaw) ||
      Number(limitRaw) < 1 ||
      Number(limitRaw) > LIST_MAX_LIMIT
    ) {
      throw new InvalidArgumentError(
        `limit must be an integer in 1..${LIST_MAX_LIMIT}, got ${JSON.stringify(limitRaw)}`,
        'limit',
      );
    }
    limit = Number(limitRaw);
  }
  if (tokenRaw === undefined || tokenRaw === '') return {limit};
  const decoded = Buffer.from(tokenRaw, 'base64url').toString('utf8');
  const match = /^after:([1-9][0-9]{0,14})$/.exec(decoded);
  if (!match)
    throw new InvalidArgumentError(
      'pageToken is not one this service issued',
      'pageToken',
    );
  return {limit, after: Number(match[1])};
}

export async function listDatasets(
  limit: number,
  after: number | undefined,
  context: ServiceContext,
): Promise<{datasets: DatasetSummary[]; nextPageToken: string | null}> {
  const page = await context.catalog.list(limit, after);
  const records = await Promise.all(
    page.records.map(record => withLeaseApplied(record, context)),
  );
  const next = page.next;
  const datasets = records.map(record => {
    const objects: DatasetSummary['objects'] = {};
    for (const [format, object] of Object.entries(
      record.objects ?? {},
    ) as Array<[Format, FormatObjects]>) {
      const files = filesOf(object);
      objects[format] = {
        object: gsUri(context.store.bucketName, files[0].name),
        sizeBytes: object.bytes,
        ...(isSharded(object) ? {shards: files.length} : {}),
      };
    }
    const summary: DatasetSummary = {
      version: record.version,
      status: record.status,
      createdAt: record.createdAt,
      recordedAt: record.recordedAt ?? null,
      config: record.config,
      rows: record.config.nSamples,
      objects,
    };
    if (record.error) summary.error = record.error;
    return summary;
  });
  return {
    datasets,
    nextPageToken:
      next === undefined
        ? null
        : Buffer.from(`after:${next}`).toString('base64url'),
  };
}
