/**
 * `npm run smoke` against the local stack, which lays out URLs as
 * cloudfunctions.net does: the same script checks a deployment.
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {after, before, describe, it} from 'node:test';
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
 * Runs the smoke script as a child, asynchronously: the stack's router lives
 * in this process, so a synchronous spawn would block it and deadlock.
 */
async function runSmoke(
  ...args: string[]
): Promise<{code: number | null; out: string; err: string}> {
  const child = spawn(
    process.execPath,
    [`${REPO_ROOT}build/scripts/smoke.js`, ...args],
    {stdio: ['ignore', 'pipe', 'pipe']},
  );
  let out = '';
  let err = '';
  child.stdout.on('data', chunk => (out += chunk));
  child.stderr.on('data', chunk => (err += chunk));
  const code = await new Promise<number | null>(resolve =>
    child.on('close', resolve),
  );
  return {code, out, err};
}

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
      /loadTfrecord: downloaded 2420000 bytes, md5 and crc32c match/,
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
    assert.match(err, /--samples must be a positive integer/);
  });
});
