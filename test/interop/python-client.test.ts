/**
 * The Python client (clients/python, docs/design.md §10) in the project's venv:
 * ruff and mypy --strict on the package, a pip install of it, its unit tests
 * against a fake HTTP server, and its integration tests against the real
 * local stack started here. The client is imported from the working tree
 * (PYTHONPATH), never from the cached venv, so what is tested is what is here.
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {FirestoreCatalog} from '../../shared/catalog/firestore-catalog.js';
import {resolveConfig} from '../../shared/dataset/config.js';
import {projectPython, REPO_ROOT} from '../support/python.js';
import {rowSchemaFile} from '../support/row-schema-file.js';
import {startTestStack, type TestStack} from '../support/stack.js';

const CLIENT = `${REPO_ROOT}clients/python`;
const scratch = mkdtempSync(join(tmpdir(), 'exploration-python-client-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

interface Run {
  code: number | null;
  output: string;
  seconds: number;
}

let runs = 0;

/** Runs the venv's python with `args` in clients/python; output to a log file, then read. */
function python(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 10 * 60_000,
): Promise<Run> {
  const log = join(scratch, `run-${++runs}.log`);
  const fd = openSync(log, 'w');
  const started = Date.now();
  const child = spawn(projectPython(), args, {
    cwd: CLIENT,
    env: {
      ...process.env,
      PYTHONPATH: `${CLIENT}/src`,
      PYTHONDONTWRITEBYTECODE: '1',
      TF_CPP_MIN_LOG_LEVEL: '3',
      CUDA_VISIBLE_DEVICES: '',
      EXPLORATION_DATA_CLIENT_CACHE: join(scratch, 'client-cache'),
      ...env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', error => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', code => {
      clearTimeout(timer);
      resolve({
        code,
        output: readFileSync(log, 'utf8'),
        seconds: (Date.now() - started) / 1000,
      });
    });
  });
}

function tail(text: string, lines = 60): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

interface PytestCounts {
  passed: number;
  failed: number;
  skipped: number;
  errors: number;
}

/** The counts of pytest's closing line ("3 failed, 70 passed, 1 skipped in 9.1s"). */
export function pytestCounts(output: string): PytestCounts {
  const counts: PytestCounts = {passed: 0, failed: 0, skipped: 0, errors: 0};
  const line = output
    .trimEnd()
    .split('\n')
    .reverse()
    .find(l => / in [0-9.]+s/.test(l));
  for (const [, n, word] of (line ?? '').matchAll(
    /(\d+) (passed|failed|skipped|errors?)/g,
  )) {
    const key = word.startsWith('error')
      ? 'errors'
      : (word as keyof PytestCounts);
    counts[key] = Number(n);
  }
  return counts;
}

async function pytest(
  folder: string,
  env: Record<string, string> = {},
): Promise<{run: Run; counts: PytestCounts}> {
  // pytest's basetemp in this file's scratch folder (removed after), not
  // $TMPDIR/pytest-of-<user>, which pytest would leave behind.
  const basetemp = join(scratch, `pytest-${folder.replace(/\W/g, '-')}`);
  const run = await python(
    [
      '-m',
      'pytest',
      folder,
      '-q',
      '-rfEs',
      '-p',
      'no:cacheprovider',
      '--basetemp',
      basetemp,
    ],
    env,
  );
  const counts = pytestCounts(run.output);
  // Exit 5 is "no tests collected": a failure here like any other non-zero.
  assert.equal(
    run.code,
    0,
    `pytest ${folder} exited ${run.code}:\n${tail(run.output)}`,
  );
  assert.ok(
    counts.passed > 0,
    `pytest ${folder} ran no test:\n${tail(run.output)}`,
  );
  assert.equal(counts.failed + counts.errors, 0, tail(run.output));
  console.log(`# pytest ${folder}: ${tail(run.output, 1)}`);
  return {run, counts};
}

describe('the Python client', {timeout: 30 * 60_000}, () => {
  before(() => {
    projectPython(); // creates the venv once (cached outside the repository)
  });

  it('passes ruff (lint and format)', async () => {
    const lint = await python(['-m', 'ruff', 'check', '--no-cache', '.']);
    assert.equal(lint.code, 0, tail(lint.output));
    const format = await python([
      '-m',
      'ruff',
      'format',
      '--no-cache',
      '--check',
      '.',
    ]);
    assert.equal(format.code, 0, tail(format.output));
  });

  it('passes mypy --strict', async () => {
    const run = await python([
      '-m',
      'mypy',
      '--strict',
      '--no-incremental',
      '--cache-dir',
      join(scratch, 'mypy-cache'),
    ]);
    assert.equal(run.code, 0, tail(run.output));
    assert.match(run.output, /Success: no issues found in \d+ source files/);
  });

  it('installs with pip, py.typed and row_schema.json included, without the optional extras', async () => {
    const source = join(scratch, 'package');
    cpSync(CLIENT, source, {
      recursive: true,
      filter: path => !/(__pycache__|\.egg-info|\/build$)/.test(path),
    });
    const target = join(scratch, 'site');
    const install = await python(
      [
        '-m',
        'pip',
        'install',
        '--no-deps',
        '--no-build-isolation',
        '--no-index',
        '--disable-pip-version-check',
        '--target',
        target,
        source,
      ],
      {PIP_NO_CACHE_DIR: '1'},
    );
    assert.equal(install.code, 0, tail(install.output));
    assert.ok(existsSync(join(target, 'exploration_data', 'py.typed')));
    // the row schema the readers derive their columns from is package data
    assert.ok(existsSync(join(target, 'exploration_data', 'row_schema.json')));
    const probe = await python(
      [
        '-c',
        [
          'import sys, exploration_data, importlib.metadata as m',
          'print(exploration_data.__file__)',
          'print(exploration_data.__version__, m.version("exploration-data"))',
          'print(sorted(m.metadata("exploration-data").get_all("Provides-Extra")))',
          'print("tensorflow" in sys.modules)',
        ].join('\n'),
      ],
      {PYTHONPATH: target},
    );
    assert.equal(probe.code, 0, tail(probe.output));
    const [file, versions, extras, tensorflowImported] = probe.output
      .trim()
      .split('\n');
    assert.ok(file.startsWith(target), file);
    assert.equal(versions, '0.1.0 0.1.0');
    assert.equal(extras, "['google', 'tensorflow']");
    assert.equal(
      tensorflowImported,
      'False',
      'importing the client imports TF',
    );
  });

  it('passes its unit tests (fake HTTP server)', async () => {
    const {counts} = await pytest('tests/unit');
    assert.ok(counts.passed >= 70, `only ${counts.passed} unit tests passed`);
    assert.equal(counts.skipped, 0);
  });

  describe('against the local stack', () => {
    let t: TestStack;
    const versions = {generating: 0, failed: 0};

    before(async () => {
      t = await startTestStack();
      // A version left generating and one failed, as a crashed generate leaves them.
      const catalog = new FirestoreCatalog(t.firestore, 'datasets');
      const generating = await catalog.allocate({
        config: resolveConfig({nSamples: 10, seed: 1}),
        now: new Date(),
        leaseMs: 600_000,
      });
      const failed = await catalog.allocate({
        config: resolveConfig({nSamples: 10, seed: 2}),
        now: new Date(),
        leaseMs: 600_000,
      });
      await catalog.markFailed(
        failed.version,
        'test: the generator died',
        new Date(),
      );
      versions.generating = generating.version;
      versions.failed = failed.version;
    });
    after(async () => {
      await t?.stop();
    });

    it('runs the example notebook session', async () => {
      const run = await python([
        'examples/notebook_session.py',
        '--base-url',
        t.url,
        '--samples',
        '100000',
        '--seed',
        '5',
      ]);
      assert.equal(run.code, 0, tail(run.output));
      for (const line of run.output.trimEnd().split('\n'))
        console.log(`# example: ${line}`);
      assert.match(run.output, /load_parquet first load: 100,000 rows/);
      assert.match(
        run.output,
        /load_parquet second load \(cache\): 100,000 rows/,
      );
      assert.match(
        run.output,
        /tfrecord spec: \{'target_store_id': 'string', 'creative_pack_id': 'string', 'label': 'int64'\}/,
      );
      assert.match(run.output, /downloaded metadata_v\d+\.json/);
      assert.match(run.output, /as expected: INVALID_ARGUMENT on nSamples/);
    });

    it('passes its integration tests', async () => {
      const {counts} = await pytest('tests/integration', {
        EXPLORATION_DATA_TEST_URL: t.url,
        EXPLORATION_DATA_REPO: REPO_ROOT,
        EXPLORATION_DATA_NODE: process.execPath,
        EXPLORATION_DATA_ROW_SCHEMA: rowSchemaFile(),
        EXPLORATION_DATA_GENERATING_VERSION: String(versions.generating),
        EXPLORATION_DATA_FAILED_VERSION: String(versions.failed),
      });
      // The sharded case runs too, now that the service fans out (issue 9).
      assert.equal(counts.skipped, 0, `${counts.skipped} skipped`);
      // 17 + OPE exports + 3 policy parity + 8 policy_value (issue 15)
      assert.equal(counts.passed, 29);
    });
  });
});
