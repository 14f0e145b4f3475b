/**
 * The Catalog in memory, for unit tests of the services: the same rules as
 * the Firestore catalogue (allocation above the newest, never reused;
 * markFailed only while generating; readyOutcome), plus what tests need:
 * raw documents (forged or legacy ones), injected failures, a call log.
 */
import {
  documentId,
  isAllocatableVersion,
  isPastLease,
  leaseExpiredMessage,
  readyOutcome,
  shardOutcome,
  shardsOfRecord,
  type AllocationRequest,
  type Catalog,
  type CatalogPage,
  type ReadyRecord,
  type RecordOutcome,
  type ShardAttempt,
  type ShardRecordResult,
} from '../../shared/catalog/catalog.js';
import type {
  DatasetRecord,
  ShardDocument,
  ShardRecord,
} from '../../shared/catalog/records.js';
import {GENERATOR} from '../../shared/dataset/generator-version.js';

type Method =
  | 'allocate'
  | 'get'
  | 'markFailed'
  | 'recordReady'
  | 'latestReady'
  | 'list'
  | 'beginShard'
  | 'recordShard'
  | 'shardRecords';

export class MemoryCatalog implements Catalog {
  /** documents by id, as stored */
  readonly documents = new Map<string, DatasetRecord>();
  /** shard documents by "v{N}/k" */
  readonly shardDocuments = new Map<string, ShardDocument>();
  readonly calls: string[] = [];
  private readonly failures = new Map<Method, unknown[]>();
  private readonly hangs = new Set<Method>();

  /** The next call of `method` throws `error` (queued, one per call). */
  failNext(method: Method, error: unknown): this {
    const queue = this.failures.get(method) ?? [];
    queue.push(error);
    this.failures.set(method, queue);
    return this;
  }

  /** Every call of `method` never settles (a catalogue that went away). */
  hang(method: Method): this {
    this.hangs.add(method);
    return this;
  }

  private async enter(method: Method, detail = ''): Promise<void> {
    this.calls.push(detail ? `${method} ${detail}` : method);
    if (this.hangs.has(method)) await new Promise<never>(() => undefined);
    const error = this.failures.get(method)?.shift();
    if (error !== undefined) throw error;
  }

  /** Puts a document as is (legacy, forged, or a state a test needs). */
  put(record: DatasetRecord, id = documentId(record.version)): this {
    this.documents.set(id, structuredClone(record));
    return this;
  }

  private record(version: number): DatasetRecord | undefined {
    if (!isAllocatableVersion(version)) return undefined;
    const record = this.documents.get(documentId(version));
    return record?.version === version ? record : undefined;
  }

  private valid(): DatasetRecord[] {
    return [...this.documents.entries()]
      .filter(
        ([id, r]) =>
          isAllocatableVersion(r.version) && id === documentId(r.version),
      )
      .map(([, r]) => r)
      .sort((a, b) => b.version - a.version);
  }

  async allocate(request: AllocationRequest): Promise<DatasetRecord> {
    await this.enter('allocate');
    const newest = this.valid()[0];
    if (newest && isPastLease(newest, request.now)) {
      await this.markFailed(
        newest.version,
        leaseExpiredMessage(newest),
        request.now,
      );
    }
    let version = (newest?.version ?? 0) + 1;
    while (this.documents.has(documentId(version))) version++;
    const record: DatasetRecord = {
      version,
      status: 'generating',
      config: structuredClone(request.config),
      createdAt: request.now.toISOString(),
      leaseExpiresAt: new Date(
        request.now.getTime() + request.leaseMs,
      ).toISOString(),
      generator: {...GENERATOR},
    };
    this.documents.set(documentId(version), record);
    return structuredClone(record);
  }

  async get(version: number): Promise<DatasetRecord | undefined> {
    await this.enter('get', String(version));
    const record = this.record(version);
    return record && structuredClone(record);
  }

  async markFailed(
    version: number,
    error: string,
    now: Date,
  ): Promise<boolean> {
    await this.enter('markFailed', String(version));
    const record = this.record(version);
    if (record?.status !== 'generating') return false;
    record.status = 'failed';
    record.error = error;
    record.failedAt = now.toISOString();
    return true;
  }

  async recordReady(ready: ReadyRecord, now: Date): Promise<RecordOutcome> {
    await this.enter('recordReady', String(ready.version));
    const record = this.record(ready.version);
    const outcome = readyOutcome(record, ready.recordedGeneration, now);
    if (outcome === 'recorded' && record) {
      Object.assign(record, structuredClone(ready), {status: 'ready'});
    } else if (outcome === 'lease-expired' && record) {
      record.status = 'failed';
      record.error = leaseExpiredMessage(record);
      record.failedAt = now.toISOString();
    }
    return outcome;
  }

  private failLeaseExpired(record: DatasetRecord, now: Date): void {
    record.status = 'failed';
    record.error = leaseExpiredMessage(record);
    record.failedAt = now.toISOString();
  }

  async beginShard(
    version: number,
    shard: number,
    now: Date,
  ): Promise<ShardAttempt> {
    await this.enter('beginShard', `${version}/${shard}`);
    const record = this.record(version);
    const outcome = shardOutcome(record, now);
    if (outcome === 'lease-expired' && record)
      this.failLeaseExpired(record, now);
    if (outcome !== 'ok') return {state: outcome};
    const key = `${documentId(version)}/${shard}`;
    const previous = this.shardDocuments.get(key);
    if (previous?.record)
      return {state: 'recorded', record: structuredClone(previous.record)};
    const attempt = (previous?.attempts ?? 0) + 1;
    this.shardDocuments.set(key, {
      shard,
      attempts: attempt,
      lastAttemptAt: now.toISOString(),
    });
    return {state: 'attempt', attempt};
  }

  async recordShard(
    version: number,
    shardRecord: ShardRecord,
    now: Date,
  ): Promise<ShardRecordResult> {
    await this.enter('recordShard', `${version}/${shardRecord.shard}`);
    const record = this.record(version);
    const of = record ? shardsOfRecord(record) : 0;
    const recorded = record?.shardsRecorded ?? 0;
    const outcome = shardOutcome(record, now);
    if (outcome === 'lease-expired' && record)
      this.failLeaseExpired(record, now);
    if (outcome !== 'ok' || !record)
      return {
        outcome: outcome === 'ok' ? 'not-allocated' : outcome,
        recorded,
        of,
        completedNow: false,
      };
    const key = `${documentId(version)}/${shardRecord.shard}`;
    const previous = this.shardDocuments.get(key);
    if (previous?.record)
      return {outcome: 'duplicate', recorded, of, completedNow: false};
    this.shardDocuments.set(key, {
      shard: shardRecord.shard,
      attempts: previous?.attempts ?? 1,
      lastAttemptAt: previous?.lastAttemptAt ?? now.toISOString(),
      record: structuredClone(shardRecord),
    });
    record.shardsRecorded = recorded + 1;
    return {
      outcome: 'recorded',
      recorded: recorded + 1,
      of,
      completedNow: recorded + 1 === of,
    };
  }

  async shardRecords(version: number): Promise<ShardRecord[]> {
    await this.enter('shardRecords', String(version));
    const prefix = `${documentId(version)}/`;
    return [...this.shardDocuments.entries()]
      .filter(([key, doc]) => key.startsWith(prefix) && doc.record)
      .map(([, doc]) => structuredClone(doc.record!))
      .sort((a, b) => a.shard - b.shard);
  }

  /** The shard's document as stored (attempts, record). */
  shardDocument(version: number, shard: number): ShardDocument | undefined {
    return this.shardDocuments.get(`${documentId(version)}/${shard}`);
  }

  async latestReady(): Promise<DatasetRecord | undefined> {
    await this.enter('latestReady');
    const record = this.valid().find(r => r.status === 'ready');
    return record && structuredClone(record);
  }

  async list(limit: number, after?: number): Promise<CatalogPage> {
    await this.enter('list');
    const all = this.valid().filter(
      r => after === undefined || r.version < after,
    );
    const page = all.slice(0, limit).map(r => structuredClone(r));
    return {
      records: page,
      next: all.length > limit ? page[page.length - 1].version : undefined,
    };
  }
}
