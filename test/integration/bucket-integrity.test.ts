/**
 * Strangers' objects uploaded straight into the emulator bucket (docs/design.md §6):
 * malformed metadata at a future version, forged well-formed metadata for an
 * unallocated version, huge version numbers, objects outside the prefix.
 * None creates a document, moves `latest`, changes a committed object, or
 * stops the next generate from getting the next version.
 */
import assert from 'node:assert/strict';
import {createHash, randomUUID} from 'node:crypto';
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

const sha256 = (bytes: Uint8Array) =>
  createHash('sha256').update(bytes).digest('hex');

/** A CloudEvent exactly as Eventarc delivers it; resolves once the function answered. */
function finalizedEvent(name: string, generation: string, time = new Date()) {
  return call(`${t.url}/recordDatasetMetadata`, {
    method: 'POST',
    headers: {
      'ce-id': randomUUID(),
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.storage.object.v1.finalized',
      'ce-source': `//storage.googleapis.com/projects/_/buckets/${t.bucket.name}`,
      'ce-subject': `objects/${name}`,
      'ce-time': time.toISOString(),
      'content-type': 'application/json',
    },
    body: JSON.stringify({bucket: t.bucket.name, name, generation}),
  });
}

async function catalogue(): Promise<Record<string, unknown>> {
  const snapshot = await t.firestore.collection('datasets').get();
  return Object.fromEntries(snapshot.docs.map(d => [d.id, d.data()]));
}

/** sha256 of every object in the bucket, by name. */
async function bucketDigests(): Promise<Map<string, string>> {
  const [files] = await t.bucket.getFiles();
  const out = new Map<string, string>();
  for (const file of files) {
    if (file.name.startsWith('.local-stack/')) continue;
    const [bytes] = await file.download();
    out.set(file.name, sha256(bytes));
  }
  return out;
}

async function generate(seed: number): Promise<number> {
  const response = await postJson(`${t.url}/generateDataset`, {
    nSamples: 2000,
    seed,
  });
  assert.equal(response.status, 201, response.text);
  const version = (response.body as {version: number}).version;
  await waitReady(t.url, version);
  return version;
}

describe('objects this service did not write', {timeout: 10 * 60_000}, () => {
  it('create no document, move nothing, change no committed object, block no allocation', async () => {
    const first = await generate(1);
    assert.equal(first, 1);
    const [v1Metadata] = await t.bucket
      .file('datasets/v1/metadata_v1.json')
      .download();

    /** v1's metadata made to look like version v's. */
    const forgedFor = (v: string) => {
      const metadata = JSON.parse(v1Metadata.toString());
      metadata.version = Number(v);
      for (const object of Object.values(metadata.objects) as Array<{
        name: string;
      }>)
        object.name = object.name.replaceAll('v1', `v${v}`);
      return JSON.stringify(metadata);
    };
    const strangers: Array<[string, string]> = [
      [
        'datasets/v102/metadata_v102.json',
        '{"version": 102, "this is": not json',
      ],
      ['datasets/v7/metadata_v7.json', forgedFor('7')],
      ['datasets/v7/dataset_v7.parquet', 'PAR1 not really'],
      [
        'datasets/v9007199254740991/metadata_v9007199254740991.json',
        forgedFor('9007199254740991'),
      ],
      [
        'datasets/v999999999999999/metadata_v999999999999999.json',
        forgedFor('999999999999999'),
      ],
      [
        'datasets/v18446744073709551616/metadata_v18446744073709551616.json',
        '{}',
      ],
      ['datasets/v0/metadata_v0.json', forgedFor('0')],
      ['datasets/v01/metadata_v01.json', forgedFor('1')],
      ['datasets/v1/metadata_v2.json', forgedFor('2')],
      ['elsewhere/v3/metadata_v3.json', forgedFor('3')],
      ['datasets/notes.txt', 'hello'],
    ];
    const catalogueBefore = await catalogue();
    assert.deepEqual(Object.keys(catalogueBefore), ['v1']);
    const committed = await bucketDigests();

    for (const [name, body] of strangers) {
      await t.bucket.file(name).save(body, {contentType: 'application/json'});
      const [metadata] = await t.bucket.file(name).getMetadata();
      // Delivered directly too, so that the function has answered before we look.
      const response = await finalizedEvent(name, String(metadata.generation));
      assert.equal(response.status, 204, `${name}: ${response.text}`);
    }
    // An event past the retry window is acknowledged without a look.
    const stale = await finalizedEvent(
      'datasets/v1/metadata_v1.json',
      '1',
      new Date(Date.now() - 3 * 24 * 3600_000),
    );
    assert.equal(stale.status, 204);

    assert.deepEqual(await catalogue(), catalogueBefore);
    const latest = await call<{version: number}>(
      `${t.url}/loadParquet?version=latest`,
    );
    assert.equal(latest.body.version, 1);
    for (const v of ['7', '102', '9007199254740991', '999999999999999']) {
      const response = await call<{error: {code: string}}>(
        `${t.url}/loadMetadata?version=${v}`,
      );
      assert.ok(
        [400, 404].includes(response.status),
        `v${v}: ${response.status}`,
      );
    }

    // The next generate gets the next version and becomes latest.
    const second = await generate(2);
    assert.equal(second, 2);
    const latestAfter = await call<{version: number}>(
      `${t.url}/loadParquet?version=latest`,
    );
    assert.equal(latestAfter.body.version, 2);
    const ids = Object.keys(await catalogue()).sort();
    assert.deepEqual(ids, ['v1', 'v2']);

    // Every object that existed is unchanged, and the strangers' are still there.
    const now = await bucketDigests();
    for (const [name, digest] of committed)
      assert.equal(now.get(name), digest, `${name} changed`);
    for (const [name] of strangers) assert.ok(now.has(name), `${name} deleted`);
  });

  it('a stranger squatting the next version fails that version and the generate goes on at the one after', async () => {
    const names = Object.keys(await catalogue()).map(id => Number(id.slice(1)));
    const next = Math.max(...names) + 1;
    const squatted = `datasets/v${next}/dataset_v${next}.parquet`;
    await t.bucket.file(squatted).save('a stranger was here');
    const [before] = await t.bucket.file(squatted).getMetadata();
    const version = await generate(3);
    assert.equal(version, next + 1);
    const [afterwards] = await t.bucket.file(squatted).getMetadata();
    assert.equal(afterwards.generation, before.generation);
    const squattedDoc = (
      await t.firestore.collection('datasets').doc(`v${next}`).get()
    ).data();
    assert.equal(squattedDoc?.status, 'failed');
    assert.match(squattedDoc?.error, /already exists/);
    const [leftovers] = await t.bucket.getFiles({prefix: `datasets/v${next}/`});
    assert.deepEqual(
      leftovers.map(f => f.name),
      [squatted],
      'only the stranger object remains in the failed version',
    );
  });
});
