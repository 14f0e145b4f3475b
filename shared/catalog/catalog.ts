/**
 * What the services need of the dataset catalogue (docs/design.md §6), apart from
 * where it lives: Firestore in the cloud and on the emulator
 * (firestore-catalog.ts), memory in unit tests (test/support/memory-catalog.ts).
 */
import {shardCountOf, type DatasetConfig} from '../dataset/config.js';
import type {DatasetRecord, ShardRecord} from './records.js';

/** Versions this service hands out: the loaders' selector takes at most 15 digits. */
export const MAX_VERSION = 999_999_999_999_999;

/** What a generator asks for: a new version, `generating` until `leaseExpiresAt`. */
export interface AllocationRequest {
  config: DatasetConfig;
  now: Date;
  /** how long the generator may take before its version counts as failed */
  leaseMs: number;
}

/** What the recorder writes when a version's metadata commits it. */
export type ReadyRecord = Required<
  Pick<
    DatasetRecord,
    | 'version'
    | 'recordedAt'
    | 'recordedGeneration'
    | 'metadataObject'
    | 'objects'
    | 'probabilities'
    | 'empirical'
  >
>;

/**
 * How an attempt to record a version ended:
 * - `recorded`: it was generating, under its lease, and is now ready;
 * - `duplicate`: this very generation was recorded before;
 * - `stale`: a newer generation was recorded before;
 * - `not-allocated`: no such version was ever allocated (a stranger's object);
 * - `not-generating`: ready from another generation, or failed;
 * - `lease-expired`: it was generating past its lease; now recorded failed.
 */
export const RECORD_OUTCOMES = [
  'recorded',
  'duplicate',
  'stale',
  'not-allocated',
  'not-generating',
  'lease-expired',
] as const;
export type RecordOutcome = (typeof RECORD_OUTCOMES)[number];

/**
 * How beginning a delivery of a shard went (one transaction):
 * - `attempt`: the version is ours, generating, under its lease, the shard
 *   not yet recorded; this is delivery number `attempt` (1-based, counted
 *   before the work, so a crashed instance counts too);
 * - `recorded`: the shard is recorded already (a redelivery);
 * - `not-allocated`, `not-generating`: acknowledge, nothing to do;
 * - `lease-expired`: it was generating past its lease; now recorded failed.
 */
export type ShardAttempt =
  | {state: 'attempt'; attempt: number}
  | {state: 'recorded'; record: ShardRecord}
  | {state: 'not-allocated' | 'not-generating' | 'lease-expired'};

export const SHARD_RECORD_OUTCOMES = [
  'recorded',
  'duplicate',
  'not-allocated',
  'not-generating',
  'lease-expired',
] as const;
export type ShardRecordOutcome = (typeof SHARD_RECORD_OUTCOMES)[number];

/**
 * What recording a shard did: `recorded` of `of` shards are recorded after
 * it, and `completedNow` is true for exactly one call per version, the one
 * that recorded the last shard (that caller writes the metadata).
 */
export interface ShardRecordResult {
  outcome: ShardRecordOutcome;
  recorded: number;
  of: number;
  completedNow: boolean;
}

export interface CatalogPage {
  records: DatasetRecord[];
  /** the last version of this page, when there are more */
  next?: number;
}

export interface Catalog {
  /**
   * A new version, recorded `generating` with its lease: positive, greater
   * than every version allocated before this call began, never handed out
   * twice. Throws UnavailableError when the catalogue cannot take it now.
   */
  allocate(request: AllocationRequest): Promise<DatasetRecord>;
  /** The version's document, as stored (lease not applied), or undefined. */
  get(version: number): Promise<DatasetRecord | undefined>;
  /**
   * Marks a version failed if it is still `generating` (a ready or failed
   * version never changes). True when this call changed it.
   */
  markFailed(version: number, error: string, now: Date): Promise<boolean>;
  /**
   * Marks a version ready, in one transaction that re-checks that it is
   * allocated, `generating` and under its lease at `now`.
   */
  recordReady(ready: ReadyRecord, now: Date): Promise<RecordOutcome>;
  /**
   * Begins a delivery of shard `shard` of `version`: re-checks that the
   * version is ours, generating and under its lease (else fails it), and
   * counts the attempt unless the shard is recorded already.
   */
  beginShard(version: number, shard: number, now: Date): Promise<ShardAttempt>;
  /**
   * Records a written shard, in one transaction that re-checks that the
   * version is ours, generating and under its lease, and that the shard is
   * not recorded yet; counts it on the version (`shardsRecorded`).
   */
  recordShard(
    version: number,
    record: ShardRecord,
    now: Date,
  ): Promise<ShardRecordResult>;
  /** The recorded shards of a version, in shard order. */
  shardRecords(version: number): Promise<ShardRecord[]>;
  /** The newest ready version, or undefined when none is. */
  latestReady(): Promise<DatasetRecord | undefined>;
  /** Newest first; `after` is the last version of the previous page. */
  list(limit: number, after?: number): Promise<CatalogPage>;
}

/** The version's document id. */
export function documentId(version: number): string {
  return `v${version}`;
}

/** True for a version number this service could have allocated. */
export function isAllocatableVersion(version: unknown): version is number {
  return (
    typeof version === 'number' &&
    Number.isSafeInteger(version) &&
    version >= 1 &&
    version <= MAX_VERSION
  );
}

/** True when a `generating` version's lease has run out at `now`. */
export function isPastLease(record: DatasetRecord, now: Date): boolean {
  if (record.status !== 'generating') return false;
  // A generating document without a lease predates leases: it is past any lease.
  if (record.leaseExpiresAt === undefined) return true;
  const expires = Date.parse(record.leaseExpiresAt);
  return !Number.isFinite(expires) || expires <= now.getTime();
}

/** The message a version found past its lease is failed with. */
export function leaseExpiredMessage(record: DatasetRecord): string {
  return `generation did not finish within its lease (expired ${record.leaseExpiresAt ?? 'before leases existed'})`;
}

/**
 * Whether `ready` may be recorded over `current` (the one rule both the
 * Firestore catalogue and the in-memory one apply).
 */
export function readyOutcome(
  current: DatasetRecord | undefined,
  generation: string,
  now: Date,
): RecordOutcome {
  if (!current) return 'not-allocated';
  if (current.status === 'ready') {
    if (current.recordedGeneration === undefined) return 'not-generating';
    const recorded = BigInt(current.recordedGeneration);
    const incoming = BigInt(generation);
    if (incoming === recorded) return 'duplicate';
    return incoming < recorded ? 'stale' : 'not-generating';
  }
  if (current.status === 'failed') return 'not-generating';
  if (isPastLease(current, now)) return 'lease-expired';
  return 'recorded';
}

/** A shard's document id: its index, zero-padded as in its file names. */
export function shardDocumentId(shard: number): string {
  return String(shard).padStart(5, '0');
}

/**
 * Whether a shard may be begun or recorded over `current` (the rule both
 * catalogues apply): ours, generating, under its lease.
 */
export function shardOutcome(
  current: DatasetRecord | undefined,
  now: Date,
): 'ok' | 'not-allocated' | 'not-generating' | 'lease-expired' {
  if (!current) return 'not-allocated';
  if (current.status !== 'generating') return 'not-generating';
  if (isPastLease(current, now)) return 'lease-expired';
  return 'ok';
}

/** How many shards a version has (1 for a record written before shards existed). */
export function shardsOfRecord(record: DatasetRecord): number {
  return shardCountOf(record.config);
}
