import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {DatasetRecord} from '../../shared/catalog/records.js';
import {resolveConfig} from '../../shared/dataset/config.js';
import {summarizedMetadata} from '../../shared/metadata/view.js';

const record: DatasetRecord = {
  version: 8,
  status: 'ready',
  config: resolveConfig({seed: 1, nCreativePackIds: 1_000_000}),
  createdAt: '2026-01-02T03:04:05.000Z',
  generator: {name: 'exploration-data', version: '1'},
  objects: {},
  empirical: {rows: 10, positives: 4, rate: 0.4},
  probabilities: {
    stored: 'metadata-object',
    metadataObject: 'gs://b/datasets/v8/metadata_v8.json',
    summary: {
      nTargetStoreIds: 10,
      nCreativePackIds: 1_000_000,
      pairProbMin: 0.01,
      pairProbMax: 0.99,
      pairProbMean: 0.5,
    },
  },
};

describe('summarizedMetadata', () => {
  it('answers from the record, with the summary, the size and what it leaves out', () => {
    assert.deepEqual(summarizedMetadata(record, 150_000_000), {
      version: 8,
      createdAt: '2026-01-02T03:04:05.000Z',
      generator: {name: 'exploration-data', version: '1'},
      config: record.config,
      objects: {},
      empirical: {rows: 10, positives: 4, rate: 0.4},
      probabilitiesSummary: {
        nTargetStoreIds: 10,
        nCreativePackIds: 1_000_000,
        pairProbMin: 0.01,
        pairProbMax: 0.99,
        pairProbMean: 0.5,
      },
      metadataBytes: 150_000_000,
      omitted: [
        'target_store_id_probs',
        'creative_pack_id_probs',
        'creative_pack_target',
        'pair_probs',
        'empirical.perTargetStore',
      ],
    });
  });
});
