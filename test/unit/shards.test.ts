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
  maxShardCount,
  planOf,
  resolveShardCount,
  shardPlan,
  shardRange,
  shardRowsMismatch,
} from '../../shared/dataset/shard-plan.js';
import {ROWS_PER_BLOCK} from '../../shared/dataset/blocks.js';
import {resolveConfig} from '../../shared/dataset/config.js';
import {GENERATOR} from '../../shared/dataset/generator-version.js';

const B = ROWS_PER_BLOCK;

/** [start, end) of every shard. */
const ranges = (nSamples: number, shards: number) =>
  shardPlan(nSamples, shards).shards.map(s => [s.start, s.end]);

describe('shard plan (docs/design.md §2, §3)', () => {
  // [name, nSamples, S, [start, end) of every shard]: shard k of S holds
  // blocks [floor(k*B/S), floor((k+1)*B/S)), B = ceil(nSamples / 65,536).
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
      'S = B (4 blocks, 200,000 rows)',
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
      '5 blocks in 3 shards: 1, 2, 2 blocks',
      300_000,
      3,
      [
        [0, B],
        [B, 3 * B],
        [3 * B, 300_000],
      ],
    ],
    [
      '300,001 rows in 4 shards (5 blocks: 1, 1, 1, 2), refused by the former plan',
      300_001,
      4,
      [
        [0, B],
        [B, 2 * B],
        [2 * B, 3 * B],
        [3 * B, 300_001],
      ],
    ],
    [
      '7 blocks less a row in 5 shards (1, 1, 2, 1, 2), refused by the former plan',
      7 * B - 1,
      5,
      [
        [0, B],
        [B, 2 * B],
        [2 * B, 4 * B],
        [4 * B, 5 * B],
        [5 * B, 7 * B - 1],
      ],
    ],
    [
      '10M rows in 16 shards (153 blocks: 9 or 10 each)',
      10_000_000,
      16,
      Array.from({length: 16}, (_, k) => [
        Math.floor((k * 153) / 16) * B,
        Math.min(Math.floor(((k + 1) * 153) / 16) * B, 10_000_000),
      ]),
    ],
  ];
  for (const [name, nSamples, shards, expected] of cases) {
    it(name, () => {
      assert.equal(resolveShardCount(nSamples, shards), shards);
      assert.deepEqual(ranges(nSamples, shards), expected);
    });
  }

  it('1e9 rows in 1,000 shards (15,259 blocks), refused by the former plan: 15 or 16 blocks each', () => {
    assert.equal(resolveShardCount(1_000_000_000, 1000), 1000);
    const plan = shardPlan(1_000_000_000, 1000);
    assert.equal(plan.blocks, 15_259);
    const r = ranges(1_000_000_000, 1000);
    assert.deepEqual(r.slice(0, 3), [
      [0, 983_040],
      [983_040, 1_966_080],
      [1_966_080, 2_949_120],
    ]);
    assert.deepEqual(r.slice(499, 501), [
      [498_991_104, 499_974_144],
      [499_974_144, 500_957_184],
    ]);
    assert.deepEqual(r.slice(998), [
      [997_982_208, 998_965_248],
      [998_965_248, 1_000_000_000],
    ]);
    const sizes = new Map<number, number>();
    for (const [start, end] of r)
      sizes.set(end - start, (sizes.get(end - start) ?? 0) + 1);
    // 741 shards of 15 blocks, 258 of 16, and the last: 16 blocks, short by 13,824 rows
    assert.deepEqual(
      [...sizes].sort((a, b) => a[0] - b[0]),
      [
        [983_040, 741],
        [1_034_752, 1],
        [1_048_576, 258],
      ],
    );
  });

  it('1e9 rows in 1,024 shards: 14 or 15 blocks each', () => {
    const r = ranges(1_000_000_000, MAX_SHARDS);
    assert.deepEqual(r[0], [0, 917_504]);
    assert.deepEqual(r[1023], [999_030_784, 1_000_000_000]);
    assert.equal(r.filter(([s, e]) => e - s === 14 * B).length, 101);
    assert.equal(r.filter(([s, e]) => e - s === 15 * B).length, 922);
  });

  it('every S in 1..min(1024, B) covers every row once, in order, in whole blocks differing by at most one', () => {
    for (const nSamples of [
      1,
      B,
      5 * B + 1,
      7 * B - 1,
      100 * B + 3,
      1023 * B + 7,
      2000 * B,
    ]) {
      const blocks = Math.ceil(nSamples / B);
      for (let shards = 1; shards <= Math.min(MAX_SHARDS, blocks); shards++) {
        assert.equal(resolveShardCount(nSamples, shards), shards);
        const plan = shardPlan(nSamples, shards);
        assert.equal(plan.count, shards);
        assert.equal(plan.shards.length, shards);
        assert.equal(plan.shards[0].start, 0);
        assert.equal(plan.shards[shards - 1].end, nSamples);
        const low = Math.floor(blocks / shards);
        plan.shards.forEach((s, k) => {
          assert.equal(s.index, k);
          assert.equal(s.count, shards);
          assert.equal(s.start, s.firstBlock * B);
          const size = s.endBlock - s.firstBlock;
          assert.ok(
            size === low || size === low + 1,
            `shard ${k}: ${size} blocks`,
          );
          assert.ok(s.end > s.start, `shard ${k} is empty`);
          if (k > 0) assert.equal(s.start, plan.shards[k - 1].end);
          assert.deepEqual(shardRange(nSamples, shards, k), s);
        });
      }
    }
  });

  it('S = 1024 over 1024 blocks: one block each', () => {
    const plan = shardPlan(1024 * B, MAX_SHARDS);
    assert.equal(plan.shards.length, 1024);
    assert.ok(plan.shards.every(s => s.end - s.start === B));
  });

  it('planOf is the plan of a resolved config', () => {
    const config = resolveConfig({nSamples: 300_001, shards: 4, seed: 1});
    assert.deepEqual(planOf(config), shardPlan(300_001, 4));
    assert.equal(maxShardCount(300_001), 5);
    assert.equal(maxShardCount(1_000_000_000), MAX_SHARDS);
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
      'S > B',
      200_000,
      5,
      /^shards must be at most 4 for 200000 rows \(each shard holds at least one 65536-row block\), got 5$/,
    ],
    ['S > B (1 row)', 1, 2, /at most 1 for 1 rows/],
    ['S > B (300,001 rows)', 300_001, 6, /at most 5 for 300001 rows/],
    ['S = 0', 1_000_000, 0, /shards must be an integer in 1\.\.1024, got 0/],
    ['S = 1025', 2000 * B, 1025, /1\.\.1024, got 1025/],
    ['S = 1025 at 1e9 rows', 1_000_000_000, 1025, /1\.\.1024, got 1025/],
    ['S = 1.5', 1_000_000, 1.5, /got 1\.5/],
    ['S as a string', 1_000_000, '2', /got "2"/],
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

  it('a plan or a range of a count out of 1..min(1024, B) is a RangeError naming the bound', () => {
    assert.throws(
      () => shardPlan(200_000, 5),
      /a shard count for 200000 rows must be in 1\.\.4, got 5/,
    );
    assert.throws(
      () => shardRange(200_000, 4, 4),
      /shard index must be in 0\.\.3, got 4/,
    );
  });
});

describe('shardRowsMismatch: listed shard rows against the plan (docs/design.md §3)', () => {
  const rows = (nSamples: number, shards: number) =>
    shardPlan(nSamples, shards).shards.map(s => s.end - s.start);

  it('this generator: exactly the plan', () => {
    assert.equal(
      shardRowsMismatch(300_000, rows(300_000, 3), GENERATOR),
      undefined,
    );
    // the former plan's 2, 2, 1 blocks are not this generator's
    assert.equal(
      shardRowsMismatch(300_000, [2 * B, 2 * B, 300_000 - 4 * B], GENERATOR),
      'shard 0 has 131072 rows, expected 65536 (rows 0..65535)',
    );
    assert.match(
      shardRowsMismatch(300_000, [B, B, B, B, B, 300_000 - 5 * B], GENERATOR) ??
        '',
      /6 shards for 300000 rows; a plan has 1\.\.5/,
    );
  });

  it('generator 0.2.0 (the former plan, ceil(B/S) blocks a shard): checked as listed', () => {
    const old = {name: 'exploration-data', version: '0.2.0'};
    assert.equal(
      shardRowsMismatch(300_000, [2 * B, 2 * B, 300_000 - 4 * B], old),
      undefined,
    );
    assert.equal(
      shardRowsMismatch(
        10_000_000,
        [...Array(15).fill(10 * B), 10_000_000 - 150 * B],
        old,
      ),
      undefined,
    );
    assert.equal(
      shardRowsMismatch(300_000, [2 * B, 2 * B, 1000], old),
      'the shards hold 263144 rows, the config 300000',
    );
    assert.equal(
      shardRowsMismatch(300_000, [2 * B + 1, 2 * B - 1, 300_000 - 4 * B], old),
      'shard 0 has 131073 rows, not a whole number of 65536-row blocks',
    );
    assert.equal(
      shardRowsMismatch(300_000, [4 * B, 0, 300_000 - 4 * B], old),
      'shard 1 has 0 rows; every shard holds at least one',
    );
  });
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
