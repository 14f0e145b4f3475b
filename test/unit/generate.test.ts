import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {describe, it} from 'node:test';
import {gunzipSync} from 'node:zlib';
import {parquetReadObjects} from 'hyparquet';
import {resolveConfig} from '../../shared/dataset/config.js';
import {generateDataset} from '../../shared/generation/orchestrator.js';
import {planOf} from '../../shared/dataset/shard-plan.js';
import {filesOf} from '../../shared/metadata/document.js';
import {TfrecordDeframer} from '../../shared/formats/tfrecord/framing.js';
import {decodeExample} from '../../shared/formats/tfrecord/example.js';
import {BASE_SCHEMA, valueOf} from '../../shared/formats/row-schema.js';
import type {ByteSink} from '../../shared/storage/sinks/sink.js';
import {generateInMemory} from '../support/datasets.js';
import {MemoryDestination} from '../support/memory-destination.js';
import {
  GENERATOR,
  PARQUET_CREATED_BY,
} from '../../shared/dataset/generator-version.js';
import {GOLDEN, PREVIOUS_GOLDEN} from '../support/golden.js';

const sha256 = (bytes: Uint8Array) =>
  createHash('sha256').update(bytes).digest('hex');

describe('generateDataset', () => {
  it(`gives byte-identical files for the same inputs (golden digests of generator ${GOLDEN.generatorVersion}, seed 7, 200k rows)`, async () => {
    assert.equal(
      GENERATOR.version,
      GOLDEN.generatorVersion,
      'the generator version changed: regenerate the golden digests in test/support/golden.ts',
    );
    const a = await generateInMemory({seed: 7, nSamples: 200_000});
    const b = await generateInMemory({seed: 7, nSamples: 200_000}, 9);
    assert.ok(
      a.destination
        .bytes('dataset_v1.parquet')
        .equals(b.destination.bytes('dataset_v9.parquet')),
    );
    assert.ok(
      a.destination
        .bytes('dataset_v1.tfrecord')
        .equals(b.destination.bytes('dataset_v9.tfrecord')),
    );
    assert.equal(
      sha256(a.destination.bytes('dataset_v1.parquet')),
      GOLDEN.seed7Rows200k.parquet,
      `Parquet bytes changed under generator ${GENERATOR.version}: bump shared/dataset/generator-version.ts`,
    );
    assert.equal(
      sha256(a.destination.bytes('dataset_v1.tfrecord')),
      GOLDEN.seed7Rows200k.tfrecord,
      `TFRecord bytes changed under generator ${GENERATOR.version}: bump shared/dataset/generator-version.ts`,
    );
  });

  it(`shards: 1 writes generator ${PREVIOUS_GOLDEN.generatorVersion}'s bytes but for the version in the Parquet created_by`, async () => {
    const {destination} = await generateInMemory({seed: 7, nSamples: 200_000});
    const parquet = destination.bytes('dataset_v1.parquet');
    const createdBy = Buffer.from(PARQUET_CREATED_BY, 'latin1');
    // exactly one created_by, in the footer (the last 8 bytes are its length and PAR1)
    const at = parquet.indexOf(createdBy);
    assert.ok(
      at > parquet.length - 1024,
      `created_by at ${at} of ${parquet.length}`,
    );
    assert.equal(parquet.indexOf(createdBy, at + 1), -1);
    // ...and the version's digits nowhere else: replacing them is replacing created_by's
    const digits = Buffer.from(GENERATOR.version, 'latin1');
    const first = parquet.indexOf(digits);
    assert.ok(first > at && first < at + createdBy.length);
    assert.equal(parquet.indexOf(digits, first + 1), -1);
    const before = Buffer.from(
      PARQUET_CREATED_BY.replace(
        ` version ${GENERATOR.version} `,
        ` version ${PREVIOUS_GOLDEN.generatorVersion} `,
      ),
      'latin1',
    );
    assert.equal(before.length, createdBy.length);
    const asBefore = Buffer.concat([
      parquet.subarray(0, at),
      before,
      parquet.subarray(at + createdBy.length),
    ]);
    assert.equal(sha256(asBefore), PREVIOUS_GOLDEN.seed7Rows200k.parquet);
    assert.equal(
      sha256(destination.bytes('dataset_v1.tfrecord')),
      PREVIOUS_GOLDEN.seed7Rows200k.tfrecord,
    );
    assert.equal(
      GOLDEN.seed7Rows200k.tfrecord,
      PREVIOUS_GOLDEN.seed7Rows200k.tfrecord,
    );
  });

  it('gives different files for a different seed', async () => {
    const a = await generateInMemory({seed: 7, nSamples: 1000});
    const b = await generateInMemory({seed: 8, nSamples: 1000});
    assert.ok(
      !a.destination
        .bytes('dataset_v1.tfrecord')
        .equals(b.destination.bytes('dataset_v1.tfrecord')),
    );
  });

  it('puts the same rows, in the same order, in both formats', async () => {
    const {destination} = await generateInMemory({seed: 3, nSamples: 70_000});
    const parquet = destination.bytes('dataset_v1.parquet');
    const rows = await parquetReadObjects({
      file: parquet.buffer.slice(
        parquet.byteOffset,
        parquet.byteOffset + parquet.length,
      ) as ArrayBuffer,
    });
    const deframer = new TfrecordDeframer();
    const records = deframer
      .push(destination.bytes('dataset_v1.tfrecord'))
      .map(payload => decodeExample(payload));
    deframer.end();
    assert.equal(records.length, 70_000);
    assert.deepEqual(
      records.map(r => BASE_SCHEMA.columns.map(c => String(valueOf(r, c)))),
      rows.map(r => BASE_SCHEMA.columns.map(c => String(r[c.name]))),
    );
  });

  it('records md5 only when asked (--md5), and the same data bytes either way', async () => {
    const plain = await generateInMemory({seed: 2, nSamples: 5000});
    const hashed = await generateInMemory({seed: 2, nSamples: 5000}, 1, {
      md5: true,
    });
    for (const format of ['parquet', 'tfrecord'] as const) {
      const name = plain.names[format];
      assert.ok(
        plain.destination.bytes(name).equals(hashed.destination.bytes(name)),
      );
      const without = plain.result.metadata.objects[format];
      const withMd5 = hashed.result.metadata.objects[format];
      assert.ok(without && withMd5);
      assert.deepEqual(Object.keys(without), [
        'name',
        'rows',
        'bytes',
        'crc32c',
        'sha256',
      ]);
      assert.deepEqual(Object.keys(withMd5), [
        'name',
        'rows',
        'bytes',
        'crc32c',
        'md5',
        'sha256',
      ]);
      const {md5, ...rest} = withMd5 as typeof withMd5 & {md5?: string};
      assert.deepEqual(rest, without);
      assert.equal(
        md5,
        createHash('md5')
          .update(plain.destination.bytes(name))
          .digest('base64'),
      );
    }
    const metadata = plain.destination.bytes(plain.names.metadata).toString();
    assert.doesNotMatch(metadata, /"md5"/);
  });

  it('writes the metadata last, with checksums of the bytes written', async () => {
    const {destination, result, names} = await generateInMemory(
      {seed: 2, nSamples: 5000},
      1,
      {md5: true},
    );
    assert.deepEqual(destination.events.slice(-2), [
      'open metadata',
      'close metadata',
    ]);
    assert.ok(
      destination.events.indexOf('close tfrecord') <
        destination.events.indexOf('open metadata'),
    );
    const metadata = JSON.parse(destination.bytes(names.metadata).toString());
    const {
      target_store_id_probs,
      creative_pack_id_probs,
      creative_pack_target,
      pair_probs,
      ...head
    } = metadata;
    assert.deepEqual(head, JSON.parse(JSON.stringify(result.metadata)));
    assert.equal(Object.keys(target_store_id_probs).length, 10);
    assert.equal(Object.keys(creative_pack_id_probs).length, 100);
    assert.equal(Object.keys(creative_pack_target).length, 100);
    assert.equal(Object.keys(pair_probs).length, 100);
    for (const format of ['parquet', 'tfrecord'] as const) {
      const bytes = destination.bytes(names[format]);
      const object = metadata.objects[format];
      assert.equal(object.bytes, bytes.length);
      assert.equal(object.rows, 5000);
      assert.equal(object.sha256, sha256(bytes));
      assert.equal(
        object.md5,
        createHash('md5').update(bytes).digest('base64'),
      );
    }
    assert.equal(metadata.schemaVersion, 1);
    assert.equal(metadata.version, 1);
    assert.equal(metadata.createdAt, '2026-01-02T03:04:05.000Z');
    assert.deepEqual(metadata.generator, {
      name: 'exploration-data',
      version: GOLDEN.generatorVersion,
    });
    assert.equal(Object.keys(metadata.target_store_id_probs).length, 10);
    assert.equal(Object.keys(metadata.pair_probs).length, 100);
    assert.equal(metadata.empirical.rows, 5000);
    const perTarget = Object.values(
      metadata.empirical.perTargetStore,
    ) as Array<{rows: number; positives: number}>;
    assert.equal(
      perTarget.reduce((s, t) => s + t.rows, 0),
      5000,
    );
    assert.equal(
      perTarget.reduce((s, t) => s + t.positives, 0),
      metadata.empirical.positives,
    );
  });

  it('writes only the formats asked for', async () => {
    const {destination} = await generateInMemory({
      nSamples: 100,
      formats: ['tfrecord'],
    });
    assert.deepEqual(
      [...destination.files.keys()],
      ['dataset_v1.tfrecord', 'metadata_v1.json'],
    );
  });

  it('GZIP holds exactly the uncompressed TFRecord stream', async () => {
    const plain = await generateInMemory({seed: 5, nSamples: 100_000});
    const gzip = await generateInMemory({
      seed: 5,
      nSamples: 100_000,
      tfrecordCompression: 'GZIP',
    });
    const compressed = gzip.destination.bytes('dataset_v1.tfrecord.gz');
    assert.ok(
      gunzipSync(compressed).equals(
        plain.destination.bytes('dataset_v1.tfrecord'),
      ),
    );
    assert.ok(
      compressed.length <
        plain.destination.bytes('dataset_v1.tfrecord').length / 5,
    );
    assert.deepEqual(
      gzip.result.metadata.objects.tfrecord &&
        filesOf(gzip.result.metadata.objects.tfrecord).map(f => f.name),
      ['dataset_v1.tfrecord.gz'],
    );
    assert.equal(
      gzip.result.metadata.objects.tfrecord?.bytes,
      compressed.length,
    );
  });

  it('aborts every sink and writes no metadata when a write fails', async () => {
    const destination = new MemoryDestination();
    const failing = {
      async open(
        kind: 'parquet' | 'tfrecord' | 'metadata',
        name: string,
      ): Promise<ByteSink> {
        const sink = await destination.open(kind, name);
        if (kind !== 'tfrecord') return sink;
        let writes = 0;
        return {
          ...sink,
          write: async chunk => {
            if (++writes === 3) throw new Error('disk full');
            return sink.write(chunk);
          },
        };
      },
    };
    const config = resolveConfig({seed: 1, nSamples: 1_000_000});
    await assert.rejects(
      generateDataset({
        config,
        plan: planOf(config),
        version: 1,
        destination: failing,
        names: {parquet: 'p', tfrecord: 't', metadata: 'm'},
      }),
      /disk full/,
    );
    assert.ok(destination.events.includes('abort tfrecord'));
    assert.ok(destination.events.includes('abort parquet'));
    assert.ok(!destination.events.includes('open metadata'));
  });

  it('removes the data files already written when the metadata write fails', async () => {
    const {mkdtemp, readdir, rm} = await import('node:fs/promises');
    const {tmpdir} = await import('node:os');
    const {join} = await import('node:path');
    const {DirectoryDestination} =
      await import('../../shared/storage/directory-destination.js');
    const directory = await mkdtemp(join(tmpdir(), 'exploration-abort-'));
    try {
      const inner = new DirectoryDestination(directory);
      const destination = {
        async open(
          kind: 'parquet' | 'tfrecord' | 'metadata',
          name: string,
        ): Promise<ByteSink> {
          const sink = await inner.open(kind, name);
          if (kind !== 'metadata') return sink;
          return {
            ...sink,
            write: async () => Promise.reject(new Error('quota exceeded')),
            abort: r => sink.abort(r),
            close: d => sink.close(d),
          };
        },
      };
      const config = resolveConfig({seed: 1, nSamples: 10_000});
      await assert.rejects(
        generateDataset({
          config,
          plan: planOf(config),
          version: 1,
          destination,
          names: {
            parquet: 'p.parquet',
            tfrecord: 't.tfrecord',
            metadata: 'm.json',
          },
        }),
        /quota exceeded/,
      );
      assert.deepEqual(await readdir(directory), []);
    } finally {
      await rm(directory, {recursive: true, force: true});
    }
  });
});

describe('PARQUET_CREATED_BY', () => {
  it('has the form the Parquet spec recommends, naming the writer as installed', async () => {
    const {readFile} = await import('node:fs/promises');
    const installed = JSON.parse(
      await readFile('node_modules/hyparquet-writer/package.json', 'utf8'),
    ) as {version: string};
    assert.equal(
      PARQUET_CREATED_BY,
      `exploration-data version ${GENERATOR.version} (build hyparquet-writer ${installed.version})`,
    );
    // parquet-mr's VersionParser pattern (org.apache.parquet.VersionParser)
    const parsed =
      /^(.*?)\s+version\s*(?:([^(]*?)\s*(?:\(\s*build\s*([^)]*?)\s*\))?)?$/.exec(
        PARQUET_CREATED_BY,
      );
    // the 0.1.0 form did not parse, so parquet-mr dropped the statistics
    assert.equal(
      /^(.*?)\s+version\s*/.test(
        'exploration-data 0.1.0 (hyparquet-writer 0.17.0)',
      ),
      false,
    );
    assert.deepEqual(parsed?.slice(1), [
      'exploration-data',
      GENERATOR.version,
      `hyparquet-writer ${installed.version}`,
    ]);
  });
});
