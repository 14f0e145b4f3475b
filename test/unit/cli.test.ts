import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {after, describe, it} from 'node:test';
import {createServer} from 'node:net';
import type {AddressInfo} from 'node:net';
import {fileURLToPath} from 'node:url';
import {isBadInput} from '../../cli/program.js';
import {ApiError} from '../../clients/typescript/index.js';
import {tfrecordRecordBytes} from '../../shared/formats/tfrecord/example-size.js';
import {GENERATOR} from '../../shared/dataset/generator-version.js';
import {runCli} from '../support/cli-process.js';

const scratch = mkdtempSync(join(tmpdir(), 'exploration-cli-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

const run = runCli;

describe('exploration-data generate', () => {
  const bad: Array<[string[], RegExp]> = [
    [
      ['--samples', '1.5'],
      /^exploration-data: --samples must be an integer in 1\.\.1000000000, got "1\.5"\n$/,
    ],
    [
      ['--samples', '0'],
      /--samples must be an integer in 1\.\.1000000000, got "0"/,
    ],
    [
      ['--samples', '-1'],
      /--samples must be an integer in 1\.\.1000000000, got "-1"/,
    ],
    [
      ['--samples', '1_000_000_001'],
      /--samples must be an integer in 1\.\.1000000000, got "1_000_000_001"/,
    ],
    [
      ['--target-store-ids', '10001'],
      /--target-store-ids must be an integer in 1\.\.10000, got "10001"/,
    ],
    [
      ['--creative-pack-ids', 'many'],
      /--creative-pack-ids must be an integer in 1\.\.1000000, got "many"/,
    ],
    [
      ['--seed', '9007199254740992'],
      /--seed must be an integer in 0\.\.2\^53-1, got "9007199254740992"/,
    ],
    [['--formats', 'csv'], /--formats: .*got "csv"/],
    [['--formats', 'parquet,parquet'], /twice/],
    [
      ['--tfrecord-compression', 'zstd'],
      /--tfrecord-compression: .*NONE, GZIP/,
    ],
    [
      ['--dataset-version', '0'],
      /--dataset-version must be an integer in 1\.\.2\^53-1, got "0"/,
    ],
    [
      ['--version', '0'],
      /--dataset-version must be an integer in 1\.\.2\^53-1, got "0"/,
    ],
    [
      ['--version', '3', '--dataset-version', '4'],
      /--version 3 and --dataset-version 4 disagree/,
    ],
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
      '--dataset-version',
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
    assert.equal(summary.files.tfrecord.bytes, 20000 * tfrecordRecordBytes());
    const again = run(
      'generate',
      '--samples',
      '10',
      '--dataset-version',
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

  it('--timings: CPU seconds per stage that add up to the process CPU, and per 1M rows', () => {
    const out = join(scratch, 'timed');
    const {code, stdout, stderr} = run(
      'generate',
      '--samples',
      '300000',
      '--seed',
      '4',
      '--out',
      out,
      '--json',
      '--timings',
    );
    assert.equal(code, 0, stderr);
    const {timings} = JSON.parse(stdout) as {
      timings: {
        rows: number;
        cpuSeconds: Record<string, number>;
        cpuSecondsPerMillionRows: Record<string, number>;
      };
    };
    assert.equal(timings.rows, 300000);
    const all = timings.cpuSeconds;
    for (const stage of ['draw', 'encodeTfrecord', 'encodeParquet', 'hash'])
      assert.ok(all[stage] > 0, `${stage} ${all[stage]}`);
    assert.ok(
      Math.abs(all.encode - all.encodeTfrecord - all.encodeParquet) < 0.002,
    );
    assert.ok(
      all.draw + all.encode + all.hash + all.write <= all.total + 0.004,
      JSON.stringify(all),
    );
    assert.ok(all.system <= all.total);
    for (const [stage, seconds] of Object.entries(all))
      assert.ok(
        Math.abs(timings.cpuSecondsPerMillionRows[stage] - seconds / 0.3) <
          0.01,
        stage,
      );
    const sharded = run(
      'generate',
      '--samples',
      '300000',
      '--shards',
      '2',
      '--out',
      join(scratch, 'timed-shards'),
      '--timings',
    );
    assert.equal(sharded.code, 2);
    assert.match(sharded.stderr, /--timings .* --shards 2/);
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
      '--dataset-version',
      '--out',
      '--md5',
      '--timings',
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

  it('checks md5 only where the metadata has it (generate --md5), SHA-256 and CRC-32C always', () => {
    for (const md5 of [false, true]) {
      const out = join(scratch, md5 ? 'with-md5' : 'without-md5');
      const made = run(
        'generate',
        '--samples',
        '20000',
        '--seed',
        '6',
        '--out',
        out,
        ...(md5 ? ['--md5'] : []),
      );
      assert.equal(made.code, 0, made.stderr);
      const metadata = JSON.parse(
        readFileSync(join(out, 'metadata_v1.json'), 'utf8'),
      );
      for (const format of ['parquet', 'tfrecord']) {
        const object = metadata.objects[format];
        assert.equal(typeof object.sha256, 'string');
        assert.equal(typeof object.crc32c, 'string');
        assert.equal(
          object.md5,
          md5
            ? createHash('md5')
                .update(readFileSync(join(out, object.name)))
                .digest('base64')
            : undefined,
        );
      }
      const good = run('verify', out);
      assert.equal(good.code, 0, good.stdout);
      const checked = (key: string) =>
        good.stdout
          .split('\n')
          .filter(l => l.startsWith('ok    ') && l.includes(`: ${key}: `));
      assert.equal(checked('sha256').length, 2);
      assert.equal(checked('crc32c').length, 2);
      assert.equal(checked('md5').length, md5 ? 2 : 0);
      const tfrecordPath = join(out, 'dataset_v1.tfrecord');
      const bytes = readFileSync(tfrecordPath);
      bytes[bytes.length - 10] ^= 0x01;
      writeFileSync(tfrecordPath, bytes);
      const bad = run('verify', out);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /FAIL {2}tfrecord: sha256/);
      assert.match(bad.stdout, /FAIL {2}tfrecord: crc32c/);
      if (md5) assert.match(bad.stdout, /FAIL {2}tfrecord: md5/);
      else assert.doesNotMatch(bad.stdout, /: md5: /);
    }
  });

  it('reports the goodness-of-fit statistics, in text and in JSON', () => {
    const out = join(scratch, 'fit');
    assert.equal(
      run('generate', '--samples', '200000', '--seed', '9', '--out', out).code,
      0,
    );
    const text = run('verify', out);
    assert.equal(text.code, 0, text.stdout);
    assert.match(
      text.stdout,
      /ok {4}labels fit the true probabilities over all creatives: X = [0-9.]+ over 100 creatives \(chi-square, 200 d\.f\.\), p = [0-9.e-]+, fails below 3\.3e-7/,
    );
    assert.match(
      text.stdout,
      /ok {4}labels fit the true probabilities over all target stores: X = [0-9.]+ over 10 target stores \(chi-square, 20 d\.f\.\)/,
    );
    assert.match(text.stdout, /with probability at most 0\.000001/);
    const report = JSON.parse(run('verify', out, '--json').stdout);
    assert.equal(report.statistics.familyWiseAlpha, 1e-6);
    for (const fit of [
      report.statistics.creatives,
      report.statistics.targetStores,
    ]) {
      assert.equal(typeof fit.statistic, 'number');
      assert.ok(fit.pValue >= fit.alpha && fit.pValue <= 1, fit.pValue);
      assert.equal(fit.ok, true);
    }
    assert.equal(report.statistics.creatives.degreesOfFreedom, 200);
  });

  it('gives the report, with a failed check, for a truncated TFRecord', () => {
    const out = join(scratch, 'truncated');
    assert.equal(
      run('generate', '--samples', '5000', '--seed', '4', '--out', out).code,
      0,
    );
    const path = join(out, 'dataset_v1.tfrecord');
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 7));
    const {code, stdout, stderr} = run('verify', out);
    assert.equal(code, 1, stderr);
    assert.equal(stderr, '');
    assert.match(
      stdout,
      /FAIL {2}tfrecord: readable: dataset_v1\.tfrecord cannot be read: /,
    );
    assert.match(
      stdout,
      /FAIL {2}tfrecord: size: 604993 bytes, metadata says 605000/,
    );
    assert.match(stdout, /ok {4}parquet: sha256/);
    assert.match(stdout, /checks FAILED$/m);
  });

  it('fails with one line and exit 2 on a folder without metadata', () => {
    const {code, stderr} = run('verify', scratch);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /^exploration-data: no metadata_v\{N\}\.json in .*\n$/,
    );
  });

  it('fails with one line and exit 2 on metadata it cannot parse, naming the member', () => {
    const out = join(scratch, 'malformed');
    assert.equal(
      run('generate', '--samples', '1000', '--seed', '2', '--out', out).code,
      0,
    );
    const path = join(out, 'metadata_v1.json');
    const text = readFileSync(path, 'utf8');
    for (const [from, to, message] of [
      [
        '"schemaVersion": 1',
        '"schemaVersion": 2',
        /schemaVersion must be 1, got 2/,
      ],
      [
        '"rows": 1000,',
        '"rows": -1000,',
        /objects\.parquet\.rows must be a whole number >= 0, got -1000/,
      ],
      [
        '"pair_probs": {',
        '"pair_probs": {"nobody": 0.5,',
        /pair_probs has 101 entries; its config asks for 100/,
      ],
    ] as const) {
      assert.ok(text.includes(from), from);
      writeFileSync(path, text.replace(from, to));
      const {code, stderr, stdout} = run('verify', out);
      assert.equal(code, 2, stderr);
      assert.equal(stdout, '');
      assert.match(
        stderr,
        /^exploration-data: .*metadata_v1\.json: metadata's /,
      );
      assert.match(stderr, message);
      assert.equal(stderr.split('\n').length, 2, stderr);
    }
  });

  it('fails with one line and exit 2 on a missing folder', () => {
    const {code, stderr, stdout} = run('verify', join(scratch, 'nowhere'));
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /^exploration-data: no such folder: .*nowhere\n$/);
  });
});

describe('exploration-data, every bad input one line and exit 2', () => {
  it('--version prints the generator version', () => {
    const {code, stdout} = run('--version');
    assert.equal(code, 0);
    assert.equal(stdout, `${GENERATOR.version}\n`);
  });

  it('generate --version N is the dataset version (docs/design.md §9), as --dataset-version N', () => {
    const out = join(scratch, 'alias');
    const {code, stdout, stderr} = run(
      'generate',
      '--samples',
      '1000',
      '--seed',
      '5',
      '--version',
      '7',
      '--out',
      out,
      '--json',
      '--no-progress',
    );
    assert.equal(code, 0, stderr);
    assert.equal((JSON.parse(stdout) as {version: number}).version, 7);
    assert.deepEqual(readdirSync(out).sort(), [
      'dataset_v7.parquet',
      'dataset_v7.tfrecord',
      'metadata_v7.json',
    ]);
  });

  it('--out naming a file', () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'x');
    for (const args of [
      ['generate', '--samples', '10', '--out', file],
      ['fetch', '--base-url', 'http://127.0.0.1:1', '--out', file],
    ]) {
      const {code, stderr} = run(...args);
      assert.equal(code, 2, args[0]);
      assert.match(
        stderr,
        /^exploration-data: --out must be a folder \(existing or new\), got ".*a-file", which is a file or lies under one\n$/,
      );
    }
    assert.equal(readFileSync(file, 'utf8'), 'x');
  });

  it('fetch: a bad --dataset-version or --base-url', () => {
    const out = join(scratch, 'fetch-bad');
    const version = run(
      'fetch',
      '--base-url',
      'http://127.0.0.1:1',
      '--out',
      out,
      '--dataset-version',
      '-2',
    );
    assert.equal(version.code, 2);
    assert.match(
      version.stderr,
      /--dataset-version must be an integer in 1\.\.2\^53-1 or "latest", got "-2"/,
    );
    const url = run('fetch', '--base-url', 'localhost:8080', '--out', out);
    assert.equal(url.code, 2);
    assert.match(
      url.stderr,
      /--base-url must be an http:\/\/ or https:\/\/ URL, got "localhost:8080"/,
    );
    assert.throws(() => readdirSync(out), /ENOENT/);
  });

  it('fetch to an unreachable URL names the URL and the cause, and leaves no folder', async () => {
    const server = createServer();
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const {port} = server.address() as AddressInfo;
    await new Promise(resolve => server.close(resolve));
    const out = join(scratch, 'fetch-unreachable', 'deeper');
    const {code, stderr} = run(
      'fetch',
      '--base-url',
      `http://127.0.0.1:${port}`,
      '--out',
      out,
    );
    assert.equal(code, 1);
    assert.equal(
      stderr,
      `exploration-data: cannot reach http://127.0.0.1:${port}/loadMetadata?version=latest: ECONNREFUSED\n`,
    );
    assert.throws(
      () => readdirSync(join(scratch, 'fetch-unreachable')),
      /ENOENT/,
    );
  });
});

describe('npm run demo, before anything starts', () => {
  const DEMO = fileURLToPath(new URL('../../local/demo.js', import.meta.url));
  const usage = readFileSync(
    fileURLToPath(new URL('../../../local/demo-usage.txt', import.meta.url)),
    'utf8',
  );
  const demo = (...args: string[]) => {
    const result = spawnSync(process.execPath, [DEMO, ...args], {
      encoding: 'utf8',
      env: {...process.env, MAX_SAMPLES: ''},
      timeout: 30_000,
    });
    return {code: result.status, stdout: result.stdout, stderr: result.stderr};
  };

  it('refuses bad flags with one line and exit 2, without starting the stack', () => {
    for (const [args, message] of [
      [
        ['--samples', '0'],
        /^demo: --samples must be an integer in 1\.\.1000000000, got "0"\n$/,
      ],
      [
        ['--seed', 'x'],
        /^demo: --seed must be an integer in 0\.\.2\^53-1, got "x"\n$/,
      ],
      [
        ['--frobnicate'],
        /^demo: Unknown option '--frobnicate' \(see npm run demo -- --help\)\n$/,
      ],
      [
        ['--shards', '5', '--samples', '200000'],
        /^demo: --shards must be at most 4 for 200000 rows \(each shard holds at least one 65536-row block\), got 5\n$/,
      ],
      [
        ['--shards', '0'],
        /^demo: --shards must be an integer in 1\.\.1024, got "0"\n$/,
      ],
    ] as const) {
      const {code, stdout, stderr} = demo(...args);
      assert.equal(code, 2, args.join(' '));
      assert.match(stderr, message);
      assert.equal(stdout, '');
    }
  });

  it('refuses bad flags in scripts/demo.sh before installing or building: one line, exit 2, no run folder', () => {
    const runTmp = mkdtempSync(join(scratch, 'demo-tmp-'));
    for (const [args, message] of [
      [
        ['--samples', '0'],
        'demo: --samples must be an integer in 1..1000000000, got "0"',
      ],
      [
        ['--frobnicate'],
        "demo: Unknown option '--frobnicate' (see npm run demo -- --help)",
      ],
      [
        ['--shards', '5', '--samples', '200000'],
        'demo: --shards must be at most 4 for 200000 rows (each shard holds at least one 65536-row block), got 5',
      ],
      [['--keep='], 'demo: --keep must name a folder, got ""'],
    ] as const) {
      const started = Date.now();
      const script = spawnSync(
        'bash',
        [
          fileURLToPath(new URL('../../../scripts/demo.sh', import.meta.url)),
          ...args,
        ],
        {
          encoding: 'utf8',
          env: {
            ...process.env,
            MAX_SAMPLES: '',
            TMPDIR: runTmp,
            PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
          },
          timeout: 30_000,
        },
      );
      assert.equal(script.status, 2, `${args.join(' ')}: ${script.stderr}`);
      assert.equal(script.stderr, `${message}\n`);
      assert.equal(script.stdout, '');
      assert.ok(
        Date.now() - started < 15_000,
        `${args.join(' ')} took ${Date.now() - started} ms`,
      );
    }
    assert.deepEqual(readdirSync(runTmp), []);
  });

  it('prints the usage, from node and from scripts/demo.sh (which neither installs nor builds for it)', () => {
    assert.match(usage, /^usage: npm run demo -- \[--samples N\]/);
    assert.deepEqual(demo('--help'), {code: 0, stdout: usage, stderr: ''});
    const script = spawnSync(
      'bash',
      [
        fileURLToPath(new URL('../../../scripts/demo.sh', import.meta.url)),
        '--samples',
        '5',
        '-h',
      ],
      {encoding: 'utf8', timeout: 30_000},
    );
    assert.equal(script.status, 0);
    assert.equal(script.stdout, usage);
    assert.equal(script.stderr, '');
  });
});

describe('exit status of a version that is not ready (the status table)', () => {
  const notReady = (versionStatus?: 'generating' | 'failed') =>
    new ApiError({
      status: 409,
      code: 'FAILED_PRECONDITION',
      message: 'dataset version 3 ...',
      url: 'http://127.0.0.1:9/loadMetadata?version=3',
      versionStatus,
    });
  it('failed (terminal) is bad input: exit 2; generating is worth a retry: exit 1', () => {
    assert.equal(isBadInput(notReady('failed')), true);
    assert.equal(isBadInput(notReady('generating')), false);
    assert.equal(isBadInput(notReady()), false);
  });
});
