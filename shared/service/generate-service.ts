/**
 * generateDataset's domain: allocate a version, stream the files into the
 * bucket (metadata last), and on any failure leave the version `failed`.
 */
import type {DatasetConfig, Format} from '../config.js';
import type {ObjectDigests} from '../digest/digests.js';
import {generateDataset} from '../generate.js';
import {objectName, type DatasetFileKind} from '../names.js';
import {GcsDestination, gsUri} from '../storage/gcs-destination.js';
import type {ServiceContext} from './context.js';

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

export async function generateToBucket(
  config: DatasetConfig,
  context: ServiceContext,
): Promise<GenerateResponse> {
  const started = performance.now();
  const {settings, bucket, catalog} = context;
  const record = await catalog.allocate(config, context.now());
  const version = record.version;
  const log = context.log.with({version});
  log.log('INFO', 'generating dataset', {
    rows: config.nSamples,
    seed: config.seed,
    formats: config.formats.join(','),
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
      destination: new GcsDestination(bucket),
      now: context.now,
    });
    const objects: GenerateResponse['objects'] = {};
    const checksums: GenerateResponse['checksums'] = {};
    for (const [format, object] of Object.entries(
      result.metadata.objects,
    ) as Array<[Format, ObjectDigests & {name: string}]>) {
      objects[format] = gsUri(bucket.name, object.name);
      checksums[format] = {
        bytes: object.bytes,
        crc32c: object.crc32c,
        md5: object.md5,
        sha256: object.sha256,
      };
    }
    objects.metadata = gsUri(bucket.name, names.metadata);
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
    const reason = error instanceof Error ? error.message : String(error);
    log.log('ERROR', 'dataset generation failed', {error: reason});
    await catalog.markFailed(version, reason).catch(markError => {
      log.log('ERROR', 'could not mark version failed', {
        error: String(markError),
      });
    });
    throw error;
  }
}
