/** The answers of the HTTP API (docs/design.md §5), as the client hands them back. */
import type {DatasetMetadata} from '../../shared/metadata/document.js';

/** POST /generateDataset -> 201: one shard, written. */
export interface GeneratedDataset {
  version: number;
  objects: {parquet?: string; tfrecord?: string; metadata: string};
  rows: number;
  seed: number;
  checksums: Record<string, unknown>;
  durationMs: number;
}

/** POST /generateDataset -> 202: sharded (S > 1), answered at once; follow loadMetadata (waitReady). */
export interface GeneratingDataset {
  version: number;
  status: 'generating';
  shards: number;
  rows: number;
  seed: number;
}

export type GenerateAnswer = GeneratedDataset | GeneratingDataset;

/** A signed download URL and what the object must be (GCS's base64 crc32c and md5). */
export interface SignedFile {
  url: string;
  object: string;
  sizeBytes: number;
  crc32c: string;
  md5: string;
}

/** GET /loadParquet, /loadTfrecord for a one-file version. */
export interface SingleFileLink extends SignedFile {
  version: number;
  expiresAt: string;
}

/** One shard of a sharded version's loader answer: its rows too. */
export interface ShardLink extends SignedFile {
  rows: number;
}

/**
 * GET /loadParquet, /loadTfrecord for a sharded version: every shard in row
 * order (`url`/`object` absent), all with the same `expiresAt`.
 */
export interface ShardedLink {
  version: number;
  expiresAt: string;
  shards: ShardLink[];
}

export type FileLink = SingleFileLink | ShardedLink;

/** GET /loadMetadata. */
export interface MetadataLink {
  version: number;
  status: string;
  metadata: DatasetMetadata;
  url: string;
  expiresAt: string;
}

/** One entry of GET /listDatasets. */
export interface DatasetSummary {
  version: number;
  status: string;
  [field: string]: unknown;
}

export interface DatasetList {
  datasets: DatasetSummary[];
  nextPageToken: string | null;
}

export type VersionSelector = number | 'latest';
