/**
 * The shard fan-out end to end on the real emulators (docs/design.md §7): a sharded
 * POST answers 202, generateDataset publishes one message per shard to the
 * Pub/Sub emulator's `dataset-shards`, the local stack's shard bridge
 * delivers each as the messagePublished CloudEvent Eventarc would make, and
 * generateShard writes the shards until the version is `ready`. The
 * loaders' shard lists download to the sizes and checksums they state, and
 * the TFRecord shards concatenated are the single file of the same config.
 * Redelivered messages change nothing; a shard that meets a stranger's
 * object fails the version; malformed events are acknowledged, unwritten;
 * after the Pub/Sub emulator is killed (a process group this test's stack
 * started) and restarted, the topic and subscription exist again and a
 * sharded generate still reaches ready. One local stack for the file.
 */
import assert from 'node:assert/strict';
import {createHash, randomUUID} from 'node:crypto';
import {after, before, describe, it} from 'node:test';
import {setTimeout as sleep} from 'node:timers/promises';
import {
  EMULATOR_CHILDREN,
  startedGroups,
  type RestartEvent,
} from '../../local/index.js';
import {
  ApiClient,
  ApiError,
  type FileLink,
  type ShardedLink,
  type SignedFile,
} from '../../clients/typescript/index.js';
import {crc32c, crc32cBase64} from '../../shared/formats/crc32c.js';
import {
  encodeShardMessage,
  MESSAGE_PUBLISHED,
  shardMessagesOf,
  type ShardMessage,
} from '../../shared/messaging/shard-messages.js';
import {shardPlan} from '../../shared/dataset/shard-plan.js';
import {
  call,
  objectNames,
  startTestStack,
  type TestStack,
} from '../support/stack.js';

let t: TestStack;
let api: ApiClient;

before(async () => {
  t = await startTestStack();
  api = new ApiClient({baseUrl: t.url, timeoutMs: 30_000});
});
after(async () => {
  await t?.stop();
});

/** 8 blocks: 3 shards of 2 full blocks, and one of a block + 1,000 rows. */
const N_SAMPLES = 7 * 65_536 + 1000;
const SHARDS = 4;
const CONFIG = {
  nSamples: N_SAMPLES,
  nTargetStoreIds: 7,
  nCreativePackIds: 50,
  seed: 20_261_125,
};

const COLLECTION = 'datasets';

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function download(file: SignedFile): Promise<Buffer> {
  const res = await fetch(file.url);
  assert.equal(res.status, 200, `download of ${file.object}`);
  return Buffer.from(await res.arrayBuffer());
}

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('base64');
}

function isSharded(link: FileLink): link is ShardedLink {
  return 'shards' in link;
}

/** Every object with its generation, and the version's document with its update time. */
async function stateOf(version: number): Promise<string> {
  const [files] = await t.bucket.getFiles();
  const objects = files
    .map(f => `${f.name}#${String(f.metadata.generation)}`)
    .sort();
  const doc = await t.firestore.collection(COLLECTION).doc(`v${version}`).get();
  const shards = (await doc.ref.listCollections()).length
    ? await Promise.all(
        (await doc.ref.listCollections()).map(async c =>
          (await c.get()).docs.map(
            d =>
              `${c.id}/${d.id}@${d.updateTime.toDate().toISOString()}:${JSON.stringify(d.data())}`,
          ),
        ),
      )
    : [];
  return JSON.stringify({
    objects,
    doc: doc.exists ? doc.updateTime?.toDate().toISOString() : null,
    data: doc.data() ?? null,
    shards: shards.flat().sort(),
  });
}

/** Everything the service can write: object names, every document and its update time. */
async function written(): Promise<string> {
  const objects = await objectNames(t.bucket);
  const documents: string[] = [];
  for (const collection of await t.firestore.listCollections()) {
    for (const doc of (await collection.get()).docs) {
      documents.push(
        `${collection.id}/${doc.id}@${doc.updateTime.toDate().toISOString()}`,
      );
    }
  }
  return JSON.stringify({objects, documents: documents.sort()});
}

/** Publishes to the emulator's shard topic, as generateDataset does. */
async function publish(
  messages: readonly ShardMessage[] | {data: Buffer},
): Promise<void> {
  const topic = t.stack.emulators.pubsub().topic(t.stack.emulators.shardTopic);
  if (!Array.isArray(messages)) {
    await topic.publishMessage(messages as {data: Buffer});
    return;
  }
  await Promise.all(
    (messages as ShardMessage[]).map(m =>
      topic.publishMessage(encodeShardMessage(m)),
    ),
  );
}

/** Waits until the shard bridge has finished with `n` more messages than `before`. */
async function bridgeDone(before: number, n: number): Promise<void> {
  const stats = t.stack.shardBridge.stats;
  await waitFor(`${n} shard deliveries`, () =>
    stats.delivered + stats.skipped + stats.dropped >= before + n
      ? true
      : undefined,
  );
}

function bridgeFinished(): number {
  const stats = t.stack.shardBridge.stats;
  return stats.delivered + stats.skipped + stats.dropped;
}

async function statusOf(version: number): Promise<string | undefined> {
  const doc = await t.firestore.collection(COLLECTION).doc(`v${version}`).get();
  return doc.data()?.status as string | undefined;
}

describe('sharded generate through Pub/Sub', {timeout: 10 * 60_000}, () => {
  let version: number;

  it('answers 202 generating, reaches ready through the shard topic, with duplicates in flight', async () => {
    const plan = shardPlan(N_SAMPLES, SHARDS);
    assert.deepEqual(
      plan.shards.map(r => r.end - r.start),
      [131_072, 131_072, 131_072, 66_536],
    );
    const before = bridgeFinished();
    const answer = await call(`${t.url}/generateDataset`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({...CONFIG, shards: SHARDS}),
    });
    assert.equal(answer.status, 202, answer.text);
    const body = answer.body as Record<string, unknown>;
    assert.ok(Number.isSafeInteger(body.version), answer.text);
    version = body.version as number;
    assert.deepEqual(body, {
      version,
      status: 'generating',
      shards: SHARDS,
      rows: N_SAMPLES,
      seed: CONFIG.seed,
    });
    // At least once: every message again, while the first ones are at work.
    await publish(shardMessagesOf(version, SHARDS));
    const ready = await api.waitReady(version, {
      timeoutMs: 180_000,
      intervalMs: 250,
    });
    assert.equal(ready.status, 'ready');
    assert.equal(ready.metadata.config.nSamples, N_SAMPLES);
    await bridgeDone(before, 2 * SHARDS);
    const stats = t.stack.shardBridge.stats;
    assert.equal(stats.dropped, 0, JSON.stringify(stats));
    // Exactly the version's objects: 4 shards per format and the metadata.
    const names = (await objectNames(t.bucket)).filter(n =>
      n.startsWith(`datasets/v${version}/`),
    );
    const expected = [
      ...[0, 1, 2, 3].flatMap(k => [
        `datasets/v${version}/dataset_v${version}-0000${k}-of-00004.parquet`,
        `datasets/v${version}/dataset_v${version}-0000${k}-of-00004.tfrecord`,
      ]),
      `datasets/v${version}/metadata_v${version}.json`,
    ].sort();
    assert.deepEqual(names, expected);
  });

  it('lists every shard in the loaders; each download matches its size, crc32c and md5', async () => {
    assert.ok(version, 'the sharded generate ran');
    for (const load of [
      (v: number) => api.loadParquet(v),
      (v: number) => api.loadTfrecord(v),
    ]) {
      const link = await load(version);
      assert.ok(isSharded(link), JSON.stringify(link).slice(0, 300));
      assert.equal(link.shards.length, SHARDS);
      assert.deepEqual(
        link.shards.map(s => s.rows),
        [131_072, 131_072, 131_072, 66_536],
      );
      for (const shard of link.shards) {
        const bytes = await download(shard);
        assert.equal(bytes.length, shard.sizeBytes, shard.object);
        assert.equal(crc32cBase64(crc32c(bytes)), shard.crc32c, shard.object);
        assert.equal(md5(bytes), shard.md5, shard.object);
      }
    }
    const parquet = await api.loadParquet(version);
    assert.ok(isSharded(parquet));
    assert.deepEqual(
      parquet.shards.map(s => s.object.split('/').pop()),
      [0, 1, 2, 3].map(k => `dataset_v${version}-0000${k}-of-00004.parquet`),
    );
  });

  it('concatenated TFRecord shards are byte-identical to the single file of the same config', async () => {
    assert.ok(version, 'the sharded generate ran');
    const sharded = await api.loadTfrecord(version);
    assert.ok(isSharded(sharded));
    const shards = createHash('sha256');
    let shardBytes = 0;
    for (const shard of sharded.shards) {
      const bytes = await download(shard);
      shards.update(bytes);
      shardBytes += bytes.length;
    }
    const single = await api.generate({...CONFIG, shards: 1});
    assert.ok(!('status' in single), JSON.stringify(single));
    // 201 once written; readable once the storage trigger has committed it
    await api.waitReady(single.version, {timeoutMs: 120_000});
    const link = await api.loadTfrecord(single.version);
    assert.ok(!isSharded(link), JSON.stringify(link).slice(0, 300));
    const bytes = await download(link);
    assert.equal(shardBytes, bytes.length);
    assert.ok(bytes.length > 50_000_000, `${bytes.length} bytes`);
    assert.equal(
      shards.digest('hex'),
      createHash('sha256').update(bytes).digest('hex'),
    );
  });

  it('a redelivered shard message changes nothing', async () => {
    assert.ok(version, 'the sharded generate ran');
    const before = await stateOf(version);
    const finished = bridgeFinished();
    const retries = t.stack.shardBridge.stats.retries;
    await publish([
      {version, shard: 0, shards: SHARDS},
      {version, shard: SHARDS - 1, shards: SHARDS},
    ]);
    await bridgeDone(finished, 2);
    // acknowledged at the first delivery, not retried
    assert.equal(t.stack.shardBridge.stats.retries, retries);
    assert.equal(await stateOf(version), before);
    assert.equal((await api.loadMetadata(version)).status, 'ready');
  });
});

describe('a shard that fails', {timeout: 10 * 60_000}, () => {
  it("fails the version when a stranger's object holds a shard's name, and leaves that object alone", async () => {
    // Versions are allocated as the highest plus one (the file runs alone).
    const highest = await t.firestore
      .collection(COLLECTION)
      .orderBy('version', 'desc')
      .limit(1)
      .get();
    const next = ((highest.docs[0]?.data().version as number) ?? 0) + 1;
    const stranger = t.bucket.file(
      `datasets/v${next}/dataset_v${next}-00002-of-00004.tfrecord`,
    );
    const strangerBytes = Buffer.from('not a shard of this service\n');
    await stranger.save(strangerBytes, {
      resumable: false,
      preconditionOpts: {ifGenerationMatch: 0},
    });
    const [strangerMetadata] = await stranger.getMetadata();
    const finished = bridgeFinished();
    const answer = await call(`${t.url}/generateDataset`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({...CONFIG, seed: 7, shards: SHARDS}),
    });
    assert.equal(answer.status, 202, answer.text);
    const version = (answer.body as {version: number}).version;
    assert.equal(version, next, 'the version the stranger object anticipated');
    await waitFor(`v${version} failed`, async () =>
      (await statusOf(version)) === 'failed' ? true : undefined,
    );
    await assert.rejects(api.loadMetadata(version), (error: unknown) => {
      assert.ok(error instanceof ApiError, String(error));
      assert.equal(error.status, 409, error.message);
      return true;
    });
    // Every shard message is done with (the others may still write their
    // shard's objects: a version fails, its finished uploads stay), nothing
    // is left generating, and no metadata commits the version.
    await bridgeDone(finished, SHARDS);
    assert.equal(t.stack.shardBridge.stats.dropped, 0);
    await waitFor('nothing generating', async () => {
      const generating = await t.firestore
        .collection(COLLECTION)
        .where('status', '==', 'generating')
        .get();
      return generating.empty ? true : undefined;
    });
    assert.equal(
      (await objectNames(t.bucket)).includes(
        `datasets/v${version}/metadata_v${version}.json`,
      ),
      false,
    );
    const [after] = await stranger.getMetadata();
    assert.equal(after.generation, strangerMetadata.generation);
    const [content] = await stranger.download();
    assert.deepEqual(content, strangerBytes);
    assert.equal(await statusOf(version), 'failed');
  });
});

describe('malformed shard events', {timeout: 5 * 60_000}, () => {
  function messagePublished(data: unknown, type = MESSAGE_PUBLISHED) {
    return call(`${t.url}/generateShard`, {
      method: 'POST',
      headers: {
        'ce-id': randomUUID(),
        'ce-specversion': '1.0',
        'ce-type': type,
        'ce-source': `//pubsub.googleapis.com/projects/${t.stack.emulators.projectId}/topics/dataset-shards`,
        'ce-time': new Date().toISOString(),
        'content-type': 'application/json',
      },
      body: JSON.stringify(data),
    });
  }

  const cases: Array<[string, unknown, string?]> = [
    [
      'data not a shard message',
      {
        message: {
          data: Buffer.from('{"hello": 1}').toString('base64'),
          messageId: '1',
          publishTime: new Date().toISOString(),
        },
        subscription: 'projects/p/subscriptions/s',
      },
    ],
    [
      'data not base64',
      {message: {data: '{"version":1}', messageId: '2'}, subscription: 's'},
    ],
    ['no message', {subscription: 's'}],
    [
      'a shard past the last',
      {
        message: {
          data: Buffer.from('{"version":1,"shard":4,"shards":4}').toString(
            'base64',
          ),
          messageId: '3',
        },
      },
    ],
    [
      'a storage event type',
      {message: {data: 'e30=', messageId: '4'}},
      'google.cloud.storage.object.v1.finalized',
    ],
  ];
  for (const [name, data, type] of cases) {
    it(`${name}: acknowledged (204), nothing written`, async () => {
      const before = await written();
      const answer = await messagePublished(data, type);
      assert.equal(answer.status, 204, answer.text);
      assert.ok(answer.headers.get('x-request-id'));
      assert.equal(await written(), before);
    });
  }

  it('a malformed message on the topic is delivered once, acknowledged, nothing written', async () => {
    const before = await written();
    const finished = bridgeFinished();
    const {delivered, retries} = t.stack.shardBridge.stats;
    await publish({data: Buffer.from('not json')});
    await bridgeDone(finished, 1);
    assert.equal(t.stack.shardBridge.stats.delivered, delivered + 1);
    assert.equal(t.stack.shardBridge.stats.retries, retries);
    assert.equal(await written(), before);
  });
});

describe('after the Pub/Sub emulator restarts', {timeout: 5 * 60_000}, () => {
  it('the shard topic and subscription are made anew and a sharded generate reaches ready', async () => {
    const name = EMULATOR_CHILDREN.pubsub;
    const {supervisor} = t.stack;
    const pid = supervisor.child(name).process.pid;
    assert.ok(startedGroups().includes(pid), `${name} (${pid}) is not ours`);
    const restarted = new Promise<RestartEvent>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} was not restarted within 120 s`)),
        120_000,
      );
      supervisor.on('restarted', function onRestart(event: RestartEvent) {
        if (event.name !== name) return;
        clearTimeout(timer);
        supervisor.off('restarted', onRestart);
        resolve(event);
      });
    });
    process.kill(-pid, 'SIGKILL');
    const event = await restarted;
    assert.equal(event.exit.signal, 'SIGKILL');
    await supervisor.settled();
    assert.equal(supervisor.child(name).state, 'running');
    // The new emulator knew nothing: the topic and the subscription are there again.
    const pubsub = t.stack.emulators.pubsub();
    const [topicExists] = await pubsub
      .topic(t.stack.emulators.shardTopic)
      .exists();
    assert.equal(topicExists, true);
    const [subscriptionExists] = await pubsub
      .subscription(t.stack.emulators.shardSubscription)
      .exists();
    assert.equal(subscriptionExists, true);
    const answer = await api.generate({
      nSamples: 4 * 65_536,
      shards: 4,
      seed: 99,
    });
    assert.ok('status' in answer, JSON.stringify(answer));
    assert.equal(answer.status, 'generating');
    const ready = await api.waitReady(answer.version, {timeoutMs: 180_000});
    assert.equal(ready.status, 'ready');
    const link = await api.loadTfrecord(answer.version);
    assert.ok(isSharded(link));
    assert.deepEqual(
      link.shards.map(s => s.rows),
      [65_536, 65_536, 65_536, 65_536],
    );
  });
});
