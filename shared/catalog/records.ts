/**
 * What the catalog holds per version (docs/design.md §6): document `v{N}` in the
 * datasets collection.
 */
import type {DatasetConfig, Format} from '../dataset/config.js';
import type {
  FormatObjects,
  ObjectRecord,
  TargetTally,
} from '../metadata/document.js';

export type {TargetTally};

export const DATASET_STATUSES = ['generating', 'ready', 'failed'] as const;
export type DatasetStatus = (typeof DATASET_STATUSES)[number];

/** The probabilities, or (past Firestore's 1 MiB limit) a summary and where the full maps are. */
export type ProbabilitiesRecord =
  | {
      stored: 'inline';
      target_store_id_probs: Record<string, number>;
      creative_pack_id_probs: Record<string, number>;
      creative_pack_target: Record<string, string>;
      pair_probs: Record<string, number>;
    }
  | {
      stored: 'metadata-object';
      metadataObject: string;
      summary: {
        nTargetStoreIds: number;
        nCreativePackIds: number;
        pairProbMin: number;
        pairProbMax: number;
        pairProbMean: number;
      };
    };

export interface DatasetRecord {
  version: number;
  status: DatasetStatus;
  config: DatasetConfig;
  createdAt: string;
  generator: {name: string; version: string};
  /** while `generating`: when the version counts as failed if still generating (ISO 8601) */
  leaseExpiresAt?: string;
  /** set when generation fails */
  error?: string;
  /** when it was marked failed (ISO 8601) */
  failedAt?: string;
  /** set by recordDatasetMetadata */
  recordedAt?: string;
  /** the metadata object generation that was recorded (decimal string, as GCS reports it) */
  recordedGeneration?: string;
  metadataObject?: string;
  /** one file per format, or (sharded) totals and every shard in order */
  objects?: Partial<Record<Format, FormatObjects>>;
  /** sharded versions: how many shards are recorded (ShardDocument.record set) */
  shardsRecorded?: number;
  probabilities?: ProbabilitiesRecord;
  empirical?: {rows: number; positives: number; rate: number};
}

/**
 * A written shard of a sharded version (docs/catalogue.md): its files with
 * their checksums, and what it observed per target store (per creative
 * would be 16 MB at 1,000,000 creatives; empirical needs only the targets).
 */
export interface ShardRecord {
  /** 0-based index of the shard */
  shard: number;
  rows: number;
  objects: Partial<Record<Format, ObjectRecord>>;
  targets: TargetTally;
  recordedAt: string;
}

/**
 * Document `{collection}/v{N}/shards/{k}` (k zero-padded to 5 digits): the
 * deliveries of shard k begun so far, and its record once written.
 */
export interface ShardDocument {
  shard: number;
  attempts: number;
  lastAttemptAt: string;
  record?: ShardRecord;
}
