/**
 * Integration: the local stack's emulators, for real (docs/design.md §7-§8).
 * fake-gcs-server -> Pub/Sub emulator -> event bridge -> a local HTTP
 * receiver standing in for recordDatasetMetadata; V4 signed URLs made with
 * the generated key; a 50 MB resumable upload; and nothing left running.
 *
 * Needs gcloud (with the Firestore and Pub/Sub emulators) and Go (or
 * FAKE_GCS_SERVER_BIN); see docs/local-stack.md.
 */
import assert from 'node:assert/strict';
import {createHash, createPublicKey, randomBytes, verify} from 'node:crypto';
import {readFileSync, rmSync} from 'node:fs';
import {createServer, type IncomingHttpHeaders, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {after, before, describe, test} from 'node:test';
import {crc32c} from '@node-rs/crc32';
import {Storage, type Bucket} from '@google-cloud/storage';
import {
  createServer as createTcpServer,
  type Server as TcpServer,
} from 'node:net';
import {
  createSigningKey,
  freePort,
  startEmulators,
  groupMembers,
  startEventBridge,
  startedGroups,
  Supervisor,
  type EventBridge,
  type Emulators,
  type SigningKey,
} from '../../local/index.js';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  status: number;
}

const MiB = 1024 * 1024;

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('base64');
}

function crc32cBase64(bytes: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32c(bytes) >>> 0);
  return out.toString('base64');
}

async function until<T>(
  what: string,
  get: () => T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

void describe('local stack emulators', {timeout: 120_000}, () => {
  let emulators: Emulators;
  let key: SigningKey;
  let bridge: EventBridge;
  let receiver: Server;
  let bucket: Bucket;
  const deliveries: Delivery[] = [];
  /** Object names whose first delivery the receiver answers with 503. */
  const failOnce = new Set<string>();

  const deliveredFor = (name: string) =>
    deliveries.filter(d => d.headers['ce-subject'] === `objects/${name}`);

  /** A port another process holds, handed to both gcloud emulators first. */
  let takenPort = 0;
  let blocker: TcpServer;
  const supervisorLines: string[] = [];
  let supervisor: Supervisor;

  before(async () => {
    takenPort = await freePort();
    blocker = createTcpServer();
    await new Promise<void>(r => blocker.listen(takenPort, '127.0.0.1', r));
    let picks = 0;
    supervisor = new Supervisor({
      log: line => supervisorLines.push(line),
      // The first two ports chosen (Firestore's and Pub/Sub's) are taken, as
      // when another stack grabs a port between our choosing and binding it.
      freePort: async () => (picks++ < 2 ? takenPort : freePort()),
    });
    emulators = await startEmulators({startupTimeoutMs: 60_000, supervisor});
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', c => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const name = String(body.name);
        const status = failOnce.delete(name) ? 503 : 204;
        deliveries.push({headers: req.headers, body, status});
        res.writeHead(status);
        res.end();
      });
    });
    await new Promise<void>(r => receiver.listen(0, '127.0.0.1', r));
    const {port} = receiver.address() as AddressInfo;
    bridge = startEventBridge({
      pubsubHost: emulators.env.PUBSUB_EMULATOR_HOST,
      projectId: emulators.projectId,
      subscription: emulators.subscription,
      targetUrl: `http://127.0.0.1:${port}/recordDatasetMetadata`,
      storageUrl: emulators.storageUrl,
      initialBackoffMs: 100,
    });
    key = createSigningKey(
      `${emulators.runDir.root}/keys`,
      emulators.projectId,
    );
    // What the functions get; the Storage client reads them when constructed.
    Object.assign(process.env, emulators.env, {
      GOOGLE_APPLICATION_CREDENTIALS: key.credentialsFile,
    });
    bucket = new Storage().bucket(emulators.bucket);
  });

  after(async () => {
    // Safety net; the last test stops everything and checks.
    await bridge?.stop();
    receiver?.close();
    supervisor?.close();
    await emulators?.stop();
    blocker?.close();
  });

  void test('an emulator whose port is taken is started on a fresh port at once', () => {
    const {firestore, pubsub} = emulators.ports;
    assert.notEqual(firestore, takenPort);
    assert.notEqual(pubsub, takenPort);
    for (const name of ['firestore-emulator', 'pubsub-emulator']) {
      assert.ok(
        supervisorLines.some(
          l => l.startsWith(`${name}: `) && l.includes('trying again on port'),
        ),
        `${name} did not retry:\n${supervisorLines.join('\n')}`,
      );
    }
    // Seen at once, not after the 60 s start-up deadline.
    assert.ok(
      emulators.startupMs.pubsub < 45_000,
      `Pub/Sub took ${emulators.startupMs.pubsub} ms`,
    );
  });

  void test('emulator variables point at 127.0.0.1', () => {
    const {env} = emulators;
    assert.match(env.FIRESTORE_EMULATOR_HOST, /^127\.0\.0\.1:\d+$/);
    assert.match(env.PUBSUB_EMULATOR_HOST, /^127\.0\.0\.1:\d+$/);
    assert.match(env.STORAGE_EMULATOR_HOST, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(env.DATASETS_BUCKET, emulators.bucket);
    assert.equal(env.GOOGLE_CLOUD_PROJECT, emulators.projectId);
  });

  void test('each uploaded object yields exactly one finalized CloudEvent', async () => {
    const objects = [
      {name: 'datasets/v1/metadata_v1.json', resumable: false},
      {name: 'datasets/v1/dataset_v1.parquet', resumable: true},
      {name: 'datasets/v2/metadata_v2.json', resumable: false},
    ].map(o => ({
      ...o,
      bytes: randomBytes(1000 + Math.floor(Math.random() * 5000)),
    }));
    const generations = new Map<string, string>();
    await Promise.all(
      objects.map(async o => {
        const file = bucket.file(o.name);
        await file.save(o.bytes, {
          resumable: o.resumable,
          contentType: 'application/octet-stream',
        });
        const [metadata] = await file.getMetadata();
        generations.set(o.name, String(metadata.generation));
      }),
    );
    for (const o of objects) {
      await until(`the event of ${o.name}`, () => deliveredFor(o.name)[0]);
    }
    await new Promise(r => setTimeout(r, 1500)); // would a duplicate come?
    for (const o of objects) {
      const got = deliveredFor(o.name);
      assert.equal(got.length, 1, `${o.name}: ${got.length} deliveries`);
      const {headers, body} = got[0];
      const generation = generations.get(o.name)!;
      assert.match(String(headers['ce-id']), /^\S+$/);
      assert.equal(headers['ce-specversion'], '1.0');
      assert.equal(
        headers['ce-type'],
        'google.cloud.storage.object.v1.finalized',
      );
      assert.equal(
        headers['ce-source'],
        `//storage.googleapis.com/projects/_/buckets/${emulators.bucket}`,
      );
      assert.equal(headers['ce-subject'], `objects/${o.name}`);
      assert.ok(!Number.isNaN(Date.parse(String(headers['ce-time']))));
      assert.match(String(headers['content-type']), /^application\/json/);
      assert.equal(body.kind, 'storage#object');
      assert.equal(body.bucket, emulators.bucket);
      assert.equal(body.name, o.name);
      assert.equal(body.id, `${emulators.bucket}/${o.name}/${generation}`);
      assert.equal(body.size, String(o.bytes.length)); // int64 as a string
      assert.equal(body.generation, generation);
      assert.equal(body.metageneration, '1');
      assert.equal(body.md5Hash, md5(o.bytes));
      assert.equal(body.crc32c, crc32cBase64(o.bytes));
      assert.equal(body.contentType, 'application/octet-stream');
      assert.equal(body.storageClass, 'STANDARD');
      for (const field of ['selfLink', 'etag', 'timeCreated', 'updated']) {
        assert.equal(typeof body[field], 'string', field);
        assert.notEqual(body[field], '', field);
      }
      assert.match(
        String(body.updated),
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
      );
    }
    // The start-up check object never reaches the target.
    assert.equal(deliveredFor('.local-stack/notification-check').length, 0);
  });

  void test('a failed delivery is retried until it succeeds, then acknowledged', async () => {
    const name = 'datasets/v3/metadata_v3.json';
    failOnce.add(name);
    await bucket.file(name).save('{}', {resumable: false});
    await until('a successful retry', () =>
      deliveredFor(name).find(d => d.status === 204),
    );
    await new Promise(r => setTimeout(r, 1000));
    assert.deepEqual(
      deliveredFor(name).map(d => d.status),
      [503, 204],
    );
    assert.equal(
      deliveredFor(name)[0].headers['ce-id'],
      deliveredFor(name)[1].headers['ce-id'],
    );
    assert.ok(bridge.stats.retries >= 1);
  });

  void test('a V4 signed URL made with the generated key downloads the bytes', async () => {
    const credentials = JSON.parse(readFileSync(key.credentialsFile, 'utf8'));
    assert.equal(credentials.type, 'service_account');
    assert.equal(credentials.client_email, key.clientEmail);
    // Any attempt to fetch a token would go nowhere (and fail at once).
    assert.match(credentials.token_uri, /^http:\/\/127\.0\.0\.1:/);

    const name = 'datasets/v1/dataset_v1.tfrecord';
    const bytes = randomBytes(300_000);
    await bucket.file(name).save(bytes, {resumable: false});
    const [url] = await bucket.file(name).getSignedUrl({
      version: 'v4',
      action: 'read',
      expires: Date.now() + 15 * 60 * 1000,
    });
    const signed = new URL(url);
    assert.equal(signed.origin, emulators.storageUrl);
    assert.equal(signed.pathname, `/${emulators.bucket}/${name}`);
    assert.equal(
      signed.searchParams.get('X-Goog-Algorithm'),
      'GOOG4-RSA-SHA256',
    );
    const credential = signed.searchParams.get('X-Goog-Credential')!;
    assert.ok(credential.startsWith(`${key.clientEmail}/`), credential);

    // The signature verifies with the generated public key (V4 string-to-sign).
    const query = signed.search
      .slice(1)
      .split('&')
      .filter(p => !p.startsWith('X-Goog-Signature='))
      .join('&');
    const canonicalRequest = [
      'GET',
      signed.pathname,
      query,
      `host:${signed.hostname}`,
      '',
      'host',
      'UNSIGNED-PAYLOAD',
    ].join('\n');
    const stringToSign = [
      'GOOG4-RSA-SHA256',
      signed.searchParams.get('X-Goog-Date'),
      credential.slice(key.clientEmail.length + 1),
      createHash('sha256').update(canonicalRequest).digest('hex'),
    ].join('\n');
    assert.ok(
      verify(
        'RSA-SHA256',
        Buffer.from(stringToSign),
        createPublicKey(readFileSync(key.publicKeyFile)),
        Buffer.from(signed.searchParams.get('X-Goog-Signature')!, 'hex'),
      ),
      'signature does not verify with the public key',
    );

    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes));
  });

  void test('a 50 MB resumable upload keeps its bytes, md5 and crc32c', async () => {
    const name = 'datasets/v9/dataset_v9.parquet';
    const bytes = randomBytes(50 * MiB);
    await bucket.file(name).save(bytes, {
      resumable: true,
      chunkSize: 16 * MiB, // several PUTs with Content-Range
      validation: 'crc32c',
    });
    const [metadata] = await bucket.file(name).getMetadata();
    assert.equal(String(metadata.size), String(bytes.length));
    assert.equal(metadata.md5Hash, md5(bytes));
    assert.equal(metadata.crc32c, crc32cBase64(bytes));

    const event = await until(
      `the event of ${name}`,
      () => deliveredFor(name)[0],
      30_000,
    );
    assert.equal(event.body.size, '52428800');
    assert.equal(event.body.md5Hash, md5(bytes));
    assert.equal(event.body.crc32c, crc32cBase64(bytes));

    const [url] = await bucket.file(name).getSignedUrl({
      version: 'v4',
      action: 'read',
      expires: Date.now() + 60_000,
    });
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const downloaded = Buffer.from(await res.arrayBuffer());
    assert.equal(md5(downloaded), md5(bytes));
    assert.equal(deliveredFor(name).length, 1);
  });

  void test('stopping leaves no process behind', async () => {
    const pids = emulators.processes.map(p => p.pid);
    assert.equal(pids.length, 3); // firestore, pubsub, fake-gcs-server
    await bridge.stop();
    assert.equal(bridge.stats.dropped, 0);
    await new Promise<void>(r => receiver.close(() => r()));
    supervisor.close();
    await emulators.stop();
    key.remove();
    assert.deepEqual(startedGroups(), []);
    // No process of their groups runs any more (zombies awaiting init's
    // reaping do not count: they hold no port and no memory).
    for (const pid of pids)
      assert.deepEqual(groupMembers(pid), [], `group ${pid}`);
    rmSync(emulators.runDir.root, {recursive: true, force: true});
  });
});
