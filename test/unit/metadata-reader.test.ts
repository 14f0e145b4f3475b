import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {resolveConfig} from '../../shared/dataset/config.js';
import {
  buildMetadata,
  metadataHead,
  serializeMetadata,
} from '../../shared/metadata/document.js';
import {parseMetadata, readMetadata} from '../../shared/metadata/read.js';
import {buildModel} from '../../shared/dataset/model.js';
import {INLINE_PROBABILITIES_MAX_BYTES} from '../../shared/metadata/probabilities-record.js';
import {summarizeProbabilities} from '../support/summarize-probabilities.js';
import {MalformedMetadataError} from '../../shared/errors.js';

function metadataFor(nTargetStoreIds: number, nCreativePackIds: number) {
  const config = resolveConfig({
    seed: 4,
    nSamples: 100,
    nTargetStoreIds,
    nCreativePackIds,
  });
  const model = buildModel(config);
  const inputs = {
    version: 3,
    createdAt: new Date('2026-01-02T03:04:05.000Z'),
    config,
    objects: {},
    empirical: {rows: 100, positives: 40, rate: 0.4, perTargetStore: {}},
  };
  const metadata = buildMetadata({...inputs, model});
  return {
    model,
    metadata,
    head: metadataHead(inputs),
    bytes: serializeMetadata(metadata),
  };
}

/** The bytes in pieces of `size`, as a storage stream would hand them. */
async function* pieces(bytes: Uint8Array, size: number) {
  for (let i = 0; i < bytes.length; i += size)
    yield bytes.subarray(i, i + size);
}

const SMALL = {
  target_store_id_probs: {t: 0.5},
  creative_pack_id_probs: {c: 0.001},
  creative_pack_target: {c: 't'},
  pair_probs: {c: 0.501},
};
const config = resolveConfig({
  nSamples: 10,
  nTargetStoreIds: 1,
  nCreativePackIds: 1,
  seed: 1,
});
const file = {
  name: 'datasets/v1/dataset_v1.parquet',
  rows: 10,
  bytes: 100,
  crc32c: 'AAAAAA==',
  md5: 'AAAAAAAAAAAAAAAAAAAAAA==',
  sha256: '0'.repeat(64),
};
/** A minimal well-formed head, written in the generator's order. */
const HEAD = {
  schemaVersion: 1,
  version: 1,
  createdAt: '2026-01-02T03:04:05.000Z',
  generator: {name: 'exploration-data', version: '0.2.0'},
  config,
};
const TAIL = {
  objects: {parquet: file},
  empirical: {rows: 10, positives: 4, rate: 0.4, perTargetStore: {}},
};
const WHOLE = {...HEAD, ...SMALL, ...TAIL};
/** The well-formed object with one member replaced (undefined: left out). */
function withMember(key: string, value: unknown): string {
  return JSON.stringify({...WHOLE, [key]: value});
}

describe('readMetadata', () => {
  it('reads what the generator writes, in any split, keeping small maps', async () => {
    const {metadata, head, bytes, model} = metadataFor(5, 40);
    for (const size of [1, 7, 1000, bytes.length]) {
      const read = await readMetadata(pieces(bytes, size), {
        keepMapsUpToBytes: INLINE_PROBABILITIES_MAX_BYTES,
      });
      assert.deepEqual(read.head, JSON.parse(JSON.stringify(head)));
      assert.equal(read.bytes, bytes.length);
      assert.deepEqual(read.counts, {
        target_store_id_probs: 5,
        creative_pack_id_probs: 40,
        creative_pack_target: 40,
        pair_probs: 40,
      });
      assert.deepEqual(read.maps, {
        target_store_id_probs: metadata.target_store_id_probs,
        creative_pack_id_probs: metadata.creative_pack_id_probs,
        creative_pack_target: metadata.creative_pack_target,
        pair_probs: metadata.pair_probs,
      });
      assert.deepEqual(read.pairProbs, summarizeProbabilities(model.pairProbs));
    }
  });

  it('drops the maps once their JSON passes the size asked, and still counts', async () => {
    const {bytes} = metadataFor(5, 40);
    const read = await readMetadata([bytes], {keepMapsUpToBytes: 500});
    assert.equal(read.maps, undefined);
    assert.equal(read.counts.pair_probs, 40);
    assert.equal(read.pairProbs.count, 40);
  });

  const malformed: Array<[string, string, RegExp]> = [
    ['an array', '[1, 2]', /not a JSON object/],
    ['a number', ' 7', /not a JSON object/],
    ['empty', '', /not a JSON object/],
    ['only whitespace', ' \n ', /not a JSON object/],
    ['cut short', '{"version": 1, "pair_probs": {"c": 0.5', /not valid JSON/],
    ['trailing bytes', `${JSON.stringify(WHOLE)} x`, /not valid JSON/],
    ['two documents', `${JSON.stringify(WHOLE)}{}`, /not valid JSON/],
    ['bad syntax', '{"version": 1,,}', /not valid JSON/],
    [
      'a map missing',
      withMember('pair_probs', undefined),
      /no non-empty object "pair_probs"/,
    ],
    [
      'a map empty',
      withMember('target_store_id_probs', {}),
      /no non-empty object "target_store_id_probs"/,
    ],
    [
      'a map that is a number',
      withMember('pair_probs', 5),
      /no non-empty object "pair_probs"/,
    ],
    [
      'a map that is an array',
      withMember('pair_probs', [0.5]),
      /pair_probs is an array/,
    ],
    [
      'a probability that is a string',
      withMember('pair_probs', {c: '0.5'}),
      /pair_probs maps "c" to string, not a number/,
    ],
    [
      'a target that is a number',
      withMember('creative_pack_target', {c: 1}),
      /creative_pack_target maps "c" to number, not a string/,
    ],
    [
      'a nested object as a value',
      withMember('pair_probs', {c: {x: 1}}),
      /pair_probs maps "c" to an object/,
    ],
    [
      'counts that differ from the config',
      withMember('config', {...config, nCreativePackIds: 2}),
      /creative_pack_id_probs has 1 entries; its config asks for 2/,
    ],
    [
      'duplicate keys',
      withMember('config', {...config, nCreativePackIds: 2}).replace(
        '"pair_probs":{"c":0.501}',
        '"pair_probs":{"c":0.501,"c":0.502}',
      ),
      /creative_pack_id_probs has 1 entries; its config asks for 2/,
    ],
  ];
  const sharded = (shards: unknown) =>
    withMember('objects', {parquet: {rows: 10, bytes: 200, shards}});
  const malformedHead: Array<[string, string, RegExp]> = [
    [
      'another schemaVersion',
      withMember('schemaVersion', 2),
      /metadata's schemaVersion must be 1, got 2/,
    ],
    [
      'version 0',
      withMember('version', 0),
      /version must be a positive whole number, got 0/,
    ],
    [
      'a createdAt that is no time',
      withMember('createdAt', 'yesterday'),
      /createdAt must be an ISO 8601 time, got "yesterday"/,
    ],
    [
      'no generator',
      withMember('generator', undefined),
      /generator must be an object, got undefined/,
    ],
    [
      'a generator without a version',
      withMember('generator', {name: 'x'}),
      /generator.version must be a string, got undefined/,
    ],
    [
      'a config with an unknown field',
      withMember('config', {...config, colour: 'red'}),
      /metadata's config: unknown field "colour"/,
    ],
    [
      'a config without its seed',
      withMember('config', {...config, seed: undefined}),
      /config.seed must be a whole number, got undefined/,
    ],
    [
      'a config not resolved (a default left out)',
      withMember('config', {...config, formats: undefined}),
      /config.formats must be given \(a resolved config\), got undefined/,
    ],
    [
      'a config out of bounds',
      withMember('config', {...config, nSamples: 0}),
      /metadata's config: nSamples must be an integer in 1\.\./,
    ],
    [
      'an unknown format',
      withMember('objects', {csv: file}),
      /objects must be keyed by parquet or tfrecord, got "csv"/,
    ],
    [
      'negative rows',
      withMember('objects', {parquet: {...file, rows: -1}}),
      /objects.parquet.rows must be a whole number >= 0, got -1/,
    ],
    [
      'a shard without a string checksum',
      sharded([file, {...file, crc32c: 5}]),
      /objects.parquet.shards\[1\].crc32c must be a string, got 5/,
    ],
    [
      'no shards',
      sharded([]),
      /objects.parquet.shards must be a non-empty array, got an array/,
    ],
    [
      'no empirical',
      withMember('empirical', undefined),
      /empirical must be an object, got undefined/,
    ],
    [
      'a per-target rate past 1',
      withMember('empirical', {
        ...TAIL.empirical,
        perTargetStore: {
          t: {rows: 1, positives: 2, rate: 2, expectedRate: 0.5},
        },
      }),
      /empirical.perTargetStore\["t"\].rate must be a number in 0..1 or null, got 2/,
    ],
  ];
  malformed.push(...malformedHead);
  for (const [what, text, message] of malformed) {
    it(`rejects ${what}, streamed and whole`, async () => {
      const named = (error: unknown) => {
        assert.ok(error instanceof MalformedMetadataError, String(error));
        assert.match(error.message, message);
        return true;
      };
      await assert.rejects(readMetadata([Buffer.from(text)]), named);
      assert.throws(() => parseMetadata(Buffer.from(text)), named);
    });
  }

  it('accepts the minimal well-formed object, its head typed', async () => {
    const read = await readMetadata([Buffer.from(JSON.stringify(WHOLE))]);
    assert.deepEqual(read.head, {...HEAD, ...TAIL});
    assert.deepEqual(Object.keys(read.head), [
      'schemaVersion',
      'version',
      'createdAt',
      'generator',
      'config',
      'objects',
      'empirical',
    ]);
    assert.equal(read.pairProbs.mean, 0.501);
    assert.equal(read.tables, undefined);
  });

  it('accepts a config from before shards existed (counted as one shard), and refuses a wrong one', async () => {
    const {shards, ...legacy} = config;
    assert.equal(shards, 1);
    const read = await readMetadata([
      Buffer.from(withMember('config', legacy)),
    ]);
    assert.deepEqual(read.head.config, legacy);
    await assert.rejects(
      readMetadata([Buffer.from(withMember('config', {...config, shards: 2}))]),
      /metadata's config: shards must be at most 1 for 10 rows/,
    );
  });

  it('accepts a sharded format: totals and every shard (docs/design.md §4)', async () => {
    const sharded = {rows: 10, bytes: 200, shards: [file, file]};
    const read = await readMetadata([
      Buffer.from(withMember('objects', {parquet: sharded})),
    ]);
    assert.deepEqual(read.head.objects, {parquet: sharded});
  });

  it('parseMetadata gives the whole typed value, members in the written order', async () => {
    const {metadata, bytes} = metadataFor(3, 20);
    const parsed = parseMetadata(bytes);
    assert.deepEqual(parsed, JSON.parse(bytes.toString()));
    assert.deepEqual(Object.keys(parsed), Object.keys(metadata));
    assert.throws(
      () => parseMetadata(Buffer.from(withMember('version', -1))),
      /metadata's version must be a positive whole number, got -1/,
    );
  });

  it('keeps a "__proto__" key as an entry, as JSON.parse does', async () => {
    const text = JSON.stringify(WHOLE).replaceAll('"c"', '"__proto__"');
    const read = await readMetadata([Buffer.from(text)], {
      keepMapsUpToBytes: 1000,
    });
    assert.deepEqual(read.maps, {
      target_store_id_probs: JSON.parse(text).target_store_id_probs,
      creative_pack_id_probs: JSON.parse(text).creative_pack_id_probs,
      creative_pack_target: JSON.parse(text).creative_pack_target,
      pair_probs: JSON.parse(text).pair_probs,
    });
    assert.equal(Object.keys(read.maps?.pair_probs ?? {}).join(), '__proto__');
    assert.equal(
      Object.getPrototypeOf(read.maps?.pair_probs),
      Object.prototype,
    );
  });

  it('refuses an object past maxBytes without reading on', async () => {
    let served = 0;
    async function* endless() {
      yield Buffer.from('{"pair_probs": {');
      for (;;) {
        served++;
        yield Buffer.from(`"c${served}": 0.5, `);
      }
    }
    await assert.rejects(
      readMetadata(endless(), {maxBytes: 10_000}),
      /over 10000 bytes/,
    );
    assert.ok(served < 1000, `${served} pieces read`);
  });

  it("passes the source's own errors through untouched (a storage error stays retryable)", async () => {
    const unavailable = Object.assign(new Error('service unavailable'), {
      code: 503,
    });
    async function* failing() {
      yield Buffer.from('{"version": 1, ');
      throw unavailable;
    }
    await assert.rejects(
      readMetadata(failing()),
      error => error === unavailable,
    );
  });
});
