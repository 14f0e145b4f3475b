/**
 * Object and file names of a version (docs/design.md §3): `{prefix}v{N}/` holding
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

const DATA_EXTENSIONS = ['.parquet', '.tfrecord.gz', '.tfrecord'] as const;

/**
 * The name of shard `index` of `count` for a data file or object named
 * `single` (docs/design.md §3, the TensorFlow/Beam convention): `dataset_v3.parquet`
 * -> `dataset_v3-00002-of-00016.parquet`. With one shard, `single` itself.
 */
export function shardFileName(
  single: string,
  index: number,
  count: number,
): string {
  if (count === 1) return single;
  const extension = DATA_EXTENSIONS.find(e => single.endsWith(e));
  if (!extension) {
    throw new Error(
      `${single} is not a data file name (${DATA_EXTENSIONS.join(', ')})`,
    );
  }
  const pad = (n: number) => String(n).padStart(5, '0');
  return `${single.slice(0, -extension.length)}-${pad(index)}-of-${pad(count)}${extension}`;
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
