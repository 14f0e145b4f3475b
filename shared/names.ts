/**
 * Object and file names of a version (DESIGN §3): `{prefix}v{N}/` holding
 * `dataset_v{N}.parquet`, `dataset_v{N}.tfrecord[.gz]` and `metadata_v{N}.json`.
 */
import type {Format, TfrecordCompression} from './config.js';

export type DatasetFileKind = Format | 'metadata';

export function dataFileName(
  kind: DatasetFileKind,
  version: number,
  compression: TfrecordCompression = 'NONE',
): string {
  switch (kind) {
    case 'parquet':
      return `dataset_v${version}.parquet`;
    case 'tfrecord':
      return `dataset_v${version}.tfrecord${compression === 'GZIP' ? '.gz' : ''}`;
    case 'metadata':
      return `metadata_v${version}.json`;
  }
}

export function versionFolder(prefix: string, version: number): string {
  return `${prefix}v${version}/`;
}

export function objectName(
  prefix: string,
  kind: DatasetFileKind,
  version: number,
  compression: TfrecordCompression = 'NONE',
): string {
  return (
    versionFolder(prefix, version) + dataFileName(kind, version, compression)
  );
}

const METADATA_NAME =
  /^v([1-9][0-9]{0,15})\/metadata_v([1-9][0-9]{0,15})\.json$/;

/**
 * The version a metadata object commits, or undefined for any other object
 * (a data file, a foreign object, a name whose folder and file disagree).
 */
export function metadataVersionOf(
  prefix: string,
  name: string,
): number | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const match = METADATA_NAME.exec(name.slice(prefix.length));
  if (!match || match[1] !== match[2]) return undefined;
  const version = Number(match[1]);
  return Number.isSafeInteger(version) ? version : undefined;
}
