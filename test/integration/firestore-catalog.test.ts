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
import {FirestoreCatalog} from '../../shared/catalog/firestore-catalog.js';
import {resolveConfig} from '../../shared/config.js';
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
});
