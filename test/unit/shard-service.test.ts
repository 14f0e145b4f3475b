/**
 * The shard fan-out over the in-memory bucket, catalogue and publisher:
 * generateDataset's 202 path, generateShard's writes, adoptions, re-checks
 * and failures, the recorder and the loaders on a sharded version. Shards
 * of one 65,536-row block, so each delivery takes a fraction of a second.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {resolveConfig} from '../../shared/dataset/config.js';
import {InvalidArgumentError, UnavailableError} from '../../shared/errors.js';
import {writeShard} from '../../shared/generation/generate.js';
import {GENERATOR} from '../../shared/dataset/generator-version.js';
import {generateDataset} from '../../shared/generation/orchestrator.js';
import {InlineDigester} from '../../shared/digest/inline-digester.js';
import {buildModel} from '../../shared/dataset/model.js';
import {
  objectName,
  type DatasetFileKind,
} from '../../shared/dataset/object-names.js';
import {planOf, shardRange} from '../../shared/dataset/shard-plan.js';
import {
  fanOutVersion,
  generateOrFanOut,
  isAccepted,
} from '../../shared/service/generate-service.js';
import {listDatasets, loadObject} from '../../shared/service/load-service.js';
import {recordStorageEvent} from '../../shared/service/record-service.js';
import {
  generateShardOfVersion,
  shardObjectNames,
  type ShardOutcome,
} from '../../shared/service/shard-service.js';
import {shardMessagesOf} from '../../shared/messaging/shard-messages.js';
import {shardedLeaseMsOf} from '../../shared/settings.js';
import {MemoryDestination} from '../support/memory-destination.js';
import {
  memoryContext,
  START,
  type MemoryContext,
} from '../support/memory-context.js';
import {MemoryPublisher} from '../support/memory-publisher.js';

/** 3 full blocks and 1,000 rows: 4 shards of one block each. */
const ROWS = 3 * 65_536 + 1000;
const config = resolveConfig({
  nSamples: ROWS,
  shards: 4,
  seed: 21,
  nTargetStoreIds: 3,
  nCreativePackIds: 12,
});
const metadataName = (v: number) => `datasets/v${v}/metadata_v${v}.json`;
const connectionReset = () =>
  Object.assign(new Error('socket hang up'), {code: 'ECONNRESET'});

interface FanOut extends MemoryContext {
  publisher: MemoryPublisher;
}

function context(env: Record<string, string> = {}): FanOut {
  const publisher = new MemoryPublisher();
  return Object.assign(memoryContext(env), {
    publisher,
    shardPublisher: publisher,
  });
}

/** A sharded version allocated and its messages published. */
async function fannedOut(ctx: FanOut, cfg = config): Promise<number> {
  const accepted = await fanOutVersion(cfg, planOf(cfg), ctx);
  return accepted.version;
}

async function deliver(
  ctx: FanOut,
  version: number,
  order: number[],
): Promise<ShardOutcome[]> {
  const outcomes: ShardOutcome[] = [];
  for (const shard of order)
    outcomes.push(
      await generateShardOfVersion(
        {version, shard, shards: config.shards},
        ctx,
      ),
    );
  return outcomes;
}

function generations(ctx: MemoryContext): Record<string, string> {
  return Object.fromEntries(
    [...ctx.store.objects].map(([name, o]) => [name, o.generation]),
  );
}

/** What generateDataset writes for the same config and version, in one process. */
async function reference(version: number, cfg = config) {
  const names = {} as Record<DatasetFileKind, string>;
  for (const kind of ['parquet', 'tfrecord', 'metadata'] as const)
    names[kind] = objectName(
      'datasets/',
      kind,
      version,
      cfg.tfrecordCompression,
    );
  const destination = new MemoryDestination();
  // MD5 hashed here equals the one the store reports for the service's objects.
  const result = await generateDataset({
    config: cfg,
    plan: planOf(cfg),
    version,
    names,
    destination,
    md5: true,
    now: () => START,
  });
  return {destination, result};
}

async function record(ctx: MemoryContext, version: number) {
  const name = metadataName(version);
  const generation = ctx.store.objects.get(name)?.generation;
  assert.ok(generation, `${name} is written`);
  return recordStorageEvent({bucket: 'test-bucket', name, generation}, ctx);
}

describe('generateDataset with shards > 1 (202)', () => {
  it('allocates once under the fan-out lease and publishes exactly S messages', async () => {
    const ctx = context({SHARD_MAX_INSTANCES: '2'});
    const outcome = await generateOrFanOut(config, ctx);
    assert.ok(isAccepted(outcome));
    assert.deepEqual(outcome, {
      version: 1,
      status: 'generating',
      shards: 4,
      rows: ROWS,
      seed: 21,
    });
    assert.deepEqual(ctx.publisher.published, shardMessagesOf(1, 4));
    assert.equal(ctx.publisher.calls, 1);
    assert.deepEqual(
      ctx.catalog.calls.filter(c => c === 'allocate'),
      ['allocate'],
    );
    const allocation = ctx.catalog.documents.get('v1');
    assert.equal(allocation?.status, 'generating');
    assert.equal(allocation?.config.shards, 4);
    // 2 waves of 2 instances: (2 x 540 s x 2 + 60 s)
    assert.equal(shardedLeaseMsOf(ctx.settings, 4), 2_220_000);
    assert.equal(
      allocation?.leaseExpiresAt,
      new Date(START.getTime() + 2_220_000).toISOString(),
    );
    assert.equal(ctx.store.objects.size, 0, 'the POST writes nothing');
  });

  it('one shard is still written in the request (201 shape)', async () => {
    const ctx = context();
    const outcome = await generateOrFanOut(
      resolveConfig({nSamples: 1000, seed: 1}),
      ctx,
    );
    assert.ok(!isAccepted(outcome));
    assert.equal(ctx.publisher.calls, 0);
    assert.ok(ctx.store.objects.has(metadataName(1)));
  });

  it('without a publisher: refused on the shards field, nothing allocated', async () => {
    const ctx = memoryContext();
    await assert.rejects(
      generateOrFanOut(config, ctx),
      (error: unknown) =>
        error instanceof InvalidArgumentError &&
        error.field === 'shards' &&
        /no shard topic.*got 4/.test(error.message),
    );
    assert.deepEqual(ctx.catalog.calls, []);
    assert.equal(ctx.catalog.documents.size, 0);
  });

  it('a failed publish: version failed at once, 503 UNAVAILABLE', async () => {
    const ctx = context();
    ctx.publisher.failWith(
      Object.assign(new Error('topic unavailable'), {code: 14}),
    );
    await assert.rejects(generateOrFanOut(config, ctx), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.match(error.message, /version 1 is failed, retry/);
      return true;
    });
    const allocation = ctx.catalog.documents.get('v1');
    assert.equal(allocation?.status, 'failed');
    assert.match(allocation?.error ?? '', /topic unavailable/);
  });
});

describe('generateShardOfVersion', () => {
  it('4 shards in any order: objects byte-identical to one process, metadata written once by the last, empirical exactly the single file', async () => {
    const ctx = context();
    const version = await fannedOut(ctx);
    const outcomes = await deliver(ctx, version, [2, 0, 3, 1]);
    assert.deepEqual(
      outcomes.map(o => [o.outcome, o.recorded, o.metadataWritten]),
      [
        ['written', 1, false],
        ['written', 2, false],
        ['written', 3, false],
        ['written', 4, true],
      ],
    );
    const {destination, result} = await reference(version);
    // every object, the metadata included, is the same bytes
    assert.deepEqual(
      [...ctx.store.objects.keys()].sort(),
      [...destination.files.keys()].sort(),
    );
    assert.equal(ctx.store.objects.size, 9);
    for (const name of destination.files.keys())
      assert.ok(
        ctx.store.objects.get(name)?.bytes.equals(destination.bytes(name)),
        `${name} differs`,
      );
    assert.equal(
      ctx.store.log.filter(l => l.startsWith('open metadata')).length,
      1,
    );
    const single = await reference(
      version,
      resolveConfig({...config, shards: 1}),
    );
    assert.deepEqual(
      result.metadata.empirical,
      single.result.metadata.empirical,
    );
    const written = JSON.parse(
      ctx.store.objects.get(metadataName(version))!.bytes.toString('utf8'),
    );
    assert.deepEqual(written.empirical, single.result.metadata.empirical);
    assert.equal(written.empirical.rows, ROWS);
    assert.equal(written.createdAt, START.toISOString());
  });

  it('GZIP TFRecord shards, Parquet left out: .tfrecord.gz shard names, bytes of one process', async () => {
    const ctx = context();
    const gzip = resolveConfig({
      nSamples: 65_537,
      shards: 2,
      seed: 3,
      formats: ['tfrecord'],
      tfrecordCompression: 'GZIP',
    });
    const {version} = await fanOutVersion(gzip, planOf(gzip), ctx);
    for (const shard of [1, 0])
      await generateShardOfVersion({version, shard, shards: 2}, ctx);
    const {destination} = await reference(version, gzip);
    assert.deepEqual([...ctx.store.objects.keys()].sort(), [
      'datasets/v1/dataset_v1-00000-of-00002.tfrecord.gz',
      'datasets/v1/dataset_v1-00001-of-00002.tfrecord.gz',
      metadataName(1),
    ]);
    for (const name of destination.files.keys())
      assert.ok(
        ctx.store.objects.get(name)?.bytes.equals(destination.bytes(name)),
        `${name} differs`,
      );
    assert.equal(await record(ctx, version), 'recorded');
  });

  it('redelivery of every message, before and after the recorder, changes nothing', async () => {
    const ctx = context();
    const version = await fannedOut(ctx);
    await deliver(ctx, version, [0, 1, 2, 3]);
    const before = generations(ctx);
    const again = await deliver(ctx, version, [3, 2, 1, 0]);
    assert.deepEqual(
      again.map(o => [o.outcome, o.metadataWritten]),
      Array(4).fill(['already-recorded', false]),
    );
    assert.deepEqual(generations(ctx), before);
    assert.equal(await record(ctx, version), 'recorded');
    const after = await deliver(ctx, version, [0, 1, 2, 3]);
    assert.deepEqual(
      after.map(o => o.outcome),
      Array(4).fill('ignored-not-generating'),
    );
    assert.deepEqual(generations(ctx), before);
    assert.equal(
      ctx.store.log.filter(l => l.startsWith('open metadata')).length,
      1,
    );
  });

  it('concurrent duplicates of every message: one set of objects, metadata once, committed', async () => {
    const ctx = context();
    const version = await fannedOut(ctx);
    const outcomes = await Promise.all(
      [0, 1, 2, 3, 3, 2, 1, 0].map(shard =>
        generateShardOfVersion({version, shard, shards: 4}, ctx),
      ),
    );
    for (const o of outcomes)
      assert.ok(
        ['written', 'adopted', 'already-recorded'].includes(o.outcome),
        JSON.stringify(o),
      );
    assert.equal(outcomes.filter(o => o.metadataWritten).length, 1);
    assert.equal(ctx.catalog.documents.get(`v${version}`)?.shardsRecorded, 4);
    assert.equal(ctx.store.objects.size, 9);
    const {destination} = await reference(version);
    for (const name of destination.files.keys())
      assert.ok(
        ctx.store.objects.get(name)?.bytes.equals(destination.bytes(name)),
        `${name} differs`,
      );
    assert.equal(await record(ctx, version), 'recorded');
  });

  it('objects in place but unrecorded (a crash after the upload) are adopted, not uploaded again', async () => {
    const ctx = context();
    const version = await fannedOut(ctx);
    const range = shardRange(ROWS, 4, 1);
    await writeShard({
      config,
      model: buildModel(config),
      shard: range,
      names: shardObjectNames('datasets/', version, config, range),
      destination: ctx.store,
      digester: () => new InlineDigester({md5: false}),
    });
    const before = generations(ctx);
    assert.equal(Object.keys(before).length, 2);
    const [outcome] = await deliver(ctx, version, [1]);
    assert.equal(outcome.outcome, 'adopted');
    assert.equal(outcome.recorded, 1);
    assert.deepEqual(generations(ctx), before);
    await deliver(ctx, version, [0, 2, 3]);
    assert.equal(await record(ctx, version), 'recorded');
  });

  it('a stranger object under a shard name fails the version and is left alone', async () => {
    const ctx = context();
    const version = await fannedOut(ctx);
    const name = shardObjectNames('datasets/', version, config, {
      index: 2,
      count: 4,
    }).parquet!;
    const stranger = ctx.store.put(name, 'not a parquet file');
    const [outcome] = await deliver(ctx, version, [2]);
    assert.equal(outcome.outcome, 'failed-version');
    assert.match(outcome.error ?? '', /is in the bucket but not this shard/);
    const allocation = ctx.catalog.documents.get(`v${version}`);
    assert.equal(allocation?.status, 'failed');
    assert.match(allocation?.error ?? '', /shard 2 of 4/);
    assert.equal(ctx.store.objects.get(name), stranger);
    assert.deepEqual(
      (await deliver(ctx, version, [0])).map(o => o.outcome),
      ['ignored-not-generating'],
    );
  });

  it('a recorded shard whose object was replaced fails the version on redelivery', async () => {
    const ctx = context();
    const version = await fannedOut(ctx);
    await deliver(ctx, version, [0]);
    const name = shardObjectNames('datasets/', version, config, {
      index: 0,
      count: 4,
    }).tfrecord!;
    ctx.store.put(name, 'tampered');
    const [outcome] = await deliver(ctx, version, [0]);
    assert.equal(outcome.outcome, 'failed-version');
    assert.match(outcome.error ?? '', /is 8 bytes/);
    assert.equal(ctx.catalog.documents.get(`v${version}`)?.status, 'failed');
  });

  it('a shard failing 5 deliveries (transient) fails the version on the 5th; each earlier one throws to be redelivered', async () => {
    const ctx = context();
    const version = await fannedOut(ctx);
    const name = shardObjectNames('datasets/', version, config, {
      index: 3,
      count: 4,
    }).tfrecord!;
    ctx.store.breakUpload(name, connectionReset());
    for (let attempt = 1; attempt <= 4; attempt++)
      await assert.rejects(deliver(ctx, version, [3]), /socket hang up/);
    assert.equal(ctx.catalog.shardDocument(version, 3)?.attempts, 4);
    assert.equal(
      ctx.catalog.documents.get(`v${version}`)?.status,
      'generating',
    );
    const [fifth] = await deliver(ctx, version, [3]);
    assert.equal(fifth.outcome, 'failed-attempts');
    assert.equal(fifth.attempt, 5);
    const allocation = ctx.catalog.documents.get(`v${version}`);
    assert.equal(allocation?.status, 'failed');
    assert.match(allocation?.error ?? '', /failed 5 deliveries/);
    // nothing of the broken shard is left
    assert.ok(![...ctx.store.objects.keys()].some(n => n.includes('00003')));
  });

  it('deliveries that died unseen count too: the 6th delivery fails the version at once', async () => {
    const ctx = context();
    const version = await fannedOut(ctx);
    for (let i = 0; i < 5; i++)
      await ctx.catalog.beginShard(version, 1, ctx.now());
    const [outcome] = await deliver(ctx, version, [1]);
    assert.equal(outcome.outcome, 'failed-attempts');
    assert.equal(ctx.store.objects.size, 0);
  });

  it('a crash between the last record and the metadata: the redelivery writes the same metadata', async () => {
    const ctx = context();
    const version = await fannedOut(ctx);
    ctx.store.breakUpload(metadataName(version), connectionReset());
    await deliver(ctx, version, [0, 1, 2]);
    await assert.rejects(deliver(ctx, version, [3]), /socket hang up/);
    assert.ok(!ctx.store.objects.has(metadataName(version)));
    ctx.store.repairUpload(metadataName(version));
    // another shard's redelivery finds every shard recorded and no metadata too
    const [outcome] = await deliver(ctx, version, [1]);
    assert.deepEqual(
      [outcome.outcome, outcome.metadataWritten],
      ['already-recorded', true],
    );
    const {destination} = await reference(version);
    assert.ok(
      ctx.store.objects
        .get(metadataName(version))
        ?.bytes.equals(destination.bytes(metadataName(version))),
    );
    assert.equal(await record(ctx, version), 'recorded');
  });

  it('acknowledges with nothing written: not ours, failed, past its lease, another shard count', async () => {
    const ctx = context();
    assert.equal(
      (await generateShardOfVersion({version: 9, shard: 0, shards: 4}, ctx))
        .outcome,
      'ignored-not-allocated',
    );
    const failed = await fannedOut(ctx);
    await ctx.catalog.markFailed(failed, 'broken', ctx.now());
    assert.equal(
      (await deliver(ctx, failed, [0]))[0].outcome,
      'ignored-not-generating',
    );
    const other = await fannedOut(ctx);
    assert.equal(
      (await generateShardOfVersion({version: other, shard: 0, shards: 2}, ctx))
        .outcome,
      'ignored-shard-count-mismatch',
    );
    ctx.advance(shardedLeaseMsOf(ctx.settings, 4));
    assert.equal(
      (await deliver(ctx, other, [0]))[0].outcome,
      'ignored-lease-expired',
    );
    assert.equal(ctx.catalog.documents.get(`v${other}`)?.status, 'failed');
    assert.equal(ctx.store.objects.size, 0);
    assert.equal(ctx.catalog.shardDocuments.size, 0, 'no attempt counted');
  });

  it('a version allocated by generator 0.2.0 (the former shard plan) is failed, nothing written', async () => {
    const ctx = context();
    const version = await fannedOut(ctx);
    const document = ctx.catalog.documents.get(`v${version}`);
    assert.ok(document);
    document.generator = {name: 'exploration-data', version: '0.2.0'};
    const [outcome] = await deliver(ctx, version, [2]);
    assert.equal(outcome.outcome, 'failed-version');
    assert.equal(
      outcome.error,
      `version ${version} was allocated by generator 0.2.0; this generateShard is ${GENERATOR.version} and writes other shard bytes`,
    );
    assert.equal(ctx.catalog.documents.get(`v${version}`)?.status, 'failed');
    assert.equal(ctx.store.objects.size, 0);
  });
});

describe('a sharded version in the recorder and the loaders', () => {
  async function completed(): Promise<{ctx: FanOut; version: number}> {
    const ctx = context();
    const version = await fannedOut(ctx);
    await deliver(ctx, version, [0, 1, 2, 3]);
    return {ctx, version};
  }

  it('the recorder commits it with every shard listed', async () => {
    const {ctx, version} = await completed();
    assert.equal(await record(ctx, version), 'recorded');
    const ready = ctx.catalog.documents.get(`v${version}`);
    assert.equal(ready?.status, 'ready');
    const parquet = ready?.objects?.parquet;
    assert.ok(parquet && 'shards' in parquet);
    assert.deepEqual(
      parquet.shards.map(s => [s.name, s.rows]),
      [0, 1, 2, 3].map(k => [
        `datasets/v${version}/dataset_v${version}-0000${k}-of-00004.parquet`,
        k === 3 ? 1000 : 65_536,
      ]),
    );
    assert.equal(
      parquet.bytes,
      parquet.shards.reduce((sum, s) => sum + s.bytes, 0),
    );
  });

  for (const [what, spoil, expected] of [
    [
      'a missing shard',
      (ctx: MemoryContext, name: string) => {
        const object = ctx.store.objects.get(name)!;
        return ctx.store.deleteGeneration(name, object.generation);
      },
      /is missing/,
    ],
    [
      'a tampered shard',
      async (ctx: MemoryContext, name: string) => {
        ctx.store.put(name, 'tampered');
      },
      /is 8 bytes/,
    ],
  ] as const) {
    it(`the recorder rejects ${what} and fails the version`, async () => {
      const {ctx, version} = await completed();
      const name = shardObjectNames('datasets/', version, config, {
        index: 2,
        count: 4,
      }).tfrecord!;
      await spoil(ctx, name);
      assert.equal(await record(ctx, version), 'rejected-inconsistent');
      const allocation = ctx.catalog.documents.get(`v${version}`);
      assert.equal(allocation?.status, 'failed');
      assert.match(allocation?.error ?? '', expected);
    });
  }

  it('loadParquet answers every shard in order, signed, with one expiresAt; listDatasets summarises', async () => {
    const {ctx, version} = await completed();
    await record(ctx, version);
    const link = await loadObject('parquet', version, 600, ctx);
    assert.ok('shards' in link && !('url' in link));
    const expiresAt = new Date(START.getTime() + 600_000).toISOString();
    assert.equal(link.expiresAt, expiresAt);
    assert.equal(link.shards.length, 4);
    const names = [0, 1, 2, 3].map(
      k => `datasets/v${version}/dataset_v${version}-0000${k}-of-00004.parquet`,
    );
    assert.deepEqual(
      link.shards.map(s => s.object),
      names.map(n => `gs://test-bucket/${n}`),
    );
    for (const [k, shard] of link.shards.entries()) {
      const stored = ctx.store.objects.get(names[k])!;
      assert.equal(shard.sizeBytes, stored.bytes.length);
      assert.equal(shard.crc32c, stored.digests.crc32c);
      assert.equal(shard.md5, stored.digests.md5);
      assert.equal(shard.rows, k === 3 ? 1000 : 65_536);
      assert.equal(
        shard.url,
        `https://storage.test/test-bucket/${names[k]}?expires=${Date.parse(expiresAt)}`,
      );
    }
    assert.equal(
      link.sizeBytes,
      link.shards.reduce((sum, s) => sum + s.sizeBytes, 0),
    );
    const {datasets} = await listDatasets(10, undefined, ctx);
    assert.deepEqual(datasets[0].objects.parquet, {
      object: `gs://test-bucket/${names[0]}`,
      sizeBytes: link.sizeBytes,
      shards: 4,
    });
  });
});
