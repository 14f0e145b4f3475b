/**
 * allocationMismatch on sharded metadata: exactly S shards per format, named
 * and holding the rows docs/design.md §3 places, sizes summing to the total.
 */
import assert from 'node:assert/strict';
import {before, describe, it} from 'node:test';
import type {DatasetRecord} from '../../shared/catalog/records.js';
import {resolveConfig} from '../../shared/dataset/config.js';
import {generateDataset} from '../../shared/generation/orchestrator.js';
import {planOf} from '../../shared/dataset/shard-plan.js';
import {
  objectName,
  type DatasetFileKind,
} from '../../shared/dataset/object-names.js';
import {allocationMismatch} from '../../shared/service/allocation-check.js';
import {GENERATOR} from '../../shared/dataset/generator-version.js';
import {MemoryDestination} from '../support/memory-destination.js';

const config = resolveConfig({
  nSamples: 2 * 65_536 + 10,
  shards: 3,
  seed: 4,
  nCreativePackIds: 5,
  formats: ['parquet'],
});
const allocation: DatasetRecord = {
  version: 7,
  status: 'generating',
  config,
  createdAt: '2026-01-01T00:00:00.000Z',
  generator: {...GENERATOR},
};
let metadata: Record<string, unknown>;

before(async () => {
  const names = {} as Record<DatasetFileKind, string>;
  for (const kind of ['parquet', 'tfrecord', 'metadata'] as const)
    names[kind] = objectName('datasets/', kind, 7);
  const {metadata: head} = await generateDataset({
    config,
    plan: planOf(config),
    version: 7,
    names,
    destination: new MemoryDestination(),
    // the service's metadata always has md5 (Cloud Storage's own)
    md5: true,
  });
  metadata = JSON.parse(JSON.stringify(head));
});

type Parquet = {
  rows: number;
  bytes: number;
  shards: Array<{name: string; rows: number; bytes: number; md5: string}>;
};
function spoiled(change: (parquet: Parquet) => void): Record<string, unknown> {
  const copy = structuredClone(metadata) as {objects: {parquet: Parquet}};
  change(copy.objects.parquet);
  return copy;
}

describe('allocationMismatch, sharded', () => {
  it('accepts the generator own sharded metadata', () => {
    assert.equal(
      allocationMismatch(metadata, allocation, 'datasets/'),
      undefined,
    );
  });

  const cases: Array<[string, (p: Parquet) => void, RegExp]> = [
    [
      'a missing shard',
      p => void p.shards.pop(),
      /lists 2 shards, the config 3/,
    ],
    [
      'a shard out of place',
      p => p.shards.reverse(),
      /parquet shard 0 object is not datasets\/v7\/dataset_v7-00000-of-00003\.parquet/,
    ],
    [
      'wrong rows in a shard',
      p => void (p.shards[2].rows = 11),
      /parquet shards: shard 2 has 11 rows, expected 10 \(rows 131072\.\.131081\)/,
    ],
    [
      'a total that is not the sum',
      p => void (p.bytes += 1),
      /bytes, its shards/,
    ],
    [
      'a malformed checksum',
      p => void (p.shards[1].md5 = 'x'),
      /shard 1 object has malformed/,
    ],
    [
      'one file where shards are allocated',
      p => {
        const file = p.shards[0];
        Object.assign(p, file, {shards: undefined});
      },
      /is not a list of shards/,
    ],
  ];
  for (const [what, change, expected] of cases) {
    it(`refuses ${what}`, () => {
      assert.match(
        allocationMismatch(spoiled(change), allocation, 'datasets/') ?? '',
        expected,
      );
    });
  }

  it('refuses sharded metadata for a one-file allocation', () => {
    assert.match(
      allocationMismatch(
        metadata,
        {...allocation, config: {...config, shards: 1}},
        'datasets/',
      ) ?? '',
      /config/,
    );
  });
});
