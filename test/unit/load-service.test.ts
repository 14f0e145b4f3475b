/**
 * The loaders and listDatasets over the in-memory bucket and catalogue:
 * `latest`, the lease applied by readers, not-ready and failed versions,
 * metadata gone from the bucket, paging, forged documents ignored.
 */
import assert from 'node:assert/strict';
import {before, beforeEach, describe, it} from 'node:test';
import {resolveConfig} from '../../shared/dataset/config.js';
import {
  DataLossError,
  FailedPreconditionError,
  NotFoundError,
} from '../../shared/errors.js';
import {generateToBucket} from '../../shared/service/generate-service.js';
import {planOf} from '../../shared/dataset/shard-plan.js';
import {
  listDatasets,
  loadMetadata,
  loadObject,
  resolveReady,
} from '../../shared/service/load-service.js';
import {DATASET_STATUSES} from '../../shared/catalog/records.js';
import {
  STATUS_TABLE,
  VersionNotReadyError,
} from '../../shared/catalog/statuses.js';
import {recordStorageEvent} from '../../shared/service/record-service.js';
import {METADATA_ANSWER_MAX_BYTES} from '../../shared/metadata/view.js';
import {leaseMsOf} from '../../shared/settings.js';
import {memoryContext, type MemoryContext} from '../support/memory-context.js';

const config = resolveConfig({nSamples: 1000, seed: 3, nCreativePackIds: 10});
let template: MemoryContext;
let context: MemoryContext;

/** v1 and v2 ready, v3 generating. */
before(async () => {
  template = memoryContext();
  for (let v = 1; v <= 3; v++) {
    await generateToBucket(config, planOf(config), template);
    if (v === 3) break;
    const name = `datasets/v${v}/metadata_v${v}.json`;
    const generation = template.store.objects.get(name)!.generation;
    const result = await recordStorageEvent(
      {bucket: 'test-bucket', name, generation},
      template,
    );
    assert.equal(result, 'recorded');
  }
});
beforeEach(() => {
  context = memoryContext();
  for (const [name, object] of template.store.objects)
    context.store.put(name, object.bytes);
  for (const record of template.catalog.documents.values())
    context.catalog.put(record);
});

describe('resolveReady follows the status table', () => {
  for (const status of DATASET_STATUSES) {
    const rule = STATUS_TABLE[status];
    it(`${status} -> ${rule.loaders}${rule.loaders === 409 ? ` with versionStatus ${status}` : ''}`, async () => {
      const v2 = context.catalog.documents.get('v2')!;
      context.catalog.put({
        ...v2,
        status,
        error: status === 'failed' ? 'shard 2 kept failing' : undefined,
        leaseExpiresAt:
          status === 'generating'
            ? new Date(context.now().getTime() + 60_000).toISOString()
            : undefined,
      });
      const answer = resolveReady(2, context);
      if (rule.loaders === 200) {
        assert.equal((await answer).status, status);
        return;
      }
      await assert.rejects(answer, (error: unknown) => {
        assert.ok(error instanceof VersionNotReadyError);
        assert.equal(error.code, 'FAILED_PRECONDITION');
        assert.equal(error.versionStatus, status);
        assert.equal(error.retryAfterSeconds, rule.retryAfterSeconds);
        assert.equal(rule.keepWaiting, status === 'generating');
        assert.match(
          error.message,
          status === 'failed'
            ? /failed .*: shard 2 kept failing$/
            : /still generating/,
        );
        return true;
      });
    });
  }

  it('a version past its lease answers versionStatus failed, not generating', async () => {
    context.advance(leaseMsOf(context.settings) + 1);
    await assert.rejects(resolveReady(3, context), (error: unknown) => {
      assert.ok(error instanceof VersionNotReadyError);
      assert.equal(error.versionStatus, 'failed');
      assert.equal(error.retryAfterSeconds, undefined);
      return true;
    });
  });
});

describe('loadObject', () => {
  it('latest is the newest ready version, with a signed URL and its checksums', async () => {
    const link = await loadObject('parquet', 'latest', 600, context);
    assert.equal(link.version, 2);
    assert.ok('object' in link, 'one file, not shards');
    assert.equal(
      link.object,
      'gs://test-bucket/datasets/v2/dataset_v2.parquet',
    );
    const object = template.store.objects.get(
      'datasets/v2/dataset_v2.parquet',
    )!;
    assert.equal(link.sizeBytes, object.bytes.length);
    assert.equal(link.crc32c, object.digests.crc32c);
    assert.equal(
      link.expiresAt,
      new Date(context.now().getTime() + 600_000).toISOString(),
    );
  });

  it('a version still generating -> 409 with the end of its lease', async () => {
    await assert.rejects(
      loadObject('tfrecord', 3, 600, context),
      (error: unknown) => {
        assert.ok(error instanceof FailedPreconditionError);
        assert.match(error.message, /still generating, at most until 20/);
        return true;
      },
    );
  });

  it('a version past its lease is reported failed and recorded failed', async () => {
    context.advance(leaseMsOf(context.settings) + 1);
    await assert.rejects(
      loadObject('parquet', 3, 600, context),
      /failed and will never be ready: generation did not finish within its lease/,
    );
    assert.equal(context.catalog.documents.get('v3')?.status, 'failed');
  });

  it('a version past its lease whose catalogue cannot be written is still reported failed', async () => {
    context.advance(leaseMsOf(context.settings) + 1);
    context.catalog.failNext(
      'markFailed',
      Object.assign(new Error('14 UNAVAILABLE'), {code: 14}),
    );
    await assert.rejects(
      loadObject('parquet', 3, 600, context),
      /failed and will never be ready/,
    );
    assert.equal(context.catalog.documents.get('v3')?.status, 'generating');
  });

  it('no such version -> 404; a forged document is not a version', async () => {
    await assert.rejects(
      loadObject('parquet', 99, 600, context),
      NotFoundError,
    );
    context.catalog.put(
      {...template.catalog.documents.get('v2')!, version: 7},
      'v8',
    );
    await assert.rejects(loadObject('parquet', 8, 600, context), NotFoundError);
    await assert.rejects(loadObject('parquet', 7, 600, context), NotFoundError);
  });

  it('no ready version at all -> 404 for latest', async () => {
    const empty = memoryContext();
    await assert.rejects(
      loadObject('parquet', 'latest', 600, empty),
      /no dataset version is ready yet/,
    );
  });

  it('a format the version does not have -> 404', async () => {
    const record = context.catalog.documents.get('v2')!;
    delete record.objects!.tfrecord;
    await assert.rejects(
      loadObject('tfrecord', 2, 600, context),
      /has no tfrecord file/,
    );
  });
});

describe('loadMetadata', () => {
  it('returns the recorded generation of the metadata and a URL for it', async () => {
    const response = await loadMetadata(1, 60, context);
    assert.equal(response.version, 1);
    assert.equal(response.status, 'ready');
    assert.equal((response.metadata as {version: number}).version, 1);
    assert.match(response.url, /metadata_v1\.json/);
  });

  it('reads the recorded generation, not a later stranger one', async () => {
    context.store.put('datasets/v1/metadata_v1.json', '{"forged": true}');
    const response = await loadMetadata(1, 60, context);
    assert.equal((response.metadata as {version: number}).version, 1);
  });

  it('a metadata object past METADATA_ANSWER_MAX_BYTES is answered summarized, never read', async () => {
    const name = 'datasets/v1/metadata_v1.json';
    context.store.objects.set(name, {
      ...context.store.objects.get(name)!,
      bytes: Buffer.alloc(METADATA_ANSWER_MAX_BYTES + 1),
    });
    const response = await loadMetadata(1, 60, context);
    assert.equal((response.metadata as {version: number}).version, 1);
    assert.ok(!context.store.log.includes(`read ${name}`));
  });

  it('answers the metadata through the one parser: typed, whole, in the written order', async () => {
    const name = 'datasets/v1/metadata_v1.json';
    const bytes = context.store.objects.get(name)!.bytes;
    const response = await loadMetadata(1, 60, context);
    assert.deepEqual(response.metadata, JSON.parse(bytes.toString()));
  });

  it('recorded metadata the parser rejects -> DataLossError naming the member', async () => {
    const name = 'datasets/v1/metadata_v1.json';
    const forged = context.store.put(
      name,
      context.store.objects
        .get(name)!
        .bytes.toString()
        .replace('"schemaVersion": 1', '"schemaVersion": 7'),
    );
    context.catalog.documents.get('v1')!.recordedGeneration = forged.generation;
    await assert.rejects(loadMetadata(1, 60, context), (error: unknown) => {
      assert.ok(error instanceof DataLossError);
      assert.match(
        error.message,
        /metadata object of dataset version 1 is malformed: metadata's schemaVersion must be 1, got 7/,
      );
      return true;
    });
  });

  it('metadata gone from the bucket -> 404', async () => {
    const record = context.catalog.documents.get('v1')!;
    record.recordedGeneration = '5';
    await assert.rejects(
      loadMetadata(1, 60, context),
      /is gone from the bucket/,
    );
  });
});

describe('listDatasets', () => {
  it('pages newest first and applies the lease', async () => {
    context.advance(leaseMsOf(context.settings) + 1);
    const first = await listDatasets(2, undefined, context);
    assert.deepEqual(
      first.datasets.map(d => [d.version, d.status]),
      [
        [3, 'failed'],
        [2, 'ready'],
      ],
    );
    assert.match(first.datasets[0].error ?? '', /lease/);
    assert.equal(context.catalog.documents.get('v3')?.status, 'failed');
    assert.ok(first.nextPageToken);
    const after = Number(
      /after:(\d+)/.exec(
        Buffer.from(first.nextPageToken, 'base64url').toString(),
      )![1],
    );
    const second = await listDatasets(2, after, context);
    assert.deepEqual(
      second.datasets.map(d => d.version),
      [1],
    );
    assert.equal(second.nextPageToken, null);
    assert.deepEqual(second.datasets[0].objects.parquet, {
      object: 'gs://test-bucket/datasets/v1/dataset_v1.parquet',
      sizeBytes: template.store.objects.get('datasets/v1/dataset_v1.parquet')!
        .bytes.length,
    });
  });

  it('leaves forged documents out', async () => {
    context.catalog.put({
      ...template.catalog.documents.get('v2')!,
      version: 9007199254740991,
    });
    context.catalog.put(
      {...template.catalog.documents.get('v2')!, version: 5},
      'v6',
    );
    const page = await listDatasets(10, undefined, context);
    assert.deepEqual(
      page.datasets.map(d => d.version),
      [3, 2, 1],
    );
  });
});
