import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {InvalidArgumentError} from '../../shared/errors.js';
import {
  dataFileName,
  shardFileName,
} from '../../shared/dataset/object-names.js';
import {
  defaultShardCount,
  MAX_SHARDS,
  resolveShardCount,
  shardPlan,
  shardRange,
} from '../../shared/dataset/shard-plan.js';
import {ROWS_PER_BLOCK} from '../../shared/dataset/blocks.js';

const B = ROWS_PER_BLOCK;

/** [start, end) of every shard. */
const ranges = (nSamples: number, shards: number) =>
  shardPlan(nSamples, shards).map(s => [s.start, s.end]);

describe('shard plan (docs/design.md §2, §3)', () => {
  const cases: Array<[string, number, number, number[][]]> = [
    ['1 row, one shard', 1, 1, [[0, 1]]],
    ['one block, one shard', B, 1, [[0, B]]],
    [
      'a block + 1 in 2 shards',
      B + 1,
      2,
      [
        [0, B],
        [B, B + 1],
      ],
    ],
    ['a block + 1 in 1 shard', B + 1, 1, [[0, B + 1]]],
    [
      'S = blocks (4 blocks, 200,000 rows)',
      200_000,
      4,
      [
        [0, B],
        [B, 2 * B],
        [2 * B, 3 * B],
        [3 * B, 200_000],
      ],
    ],
    [
      '5 blocks in 3 shards: R = 2 blocks',
      300_000,
      3,
      [
        [0, 2 * B],
        [2 * B, 4 * B],
        [4 * B, 300_000],
      ],
    ],
    [
      '10M rows in 16 shards: R = 10 blocks',
      10_000_000,
      16,
      Array.from({length: 16}, (_, k) => [
        k * 10 * B,
        Math.min((k + 1) * 10 * B, 10_000_000),
      ]),
    ],
  ];
  for (const [name, nSamples, shards, expected] of cases) {
    it(name, () => {
      assert.equal(resolveShardCount(nSamples, shards), shards);
      assert.deepEqual(ranges(nSamples, shards), expected);
    });
  }

  it('covers every row exactly once, in order, in whole blocks', () => {
    for (const [nSamples, shards] of [
      [1024 * B, 1024],
      [1023 * B + 7, 1024],
      [1025 * B, 513],
      [33_554_433, 3],
      [1_000_000_000, 60],
      [7 * B - 1, 7],
    ]) {
      const plan = shardPlan(nSamples, shards);
      assert.equal(plan.length, shards);
      assert.equal(plan[0].start, 0);
      assert.equal(plan[shards - 1].end, nSamples);
      const rows = Math.ceil(Math.ceil(nSamples / B) / shards) * B;
      plan.forEach((s, k) => {
        assert.equal(s.index, k);
        assert.equal(s.count, shards);
        assert.equal(s.start, k * rows);
        assert.equal(s.start % B, 0);
        assert.ok(s.end > s.start, `shard ${k} is empty`);
        if (k > 0) assert.equal(s.start, plan[k - 1].end);
        assert.deepEqual(shardRange(nSamples, shards, k), s);
      });
    }
  });

  it('S = 1024 over 1024 blocks: one block each', () => {
    const plan = shardPlan(1024 * B, MAX_SHARDS);
    assert.equal(plan.length, 1024);
    assert.ok(plan.every(s => s.end - s.start === B));
  });

  it('defaults: one file up to 33,554,432 rows, else ceil(n / 16,777,216)', () => {
    assert.equal(defaultShardCount(1), 1);
    assert.equal(defaultShardCount(33_554_432), 1);
    assert.equal(defaultShardCount(33_554_433), 3);
    assert.equal(defaultShardCount(100_000_000), 6);
    assert.equal(defaultShardCount(1_000_000_000), 60);
    assert.equal(resolveShardCount(33_554_432), 1);
    assert.equal(resolveShardCount(33_554_433), 3);
    assert.equal(resolveShardCount(1_000_000_000, undefined), 60);
  });

  const refused: Array<[string, number, unknown, RegExp]> = [
    [
      'S > blocks',
      200_000,
      5,
      /shards must be at most 4 for 200000 rows \(each shard holds at least one 65536-row block\), got 5/,
    ],
    ['S > blocks (1 row)', 1, 2, /at most 1 for 1 rows/],
    ['S = 0', 1_000_000, 0, /shards must be an integer in 1\.\.1024, got 0/],
    ['S = 1025', 2000 * B, 1025, /1\.\.1024, got 1025/],
    ['S = 1.5', 1_000_000, 1.5, /got 1\.5/],
    ['S as a string', 1_000_000, '2', /got "2"/],
    [
      'a last shard left empty (5 blocks in 4)',
      300_000,
      4,
      /4 shards of 2 blocks each \(131072 rows\) cover 300000 rows with 3 shards and leave 1 empty; choose 3 or 5/,
    ],
  ];
  for (const [name, nSamples, shards, message] of refused) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => resolveShardCount(nSamples, shards),
        (error: unknown) =>
          error instanceof InvalidArgumentError &&
          error.field === 'shards' &&
          message.test(error.message),
      );
    });
  }
});

describe('shard names (docs/design.md §3)', () => {
  it('dataset_v{N}-kkkkk-of-SSSSS with the format extension', () => {
    const cases: Array<[string, number, number, string]> = [
      [dataFileName('parquet', 3), 0, 16, 'dataset_v3-00000-of-00016.parquet'],
      [
        dataFileName('tfrecord', 3),
        15,
        16,
        'dataset_v3-00015-of-00016.tfrecord',
      ],
      [
        dataFileName('tfrecord', 12, 'GZIP'),
        1023,
        1024,
        'dataset_v12-01023-of-01024.tfrecord.gz',
      ],
      [
        'datasets/v7/dataset_v7.parquet',
        1,
        2,
        'datasets/v7/dataset_v7-00001-of-00002.parquet',
      ],
      ['dataset_v1.parquet', 0, 1, 'dataset_v1.parquet'],
    ];
    for (const [single, index, count, expected] of cases) {
      assert.equal(shardFileName(single, index, count), expected);
    }
    assert.throws(
      () => shardFileName('metadata_v1.json', 0, 2),
      /not a data file/,
    );
  });
});
