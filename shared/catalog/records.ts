/**
 * What the catalog holds per version (DESIGN §6): document `v{N}` in the
 * datasets collection.
 */
import type {DatasetConfig, Format} from '../config.js';
import type {ObjectRecord} from '../metadata.js';

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
  objects?: Partial<Record<Format, ObjectRecord>>;
  probabilities?: ProbabilitiesRecord;
  empirical?: {rows: number; positives: number; rate: number};
}
