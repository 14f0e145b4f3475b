/**
 * The loaders' domain: resolve `version=N|latest` to a ready version and hand
 * out V4 signed URLs, the metadata, or a page of the catalogue.
 */
import type {Format} from '../config.js';
import type {DatasetRecord} from '../catalog/records.js';
import {InvalidArgumentError, NotFoundError} from '../errors.js';
import {
  METADATA_ANSWER_MAX_BYTES,
  summarizedMetadata,
} from '../metadata-view.js';
import {gsUri} from '../storage/gcs-destination.js';
import {signedReadUrl} from '../storage/signed-url.js';
import type {ServiceContext} from './context.js';

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

export interface ObjectLink {
  version: number;
  url: string;
  expiresAt: string;
  object: string;
  sizeBytes: number;
  crc32c: string;
  md5: string;
}

export async function loadObject(
  format: Format,
  selector: VersionSelector,
  ttlSeconds: number,
  context: ServiceContext,
): Promise<ObjectLink> {
  const record = await context.catalog.resolveReady(selector);
  const object = record.objects?.[format];
  if (!object)
    throw new NotFoundError(
      `dataset version ${record.version} has no ${format} file`,
    );
  const signed = await signedReadUrl(
    context.bucket,
    object.name,
    ttlSeconds,
    context.now(),
  );
  context.log.log('INFO', `signed ${format} URL`, {
    version: record.version,
    ttlSeconds,
  });
  return {
    version: record.version,
    url: signed.url,
    expiresAt: signed.expiresAt,
    object: gsUri(context.bucket.name, object.name),
    sizeBytes: object.bytes,
    crc32c: object.crc32c,
    md5: object.md5,
  };
}

export interface MetadataResponse {
  version: number;
  status: string;
  metadata: unknown;
  url: string;
  expiresAt: string;
}

export async function loadMetadata(
  selector: VersionSelector,
  ttlSeconds: number,
  context: ServiceContext,
): Promise<MetadataResponse> {
  const record = await context.catalog.resolveReady(selector);
  const name = record.metadataObject;
  if (!name)
    throw new NotFoundError(
      `dataset version ${record.version} has no metadata object`,
    );
  // Past a size the metadata is answered summarized (metadata-view.ts), never read whole.
  const file = context.bucket.file(name);
  const [info] = await file.getMetadata();
  const size = Number(info.size);
  const metadata =
    size > METADATA_ANSWER_MAX_BYTES
      ? summarizedMetadata(record, size)
      : JSON.parse((await file.download())[0].toString('utf8'));
  const signed = await signedReadUrl(
    context.bucket,
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

export interface DatasetSummary {
  version: number;
  status: string;
  createdAt: string;
  recordedAt: string | null;
  config: DatasetRecord['config'];
  rows: number;
  objects: Partial<Record<Format, {object: string; sizeBytes: number}>>;
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
  const {records, next} = await context.catalog.list(limit, after);
  const datasets = records.map(record => {
    const objects: DatasetSummary['objects'] = {};
    for (const [format, object] of Object.entries(
      record.objects ?? {},
    ) as Array<[Format, {name: string; bytes: number}]>) {
      objects[format] = {
        object: gsUri(context.bucket.name, object.name),
        sizeBytes: object.bytes,
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
