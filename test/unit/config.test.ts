import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {DEFAULT_LIMITS, resolveConfig} from '../../shared/config.js';
import {InvalidArgumentError} from '../../shared/errors.js';

const fixedSeed = () => 7;

describe('resolveConfig', () => {
  it('fills the notebook defaults and draws a seed', () => {
    assert.deepEqual(resolveConfig({}, DEFAULT_LIMITS, fixedSeed), {
      nSamples: 10_000_000,
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
      /nSamples must be an integer in 1\.\.100000000, got 0/,
    ],
    ['fractional samples', {nSamples: 1.5}, 'nSamples', /got 1\.5/],
    ['samples as string', {nSamples: '10'}, 'nSamples', /got "10"/],
    ['too many samples', {nSamples: 100_000_001}, 'nSamples', /got 100000001/],
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
