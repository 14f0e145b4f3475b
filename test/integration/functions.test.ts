/**
 * The service end to end on real emulators (Firestore, Pub/Sub,
 * fake-gcs-server) and functions-framework: generate -> storage event ->
 * Firestore record -> loaders -> download through the signed URL.
 */
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {tfrecordRecordBytes} from '../../shared/formats/tfrecord/example-size.js';
import {REPO_ROOT} from '../support/python.js';
import {verifyV4SignedUrl} from '../support/signed-url.js';
import {
  call,
  objectNames,
  postJson,
  startTestStack,
  waitReady,
  type TestStack,
} from '../support/stack.js';
import {FUNCTION_NAMES} from '../../functions/function-names.js';

const sha256 = (bytes: Uint8Array) =>
  createHash('sha256').update(bytes).digest('hex');

let t: TestStack;
const scratch = mkdtempSync(join(tmpdir(), 'exploration-functions-'));

before(async () => {
  t = await startTestStack();
});
after(async () => {
  await t?.stop();
  rmSync(scratch, {recursive: true, force: true});
});

/** Every catalogue document, by id: what a rejected request must leave as it was. */
async function catalogue(): Promise<Record<string, unknown>> {
  const snapshot = await t.firestore.collection('datasets').get();
  return Object.fromEntries(snapshot.docs.map(d => [d.id, d.data()]));
}

async function highestVersion(): Promise<number> {
  const snapshot = await t.firestore
    .collection('datasets')
    .orderBy('version', 'desc')
    .limit(1)
    .get();
  return snapshot.empty ? 0 : (snapshot.docs[0].data().version as number);
}

describe(
  'generate -> event -> record -> load -> download',
  {timeout: 10 * 60_000},
  () => {
    let version = 0;
    let generated: Record<string, unknown> = {};

    it('generateDataset answers 201 with the version, gs:// objects and checksums', async () => {
      const response = await postJson(`${t.url}/generateDataset`, {
        nSamples: 150_000,
        seed: 2718,
        tfrecordCompression: 'NONE',
      });
      assert.equal(response.status, 201, response.text);
      generated = response.body as Record<string, unknown>;
      version = generated.version as number;
      assert.ok(Number.isInteger(version) && version >= 1);
      assert.equal(generated.rows, 150_000);
      assert.equal(generated.seed, 2718);
      const objects = generated.objects as Record<string, string>;
      const bucket = t.stack.env.DATASETS_BUCKET;
      assert.deepEqual(objects, {
        parquet: `gs://${bucket}/datasets/v${version}/dataset_v${version}.parquet`,
        tfrecord: `gs://${bucket}/datasets/v${version}/dataset_v${version}.tfrecord`,
        metadata: `gs://${bucket}/datasets/v${version}/metadata_v${version}.json`,
      });
      assert.ok((generated.durationMs as number) > 0);
    });

    it('the storage trigger records the version ready in Firestore', async () => {
      await waitReady(t.url, version);
      const doc = (
        await t.firestore.collection('datasets').doc(`v${version}`).get()
      ).data();
      assert.ok(doc);
      assert.equal(doc.status, 'ready');
      assert.equal(doc.version, version);
      assert.equal(doc.config.seed, 2718);
      assert.equal(doc.probabilities.stored, 'inline');
      assert.equal(Object.keys(doc.probabilities.pair_probs).length, 100);
      assert.match(doc.recordedGeneration, /^[0-9]+$/);
      assert.equal(doc.objects.tfrecord.bytes, 150_000 * tfrecordRecordBytes());
      const latest = await call<{version: number}>(
        `${t.url}/loadParquet?version=latest`,
      );
      assert.equal(latest.body.version, version);
    });

    it('the signed URLs download exactly the bytes the CLI writes for the same inputs', async () => {
      const cliDir = join(scratch, 'cli');
      execFileSync(
        process.execPath,
        [
          `${REPO_ROOT}build/cli/main.js`,
          'generate',
          '--samples',
          '150000',
          '--seed',
          '2718',
          '--out',
          cliDir,
          '--dataset-version',
          '77',
        ],
        {stdio: 'ignore'},
      );
      for (const [loader, file] of [
        ['loadParquet', 'dataset_v77.parquet'],
        ['loadTfrecord', 'dataset_v77.tfrecord'],
      ]) {
        const link = await call<{
          url: string;
          sizeBytes: number;
          crc32c: string;
          version: number;
        }>(`${t.url}/${loader}?version=latest`);
        assert.equal(link.status, 200, link.text);
        assert.equal(link.body.version, version);
        const download = await fetch(link.body.url);
        assert.equal(download.status, 200);
        const bytes = Buffer.from(await download.arrayBuffer());
        assert.equal(bytes.length, link.body.sizeBytes);
        assert.equal(
          sha256(bytes),
          sha256(readFileSync(join(cliDir, file))),
          `${loader} bytes differ from the CLI's`,
        );
      }
    });

    it('loadMetadata returns the metadata and a URL for it', async () => {
      const response = await call<{
        version: number;
        status: string;
        metadata: Record<string, unknown>;
        url: string;
      }>(`${t.url}/loadMetadata?version=${version}`);
      assert.equal(response.status, 200);
      assert.equal(response.body.status, 'ready');
      assert.equal(
        (response.body.metadata.config as {seed: number}).seed,
        2718,
      );
      const download = await fetch(response.body.url);
      assert.deepEqual(
        JSON.parse(await download.text()),
        response.body.metadata,
      );
    });

    it('listDatasets pages newest first', async () => {
      const first = await call<{
        datasets: Array<{version: number}>;
        nextPageToken: string | null;
      }>(`${t.url}/listDatasets?limit=1`);
      assert.equal(first.status, 200);
      assert.equal(first.body.datasets.length, 1);
      assert.equal(first.body.datasets[0].version, await highestVersion());
    });

    it('the V4 signature verifies with the local public key; expiry is the TTL asked', async () => {
      const link = await call<{url: string; expiresAt: string}>(
        `${t.url}/loadParquet?version=${version}&ttlSeconds=120`,
      );
      assert.equal(link.status, 200);
      const check = verifyV4SignedUrl(
        link.body.url,
        t.stack.signingKey.publicKeyPem,
      );
      assert.equal(check.valid, true);
      assert.equal(check.expiresSeconds, 120);
      assert.equal(
        new Date(link.body.expiresAt).getTime() - check.signedAt.getTime(),
        120_000,
      );
      assert.match(check.credential, /^local-signer@/);
      const tampered = link.body.url.replace(
        'X-Goog-Expires=120',
        'X-Goog-Expires=604800',
      );
      assert.equal(
        verifyV4SignedUrl(tampered, t.stack.signingKey.publicKeyPem).valid,
        false,
      );
    });

    it('refuses a TTL over the cap, and a zero TTL', async () => {
      for (const ttl of ['604801', '0', '1.5', 'abc']) {
        const response = await call<{error: {code: string; field: string}}>(
          `${t.url}/loadTfrecord?version=${version}&ttlSeconds=${ttl}`,
        );
        assert.equal(response.status, 400, ttl);
        assert.equal(response.body.error.field, 'ttlSeconds');
      }
    });
  },
);

describe(
  'the error contract of docs/design.md §5: JSON errors, nothing written',
  {timeout: 5 * 60_000},
  () => {
    const cases: Array<[string, string, RequestInit, number, string, string?]> =
      [
        [
          'unknown field',
          '/generateDataset',
          {
            method: 'POST',
            headers: {'content-type': 'application/json'},
            body: '{"nSample": 5}',
          },
          400,
          'INVALID_ARGUMENT',
          'nSample',
        ],
        [
          'wrong type',
          '/generateDataset',
          {
            method: 'POST',
            headers: {'content-type': 'application/json'},
            body: '{"nSamples": "5"}',
          },
          400,
          'INVALID_ARGUMENT',
          'nSamples',
        ],
        [
          'out of bounds',
          '/generateDataset',
          {
            method: 'POST',
            headers: {'content-type': 'application/json'},
            body: '{"nSamples": 1000000001}',
          },
          400,
          'INVALID_ARGUMENT',
          'nSamples',
        ],
        [
          'bad JSON',
          '/generateDataset',
          {
            method: 'POST',
            headers: {'content-type': 'application/json'},
            body: '{"nSamples": ',
          },
          400,
          'INVALID_ARGUMENT',
        ],
        [
          'a JSON array',
          '/generateDataset',
          {
            method: 'POST',
            headers: {'content-type': 'application/json'},
            body: '[1]',
          },
          400,
          'INVALID_ARGUMENT',
        ],
        [
          'not JSON',
          '/generateDataset',
          {
            method: 'POST',
            headers: {'content-type': 'text/plain'},
            body: 'nSamples=5',
          },
          415,
          'UNSUPPORTED_MEDIA_TYPE',
        ],
        [
          'a body over 64 KiB',
          '/generateDataset',
          {
            method: 'POST',
            headers: {'content-type': 'application/json'},
            body: JSON.stringify({nSamples: 5, pad: 'x'.repeat(70_000)}),
          },
          413,
          'PAYLOAD_TOO_LARGE',
        ],
        [
          'wrong method',
          '/generateDataset',
          {method: 'GET'},
          405,
          'METHOD_NOT_ALLOWED',
        ],
        [
          'query on generate',
          '/generateDataset?nSamples=5',
          {method: 'POST'},
          400,
          'INVALID_ARGUMENT',
          'nSamples',
        ],
        [
          'POST to a loader',
          '/loadParquet?version=1',
          {method: 'POST'},
          405,
          'METHOD_NOT_ALLOWED',
        ],
        ['no version', '/loadParquet', {}, 400, 'INVALID_ARGUMENT', 'version'],
        [
          'bad version',
          '/loadTfrecord?version=-3',
          {},
          400,
          'INVALID_ARGUMENT',
          'version',
        ],
        [
          'unknown parameter',
          '/loadMetadata?version=1&verison=2',
          {},
          400,
          'INVALID_ARGUMENT',
          'verison',
        ],
        [
          'no such version',
          '/loadParquet?version=999999',
          {},
          404,
          'NOT_FOUND',
        ],
        [
          'bad limit',
          '/listDatasets?limit=1000',
          {},
          400,
          'INVALID_ARGUMENT',
          'limit',
        ],
        [
          'forged page token',
          '/listDatasets?pageToken=abc',
          {},
          400,
          'INVALID_ARGUMENT',
          'pageToken',
        ],
      ];
    for (const [name, path, init, status, code, field] of cases) {
      it(`${name} -> ${status} ${code}`, async () => {
        const objectsBefore = await objectNames(t.bucket);
        const catalogueBefore = await catalogue();
        const response = await call<{
          error: {code: string; message: string; field?: string};
        }>(`${t.url}${path}`, init);
        assert.equal(response.status, status, response.text);
        assert.match(
          response.headers.get('content-type') ?? '',
          /application\/json/,
        );
        assert.equal(response.body.error.code, code);
        assert.ok(response.body.error.message.length > 0);
        if (field) assert.equal(response.body.error.field, field);
        assert.doesNotMatch(
          response.text,
          /\/work\/|node_modules|at [A-Za-z.]+ \(/,
          'no stack trace or internal path',
        );
        if (status === 405) assert.ok(response.headers.get('allow'));
        assert.deepEqual(await objectNames(t.bucket), objectsBefore);
        assert.deepEqual(await catalogue(), catalogueBefore);
      });
    }

    it('a version still generating or failed -> 409 FAILED_PRECONDITION with its versionStatus', async () => {
      const {FirestoreCatalog} =
        await import('../../shared/catalog/firestore-catalog.js');
      const {resolveConfig} = await import('../../shared/dataset/config.js');
      const catalog = new FirestoreCatalog(t.firestore, 'datasets');
      const record = await catalog.allocate({
        config: resolveConfig({nSamples: 10, seed: 1}),
        now: new Date(),
        leaseMs: 600_000,
      });
      type NotReady = {
        error: {code: string; message: string; versionStatus?: string};
      };
      const response = await call<NotReady>(
        `${t.url}/loadParquet?version=${record.version}`,
      );
      assert.equal(response.status, 409);
      assert.equal(response.body.error.code, 'FAILED_PRECONDITION');
      assert.equal(response.body.error.versionStatus, 'generating');
      assert.equal(response.headers.get('retry-after'), '2');
      assert.match(response.body.error.message, /not ready yet/);
      await catalog.markFailed(record.version, 'test: abandoned', new Date());
      for (const loader of ['loadParquet', 'loadMetadata']) {
        const failed = await call<NotReady>(
          `${t.url}/${loader}?version=${record.version}`,
        );
        assert.equal(failed.status, 409, loader);
        assert.equal(failed.body.error.versionStatus, 'failed', loader);
        assert.equal(failed.headers.get('retry-after'), null, loader);
        assert.match(failed.body.error.message, /failed .*test: abandoned/);
      }
    });
  },
);

describe('concurrent generate requests', {timeout: 10 * 60_000}, () => {
  it('get distinct versions, all recorded, and latest is the newest', async () => {
    const responses = await Promise.all(
      [1, 2, 3, 4].map(seed =>
        postJson(`${t.url}/generateDataset`, {
          nSamples: 20_000,
          seed,
          formats: ['parquet'],
        }),
      ),
    );
    for (const response of responses)
      assert.equal(response.status, 201, response.text);
    const versions = responses.map(r => (r.body as {version: number}).version);
    assert.equal(new Set(versions).size, 4);
    for (const v of versions) await waitReady(t.url, v);
    const latest = await call<{version: number}>(
      `${t.url}/loadParquet?version=latest`,
    );
    const lastReady = Math.max(...versions);
    assert.ok(latest.body.version >= lastReady);
    for (const v of versions) {
      const doc = (
        await t.firestore.collection('datasets').doc(`v${v}`).get()
      ).data();
      assert.equal(doc?.status, 'ready');
    }
  });
});

describe('logs', () => {
  it('are structured JSON for Cloud Logging, with request ids and no signed URL or key', () => {
    const files = readdirSync(t.stack.runDir.logs).filter((f: string) =>
      f.startsWith('function-'),
    );
    assert.equal(files.length, FUNCTION_NAMES.length);
    let structured = 0;
    let withRequestId = 0;
    for (const file of files) {
      const text = readFileSync(join(t.stack.runDir.logs, file), 'utf8');
      assert.doesNotMatch(
        text,
        /X-Goog-Signature|PRIVATE KEY/,
        `${file} leaks a signed URL or a key`,
      );
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line);
        assert.ok(
          ['DEBUG', 'INFO', 'WARNING', 'ERROR'].includes(entry.severity),
          line,
        );
        assert.equal(typeof entry.message, 'string');
        structured++;
        if (entry.requestId) withRequestId++;
      }
    }
    assert.ok(structured > 20, `only ${structured} structured lines`);
    assert.ok(
      withRequestId > 10,
      `only ${withRequestId} lines carry a request id`,
    );
  });
});
