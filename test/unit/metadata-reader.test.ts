import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {resolveConfig} from '../../shared/config.js';
import {
  buildMetadata,
  metadataHead,
  serializeMetadata,
} from '../../shared/metadata.js';
import {
  MalformedMetadataError,
  readMetadata,
} from '../../shared/metadata-reader.js';
import {buildModel} from '../../shared/model.js';
import {INLINE_PROBABILITIES_MAX_BYTES} from '../../shared/probabilities-record.js';
import {summarizeProbabilities} from '../../shared/probabilities-summary.js';

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
const config = {nTargetStoreIds: 1, nCreativePackIds: 1};

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
    [
      'trailing bytes',
      `${JSON.stringify({config, ...SMALL})} x`,
      /not valid JSON/,
    ],
    [
      'two documents',
      `${JSON.stringify({config, ...SMALL})}{}`,
      /not valid JSON/,
    ],
    ['bad syntax', '{"version": 1,,}', /not valid JSON/],
    [
      'a map missing',
      JSON.stringify({config, ...SMALL, pair_probs: undefined}),
      /no non-empty object "pair_probs"/,
    ],
    [
      'a map empty',
      JSON.stringify({config, ...SMALL, target_store_id_probs: {}}),
      /no non-empty object "target_store_id_probs"/,
    ],
    [
      'a map that is a number',
      JSON.stringify({config, ...SMALL, pair_probs: 5}),
      /no non-empty object "pair_probs"/,
    ],
    [
      'a map that is an array',
      JSON.stringify({config, ...SMALL, pair_probs: [0.5]}),
      /pair_probs is an array/,
    ],
    [
      'a probability that is a string',
      JSON.stringify({config, ...SMALL, pair_probs: {c: '0.5'}}),
      /pair_probs maps "c" to string, not a number/,
    ],
    [
      'a target that is a number',
      JSON.stringify({config, ...SMALL, creative_pack_target: {c: 1}}),
      /creative_pack_target maps "c" to number, not a string/,
    ],
    [
      'a nested object as a value',
      JSON.stringify({config, ...SMALL, pair_probs: {c: {x: 1}}}),
      /pair_probs maps "c" to an object/,
    ],
    [
      'counts that differ from the config',
      JSON.stringify({
        config: {nTargetStoreIds: 1, nCreativePackIds: 2},
        ...SMALL,
      }),
      /creative_pack_id_probs has 1 entries; its config asks for 2/,
    ],
    [
      'duplicate keys',
      JSON.stringify({
        config: {nTargetStoreIds: 1, nCreativePackIds: 2},
        ...SMALL,
      }).replace(
        '"pair_probs":{"c":0.501}',
        '"pair_probs":{"c":0.501,"c":0.502}',
      ),
      /creative_pack_id_probs has 1 entries; its config asks for 2/,
    ],
  ];
  for (const [what, text, message] of malformed) {
    it(`rejects ${what}`, async () => {
      await assert.rejects(readMetadata([Buffer.from(text)]), error => {
        assert.ok(error instanceof MalformedMetadataError, String(error));
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('accepts the minimal well-formed object', async () => {
    const read = await readMetadata([
      Buffer.from(JSON.stringify({version: 1, config, ...SMALL})),
    ]);
    assert.deepEqual(read.head, {version: 1, config});
    assert.equal(read.pairProbs.mean, 0.501);
  });

  it('keeps a "__proto__" key as an entry, as JSON.parse does', async () => {
    const text = JSON.stringify({config, ...SMALL}).replaceAll(
      '"c"',
      '"__proto__"',
    );
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
