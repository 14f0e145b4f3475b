import assert from 'node:assert/strict';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {tfrecordRecordBytes} from '../../shared/formats/tfrecord/example-size.js';
import {runCli} from '../support/cli-process.js';

const scratch = mkdtempSync(join(tmpdir(), 'exploration-cli-shards-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

const run = runCli;

const SHARD_FILES = [
  'dataset_v2-00000-of-00003.parquet',
  'dataset_v2-00000-of-00003.tfrecord',
  'dataset_v2-00001-of-00003.parquet',
  'dataset_v2-00001-of-00003.tfrecord',
  'dataset_v2-00002-of-00003.parquet',
  'dataset_v2-00002-of-00003.tfrecord',
  'metadata_v2.json',
];

describe('exploration-data generate --shards / verify of shards', () => {
  const sharded = join(scratch, 'sharded');
  const single = join(scratch, 'single');
  const common = [
    '--samples',
    '300000',
    '--seed',
    '21',
    '--dataset-version',
    '2',
  ];

  it('writes S shards per format on worker threads, with a JSON summary', () => {
    const {code, stdout, stderr} = run(
      'generate',
      ...common,
      '--shards',
      '3',
      '--workers',
      '2',
      '--out',
      sharded,
      '--json',
    );
    assert.equal(code, 0, stderr);
    assert.deepEqual(readdirSync(sharded).sort(), SHARD_FILES);
    const summary = JSON.parse(stdout);
    assert.equal(summary.shards, 3);
    assert.equal(summary.workers, 2);
    assert.equal(summary.files.tfrecord.rows, 300_000);
    assert.equal(summary.files.tfrecord.bytes, 300_000 * tfrecordRecordBytes());
    assert.deepEqual(
      summary.files.parquet.shards.map((s: {rows: number}) => s.rows),
      [65_536, 131_072, 103_392],
    );
    assert.equal(summary.workerFigures.length, 2);
    assert.deepEqual(
      summary.workerFigures.flatMap((w: {shards: number[]}) => w.shards).sort(),
      [0, 1, 2],
    );
    assert.ok(summary.peakRssBytes > 0);
    const metadata = JSON.parse(
      readFileSync(join(sharded, 'metadata_v2.json'), 'utf8'),
    );
    assert.deepEqual(
      metadata.objects.tfrecord.shards.map((s: {name: string}) => s.name),
      SHARD_FILES.filter(f => f.endsWith('.tfrecord')),
    );
  });

  it('gives the same bytes on one worker, and the single file concatenated', () => {
    const oneWorker = join(scratch, 'one-worker');
    assert.equal(
      run(
        'generate',
        ...common,
        '--shards',
        '3',
        '--workers',
        '1',
        '--out',
        oneWorker,
      ).code,
      0,
    );
    for (const name of SHARD_FILES.filter(f => f.startsWith('dataset'))) {
      assert.ok(
        readFileSync(join(oneWorker, name)).equals(
          readFileSync(join(sharded, name)),
        ),
        name,
      );
    }
    assert.equal(run('generate', ...common, '--out', single).code, 0);
    const concatenated = Buffer.concat(
      SHARD_FILES.filter(f => f.endsWith('.tfrecord')).map(f =>
        readFileSync(join(sharded, f)),
      ),
    );
    assert.ok(
      concatenated.equals(readFileSync(join(single, 'dataset_v2.tfrecord'))),
    );
  });

  it('verify passes the shards, with the same rows as the single file', () => {
    const good = run('verify', sharded, '--json');
    assert.equal(good.code, 0, good.stdout);
    const report = JSON.parse(good.stdout);
    assert.equal(report.ok, true);
    assert.deepEqual(report.rows, {parquet: 300_000, tfrecord: 300_000});
    assert.equal(report.rowDigest.parquet, report.rowDigest.tfrecord);
    assert.equal(report.shardRowDigests.parquet.length, 3);
    assert.deepEqual(
      report.shardRowDigests.parquet,
      report.shardRowDigests.tfrecord,
    );
    const names = report.checks.map((c: {name: string}) => c.name);
    for (const name of [
      'parquet shard 2: sha256',
      'tfrecord shard 0: rows',
      'tfrecord: 3 shards named and sized as docs/design.md §3 places rows',
      'empirical per target store matches the rows',
    ]) {
      assert.ok(names.includes(name), name);
    }
    const singleReport = JSON.parse(run('verify', single, '--json').stdout);
    assert.equal(singleReport.ok, true);
    assert.equal(singleReport.rows.parquet, 300_000);
  });

  it('verify fails a tampered shard and a missing shard', () => {
    const path = join(sharded, 'dataset_v2-00001-of-00003.tfrecord');
    const bytes = readFileSync(path);
    bytes[1000] ^= 0x01;
    writeFileSync(path, bytes);
    const tampered = run('verify', sharded);
    assert.equal(tampered.code, 1);
    assert.match(tampered.stdout, /FAIL {2}tfrecord shard 1: crc32c/);
    assert.match(tampered.stdout, /FAIL {2}tfrecord shard 1: sha256/);
    assert.doesNotMatch(tampered.stdout, /FAIL {2}parquet/);

    unlinkSync(join(sharded, 'dataset_v2-00002-of-00003.parquet'));
    const missing = run('verify', sharded, '--json');
    assert.equal(missing.code, 1);
    const failed = JSON.parse(missing.stdout)
      .checks.filter((c: {ok: boolean}) => !c.ok)
      .map((c: {name: string}) => c.name);
    assert.ok(failed.includes('parquet shard 2: file present'), failed.join());
  });

  it('verify fails metadata whose config.shards is not the files it lists', () => {
    const path = join(single, 'metadata_v2.json');
    const metadata = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(metadata.config.shards, 1);
    metadata.config.shards = 3;
    writeFileSync(path, JSON.stringify(metadata, null, 2) + '\n');
    const report = run('verify', single, '--json');
    assert.equal(report.code, 1);
    const failed = JSON.parse(report.stdout).checks.filter(
      (c: {ok: boolean}) => !c.ok,
    );
    assert.deepEqual(
      failed.map((c: {name: string; detail: string}) => [c.name, c.detail]),
      [
        [
          'parquet: shard count',
          'the config says 3 shards, the metadata lists 1',
        ],
        [
          'tfrecord: shard count',
          'the config says 3 shards, the metadata lists 1',
        ],
      ],
    );
  });

  const bad: Array<[string[], RegExp]> = [
    [
      ['--samples', '300000', '--shards', '6'],
      /^exploration-data: --shards must be at most 5 for 300000 rows \(each shard holds at least one 65536-row block\), got 6$/m,
    ],
    [
      ['--samples', '100', '--shards', '2'],
      /--shards must be at most 1 for 100 rows/,
    ],
    [['--shards', '1025'], /--shards must be an integer in 1\.\.1024/],
    [
      ['--shards', 'two'],
      /--shards must be an integer in 1\.\.1024, got "two"/,
    ],
    [
      ['--samples', '300000', '--workers', '0'],
      /--workers must be an integer in 1\.\.64/,
    ],
  ];
  for (const [args, message] of bad) {
    it(`refuses ${args.join(' ')} with one line, exit 2, nothing written`, () => {
      const out = join(scratch, `bad-${args.join('_')}`);
      const {code, stderr} = run('generate', ...args, '--out', out);
      assert.equal(code, 2);
      assert.match(stderr, message);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.equal(existsSync(out), false);
    });
  }
});
