import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {describe, it} from 'node:test';
import {resolveConfig} from '../../shared/dataset/config.js';
import {crc32c, crc32cBase64} from '../../shared/formats/crc32c.js';
import {
  buildMetadata,
  metadataHead,
  serializeMetadata,
  type MetadataInputs,
} from '../../shared/metadata/document.js';
import {loggingMetadataOf} from '../../shared/metadata/logging.js';
import {readMetadata} from '../../shared/metadata/read.js';
import {metadataChunks, writeMetadata} from '../../shared/metadata/write.js';
import {buildModel} from '../../shared/dataset/model.js';
import {summarizeProbabilities} from '../support/summarize-probabilities.js';
import {MemorySink} from '../support/memory-sink.js';
import type {ObjectDigests} from '../../shared/digest/digests.js';

function inputsFor(nTargetStoreIds: number, nCreativePackIds: number) {
  const config = resolveConfig({
    seed: 99,
    nSamples: 1000,
    nTargetStoreIds,
    nCreativePackIds,
  });
  const model = buildModel(config);
  const inputs: MetadataInputs = {
    version: 12,
    createdAt: new Date('2026-01-02T03:04:05.000Z'),
    config,
    objects: {
      parquet: {
        name: 'datasets/v12/dataset_v12.parquet',
        rows: 1000,
        bytes: 123,
        crc32c: 'AAAAAA==',
        md5: 'bWQ1',
        sha256: 'ab'.repeat(32),
      },
    },
    empirical: {
      rows: 1000,
      positives: 500,
      rate: 0.5,
      perTargetStore: Object.fromEntries(
        model.targetIds.map((id, t) => [
          id,
          {rows: t, positives: 0, rate: t ? 0 : null, expectedRate: 0.25},
        ]),
      ),
    },
  };
  return {model, inputs};
}

describe('metadata stream', () => {
  for (const chunkChars of [1, 64, 4096, undefined]) {
    it(`writes the bytes of the whole-object builder (chunks of ${chunkChars ?? 'default'} chars)`, () => {
      const {model, inputs} = inputsFor(7, 300);
      const whole = serializeMetadata(buildMetadata({...inputs, model}));
      const chunks = [
        ...metadataChunks(metadataHead(inputs), model, chunkChars),
      ];
      const streamed = Buffer.concat(chunks);
      assert.equal(streamed.toString(), whole.toString());
      assert.deepEqual(
        JSON.parse(streamed.toString()),
        JSON.parse(JSON.stringify(buildMetadata({...inputs, model}))),
      );
      if (chunkChars === 4096) assert.ok(chunks.length > 5);
    });
  }

  for (const loggingPolicy of [
    {type: 'softmax', beta: 7, scoreNoise: 0.1},
    {type: 'epsilon-greedy', epsilon: 0.1, adaptive: {updateEveryBlocks: 1}},
  ]) {
    it(`with ${JSON.stringify(loggingPolicy)}: the logging members, after empirical, the bytes of the whole-object builder`, () => {
      const {model, inputs: base} = inputsFor(7, 300);
      const config = resolveConfig({...base.config, loggingPolicy});
      const logging = loggingMetadataOf(config, model);
      assert.ok(logging);
      const inputs = {...base, config, logging: logging.head};
      const whole = serializeMetadata(
        buildMetadata({
          ...inputs,
          model,
          loggingProbabilities: logging.probabilities,
        }),
      );
      const streamed = Buffer.concat([
        ...metadataChunks(
          metadataHead(inputs),
          model,
          512,
          logging.probabilities,
        ),
      ]);
      assert.equal(streamed.toString(), whole.toString());
      const parsed = JSON.parse(streamed.toString()) as Record<string, unknown>;
      const adaptive = 'adaptive' in loggingPolicy;
      assert.deepEqual(
        Object.keys(parsed).slice(-5),
        adaptive
          ? [
              'empirical',
              'logging_policy',
              'policy_values',
              'best_creative',
              'policy_epochs',
            ]
          : [
              'empirical',
              'logging_policy',
              'logging_probs',
              'policy_values',
              'best_creative',
            ],
      );
      if (!adaptive) {
        const probs = Object.values(
          parsed.logging_probs as Record<string, number>,
        );
        assert.deepEqual(probs, Array.from(logging.probabilities ?? []));
      }
    });
  }

  it('checksums what it writes and hands the checksums to the sink on close', async () => {
    const {model, inputs} = inputsFor(3, 50);
    let closedWith: ObjectDigests | undefined;
    const memory = new MemorySink();
    const digests = await writeMetadata(
      {
        write: chunk => memory.write(chunk),
        close: async expected => {
          closedWith = expected;
          await memory.close();
        },
        abort: () => memory.abort(),
      },
      metadataHead(inputs),
      model,
    );
    const bytes = memory.bytes();
    assert.deepEqual(digests, {
      bytes: bytes.length,
      crc32c: crc32cBase64(crc32c(bytes)),
      md5: createHash('md5').update(bytes).digest('base64'),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    assert.deepEqual(closedWith, digests);
  });

  it('writes valid JSON at 1,000,000 creative packs and 10,000 target stores (read back streaming)', async () => {
    const {model, inputs} = inputsFor(10_000, 1_000_000);
    const head = metadataHead(inputs);
    let bytes = 0;
    const read = await readMetadata(
      (function* () {
        for (const chunk of metadataChunks(head, model)) {
          bytes += chunk.length;
          yield chunk;
        }
      })(),
    );
    assert.ok(bytes > 140_000_000, `${bytes} bytes`);
    assert.equal(read.bytes, bytes);
    assert.deepEqual(read.head, JSON.parse(JSON.stringify(head)));
    assert.deepEqual(read.counts, {
      target_store_id_probs: 10_000,
      creative_pack_id_probs: 1_000_000,
      creative_pack_target: 1_000_000,
      pair_probs: 1_000_000,
    });
    assert.deepEqual(read.pairProbs, summarizeProbabilities(model.pairProbs));
    assert.equal(read.maps, undefined);
  });
});
