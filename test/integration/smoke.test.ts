/**
 * `npm run smoke` against the local stack, which lays out URLs as
 * cloudfunctions.net does: the same script checks a deployment.
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
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

describe('npm run smoke', {timeout: 5 * 60_000}, () => {
  it('passes against the local stack', async () => {
    const {spawn} = await import('node:child_process');
    const child = spawn(
      process.execPath,
      [
        `${REPO_ROOT}build/scripts/smoke.js`,
        '--base-url',
        t.url,
        '--samples',
        '20000',
      ],
      {stdio: ['ignore', 'pipe', 'pipe']},
    );
    let out = '';
    child.stdout.on('data', chunk => (out += chunk));
    child.stderr.on('data', chunk => (out += chunk));
    const code = await new Promise<number | null>(resolve =>
      child.on('close', resolve),
    );
    assert.equal(code, 0, out);
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

  it('fails with a clear message against a wrong base URL', () => {
    const result = spawnSync(
      process.execPath,
      [`${REPO_ROOT}build/scripts/smoke.js`, '--base-url', `${t.url}/nowhere`],
      {encoding: 'utf8'},
    );
    assert.equal(result.status, 1);
    assert.match(result.stderr, /smoke: FAILED: /);
  });

  it('refuses bad flags', () => {
    const result = spawnSync(
      process.execPath,
      [
        `${REPO_ROOT}build/scripts/smoke.js`,
        '--base-url',
        t.url,
        '--samples',
        '0',
      ],
      {encoding: 'utf8'},
    );
    assert.equal(result.status, 2);
  });
});
