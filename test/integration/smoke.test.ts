/**
 * `npm run smoke` against the local stack, which lays out URLs as
 * cloudfunctions.net does: the same script checks a deployment.
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {after, before, describe, it} from 'node:test';
import {tfrecordRecordBytes} from '../../shared/formats/tfrecord/example-size.js';
import {REPO_ROOT} from '../support/python.js';
import {startTestStack, type TestStack} from '../support/stack.js';

let t: TestStack;
before(async () => {
  t = await startTestStack();
});
after(async () => {
  await t?.stop();
});

/**
 * Runs a script as a child, asynchronously: the stack's router lives in this
 * process, so a synchronous spawn would block it and deadlock.
 */
async function runScript(
  script: string,
  args: string[],
): Promise<{code: number | null; out: string; err: string}> {
  const child = spawn(process.execPath, [`${REPO_ROOT}${script}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', chunk => (out += chunk));
  child.stderr.on('data', chunk => (err += chunk));
  const code = await new Promise<number | null>(resolve =>
    child.on('close', resolve),
  );
  return {code, out, err};
}

const runSmoke = (...args: string[]) =>
  runScript('build/scripts/smoke.js', args);
const runCli = (...args: string[]) => runScript('build/cli/main.js', args);

describe('npm run smoke', {timeout: 5 * 60_000}, () => {
  it('passes against the local stack', async () => {
    const {code, out, err} = await runSmoke(
      '--base-url',
      t.url,
      '--samples',
      '20000',
    );
    assert.equal(code, 0, out + err);
    assert.match(
      out,
      /loadParquet: downloaded \d+ bytes, md5 and crc32c match/,
    );
    assert.match(
      out,
      new RegExp(
        `loadTfrecord: downloaded ${20_000 * tfrecordRecordBytes()} bytes, md5 and crc32c match`,
      ),
    );
    assert.match(out, /smoke: passed/);
  });

  it('fails with a clear message against a wrong base URL', async () => {
    const {code, err} = await runSmoke('--base-url', `${t.url}/nowhere`);
    assert.equal(code, 1);
    assert.match(err, /smoke: FAILED: generateDataset answered 404/);
  });

  it('refuses bad flags', async () => {
    const {code, err} = await runSmoke('--base-url', t.url, '--samples', '0');
    assert.equal(code, 2);
    assert.match(
      err,
      /^smoke: --samples must be an integer in 1\.\.\d+, got "0"\n$/,
    );
  });
});

describe('exploration-data fetch', {timeout: 5 * 60_000}, () => {
  it('downloads the latest version through the loaders, and verify passes on it', async () => {
    const {mkdtemp, readdir, rm} = await import('node:fs/promises');
    const {tmpdir} = await import('node:os');
    const {join} = await import('node:path');
    const out = await mkdtemp(join(tmpdir(), 'exploration-fetch-'));
    try {
      const fetched = await runCli(
        'fetch',
        '--base-url',
        t.url,
        '--out',
        out,
        '--json',
      );
      assert.equal(fetched.code, 0, fetched.out + fetched.err);
      const {version} = JSON.parse(fetched.out) as {version: number};
      assert.deepEqual((await readdir(out)).sort(), [
        `dataset_v${version}.parquet`,
        `dataset_v${version}.tfrecord`,
        `metadata_v${version}.json`,
      ]);
      const verified = await runCli('verify', out, '--json');
      assert.equal(verified.code, 0, verified.out);
      assert.equal(JSON.parse(verified.out).ok, true);
      const again = await runCli(
        'fetch',
        '--base-url',
        t.url,
        '--out',
        out,
        '--dataset-version',
        String(version),
      );
      assert.notEqual(again.code, 0);
      assert.match(again.err, /already exists/);
    } finally {
      await rm(out, {recursive: true, force: true});
    }
  });

  it('says so when the version does not exist', async () => {
    const {code, err} = await runCli(
      'fetch',
      '--base-url',
      t.url,
      '--out',
      '/tmp/never-written',
      '--dataset-version',
      '999999',
    );
    assert.equal(code, 2); // a version that does not exist is bad input
    assert.match(err, /dataset version 999999 does not exist/);
  });
});
