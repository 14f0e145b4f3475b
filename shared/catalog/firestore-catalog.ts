/**
 * The dataset catalogue in Firestore. Versions come from a counter document
 * updated in a transaction, so they are strictly increasing, never reused and
 * distinct under concurrent requests; `latest` is a pointer moved forward
 * (never back) in the same transaction that marks a version ready.
 */
import type {Firestore, Transaction} from '@google-cloud/firestore';
import type {DatasetConfig} from '../config.js';
import {FailedPreconditionError, NotFoundError} from '../errors.js';
import {GENERATOR} from '../version.js';
import type {DatasetRecord, DatasetStatus} from './records.js';

interface CounterDocument {
  lastVersion: number;
  latestReady?: number;
}

export type RecordOutcome =
  'recorded' | 'duplicate' | 'stale' | 'failed-version';

export class DatasetCatalog {
  constructor(
    private readonly firestore: Firestore,
    readonly collection: string,
  ) {}

  private versions() {
    return this.firestore.collection(this.collection);
  }

  /** Kept beside the collection, so listing versions never meets it. */
  private counter() {
    return this.firestore
      .collection(`${this.collection}-counters`)
      .doc('versions');
  }

  private doc(version: number) {
    return this.versions().doc(`v${version}`);
  }

  /** Allocates the next version and records it as `generating`. */
  async allocate(config: DatasetConfig, now: Date): Promise<DatasetRecord> {
    return this.firestore.runTransaction(async tx => {
      const counter = await tx.get(this.counter());
      const last =
        (counter.data() as CounterDocument | undefined)?.lastVersion ?? 0;
      const version = last + 1;
      const record: DatasetRecord = {
        version,
        status: 'generating',
        config,
        createdAt: now.toISOString(),
        generator: {...GENERATOR},
      };
      tx.set(this.counter(), {lastVersion: version}, {merge: true});
      tx.create(this.doc(version), record);
      return record;
    });
  }

  /** Marks a version failed unless it is already ready (a version never goes back). */
  async markFailed(version: number, error: string): Promise<void> {
    await this.firestore.runTransaction(async tx => {
      const snapshot = await tx.get(this.doc(version));
      const current = snapshot.data() as DatasetRecord | undefined;
      if (current?.status === 'ready') return;
      tx.set(
        this.doc(version),
        {status: 'failed' satisfies DatasetStatus, error},
        {merge: true},
      );
    });
  }

  async get(version: number): Promise<DatasetRecord | undefined> {
    const snapshot = await this.doc(version).get();
    return snapshot.exists ? (snapshot.data() as DatasetRecord) : undefined;
  }

  /** A version by number or `latest` (the newest ready one). */
  async resolve(selector: number | 'latest'): Promise<DatasetRecord> {
    let version: number;
    if (selector === 'latest') {
      const counter = (await this.counter().get()).data() as
        CounterDocument | undefined;
      if (!counter?.latestReady)
        throw new NotFoundError('no dataset version is ready yet');
      version = counter.latestReady;
    } else {
      version = selector;
    }
    const record = await this.get(version);
    if (!record)
      throw new NotFoundError(`dataset version ${version} does not exist`);
    return record;
  }

  /** Like resolve, but only a ready version will do. */
  async resolveReady(selector: number | 'latest'): Promise<DatasetRecord> {
    const record = await this.resolve(selector);
    if (record.status === 'generating') {
      throw new FailedPreconditionError(
        `dataset version ${record.version} is not ready yet (still generating); retry shortly`,
      );
    }
    if (record.status === 'failed') {
      throw new FailedPreconditionError(
        `dataset version ${record.version} failed and will never be ready: ${record.error ?? 'unknown error'}`,
      );
    }
    return record;
  }

  /** Newest first; `after` is the last version of the previous page. */
  async list(
    limit: number,
    after?: number,
  ): Promise<{records: DatasetRecord[]; next?: number}> {
    let query = this.versions().orderBy('version', 'desc');
    if (after !== undefined) query = query.startAfter(after);
    const snapshot = await query.limit(limit + 1).get();
    const records = snapshot.docs.map(d => d.data() as DatasetRecord);
    const page = records.slice(0, limit);
    return {
      records: page,
      next: records.length > limit ? page[page.length - 1].version : undefined,
    };
  }

  /**
   * Records a version as ready, idempotently and order-tolerantly: the same
   * metadata generation twice, or an older one after a newer one, changes
   * nothing; a failed version stays failed.
   */
  async recordReady(
    ready: DatasetRecord & {recordedGeneration: string},
  ): Promise<RecordOutcome> {
    return this.firestore.runTransaction(async (tx: Transaction) => {
      const [snapshot, counterSnapshot] = await Promise.all([
        tx.get(this.doc(ready.version)),
        tx.get(this.counter()),
      ]);
      const current = snapshot.data() as DatasetRecord | undefined;
      const counter = (counterSnapshot.data() as
        CounterDocument | undefined) ?? {lastVersion: 0};
      if (current?.status === 'failed') return 'failed-version';
      if (current?.recordedGeneration !== undefined) {
        const recorded = BigInt(current.recordedGeneration);
        const incoming = BigInt(ready.recordedGeneration);
        if (incoming === recorded) return 'duplicate';
        if (incoming < recorded) return 'stale';
      }
      tx.set(this.doc(ready.version), {
        ...ready,
        createdAt: current?.createdAt ?? ready.createdAt,
      });
      tx.set(
        this.counter(),
        {
          // a version recorded without allocation (restored bucket) is never handed out again
          lastVersion: Math.max(counter.lastVersion ?? 0, ready.version),
          latestReady: Math.max(counter.latestReady ?? 0, ready.version),
        },
        {merge: true},
      );
      return 'recorded';
    });
  }
}
