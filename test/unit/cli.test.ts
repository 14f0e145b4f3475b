import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'exploration-cli-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: {...process.env, MAX_SAMPLES: ''},
  });
  return {code: result.status, stdout: result.stdout, stderr: result.stderr};
}

describe('exploration-data generate', () => {
  const bad: Array<[string[], RegExp]> = [
    [['--samples', '1.5'], /--samples must be a whole number, got "1.5"/],
    [
      ['--samples', '0'],
      /--samples: nSamples must be an integer in 1\.\.100000000, got 0/,
    ],
    [['--samples', '-3'], /--samples must be a whole number/],
    [
      ['--target-store-ids', '10001'],
      /--target-store-ids: .*1\.\.10000, got 10001/,
    ],
    [
      ['--creative-pack-ids', 'many'],
      /--creative-pack-ids must be a whole number/,
    ],
    [
      ['--seed', '9007199254740992'],
      /--seed: seed must be an integer in 0\.\.9007199254740991/,
    ],
    [['--formats', 'csv'], /--formats: .*got "csv"/],
    [['--formats', 'parquet,parquet'], /twice/],
    [
      ['--tfrecord-compression', 'zstd'],
      /--tfrecord-compression: .*NONE, GZIP/,
    ],
    [['--version', '0'], /--version must be a positive integer/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
  ];
  for (const [args, message] of bad) {
    it(`refuses ${args.join(' ')} with one line, exit 2, nothing written`, () => {
      const out = join(
        scratch,
        `bad-${args.join('_').replace(/[^a-z0-9_]/gi, '')}`,
      );
      const {code, stderr, stdout} = run('generate', '--out', out, ...args);
      assert.equal(code, 2);
      assert.match(stderr, message);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.equal(stdout, '');
      assert.throws(() => readdirSync(out), /ENOENT/);
    });
  }

  it('refuses a missing --out', () => {
    const {code, stderr} = run('generate');
    assert.equal(code, 2);
    assert.match(stderr, /--out/);
  });

  it('writes the three files, prints a JSON summary, and never overwrites', () => {
    const out = join(scratch, 'ok');
    const {code, stdout, stderr} = run(
      'generate',
      '--samples',
      '20_000',
      '--seed',
      '12',
      '--version',
      '3',
      '--out',
      out,
      '--json',
    );
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout);
    assert.equal(summary.version, 3);
    assert.equal(summary.rows, 20000);
    assert.equal(summary.seed, 12);
    assert.deepEqual(readdirSync(out).sort(), [
      'dataset_v3.parquet',
      'dataset_v3.tfrecord',
      'metadata_v3.json',
    ]);
    assert.equal(summary.files.tfrecord.bytes, 20000 * 121);
    const again = run(
      'generate',
      '--samples',
      '10',
      '--version',
      '3',
      '--out',
      out,
    );
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists/);
    assert.equal(
      JSON.parse(readFileSync(join(out, 'metadata_v3.json'), 'utf8')).config
        .nSamples,
      20000,
    );
  });

  it('prints --help with every flag', () => {
    const {code, stdout} = run('generate', '--help');
    assert.equal(code, 0);
    for (const flag of [
      '--samples',
      '--target-store-ids',
      '--creative-pack-ids',
      '--seed',
      '--formats',
      '--tfrecord-compression',
      '--version',
      '--out',
      '--json',
    ]) {
      assert.ok(stdout.includes(flag), flag);
    }
  });
});

describe('exploration-data verify', () => {
  it('passes a fresh dataset and fails a corrupted one', () => {
    const out = join(scratch, 'verify');
    assert.equal(
      run(
        'generate',
        '--samples',
        '30000',
        '--seed',
        '5',
        '--out',
        out,
        '--tfrecord-compression',
        'gzip',
      ).code,
      0,
    );
    const good = run('verify', out, '--json');
    assert.equal(good.code, 0, good.stdout);
    const report = JSON.parse(good.stdout);
    assert.equal(report.ok, true);
    assert.equal(report.rows.parquet, 30000);
    assert.equal(report.rows.tfrecord, 30000);
    assert.equal(report.rowDigest.parquet, report.rowDigest.tfrecord);

    const parquetPath = join(out, 'dataset_v1.parquet');
    const bytes = readFileSync(parquetPath);
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(parquetPath, bytes);
    const bad = run('verify', out);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /FAIL {2}parquet: sha256/);
  });

  it('fails with a clear message on a folder without metadata', () => {
    const {code, stderr} = run('verify', scratch);
    assert.notEqual(code, 0);
    assert.match(stderr, /no metadata_v\{N\}\.json/);
  });
});
