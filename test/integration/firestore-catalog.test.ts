/**
 * FirestoreCatalog on the real Firestore emulator: the same rules the
 * in-memory catalogue of the unit tests follows. Forged and legacy documents
 * neither stop nor jump allocation; concurrent allocations are distinct;
 * markFailed and recordReady change only generating versions under lease.
 */
import assert from 'node:assert/strict';
import {mkdir, mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {Firestore} from '@google-cloud/firestore';
import {
  startGcloudEmulator,
  type RunningGcloudEmulator,
} from '../../local/gcloud-emulator.js';
import {freePort} from '../../local/ports.js';
import type {ReadyRecord} from '../../shared/catalog/catalog.js';
import type {ShardRecord} from '../../shared/catalog/records.js';
import {FirestoreCatalog} from '../../shared/catalog/firestore-catalog.js';
import {resolveConfig} from '../../shared/dataset/config.js';
import {UnavailableError} from '../../shared/errors.js';

const config = resolveConfig({nSamples: 10, seed: 1});
let runDir: string;
let emulator: RunningGcloudEmulator;
let firestore: Firestore;
let collectionCount = 0;

before(async () => {
  runDir = await mkdtemp(join(tmpdir(), 'firestore-catalog-test-'));
  await mkdir(join(runDir, 'logs'));
  emulator = await startGcloudEmulator({
    kind: 'firestore',
    port: await freePort(),
    projectId: 'catalog-test',
    runDir,
    timeoutMs: 90_000,
  });
  process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
  firestore = new Firestore({
    projectId: 'catalog-test',
    ignoreUndefinedProperties: true,
  });
});
after(async () => {
  await firestore?.terminate().catch(() => undefined);
  await emulator?.process.stop();
  await rm(runDir, {recursive: true, force: true});
});

function fresh(): {catalog: FirestoreCatalog; name: string} {
  const name = `catalog-${collectionCount++}`;
  return {catalog: new FirestoreCatalog(firestore, name), name};
}

const now = new Date('2026-05-01T00:00:00.000Z');
const allocate = (catalog: FirestoreCatalog, at = now, leaseMs = 60_000) =>
  catalog.allocate({config, now: at, leaseMs});

function ready(version: number, generation = '100'): ReadyRecord {
  return {
    version,
    recordedAt: now.toISOString(),
    recordedGeneration: generation,
    metadataObject: `datasets/v${version}/metadata_v${version}.json`,
    objects: {},
    probabilities: {
      stored: 'inline',
      target_store_id_probs: {},
      creative_pack_id_probs: {},
      creative_pack_target: {},
      pair_probs: {},
    },
    empirical: {rows: 10, positives: 1, rate: 0.1},
  };
}

describe('FirestoreCatalog on the emulator', {timeout: 5 * 60_000}, () => {
  it('allocates 1, 2, 3 in sequence, generating with a lease', async () => {
    const {catalog} = fresh();
    const records = [];
    for (let i = 0; i < 3; i++) records.push(await allocate(catalog));
    assert.deepEqual(
      records.map(r => r.version),
      [1, 2, 3],
    );
    const stored = await catalog.get(2);
    assert.equal(stored?.status, 'generating');
    assert.equal(stored?.leaseExpiresAt, '2026-05-01T00:01:00.000Z');
  });

  it('ignores forged and legacy documents: v9007199254740991, an id that lies, a string version', async () => {
    const {catalog, name} = fresh();
    await allocate(catalog);
    const docs = firestore.collection(name);
    await docs
      .doc('v9007199254740991')
      .set({version: 9007199254740991, status: 'ready'});
    await docs.doc('v500').set({version: 400, status: 'ready'});
    await docs.doc('vx').set({version: 'zzz', status: 'ready'});
    assert.equal((await allocate(catalog)).version, 2);
    assert.equal(await catalog.get(9007199254740991), undefined);
    assert.equal(await catalog.get(500), undefined);
    assert.deepEqual(
      (await catalog.list(10)).records.map(r => r.version),
      [2, 1],
    );
    assert.equal(await catalog.latestReady(), undefined);
  });

  it('gives 40 concurrent allocations distinct versions above the newest', async () => {
    const {catalog} = fresh();
    await allocate(catalog);
    const versions = (
      await Promise.all(Array.from({length: 40}, () => allocate(catalog)))
    ).map(r => r.version);
    assert.equal(new Set(versions).size, 40);
    assert.ok(versions.every(v => v > 1));
    assert.ok((await allocate(catalog)).version > Math.max(...versions));
  });

  it('answers UNAVAILABLE, not a 500, when collisions exceed its attempts', async () => {
    const {name} = fresh();
    const catalog = new FirestoreCatalog(firestore, name, {
      maxAttempts: 1,
      spreadInFlight: false,
    });
    await allocate(catalog);
    const results = await Promise.allSettled(
      Array.from({length: 10}, () => allocate(catalog)),
    );
    const refused = results.filter(r => r.status === 'rejected');
    assert.ok(refused.length >= 1);
    for (const r of refused)
      assert.ok(
        (r as PromiseRejectedResult).reason instanceof UnavailableError,
      );
  });

  it('records ready only a generating version under its lease, once', async () => {
    const {catalog} = fresh();
    await allocate(catalog);
    await allocate(catalog);
    assert.equal(await catalog.recordReady(ready(9), now), 'not-allocated');
    assert.equal(await catalog.recordReady(ready(1), now), 'recorded');
    assert.equal(await catalog.recordReady(ready(1), now), 'duplicate');
    assert.equal(await catalog.recordReady(ready(1, '99'), now), 'stale');
    assert.equal(
      await catalog.recordReady(ready(1, '101'), now),
      'not-generating',
    );
    assert.equal((await catalog.latestReady())?.version, 1);
    const late = new Date(now.getTime() + 61_000);
    assert.equal(await catalog.recordReady(ready(2), late), 'lease-expired');
    assert.equal((await catalog.get(2))?.status, 'failed');
    assert.equal(await catalog.recordReady(ready(2), now), 'not-generating');
    assert.equal((await catalog.latestReady())?.version, 1);
  });

  it('marks failed only a generating version; allocation fails the newest past its lease', async () => {
    const {catalog} = fresh();
    await allocate(catalog);
    await catalog.recordReady(ready(1), now);
    assert.equal(await catalog.markFailed(1, 'no', now), false);
    assert.equal((await catalog.get(1))?.status, 'ready');
    await allocate(catalog);
    const later = new Date(now.getTime() + 120_000);
    assert.equal((await allocate(catalog, later)).version, 3);
    // best effort, in the background: wait for it
    for (let i = 0; i < 50 && (await catalog.get(2))?.status !== 'failed'; i++)
      await new Promise(resolve => setTimeout(resolve, 100));
    const failed = await catalog.get(2);
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.error ?? '', /lease/);
  });

  it('records the shards of a sharded version: attempts counted, exactly one completedNow under concurrent and duplicate calls', async () => {
    const {catalog, name} = fresh();
    const sharded = resolveConfig({nSamples: 4 * 65_536, shards: 4, seed: 1});
    const {version} = await catalog.allocate({
      config: sharded,
      now,
      leaseMs: 60_000,
    });
    assert.deepEqual(await catalog.beginShard(version, 2, now), {
      state: 'attempt',
      attempt: 1,
    });
    assert.deepEqual(await catalog.beginShard(version, 2, now), {
      state: 'attempt',
      attempt: 2,
    });
    // every shard three times over, all at once
    const calls = [0, 1, 2, 3].flatMap(k => [
      shardRecord(k),
      shardRecord(k),
      shardRecord(k),
    ]);
    const results = await Promise.all(
      calls.map(r => catalog.recordShard(version, r, now)),
    );
    assert.deepEqual(
      results.map(r => r.outcome).sort(),
      [...Array(4).fill('recorded'), ...Array(8).fill('duplicate')].sort(),
    );
    assert.deepEqual(
      results
        .filter(r => r.outcome === 'recorded')
        .map(r => r.recorded)
        .sort(),
      [1, 2, 3, 4],
    );
    assert.equal(results.filter(r => r.completedNow).length, 1);
    const last = results.find(r => r.completedNow);
    assert.deepEqual(last && {recorded: last.recorded, of: last.of}, {
      recorded: 4,
      of: 4,
    });
    assert.equal((await catalog.get(version))?.shardsRecorded, 4);
    assert.equal((await catalog.get(version))?.status, 'generating');
    const records = await catalog.shardRecords(version);
    assert.deepEqual(
      records.map(r => r.shard),
      [0, 1, 2, 3],
    );
    assert.deepEqual(records[3], shardRecord(3));
    // a redelivery finds its record; the attempts of shard 2 were kept
    assert.deepEqual(await catalog.beginShard(version, 1, now), {
      state: 'recorded',
      record: shardRecord(1),
    });
    const shardDoc = await firestore
      .collection(name)
      .doc(`v${version}`)
      .collection('shards')
      .doc('00002')
      .get();
    assert.equal(shardDoc.get('attempts'), 2);
    // the shards subcollection is no version: listing and allocation ignore it
    assert.deepEqual(
      (await catalog.list(10)).records.map(r => r.version),
      [version],
    );
  });

  it('16 shards recorded at once (twice each): one completedNow, every count 1..16 once', async () => {
    const {catalog} = fresh();
    const sharded = resolveConfig({
      nSamples: 16 * 65_536,
      shards: 16,
      seed: 1,
    });
    const {version} = await catalog.allocate({
      config: sharded,
      now,
      leaseMs: 60_000,
    });
    const indices = Array.from({length: 16}, (_, k) => k);
    const results = await Promise.all(
      [...indices, ...indices].map(k =>
        catalog.recordShard(version, shardRecord(k), now),
      ),
    );
    assert.equal(results.filter(r => r.completedNow).length, 1);
    assert.deepEqual(
      results
        .filter(r => r.outcome === 'recorded')
        .map(r => r.recorded)
        .sort((a, b) => a - b),
      indices.map(k => k + 1),
    );
    assert.equal(results.filter(r => r.outcome === 'duplicate').length, 16);
    assert.equal((await catalog.shardRecords(version)).length, 16);
  });

  it('refuses shards of versions not ours, not generating, or past their lease (and fails the latter)', async () => {
    const {catalog} = fresh();
    const sharded = resolveConfig({nSamples: 2 * 65_536, shards: 2, seed: 1});
    assert.deepEqual(await catalog.beginShard(7, 0, now), {
      state: 'not-allocated',
    });
    assert.equal(
      (await catalog.recordShard(7, shardRecord(0), now)).outcome,
      'not-allocated',
    );
    await catalog.allocate({config: sharded, now, leaseMs: 60_000});
    await catalog.allocate({config: sharded, now, leaseMs: 60_000});
    assert.equal(await catalog.markFailed(1, 'broken', now), true);
    assert.deepEqual(await catalog.beginShard(1, 0, now), {
      state: 'not-generating',
    });
    assert.deepEqual(await catalog.recordShard(1, shardRecord(0), now), {
      outcome: 'not-generating',
      recorded: 0,
      of: 2,
      completedNow: false,
    });
    const late = new Date(now.getTime() + 60_000);
    assert.deepEqual(await catalog.beginShard(2, 0, late), {
      state: 'lease-expired',
    });
    const failed = await catalog.get(2);
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.error ?? '', /lease/);
    assert.deepEqual(await catalog.shardRecords(2), []);
  });
});

function shardRecord(shard: number): ShardRecord {
  return {
    shard,
    rows: 65_536,
    objects: {
      parquet: {
        name: `datasets/v1/dataset_v1-0000${shard}-of-00004.parquet`,
        rows: 65_536,
        bytes: 1000 + shard,
        crc32c: 'AAAAAA==',
        md5: 'AAAAAAAAAAAAAAAAAAAAAA==',
        sha256: '0'.repeat(64),
      },
    },
    targets: {rows: [30_000, 35_536], positives: [100 + shard, 200]},
    recordedAt: now.toISOString(),
  };
}
