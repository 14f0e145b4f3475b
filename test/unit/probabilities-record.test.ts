import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {resolveConfig} from '../../shared/dataset/config.js';
import {
  buildMetadata,
  serializeMetadata,
} from '../../shared/metadata/document.js';
import {readMetadata} from '../../shared/metadata/read.js';
import {buildModel} from '../../shared/dataset/model.js';
import {
  INLINE_PROBABILITIES_MAX_BYTES,
  probabilitiesRecordOf,
} from '../../shared/metadata/probabilities-record.js';
import {summarizeProbabilities} from '../support/summarize-probabilities.js';

function metadataFor(nTargetStoreIds: number, nCreativePackIds: number) {
  const config = resolveConfig({
    seed: 4,
    nSamples: 100,
    nTargetStoreIds,
    nCreativePackIds,
  });
  const model = buildModel(config);
  const metadata = buildMetadata({
    version: 3,
    createdAt: new Date('2026-01-02T03:04:05.000Z'),
    config,
    objects: {},
    empirical: {rows: 100, positives: 40, rate: 0.4, perTargetStore: {}},
    model,
  });
  return {model, metadata, bytes: serializeMetadata(metadata)};
}

describe('probabilitiesRecordOf', () => {
  it('keeps small maps inline', async () => {
    const {bytes, metadata} = metadataFor(3, 20);
    const read = await readMetadata([bytes], {
      keepMapsUpToBytes: INLINE_PROBABILITIES_MAX_BYTES,
    });
    assert.deepEqual(probabilitiesRecordOf(read, 'gs://b/m.json'), {
      stored: 'inline',
      target_store_id_probs: metadata.target_store_id_probs,
      creative_pack_id_probs: metadata.creative_pack_id_probs,
      creative_pack_target: metadata.creative_pack_target,
      pair_probs: metadata.pair_probs,
    });
  });

  it('stores a summary and a pointer past the inline limit', async () => {
    const {bytes, model} = metadataFor(30, 20_000);
    const read = await readMetadata([bytes], {
      keepMapsUpToBytes: INLINE_PROBABILITIES_MAX_BYTES,
    });
    const expected = summarizeProbabilities(model.pairProbs);
    assert.deepEqual(probabilitiesRecordOf(read, 'gs://b/m.json'), {
      stored: 'metadata-object',
      metadataObject: 'gs://b/m.json',
      summary: {
        nTargetStoreIds: 30,
        nCreativePackIds: 20_000,
        pairProbMin: expected.min,
        pairProbMax: expected.max,
        pairProbMean: expected.mean,
      },
    });
  });
});
