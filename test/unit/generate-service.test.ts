/**
 * generateToBucket over the in-memory bucket and catalogue: the version is
 * allocated under a lease, every failure path leaves it `failed` at once,
 * and an abort removes only what this request created.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {resolveConfig} from '../../shared/dataset/config.js';
import {AlreadyExistsError, UnavailableError} from '../../shared/errors.js';
import {generateToBucket} from '../../shared/service/generate-service.js';
import {planOf} from '../../shared/dataset/shard-plan.js';
import {markFailedBounded} from '../../shared/service/lifecycle.js';
import {leaseMsOf} from '../../shared/settings.js';
import {memoryContext, START} from '../support/memory-context.js';

const config = resolveConfig({nSamples: 1000, seed: 7});
const names = (v: number) => ({
  parquet: `datasets/v${v}/dataset_v${v}.parquet`,
  tfrecord: `datasets/v${v}/dataset_v${v}.tfrecord`,
  metadata: `datasets/v${v}/metadata_v${v}.json`,
});
const connectionReset = () =>
  Object.assign(new Error('socket hang up'), {code: 'ECONNRESET'});

describe('generateToBucket', () => {
  it('allocates v1 under a lease of the timeout plus margin and writes three objects, metadata last', async () => {
    const context = memoryContext({GENERATE_TIMEOUT_SECONDS: '100'});
    const response = await generateToBucket(config, planOf(config), context);
    assert.equal(response.version, 1);
    assert.equal(response.rows, 1000);
    assert.deepEqual(response.objects, {
      parquet: `gs://test-bucket/${names(1).parquet}`,
      tfrecord: `gs://test-bucket/${names(1).tfrecord}`,
      metadata: `gs://test-bucket/${names(1).metadata}`,
    });
    assert.deepEqual(
      [...context.store.objects.keys()].sort(),
      Object.values(names(1)).sort(),
    );
    const opened = context.store.log.filter(l => l.startsWith('open'));
    assert.equal(opened.at(-1), `open metadata ${names(1).metadata}`);
    const record = context.catalog.documents.get('v1');
    assert.equal(record?.status, 'generating');
    assert.equal(leaseMsOf(context.settings), 160_000);
    assert.equal(
      record?.leaseExpiresAt,
      new Date(START.getTime() + 160_000).toISOString(),
    );
    assert.equal(
      response.checksums.parquet?.sha256,
      context.store.objects.get(names(1).parquet)?.digests.sha256,
    );
  });

  it('an upload stream error: 503 UNAVAILABLE, version failed at once, nothing of it left', async () => {
    const context = memoryContext();
    context.store.breakUpload(names(1).tfrecord, connectionReset(), 10_000);
    await assert.rejects(
      generateToBucket(config, planOf(config), context),
      (error: unknown) => {
        assert.ok(error instanceof UnavailableError);
        assert.match(error.message, /version 1 is failed/);
        return true;
      },
    );
    const record = context.catalog.documents.get('v1');
    assert.equal(record?.status, 'failed');
    assert.match(record?.error ?? '', /socket hang up/);
    assert.deepEqual([...context.store.objects.keys()], []);
  });

  it('a deterministic upload error is passed on as is (a 500), and the version is failed', async () => {
    const context = memoryContext();
    context.store.breakUpload(names(1).parquet, new RangeError('bad offset'));
    await assert.rejects(
      generateToBucket(config, planOf(config), context),
      RangeError,
    );
    assert.equal(context.catalog.documents.get('v1')?.status, 'failed');
    assert.deepEqual([...context.store.objects.keys()], []);
  });

  it('an object someone else created is never deleted or replaced; that version fails and the next is used', async () => {
    const context = memoryContext();
    // A stranger's (or an earlier run's) parquet where v1 will write.
    const theirs = context.store.put(
      names(1).parquet,
      'committed bytes of an earlier run',
    );
    const response = await generateToBucket(config, planOf(config), context);
    assert.equal(response.version, 2);
    const after = context.store.objects.get(names(1).parquet);
    assert.equal(after?.generation, theirs.generation);
    assert.equal(after?.digests.sha256, theirs.digests.sha256);
    assert.ok(!context.store.objects.has(names(1).tfrecord));
    assert.ok(!context.store.objects.has(names(1).metadata));
    assert.equal(context.catalog.documents.get('v1')?.status, 'failed');
    assert.match(
      context.catalog.documents.get('v1')?.error ?? '',
      /already exists/,
    );
    // The tfrecord this request did create was removed, by its own generation.
    assert.ok(
      context.store.log.some(l => l.startsWith(`delete ${names(1).tfrecord}#`)),
    );
  });

  it('names taken at every try: 409 ALREADY_EXISTS after VERSION_ATTEMPTS versions, all failed, theirs intact', async () => {
    const context = memoryContext();
    const theirs = [1, 2, 3].map(v =>
      context.store.put(names(v).metadata, `{"forged": ${v}}`),
    );
    await assert.rejects(
      generateToBucket(config, planOf(config), context),
      AlreadyExistsError,
    );
    assert.deepEqual(
      [...context.store.objects.keys()].sort(),
      [1, 2, 3].map(v => names(v).metadata),
    );
    for (const [i, object] of theirs.entries())
      assert.equal(
        context.store.objects.get(names(i + 1).metadata)?.generation,
        object.generation,
      );
    for (const v of [1, 2, 3])
      assert.equal(context.catalog.documents.get(`v${v}`)?.status, 'failed');
  });

  it('a catalogue that fails markFailed does not change the answer; the lease covers the version', async () => {
    const context = memoryContext();
    context.store.breakUpload(names(1).parquet, connectionReset());
    context.catalog.failNext(
      'markFailed',
      Object.assign(new Error('14 UNAVAILABLE: no connection'), {code: 14}),
    );
    await assert.rejects(
      generateToBucket(config, planOf(config), context),
      UnavailableError,
    );
    assert.equal(context.catalog.documents.get('v1')?.status, 'generating');
    assert.ok(
      context.lines.some(l =>
        l.message.startsWith('could not mark version failed'),
      ),
    );
  });

  it('allocation refused: the error goes out, nothing is written', async () => {
    const context = memoryContext();
    context.catalog.failNext('allocate', new UnavailableError('busy', 2));
    await assert.rejects(
      generateToBucket(config, planOf(config), context),
      UnavailableError,
    );
    assert.equal(context.store.objects.size, 0);
    assert.equal(context.catalog.documents.size, 0);
  });

  it('versions are never reused: the next generate after a failure gets v2', async () => {
    const context = memoryContext();
    context.store.breakUpload(names(1).parquet, connectionReset());
    await assert.rejects(generateToBucket(config, planOf(config), context));
    const second = await generateToBucket(config, planOf(config), context);
    assert.equal(second.version, 2);
  });
});

describe('markFailedBounded', () => {
  it('returns within its wait when the catalogue hangs', async () => {
    const context = memoryContext();
    await context.catalog.allocate({config, now: START, leaseMs: 1000});
    context.catalog.hang('markFailed');
    const started = Date.now();
    assert.equal(await markFailedBounded(context, 1, 'boom', 50), false);
    assert.ok(Date.now() - started < 1000);
    assert.ok(context.lines.some(l => l.message.includes('in time')));
  });

  it('marks a generating version, and leaves a ready one alone', async () => {
    const context = memoryContext();
    await context.catalog.allocate({config, now: START, leaseMs: 1000});
    assert.equal(await markFailedBounded(context, 1, 'boom'), true);
    assert.equal(await markFailedBounded(context, 1, 'again'), false);
    assert.equal(context.catalog.documents.get('v1')?.error, 'boom');
  });
});
