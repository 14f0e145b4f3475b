/**
 * recordDatasetMetadata as Eventarc drives it: idempotent, order-tolerant,
 * and acknowledging (204) foreign and malformed objects instead of failing
 * into a retry storm.
 */
import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';
import {after, before, describe, it} from 'node:test';
import {
  call,
  postJson,
  startTestStack,
  waitReady,
  type TestStack,
} from '../support/stack.js';

let t: TestStack;
before(async () => {
  t = await startTestStack();
});
after(async () => {
  await t?.stop();
});

/** A CloudEvent exactly as Eventarc delivers it (binary content mode). */
function finalizedEvent(bucket: string, name: string, generation: string) {
  return call(`${t.url}/recordDatasetMetadata`, {
    method: 'POST',
    headers: {
      'ce-id': randomUUID(),
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.storage.object.v1.finalized',
      'ce-source': `//storage.googleapis.com/projects/_/buckets/${bucket}`,
      'ce-subject': `objects/${name}`,
      'ce-time': new Date().toISOString(),
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      kind: 'storage#object',
      bucket,
      name,
      generation,
      metageneration: '1',
      size: '1',
    }),
  });
}

async function doc(version: number) {
  return (
    await t.firestore.collection('datasets').doc(`v${version}`).get()
  ).data();
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}

describe('recordDatasetMetadata', {timeout: 10 * 60_000}, () => {
  let version = 0;
  let metadataName = '';

  before(async () => {
    const response = await postJson(`${t.url}/generateDataset`, {
      nSamples: 5000,
      seed: 99,
    });
    assert.equal(response.status, 201, response.text);
    version = (response.body as {version: number}).version;
    metadataName = `datasets/v${version}/metadata_v${version}.json`;
    await waitReady(t.url, version);
  });

  it('takes the same event twice without changing anything', async () => {
    const before = await doc(version);
    const [metadata] = await t.bucket.file(metadataName).getMetadata();
    for (let i = 0; i < 2; i++) {
      const response = await finalizedEvent(
        t.bucket.name,
        metadataName,
        String(metadata.generation),
      );
      assert.equal(response.status, 204, response.text);
    }
    assert.deepEqual(await doc(version), before);
  });

  it('never records another generation of a ready version, newer or older', async () => {
    const recorded = await doc(version);
    const file = t.bucket.file(metadataName);
    const [bytes] = await file.download();
    const [old] = await file.getMetadata();
    // A stranger replaces the committed metadata (only a test would: objects are immutable).
    await file.delete();
    await t.bucket
      .file(metadataName)
      .save(bytes, {contentType: 'application/json'});
    const [fresh] = await t.bucket.file(metadataName).getMetadata();
    assert.ok(
      BigInt(fresh.generation as string) > BigInt(old.generation as string),
    );
    for (const generation of [fresh.generation, old.generation]) {
      const response = await finalizedEvent(
        t.bucket.name,
        metadataName,
        String(generation),
      );
      assert.equal(response.status, 204);
    }
    assert.deepEqual(await doc(version), recorded);
  });

  it('acknowledges events of a foreign bucket and objects that are not metadata', async () => {
    const countBefore = (await t.firestore.collection('datasets').get()).size;
    assert.equal(
      (await finalizedEvent('someone-elses-bucket', metadataName, '1')).status,
      204,
    );
    await t.bucket.file('notes/readme.txt').save('not a dataset');
    assert.equal(
      (await finalizedEvent(t.bucket.name, 'notes/readme.txt', '1')).status,
      204,
    );
    assert.equal(
      (
        await finalizedEvent(
          t.bucket.name,
          `datasets/v${version}/dataset_v${version}.parquet`,
          '1',
        )
      ).status,
      204,
    );
    assert.equal(
      (await finalizedEvent(t.bucket.name, 'datasets/v5/metadata_v6.json', '1'))
        .status,
      204,
    );
    assert.equal(
      (await t.firestore.collection('datasets').get()).size,
      countBefore,
    );
  });

  it('acknowledges an event that is not a storage object at all', async () => {
    const response = await call(`${t.url}/recordDatasetMetadata`, {
      method: 'POST',
      headers: {
        'ce-id': 'x',
        'ce-specversion': '1.0',
        'ce-type': 'com.example.other',
        'ce-source': '//example',
        'content-type': 'application/json',
      },
      body: '{"hello": "world"}',
    });
    assert.equal(response.status, 204);
  });

  /** A version allocated as generateDataset does, with v{version}'s config, never written. */
  async function allocateLike(): Promise<number> {
    const {FirestoreCatalog} =
      await import('../../shared/catalog/firestore-catalog.js');
    const catalog = new FirestoreCatalog(t.firestore, 'datasets');
    const original = await doc(version);
    const record = await catalog.allocate({
      config: original?.config,
      now: new Date(),
      leaseMs: 600_000,
    });
    return record.version;
  }

  it('marks our generating version failed when its metadata is malformed, and acknowledges', async () => {
    const ours = await allocateLike();
    await t.bucket
      .file(`datasets/v${ours}/metadata_v${ours}.json`)
      .save(`{"version": ${ours}, "this is": not json`);
    const failed = await waitFor(`v${ours} to be marked failed`, async () => {
      const current = await doc(ours);
      return current?.status === 'failed' ? current : undefined;
    });
    assert.match(failed.error, /not valid JSON/);
    const load = await call<{error: {code: string}}>(
      `${t.url}/loadParquet?version=${ours}`,
    );
    assert.equal(load.status, 409);
  });

  let inconsistent = 0;
  it('marks our generating version failed when a data object it lists is missing', async () => {
    inconsistent = await allocateLike();
    const [bytes] = await t.bucket.file(metadataName).download();
    const metadata = JSON.parse(bytes.toString());
    metadata.version = inconsistent;
    for (const object of Object.values(metadata.objects) as Array<{
      name: string;
    }>) {
      object.name = object.name.replaceAll(`v${version}`, `v${inconsistent}`);
    }
    await t.bucket
      .file(`datasets/v${inconsistent}/metadata_v${inconsistent}.json`)
      .save(JSON.stringify(metadata));
    const failed = await waitFor(
      `v${inconsistent} to be marked failed`,
      async () => {
        const current = await doc(inconsistent);
        return current?.status === 'failed' ? current : undefined;
      },
    );
    assert.match(
      failed.error,
      new RegExp(
        `data object datasets/v${inconsistent}/dataset_v${inconsistent}\\.(parquet|tfrecord) is missing`,
      ),
    );
    const latest = await call<{version: number}>(
      `${t.url}/loadParquet?version=latest`,
    );
    assert.equal(latest.body.version, version);
  });

  it('never turns a failed version ready', async () => {
    // Its data objects arrive late, and its metadata event is delivered again: it stays failed.
    const v = inconsistent;
    for (const format of ['parquet', 'tfrecord']) {
      const [data] = await t.bucket
        .file(`datasets/v${version}/dataset_v${version}.${format}`)
        .download();
      await t.bucket.file(`datasets/v${v}/dataset_v${v}.${format}`).save(data);
    }
    const [meta] = await t.bucket
      .file(`datasets/v${v}/metadata_v${v}.json`)
      .getMetadata();
    assert.equal(
      (
        await finalizedEvent(
          t.bucket.name,
          `datasets/v${v}/metadata_v${v}.json`,
          String(meta.generation),
        )
      ).status,
      204,
    );
    assert.equal((await doc(v))?.status, 'failed');
  });
});
