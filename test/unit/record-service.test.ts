/**
 * recordStorageEvent over the in-memory bucket and catalogue: every branch.
 * Only a version this service allocated, still generating under its lease,
 * with metadata matching the allocation and the bucket, becomes ready;
 * everything else is acknowledged and changes nothing it must not.
 */
import assert from 'node:assert/strict';
import {before, beforeEach, describe, it} from 'node:test';
import type {DatasetRecord} from '../../shared/catalog/records.js';
import {resolveConfig} from '../../shared/dataset/config.js';
import {UnavailableError} from '../../shared/errors.js';
import {filesOf} from '../../shared/metadata/document.js';
import {generateToBucket} from '../../shared/service/generate-service.js';
import {planOf} from '../../shared/dataset/shard-plan.js';
import {
  recordStorageEvent,
  type StorageObjectEvent,
} from '../../shared/service/record-service.js';
import {leaseMsOf} from '../../shared/settings.js';
import {
  memoryContext,
  START,
  type MemoryContext,
} from '../support/memory-context.js';

const config = resolveConfig({nSamples: 1000, seed: 11, nCreativePackIds: 20});
const metadataName = (v: number) => `datasets/v${v}/metadata_v${v}.json`;
const grpc = (code: number, message: string) =>
  Object.assign(new Error(`${code} ${message}`), {code});
const http = (code: number) => Object.assign(new Error(`HTTP ${code}`), {code});

let context: MemoryContext;
/** v1, generated and not yet recorded */
let metadataBytes: Buffer;

function eventFor(
  name: string,
  extra: Partial<StorageObjectEvent> = {},
): StorageObjectEvent {
  const object = context.store.objects.get(name);
  return {
    bucket: 'test-bucket',
    name,
    generation: object?.generation ?? '1',
    time: context.now().toISOString(),
    ...extra,
  };
}

function snapshot(): string {
  return JSON.stringify([...context.catalog.documents.entries()]);
}

/** A forged metadata object for version v: v1's metadata with some fields changed. */
function forged(
  v: number,
  edit: (m: Record<string, unknown>) => void = () => undefined,
): Buffer {
  const metadata = JSON.parse(metadataBytes.toString()) as Record<
    string,
    unknown
  >;
  metadata.version = v;
  const objects = metadata.objects as Record<string, {name: string}>;
  for (const object of Object.values(objects))
    object.name = object.name.replaceAll('v1', `v${v}`);
  edit(metadata);
  return Buffer.from(JSON.stringify(metadata));
}

/** v1 generated once; every test starts from a copy of it. */
let template: MemoryContext;
before(async () => {
  template = memoryContext();
  await generateToBucket(config, planOf(config), template);
  metadataBytes = template.store.objects.get(metadataName(1))!.bytes;
});
beforeEach(() => {
  context = memoryContext();
  for (const [name, object] of template.store.objects)
    context.store.put(name, object.bytes);
  for (const record of template.catalog.documents.values())
    context.catalog.put(record);
});

describe('recordStorageEvent records', () => {
  it('our generating version, with its probabilities, objects and generation', async () => {
    const event = eventFor(metadataName(1));
    assert.equal(await recordStorageEvent(event, context), 'recorded');
    const record = context.catalog.documents.get('v1') as DatasetRecord;
    assert.equal(record.status, 'ready');
    assert.equal(record.recordedGeneration, event.generation);
    assert.equal(record.metadataObject, metadataName(1));
    assert.equal(record.empirical?.rows, 1000);
    assert.equal(record.probabilities?.stored, 'inline');
    assert.deepEqual(record.config, config);
    assert.deepEqual(
      filesOf(record.objects!.parquet!).map(f => f.name),
      ['datasets/v1/dataset_v1.parquet'],
    );
  });

  it('the same event twice: duplicate, nothing changes', async () => {
    const event = eventFor(metadataName(1));
    await recordStorageEvent(event, context);
    const before = snapshot();
    assert.equal(await recordStorageEvent(event, context), 'duplicate');
    assert.equal(snapshot(), before);
  });

  it('an older generation after a newer one: stale; a newer one of a ready version: not-generating', async () => {
    const event = eventFor(metadataName(1));
    await recordStorageEvent(event, context);
    const before = snapshot();
    const older = String(BigInt(event.generation) - 1n);
    const newer = String(BigInt(event.generation) + 1n);
    assert.equal(
      await recordStorageEvent({...event, generation: older}, context),
      'stale',
    );
    assert.equal(
      await recordStorageEvent({...event, generation: newer}, context),
      'not-generating',
    );
    assert.equal(snapshot(), before);
  });
});

describe('recordStorageEvent acknowledges, creating and moving nothing', () => {
  const cases: Array<[string, () => StorageObjectEvent, string]> = [
    [
      'a foreign bucket',
      () => eventFor(metadataName(1), {bucket: 'someone-else'}),
      'ignored-foreign-bucket',
    ],
    [
      'a data file',
      () => eventFor('datasets/v1/dataset_v1.parquet'),
      'ignored-not-metadata',
    ],
    [
      'an object outside the prefix',
      () => eventFor('notes/metadata_v1.json'),
      'ignored-not-metadata',
    ],
    [
      'a folder and file that disagree',
      () => eventFor('datasets/v1/metadata_v2.json'),
      'ignored-not-metadata',
    ],
    [
      'a version past 2^53',
      () =>
        eventFor(
          'datasets/v90071992547409910/metadata_v90071992547409910.json',
        ),
      'ignored-not-metadata',
    ],
    [
      'an event older than the retry window',
      () =>
        eventFor(metadataName(1), {
          time: new Date(START.getTime() - 26 * 3600_000).toISOString(),
        }),
      'ignored-stale-event',
    ],
  ];
  for (const [what, event, result] of cases) {
    it(`${what} -> ${result}`, async () => {
      const before = snapshot();
      assert.equal(await recordStorageEvent(event(), context), result);
      assert.equal(snapshot(), before);
      assert.equal(
        context.store.log.filter(l => l.startsWith('read')).length,
        0,
      );
    });
  }

  const strangers: Array<[string, string, Buffer | string]> = [
    [
      'malformed metadata at a future version',
      metadataName(102),
      '{"version": 102, "this is": not json',
    ],
    [
      'forged well-formed metadata for an unallocated version',
      metadataName(2),
      '',
    ],
    ['v9007199254740991', metadataName(9007199254740991), ''],
    [
      'v999999999999999 (the largest selectable)',
      metadataName(999999999999999),
      '',
    ],
  ];
  for (const [what, name, bytes] of strangers) {
    it(`${what} -> not-allocated, allocation goes on at v2`, async () => {
      const version = Number(/v(\d+)\//.exec(name)![1]);
      context.store.put(name, bytes === '' ? forged(version) : bytes);
      const before = snapshot();
      assert.equal(
        await recordStorageEvent(eventFor(name), context),
        'not-allocated',
      );
      assert.equal(snapshot(), before);
      assert.ok(!context.store.log.includes(`read ${name}`));
      const next = await context.catalog.allocate({
        config,
        now: context.now(),
        leaseMs: 1000,
      });
      assert.equal(next.version, 2);
    });
  }

  it('a version already failed -> not-generating', async () => {
    await context.catalog.markFailed(1, 'earlier failure', context.now());
    const before = snapshot();
    assert.equal(
      await recordStorageEvent(eventFor(metadataName(1)), context),
      'not-generating',
    );
    assert.equal(snapshot(), before);
  });

  it('the object generation is gone -> ignored-object-gone, still generating', async () => {
    const event = eventFor(metadataName(1), {generation: '42'});
    assert.equal(
      await recordStorageEvent(event, context),
      'ignored-object-gone',
    );
    assert.equal(context.catalog.documents.get('v1')?.status, 'generating');
  });
});

describe('recordStorageEvent fails our generating version', () => {
  async function expectFailed(result: string, error: RegExp) {
    assert.equal(
      await recordStorageEvent(eventFor(metadataName(1)), context),
      result,
    );
    const record = context.catalog.documents.get('v1');
    assert.equal(record?.status, 'failed');
    assert.match(record?.error ?? '', error);
    assert.equal(record?.recordedGeneration, undefined);
  }
  function replaceMetadata(bytes: Buffer | string) {
    context.store.put(metadataName(1), bytes);
  }

  it('past its lease -> lease-expired', async () => {
    context.advance(leaseMsOf(context.settings) + 1);
    await expectFailed('lease-expired', /did not finish within its lease/);
  });

  it('not JSON -> rejected-malformed', async () => {
    replaceMetadata('{"version": 1, "this is": not json');
    await expectFailed('rejected-malformed', /not valid JSON/);
  });

  it('not an object -> rejected-malformed', async () => {
    replaceMetadata('[1, 2, 3]');
    await expectFailed('rejected-malformed', /not a JSON object/);
  });

  it('no probabilities -> rejected-malformed', async () => {
    replaceMetadata(forged(1, m => delete m.pair_probs));
    await expectFailed(
      'rejected-malformed',
      /no non-empty object "pair_probs"/,
    );
  });

  it('no empirical -> rejected-malformed, naming it', async () => {
    replaceMetadata(forged(1, m => delete m.empirical));
    await expectFailed(
      'rejected-malformed',
      /metadata's empirical must be an object, got undefined/,
    );
  });

  const mismatches: Array<
    [string, (m: Record<string, unknown>) => void, RegExp]
  > = [
    ['another version inside', m => (m.version = 2), /says version 2/],
    [
      'another seed',
      m => ((m.config as {seed: number}).seed = 12),
      /config .* is not the allocated/,
    ],
    [
      'another generator',
      m => ((m.generator as {version: string}).version = '9.9.9'),
      /generator/,
    ],
    [
      'an object outside its folder',
      m =>
        ((m.objects as Record<string, {name: string}>).parquet.name =
          'elsewhere/x.parquet'),
      /parquet object is not/,
    ],
    [
      'a missing format',
      m => delete (m.objects as Record<string, unknown>).tfrecord,
      /lists objects parquet/,
    ],
    [
      'a malformed checksum',
      m =>
        ((m.objects as Record<string, {crc32c: string}>).parquet.crc32c = 'zz'),
      /malformed bytes or checksums/,
    ],
    [
      'wrong row count',
      m => ((m.objects as Record<string, {rows: number}>).parquet.rows = 5),
      /rows/,
    ],
  ];
  for (const [what, edit, error] of mismatches) {
    it(`${what} -> rejected-mismatch`, async () => {
      replaceMetadata(forged(1, edit));
      await expectFailed('rejected-mismatch', error);
    });
  }

  it('a data object missing -> rejected-inconsistent', async () => {
    context.store.objects.delete('datasets/v1/dataset_v1.tfrecord');
    await expectFailed(
      'rejected-inconsistent',
      /dataset_v1.tfrecord is missing/,
    );
  });

  it('a data object of another size or CRC -> rejected-inconsistent', async () => {
    context.store.put('datasets/v1/dataset_v1.parquet', 'other bytes');
    await expectFailed(
      'rejected-inconsistent',
      /parquet object .* is 11 bytes/,
    );
  });

  it('a deterministic error (RangeError) -> failed-deterministic, acknowledged', async () => {
    context.store.failNext(
      'read',
      new RangeError('Maximum call stack size exceeded'),
    );
    await expectFailed('failed-deterministic', /RangeError/);
  });

  it('a 403 from storage -> failed-deterministic', async () => {
    context.store.failNext('stat', http(403));
    await expectFailed('failed-deterministic', /HTTP 403/);
  });

  it('the lease runs out between the checks and the commit -> lease-expired', async () => {
    const catalog = context.catalog;
    const recordReady = catalog.recordReady.bind(catalog);
    catalog.recordReady = (ready, now) =>
      recordReady(ready, new Date(now.getTime() + leaseMsOf(context.settings)));
    await expectFailed('lease-expired', /lease/);
  });
});

describe('recordStorageEvent throws (so Eventarc retries) only on transient failures', () => {
  const transient: Array<[string, () => void]> = [
    [
      'Firestore UNAVAILABLE on get',
      () => context.catalog.failNext('get', grpc(14, 'UNAVAILABLE')),
    ],
    [
      'Firestore ABORTED on commit',
      () => context.catalog.failNext('recordReady', grpc(10, 'ABORTED')),
    ],
    [
      'Firestore DEADLINE_EXCEEDED on commit',
      () =>
        context.catalog.failNext('recordReady', grpc(4, 'DEADLINE_EXCEEDED')),
    ],
    ['Storage 503 on read', () => context.store.failNext('read', http(503))],
    ['Storage 429 on stat', () => context.store.failNext('stat', http(429))],
    [
      'a connection reset on read',
      () =>
        context.store.failNext(
          'read',
          Object.assign(new Error('reset'), {code: 'ECONNRESET'}),
        ),
    ],
    [
      'markFailed UNAVAILABLE after a rejection',
      () => {
        context.store.put(metadataName(1), 'not json');
        context.catalog.failNext('markFailed', grpc(14, 'UNAVAILABLE'));
      },
    ],
  ];
  for (const [what, inject] of transient) {
    it(`${what}: throws, version still generating, and the retry records it`, async () => {
      inject();
      const event = eventFor(metadataName(1));
      await assert.rejects(recordStorageEvent(event, context));
      assert.equal(context.catalog.documents.get('v1')?.status, 'generating');
      const retried = await recordStorageEvent(event, context);
      assert.ok(['recorded', 'rejected-malformed'].includes(retried), retried);
    });
  }

  it('our own UnavailableError is transient too', async () => {
    context.catalog.failNext('get', new UnavailableError('busy'));
    await assert.rejects(
      recordStorageEvent(eventFor(metadataName(1)), context),
      UnavailableError,
    );
  });
});
