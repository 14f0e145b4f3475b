/**
 * generateDataset's domain: allocate a version under a lease, stream the
 * files into the bucket (metadata last), and on any failure leave the
 * version `failed` at once (bounded: a catalogue that is down cannot hold
 * the request; the lease ends the version then).
 */
import {describeFailure, isTransient} from '../catalog/failures.js';
import type {DatasetConfig, Format} from '../config.js';
import type {ObjectDigests} from '../digest/digests.js';
import {AlreadyExistsError, DatasetError, UnavailableError} from '../errors.js';
import {generateDataset} from '../generate.js';
import {objectName, type DatasetFileKind} from '../names.js';
import {leaseMsOf} from '../settings.js';
import {gsUri} from '../storage/object-store.js';
import type {ServiceContext} from './context.js';
import {markFailedBounded} from './lifecycle.js';

export interface GenerateResponse {
  version: number;
  objects: Partial<Record<DatasetFileKind, string>>;
  rows: number;
  seed: number;
  checksums: Partial<
    Record<
      DatasetFileKind,
      Pick<ObjectDigests, 'crc32c' | 'md5' | 'sha256'> & {bytes: number}
    >
  >;
  durationMs: number;
}

/** What the client is told when writing failed: transient trouble is a 503. */
function clientErrorOf(error: unknown, version: number): unknown {
  if (error instanceof DatasetError) return error;
  if (isTransient(error)) {
    return new UnavailableError(
      `the bucket failed while version ${version} was written (${describeFailure(error)}); version ${version} is failed, retry`,
      2,
      error,
    );
  }
  return error;
}

/**
 * Versions tried when a version's names are taken by objects this service
 * did not write (a stranger's upload, or a bucket that outlived its
 * catalogue): each such version is failed, never overwritten, and the next
 * one is allocated.
 */
export const VERSION_ATTEMPTS = 3;

export async function generateToBucket(
  config: DatasetConfig,
  context: ServiceContext,
): Promise<GenerateResponse> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await generateVersion(config, context, started);
    } catch (error) {
      if (!(error instanceof AlreadyExistsError) || attempt >= VERSION_ATTEMPTS)
        throw error;
      context.log.log(
        'WARNING',
        'a name of the allocated version is taken; allocating another',
        {attempt, error: error.message},
      );
    }
  }
}

async function generateVersion(
  config: DatasetConfig,
  context: ServiceContext,
  started: number,
): Promise<GenerateResponse> {
  const {settings, store, catalog} = context;
  const allocating = performance.now();
  const record = await catalog.allocate({
    config,
    now: context.now(),
    leaseMs: leaseMsOf(settings),
  });
  const version = record.version;
  const log = context.log.with({version});
  log.log('INFO', 'generating dataset', {
    rows: config.nSamples,
    seed: config.seed,
    formats: config.formats.join(','),
    leaseExpiresAt: record.leaseExpiresAt,
    allocationMs: Math.round(performance.now() - allocating),
  });

  const names = {} as Record<DatasetFileKind, string>;
  for (const kind of ['parquet', 'tfrecord', 'metadata'] as const) {
    names[kind] = objectName(
      settings.prefix,
      kind,
      version,
      config.tfrecordCompression,
    );
  }
  try {
    const result = await generateDataset({
      config,
      version,
      names,
      destination: store,
      now: context.now,
    });
    const objects: GenerateResponse['objects'] = {};
    const checksums: GenerateResponse['checksums'] = {};
    for (const [format, object] of Object.entries(
      result.metadata.objects,
    ) as Array<[Format, ObjectDigests & {name: string}]>) {
      objects[format] = gsUri(store.bucketName, object.name);
      checksums[format] = {
        bytes: object.bytes,
        crc32c: object.crc32c,
        md5: object.md5,
        sha256: object.sha256,
      };
    }
    objects.metadata = gsUri(store.bucketName, names.metadata);
    const {bytes, crc32c, md5, sha256} = result.metadataObject;
    checksums.metadata = {bytes, crc32c, md5, sha256};
    const durationMs = Math.round(performance.now() - started);
    log.log('INFO', 'dataset written', {
      rows: config.nSamples,
      durationMs,
      rowsMs: Math.round(result.stages.rowsMs),
    });
    return {
      version,
      objects,
      rows: config.nSamples,
      seed: config.seed,
      checksums,
      durationMs,
    };
  } catch (error) {
    const reason = describeFailure(error);
    log.log('ERROR', 'dataset generation failed', {error: reason});
    await markFailedBounded({...context, log}, version, reason);
    throw clientErrorOf(error, version);
  }
}
