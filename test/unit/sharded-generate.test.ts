import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {gunzipSync} from 'node:zlib';
import {parquetReadObjects} from 'hyparquet';
import {
  resolveConfig,
  type DatasetRequest,
} from '../../shared/dataset/config.js';
import {
  assembleMetadata,
  writeShard,
  type WrittenShard,
} from '../../shared/generation/generate.js';
import {generateDataset} from '../../shared/generation/orchestrator.js';
import {InlineDigester} from '../../shared/digest/inline-digester.js';
import {
  filesOf,
  isSharded,
  type ObjectRecord,
} from '../../shared/metadata/document.js';
import {buildModel} from '../../shared/dataset/model.js';
import {BASE_SCHEMA} from '../../shared/formats/row-schema.js';
import {
  dataFileName,
  type DatasetFileKind,
} from '../../shared/dataset/object-names.js';
import {planOf, shardPlan} from '../../shared/dataset/shard-plan.js';
import {FIXED_TIME, generateInMemory} from '../support/datasets.js';
import {MemoryDestination} from '../support/memory-destination.js';

async function generateSharded(request: DatasetRequest, shards: number) {
  const config = resolveConfig({seed: 1, ...request, shards});
  const names = {} as Record<DatasetFileKind, string>;
  for (const kind of ['parquet', 'tfrecord', 'metadata'] as const) {
    names[kind] = dataFileName(kind, 1, config.tfrecordCompression);
  }
  const destination = new MemoryDestination();
  const result = await generateDataset({
    config,
    plan: planOf(config),
    version: 1,
    names,
    destination,
    now: FIXED_TIME,
  });
  return {config, destination, result};
}

function shardFiles(
  result: Awaited<ReturnType<typeof generateSharded>>['result'],
  format: 'parquet' | 'tfrecord',
): ObjectRecord[] {
  const object = result.metadata.objects[format];
  assert.ok(object && isSharded(object), `${format} is not sharded`);
  return object.shards;
}

async function parquetRows(bytes: Buffer): Promise<string[]> {
  const rows = await parquetReadObjects({
    file: bytes.buffer.slice(
      bytes.byteOffset,
      bytes.byteOffset + bytes.length,
    ) as ArrayBuffer,
  });
  return rows.map(r => BASE_SCHEMA.names.map(n => String(r[n])).join('\t'));
}

describe('sharded generation', () => {
  it('3 shards over 300,000 rows (5 blocks: 1, 2, 2): the TFRecord shards concatenated are the single file, byte for byte', async () => {
    const single = await generateInMemory({seed: 7, nSamples: 300_000});
    const sharded = await generateSharded({seed: 7, nSamples: 300_000}, 3);
    const files = shardFiles(sharded.result, 'tfrecord');
    assert.deepEqual(
      files.map(f => [f.name, f.rows]),
      [
        ['dataset_v1-00000-of-00003.tfrecord', 65_536],
        ['dataset_v1-00001-of-00003.tfrecord', 131_072],
        ['dataset_v1-00002-of-00003.tfrecord', 103_392],
      ],
    );
    const concatenated = Buffer.concat(
      files.map(f => sharded.destination.bytes(f.name)),
    );
    assert.ok(
      concatenated.equals(single.destination.bytes('dataset_v1.tfrecord')),
    );
  });

  it('4 shards over 200,000 rows (S = blocks): TFRecord identity, Parquet shards read back hold the single file rows', async () => {
    const single = await generateInMemory({seed: 7, nSamples: 200_000});
    const sharded = await generateSharded({seed: 7, nSamples: 200_000}, 4);
    const tfrecord = Buffer.concat(
      shardFiles(sharded.result, 'tfrecord').map(f =>
        sharded.destination.bytes(f.name),
      ),
    );
    assert.ok(tfrecord.equals(single.destination.bytes('dataset_v1.tfrecord')));
    const shardRows: string[] = [];
    for (const file of shardFiles(sharded.result, 'parquet')) {
      const rows = await parquetRows(sharded.destination.bytes(file.name));
      assert.equal(rows.length, file.rows);
      shardRows.push(...rows);
    }
    const singleRows = await parquetRows(
      single.destination.bytes('dataset_v1.parquet'),
    );
    assert.equal(shardRows.length, 200_000);
    assert.deepEqual(shardRows, singleRows);
  });

  // S the former plan refused (ceil(B/S) blocks a shard left the last ones empty)
  for (const [nSamples, counts] of [
    [300_001, [4]],
    [7 * 65_536 - 1, [5, 6]],
  ] as const) {
    it(`${nSamples} rows in ${counts.join(' or ')} shards: TFRecord shards concatenated are the single file; Parquet shards hold its rows`, async () => {
      const single = await generateInMemory({seed: 9, nSamples});
      const singleTfrecord = single.destination.bytes('dataset_v1.tfrecord');
      const singleRows = await parquetRows(
        single.destination.bytes('dataset_v1.parquet'),
      );
      for (const shards of counts) {
        const sharded = await generateSharded({seed: 9, nSamples}, shards);
        const plan = shardPlan(nSamples, shards);
        const tfrecord = shardFiles(sharded.result, 'tfrecord');
        assert.deepEqual(
          tfrecord.map(f => f.rows),
          plan.shards.map(s => s.end - s.start),
        );
        assert.ok(
          Buffer.concat(
            tfrecord.map(f => sharded.destination.bytes(f.name)),
          ).equals(singleTfrecord),
          `${shards} TFRecord shards`,
        );
        let rows: string[] = [];
        for (const file of shardFiles(sharded.result, 'parquet'))
          rows = rows.concat(
            await parquetRows(sharded.destination.bytes(file.name)),
          );
        assert.equal(rows.length, nSamples);
        assert.deepEqual(rows, singleRows, `${shards} Parquet shards`);
        assert.deepEqual(
          sharded.result.metadata.empirical,
          single.result.metadata.empirical,
        );
      }
    });
  }

  it('merges the shards tallies into exactly the single run empirical', async () => {
    const request = {seed: 11, nSamples: 500_000, nCreativePackIds: 1000};
    const single = await generateInMemory(request);
    const sharded = await generateSharded(request, 3);
    assert.deepEqual(
      sharded.result.metadata.empirical,
      single.result.metadata.empirical,
    );
    // everything but the objects and the shard count is the same metadata
    const {objects: a, ...restSharded} = sharded.result.metadata;
    const {objects: b, ...restSingle} = single.result.metadata;
    assert.equal(restSharded.config.shards, 3);
    assert.equal(restSingle.config.shards, 1);
    assert.deepEqual(
      {...restSharded, config: {...restSharded.config, shards: 1}},
      restSingle,
    );
    for (const format of ['parquet', 'tfrecord'] as const) {
      const object = a[format];
      assert.ok(object && isSharded(object) && b[format]);
      assert.equal(object.rows, 500_000);
      assert.equal(
        object.bytes,
        object.shards.reduce((s, f) => s + f.bytes, 0),
      );
      assert.equal(object.shards.length, 3);
    }
    assert.equal(a.tfrecord?.bytes, b.tfrecord?.bytes);
  });

  it('writeShard alone, in any order, gives the same shard bytes and metadata', async () => {
    const config = resolveConfig({seed: 5, nSamples: 270_000});
    const model = buildModel(config);
    const plan = shardPlan(config.nSamples, 3);
    const destination = new MemoryDestination();
    const results: WrittenShard[] = [];
    for (const shard of [...plan.shards].reverse()) {
      results.push(
        await writeShard({
          config,
          model,
          shard,
          names: {
            parquet: `p${shard.index}`,
            tfrecord: `t${shard.index}`,
          },
          destination,
          digester: () => new InlineDigester({md5: false}),
        }),
      );
    }
    const reference = await generateSharded({seed: 5, nSamples: 270_000}, 3);
    for (const [format, prefix] of [
      ['parquet', 'p'],
      ['tfrecord', 't'],
    ] as const) {
      shardFiles(reference.result, format).forEach((file, k) => {
        assert.ok(
          destination
            .bytes(`${prefix}${k}`)
            .equals(reference.destination.bytes(file.name)),
        );
      });
    }
    const metadata = assembleMetadata({
      config,
      version: 1,
      createdAt: FIXED_TIME(),
      model,
      shards: results,
    });
    assert.deepEqual(metadata.empirical, reference.result.metadata.empirical);
    assert.deepEqual(
      filesOf(metadata.objects.tfrecord!).map(f => f.sha256),
      shardFiles(reference.result, 'tfrecord').map(f => f.sha256),
    );
    assert.throws(
      () =>
        assembleMetadata({
          config,
          version: 1,
          createdAt: FIXED_TIME(),
          model,
          shards: results.slice(1),
        }),
      /every shard once: have 0, 1 of 3/,
    );
  });

  it('GZIP: each shard is a complete gzip stream; the shards concatenated are a multi-member gzip of the single stream, not the single .gz file', async () => {
    const plain = await generateInMemory({seed: 5, nSamples: 200_000});
    const single = await generateInMemory({
      seed: 5,
      nSamples: 200_000,
      tfrecordCompression: 'GZIP',
    });
    const sharded = await generateSharded(
      {seed: 5, nSamples: 200_000, tfrecordCompression: 'GZIP'},
      2,
    );
    const files = shardFiles(sharded.result, 'tfrecord');
    assert.deepEqual(
      files.map(f => f.name),
      [
        'dataset_v1-00000-of-00002.tfrecord.gz',
        'dataset_v1-00001-of-00002.tfrecord.gz',
      ],
    );
    const members = files.map(f => sharded.destination.bytes(f.name));
    const plainBytes = plain.destination.bytes('dataset_v1.tfrecord');
    let offset = 0;
    members.forEach((member, k) => {
      assert.deepEqual([...member.subarray(0, 2)], [0x1f, 0x8b]);
      const inflated = gunzipSync(member);
      assert.ok(
        inflated.equals(plainBytes.subarray(offset, offset + inflated.length)),
        `shard ${k} holds other records`,
      );
      offset += inflated.length;
    });
    assert.equal(offset, plainBytes.length);
    const concatenated = Buffer.concat(members);
    // gzip readers (zlib, tf.data's ZlibInputStream) read the members one after another
    assert.ok(gunzipSync(concatenated).equals(plainBytes));
    // ...but the bytes differ from the single .gz (a deflate stream ends per member)
    assert.ok(
      !concatenated.equals(single.destination.bytes('dataset_v1.tfrecord.gz')),
    );
  });

  it('refuses a hand-built config with more shards than blocks, before writing', async () => {
    const destination = new MemoryDestination();
    // by hand: resolveConfig itself refuses this shard count
    const config = {...resolveConfig({seed: 1, nSamples: 300_000}), shards: 6};
    await assert.rejects(
      async () =>
        generateDataset({
          config,
          plan: planOf(config),
          version: 1,
          names: {parquet: 'p.parquet', tfrecord: 't.tfrecord', metadata: 'm'},
          destination,
        }),
      /a shard count for 300000 rows must be in 1\.\.5, got 6/,
    );
    assert.deepEqual(destination.events, []);
  });

  it("refuses a plan that is not the config's", async () => {
    const destination = new MemoryDestination();
    const config = resolveConfig({seed: 1, nSamples: 300_000, shards: 3});
    await assert.rejects(
      generateDataset({
        config,
        plan: shardPlan(300_000, 2),
        version: 1,
        names: {parquet: 'p.parquet', tfrecord: 't.tfrecord', metadata: 'm'},
        destination,
      }),
      /the plan is 2 shards of 300000 rows; the config asks 3 of 300000/,
    );
    assert.deepEqual(destination.events, []);
  });

  it('removes the shards already written when a later shard fails', async () => {
    const inner = new MemoryDestination();
    const destination = {
      async open(kind: DatasetFileKind, name: string) {
        if (name.includes('00002-of')) throw new Error('disk full');
        return inner.open(kind, name);
      },
    };
    await assert.rejects(
      generateDataset({
        config: resolveConfig({seed: 1, nSamples: 300_000, shards: 3}),
        plan: shardPlan(300_000, 3),
        version: 1,
        names: {
          parquet: 'dataset_v1.parquet',
          tfrecord: 'dataset_v1.tfrecord',
          metadata: 'metadata_v1.json',
        },
        destination,
      }),
      /disk full/,
    );
    assert.equal(
      inner.events.filter(e => e.startsWith('close')).length,
      4,
      inner.events.join(','),
    );
    assert.equal(inner.events.filter(e => e.startsWith('abort')).length, 4);
    assert.ok(!inner.events.includes('open metadata'));
  });
});
