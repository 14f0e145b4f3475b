/**
 * The dataset catalogue in Firestore (docs/design.md §6): one document `v{N}`
 * per version, and for a sharded version a subcollection `shards` of one
 * document per shard (`v{N}/shards/{k}`). Allocation locks nothing: it
 * creates `v{N+1}` with a does-not-exist precondition and, on a collision,
 * tries a number from a doubling window above the new highest (measured in
 * docs/catalogue.md). Documents this service could not have allocated (past
 * MAX_VERSION, id and version field disagreeing) are never counted or listed.
 */
import {inConfigOrder} from '../dataset/config.js';
import type {
  CollectionReference,
  DocumentSnapshot,
  Firestore,
  Query,
} from '@google-cloud/firestore';
import {UnavailableError} from '../errors.js';
import {GENERATOR} from '../dataset/generator-version.js';
import {
  documentId,
  isAllocatableVersion,
  isPastLease,
  leaseExpiredMessage,
  MAX_VERSION,
  readyOutcome,
  shardDocumentId,
  shardOutcome,
  shardsOfRecord,
  type AllocationRequest,
  type Catalog,
  type CatalogPage,
  type ReadyRecord,
  type RecordOutcome,
  type ShardAttempt,
  type ShardRecordResult,
} from './catalog.js';
import {describeFailure, isTransient} from './failures.js';
import type {
  DatasetRecord,
  DatasetStatus,
  ShardDocument,
  ShardRecord,
} from './records.js';

/** gRPC ALREADY_EXISTS: the create precondition of another request won. */
const ALREADY_EXISTS = 6;

export interface AllocationOptions {
  /** collisions tolerated before answering UNAVAILABLE */
  maxAttempts: number;
  /** the whole allocation's time budget before answering UNAVAILABLE */
  budgetMs: number;
  /** the window (in version numbers) the first retry draws from; it doubles per retry */
  firstSpread: number;
  /** the largest window a retry draws from */
  maxSpread: number;
  /** false: always retry the next free number (dense, but contenders queue) */
  spread: boolean;
  /** after a collision, read the newest version again (true) or go on from the collision */
  requery: boolean;
  /**
   * Start spread out when other allocations of this process are in flight
   * (a burst): the first try then draws from a window of twice their number
   * instead of every one of them creating the same next document.
   */
  spreadInFlight: boolean;
  /** called once per collision (for measurements) */
  onCollision?: () => void;
}

export const ALLOCATION_DEFAULTS: Readonly<AllocationOptions> = Object.freeze({
  maxAttempts: 12,
  budgetMs: 60_000,
  firstSpread: 16,
  maxSpread: 512,
  spread: true,
  requery: false,
  spreadInFlight: true,
});

/**
 * Shards of equal size finish together, and every recordShard writes the
 * version document: allow more contention retries than the client's 5, as
 * giving up costs a redelivery that re-reads the whole shard.
 */
const SHARD_TRANSACTION = {maxAttempts: 15};

/** Documents read per page while looking for the newest ready version. */
const LATEST_SCAN_PAGE = 50;
const LATEST_SCAN_MAX_PAGES = 20;

function isAlreadyExists(error: unknown): boolean {
  return (error as {code?: unknown})?.code === ALREADY_EXISTS;
}

function recordOf(snapshot: DocumentSnapshot): DatasetRecord | undefined {
  if (!snapshot.exists) return undefined;
  const data = snapshot.data() as DatasetRecord | undefined;
  if (!data || !isAllocatableVersion(data.version)) return undefined;
  if (snapshot.id !== documentId(data.version)) return undefined;
  return {...data, config: inConfigOrder(data.config)};
}

function randomBelow(n: number): number {
  return Math.floor(Math.random() * n);
}

export class FirestoreCatalog implements Catalog {
  private readonly options: AllocationOptions;
  /** allocations of this process not yet settled */
  private inFlight = 0;

  constructor(
    private readonly firestore: Firestore,
    readonly collection: string,
    options: Partial<AllocationOptions> = {},
  ) {
    this.options = {...ALLOCATION_DEFAULTS, ...options};
  }

  private versions(): CollectionReference {
    return this.firestore.collection(this.collection);
  }

  private doc(version: number) {
    return this.versions().doc(documentId(version));
  }

  /** Versions this service could have allocated, newest first. */
  private newestFirst(): Query {
    return this.versions()
      .where('version', '<=', MAX_VERSION)
      .orderBy('version', 'desc');
  }

  /** The newest allocated version, ignoring forged documents. */
  async newest(): Promise<DatasetRecord | undefined> {
    let query = this.newestFirst().limit(LATEST_SCAN_PAGE);
    for (let page = 0; page < LATEST_SCAN_MAX_PAGES; page++) {
      const snapshot = await query.get();
      for (const doc of snapshot.docs) {
        const record = recordOf(doc);
        if (record) return record;
      }
      if (snapshot.size < LATEST_SCAN_PAGE) return undefined;
      query = query.startAfter(snapshot.docs[snapshot.size - 1]);
    }
    throw new UnavailableError(
      `no well-formed version among the newest ${LATEST_SCAN_PAGE * LATEST_SCAN_MAX_PAGES} documents of ${this.collection}`,
      30,
    );
  }

  /** The highest allocated version (0 when none). */
  async highestVersion(): Promise<number> {
    return (await this.newest())?.version ?? 0;
  }

  async allocate(request: AllocationRequest): Promise<DatasetRecord> {
    const others = this.inFlight++;
    try {
      return await this.allocateOnce(request, others);
    } finally {
      this.inFlight--;
    }
  }

  private async allocateOnce(
    request: AllocationRequest,
    othersInFlight: number,
  ): Promise<DatasetRecord> {
    const started = Date.now();
    const {maxAttempts, budgetMs, firstSpread, maxSpread, spread, requery} =
      this.options;
    try {
      const newest = await this.newest();
      if (newest && isPastLease(newest, request.now)) {
        // Whoever reads a version past its lease records it failed (best effort).
        this.markFailed(
          newest.version,
          leaseExpiredMessage(newest),
          request.now,
        ).catch(() => undefined);
      }
      let candidate = (newest?.version ?? 0) + 1;
      if (spread && this.options.spreadInFlight && othersInFlight > 0)
        candidate += randomBelow(Math.min(maxSpread, 2 * othersInFlight));
      for (let attempt = 1; ; attempt++) {
        if (candidate > MAX_VERSION) {
          throw new UnavailableError(
            `no version left below ${MAX_VERSION + 1}`,
            3600,
          );
        }
        const record: DatasetRecord = {
          version: candidate,
          status: 'generating',
          config: request.config,
          createdAt: request.now.toISOString(),
          leaseExpiresAt: new Date(
            request.now.getTime() + request.leaseMs,
          ).toISOString(),
          generator: {...GENERATOR},
        };
        try {
          await this.doc(candidate).create(record);
          return record;
        } catch (error) {
          if (!isAlreadyExists(error)) throw error;
        }
        this.options.onCollision?.();
        if (attempt >= maxAttempts || Date.now() - started > budgetMs) {
          throw new UnavailableError(
            `version allocation met ${attempt} concurrent allocations; retry shortly`,
            1 + randomBelow(2),
          );
        }
        // Another request took it: start again above the newest version.
        const window = spread
          ? Math.min(maxSpread, firstSpread * 2 ** (attempt - 1))
          : 1;
        await new Promise(resolve =>
          setTimeout(resolve, randomBelow(4 * attempt)),
        );
        const base = requery
          ? Math.max(candidate, (await this.newest())?.version ?? 0)
          : candidate;
        candidate = base + 1 + randomBelow(window);
      }
    } catch (error) {
      if (error instanceof UnavailableError) throw error;
      if (isTransient(error)) {
        throw new UnavailableError(
          `the catalogue cannot allocate a version now (${describeFailure(error)})`,
          2,
          error,
        );
      }
      throw error;
    }
  }

  async get(version: number): Promise<DatasetRecord | undefined> {
    if (!isAllocatableVersion(version)) return undefined;
    return recordOf(await this.doc(version).get());
  }

  async markFailed(
    version: number,
    error: string,
    now: Date,
  ): Promise<boolean> {
    if (!isAllocatableVersion(version)) return false;
    return this.firestore.runTransaction(async tx => {
      const current = recordOf(await tx.get(this.doc(version)));
      if (current?.status !== 'generating') return false;
      tx.update(this.doc(version), {
        status: 'failed' satisfies DatasetStatus,
        error,
        failedAt: now.toISOString(),
      });
      return true;
    });
  }

  private shardDoc(version: number, shard: number) {
    return this.doc(version).collection('shards').doc(shardDocumentId(shard));
  }

  async beginShard(
    version: number,
    shard: number,
    now: Date,
  ): Promise<ShardAttempt> {
    if (!isAllocatableVersion(version)) return {state: 'not-allocated'};
    return this.firestore.runTransaction(async tx => {
      const ref = this.doc(version);
      const shardRef = this.shardDoc(version, shard);
      const [versionSnapshot, shardSnapshot] = await tx.getAll(ref, shardRef);
      const current = recordOf(versionSnapshot);
      const outcome = shardOutcome(current, now);
      if (outcome === 'lease-expired' && current) {
        tx.update(ref, this.failedFields(leaseExpiredMessage(current), now));
      }
      if (outcome !== 'ok') return {state: outcome};
      const previous = shardSnapshot.exists
        ? (shardSnapshot.data() as ShardDocument)
        : undefined;
      if (previous?.record) return {state: 'recorded', record: previous.record};
      const attempt = (previous?.attempts ?? 0) + 1;
      tx.set(shardRef, {
        shard,
        attempts: attempt,
        lastAttemptAt: now.toISOString(),
      } satisfies ShardDocument);
      return {state: 'attempt', attempt};
    }, SHARD_TRANSACTION);
  }

  async recordShard(
    version: number,
    record: ShardRecord,
    now: Date,
  ): Promise<ShardRecordResult> {
    if (!isAllocatableVersion(version))
      return {
        outcome: 'not-allocated',
        recorded: 0,
        of: 0,
        completedNow: false,
      };
    return this.firestore.runTransaction(async tx => {
      const ref = this.doc(version);
      const shardRef = this.shardDoc(version, record.shard);
      const [versionSnapshot, shardSnapshot] = await tx.getAll(ref, shardRef);
      const current = recordOf(versionSnapshot);
      const of = current ? shardsOfRecord(current) : 0;
      const recorded = current?.shardsRecorded ?? 0;
      const outcome = shardOutcome(current, now);
      if (outcome === 'lease-expired' && current) {
        tx.update(ref, this.failedFields(leaseExpiredMessage(current), now));
      }
      if (outcome !== 'ok') return {outcome, recorded, of, completedNow: false};
      const previous = shardSnapshot.exists
        ? (shardSnapshot.data() as ShardDocument)
        : undefined;
      if (previous?.record)
        return {outcome: 'duplicate', recorded, of, completedNow: false};
      tx.set(shardRef, {
        shard: record.shard,
        attempts: previous?.attempts ?? 1,
        lastAttemptAt: previous?.lastAttemptAt ?? now.toISOString(),
        record,
      } satisfies ShardDocument);
      tx.update(ref, {shardsRecorded: recorded + 1});
      return {
        outcome: 'recorded',
        recorded: recorded + 1,
        of,
        completedNow: recorded + 1 === of,
      };
    }, SHARD_TRANSACTION);
  }

  async shardRecords(version: number): Promise<ShardRecord[]> {
    if (!isAllocatableVersion(version)) return [];
    const snapshot = await this.doc(version).collection('shards').get();
    return snapshot.docs
      .map(doc => (doc.data() as ShardDocument).record)
      .filter((r): r is ShardRecord => r !== undefined)
      .sort((a, b) => a.shard - b.shard);
  }

  private failedFields(error: string, now: Date) {
    return {
      status: 'failed' satisfies DatasetStatus,
      error,
      failedAt: now.toISOString(),
    };
  }

  async recordReady(ready: ReadyRecord, now: Date): Promise<RecordOutcome> {
    if (!isAllocatableVersion(ready.version)) return 'not-allocated';
    return this.firestore.runTransaction(async tx => {
      const ref = this.doc(ready.version);
      const current = recordOf(await tx.get(ref));
      const outcome = readyOutcome(current, ready.recordedGeneration, now);
      if (outcome === 'recorded') {
        tx.update(ref, {...ready, status: 'ready' satisfies DatasetStatus});
      } else if (outcome === 'lease-expired' && current) {
        tx.update(ref, {
          status: 'failed' satisfies DatasetStatus,
          error: leaseExpiredMessage(current),
          failedAt: now.toISOString(),
        });
      }
      return outcome;
    });
  }

  async latestReady(): Promise<DatasetRecord | undefined> {
    let query = this.newestFirst().limit(LATEST_SCAN_PAGE);
    for (let page = 0; page < LATEST_SCAN_MAX_PAGES; page++) {
      const snapshot = await query.get();
      for (const doc of snapshot.docs) {
        const record = recordOf(doc);
        if (record?.status === 'ready') return record;
      }
      if (snapshot.size < LATEST_SCAN_PAGE) return undefined;
      query = query.startAfter(snapshot.docs[snapshot.size - 1]);
    }
    throw new UnavailableError(
      `no ready version among the newest ${LATEST_SCAN_PAGE * LATEST_SCAN_MAX_PAGES} documents; retry later`,
      30,
    );
  }

  async list(limit: number, after?: number): Promise<CatalogPage> {
    let query = this.newestFirst();
    if (after !== undefined) query = query.startAfter(after);
    const snapshot = await query.limit(limit + 1).get();
    const records = snapshot.docs
      .map(recordOf)
      .filter((r): r is DatasetRecord => r !== undefined);
    const page = records.slice(0, limit);
    return {
      records: page,
      next:
        snapshot.size > limit && page.length > 0
          ? page[page.length - 1].version
          : undefined,
    };
  }
}
