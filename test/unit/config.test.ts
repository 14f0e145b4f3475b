import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {
  DEFAULT_LIMITS,
  resolveConfig,
  shardCountOf,
} from '../../shared/dataset/config.js';
import {InvalidArgumentError} from '../../shared/errors.js';

const fixedSeed = () => 7;

describe('resolveConfig', () => {
  it('fills the notebook defaults and draws a seed', () => {
    assert.deepEqual(resolveConfig({}, DEFAULT_LIMITS, fixedSeed), {
      nSamples: 10_000_000,
      shards: 1,
      nTargetStoreIds: 10,
      nCreativePackIds: 100,
      seed: 7,
      formats: ['parquet', 'tfrecord'],
      tfrecordCompression: 'NONE',
    });
    assert.equal(resolveConfig(undefined, DEFAULT_LIMITS, fixedSeed).seed, 7);
  });

  it('keeps given values and orders formats canonically', () => {
    const config = resolveConfig(
      {
        nSamples: 5,
        nTargetStoreIds: 1,
        nCreativePackIds: 1_000_000,
        seed: 2 ** 53 - 1,
        formats: ['tfrecord', 'parquet'],
        tfrecordCompression: 'GZIP',
      },
      DEFAULT_LIMITS,
      fixedSeed,
    );
    assert.deepEqual(config.formats, ['parquet', 'tfrecord']);
    assert.equal(config.seed, 2 ** 53 - 1);
    assert.equal(config.tfrecordCompression, 'GZIP');
  });

  it('draws random seeds within 0..2^53-1', () => {
    for (let i = 0; i < 50; i++) {
      const seed = resolveConfig({}).seed;
      assert.ok(Number.isSafeInteger(seed) && seed >= 0);
    }
  });

  const bad: Array<[string, unknown, string, RegExp]> = [
    [
      'zero samples',
      {nSamples: 0},
      'nSamples',
      /nSamples must be an integer in 1\.\.1000000000, got 0/,
    ],
    ['fractional samples', {nSamples: 1.5}, 'nSamples', /got 1\.5/],
    ['samples as string', {nSamples: '10'}, 'nSamples', /got "10"/],
    [
      'too many samples',
      {nSamples: 1_000_000_001},
      'nSamples',
      /got 1000000001/,
    ],
    ['no target stores', {nTargetStoreIds: 0}, 'nTargetStoreIds', /1\.\.10000/],
    [
      'too many target stores',
      {nTargetStoreIds: 10_001},
      'nTargetStoreIds',
      /got 10001/,
    ],
    [
      'too many creatives',
      {nCreativePackIds: 1_000_001},
      'nCreativePackIds',
      /1\.\.1000000/,
    ],
    [
      'negative seed',
      {seed: -1},
      'seed',
      /seed must be an integer in 0\.\.9007199254740991/,
    ],
    ['unsafe seed', {seed: 2 ** 53}, 'seed', /seed/],
    ['null seed', {seed: null}, 'seed', /got null/],
    ['empty formats', {formats: []}, 'formats', /non-empty/],
    ['formats not array', {formats: 'parquet'}, 'formats', /got "parquet"/],
    ['unknown format', {formats: ['csv']}, 'formats', /got "csv"/],
    ['duplicate format', {formats: ['parquet', 'parquet']}, 'formats', /twice/],
    [
      'bad compression',
      {tfrecordCompression: 'gzip'},
      'tfrecordCompression',
      /NONE, GZIP/,
    ],
    ['unknown field', {nSample: 10}, 'nSample', /unknown field "nSample"/],
    [
      'zero shards',
      {shards: 0},
      'shards',
      /^shards must be an integer in 1\.\.1024, got 0$/,
    ],
    [
      'too many shards',
      {shards: 1025, nSamples: 1_000_000_000},
      'shards',
      /^shards must be an integer in 1\.\.1024, got 1025$/,
    ],
    ['shards as string', {shards: '4'}, 'shards', /got "4"$/],
    ['fractional shards', {shards: 1.5}, 'shards', /got 1\.5$/],
    [
      'more shards than blocks',
      {nSamples: 100, shards: 2},
      'shards',
      /^shards must be at most 1 for 100 rows \(each shard holds at least one 65536-row block\), got 2$/,
    ],
    [
      'more shards than 65,536-row blocks',
      {nSamples: 300_000, shards: 6},
      'shards',
      /^shards must be at most 5 for 300000 rows \(each shard holds at least one 65536-row block\), got 6$/,
    ],
  ];
  for (const [name, input, field, message] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => resolveConfig(input, DEFAULT_LIMITS, fixedSeed),
        (error: unknown) =>
          error instanceof InvalidArgumentError &&
          error.field === field &&
          message.test(error.message),
      );
    });
  }

  it('takes the counts the former plan refused (every S in 1..min(1024, blocks))', () => {
    assert.equal(resolveConfig({nSamples: 300_001, shards: 4}).shards, 4);
    assert.equal(resolveConfig({nSamples: 300_000, shards: 4}).shards, 4);
    assert.equal(
      resolveConfig({nSamples: 1_000_000_000, shards: 1000}).shards,
      1000,
    );
  });

  it('resolves shards: 1 up to 33,554,432 rows, then ceil(n / 16,777,216); a given count is kept', () => {
    const shardsOf = (input: object) =>
      resolveConfig(input, DEFAULT_LIMITS, fixedSeed).shards;
    assert.equal(shardsOf({nSamples: 1}), 1);
    assert.equal(shardsOf({nSamples: 33_554_432}), 1);
    assert.equal(shardsOf({nSamples: 33_554_433}), 3);
    assert.equal(shardsOf({nSamples: 100_000_000}), 6);
    assert.equal(shardsOf({nSamples: 1_000_000_000}), 60);
    assert.equal(shardsOf({nSamples: 200_000, shards: 4}), 4);
    assert.equal(shardsOf({nSamples: 100_000_000, shards: 1}), 1);
    assert.equal(shardsOf({nSamples: 1_000_000_000, shards: 1018}), 1018);
  });

  it('counts a config stored before shards existed as one shard', () => {
    const {shards, ...legacy} = resolveConfig({}, DEFAULT_LIMITS, fixedSeed);
    assert.equal(shards, 1);
    assert.equal(shardCountOf(legacy), 1);
    assert.equal(shardCountOf({...legacy, shards: 7}), 7);
  });

  it('rejects a body that is not an object', () => {
    for (const input of [[], 'x', 3, true]) {
      assert.throws(() => resolveConfig(input), /must be a JSON object/);
    }
  });

  it('holds the default to a lowered MAX_SAMPLES', () => {
    const limits = {...DEFAULT_LIMITS, maxSamples: 1000};
    assert.throws(
      () => resolveConfig({}, limits, fixedSeed),
      /1\.\.1000, got 10000000/,
    );
    assert.equal(
      resolveConfig({nSamples: 1000}, limits, fixedSeed).nSamples,
      1000,
    );
  });
});
