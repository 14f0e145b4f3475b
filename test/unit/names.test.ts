import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {
  dataFileName,
  metadataVersionOf,
  objectName,
} from '../../shared/dataset/object-names.js';

describe('object names (docs/design.md §3)', () => {
  it('uses the notebook file names under {prefix}v{N}/', () => {
    assert.equal(
      objectName('datasets/', 'parquet', 7),
      'datasets/v7/dataset_v7.parquet',
    );
    assert.equal(
      objectName('datasets/', 'tfrecord', 7),
      'datasets/v7/dataset_v7.tfrecord',
    );
    assert.equal(
      objectName('datasets/', 'tfrecord', 7, 'GZIP'),
      'datasets/v7/dataset_v7.tfrecord.gz',
    );
    assert.equal(objectName('', 'metadata', 12), 'v12/metadata_v12.json');
    assert.equal(dataFileName('metadata', 3), 'metadata_v3.json');
  });

  const cases: Array<[string, string, number | undefined]> = [
    ['datasets/', 'datasets/v7/metadata_v7.json', 7],
    ['datasets/', 'datasets/v123456/metadata_v123456.json', 123456],
    ['', 'v1/metadata_v1.json', 1],
    ['datasets/', 'datasets/v7/metadata_v8.json', undefined],
    ['datasets/', 'datasets/v7/dataset_v7.parquet', undefined],
    ['datasets/', 'datasets/v0/metadata_v0.json', undefined],
    ['datasets/', 'datasets/v07/metadata_v07.json', undefined],
    ['datasets/', 'other/v7/metadata_v7.json', undefined],
    ['datasets/', 'datasets/v7/metadata_v7.json.bak', undefined],
    ['datasets/', 'datasets/x/v7/metadata_v7.json', undefined],
  ];
  for (const [prefix, name, version] of cases) {
    it(`${name} under "${prefix}" commits ${version ?? 'nothing'}`, () => {
      assert.equal(metadataVersionOf(prefix, name), version);
    });
  }
});
