/**
 * scripts/ensure-node-modules.sh against a fake `npm` on PATH: npm ci runs
 * exactly when node_modules has no stamp of the lockfile, its output is
 * shown, a hanging install is stopped by the timeout, and a failed one is
 * tried a bounded number of times and leaves no node_modules behind.
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {REPO_ROOT} from '../support/python.js';

const scratch = mkdtempSync(join(tmpdir(), 'exploration-ensure-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

/** A repository copy with the script, a lockfile and a fake npm. */
function sandbox(name: string, npmBody: string) {
  const root = join(scratch, name);
  mkdirSync(join(root, 'scripts'), {recursive: true});
  mkdirSync(join(root, 'bin'));
  copyFileSync(
    join(REPO_ROOT, 'scripts', 'ensure-node-modules.sh'),
    join(root, 'scripts', 'ensure-node-modules.sh'),
  );
  writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion": 3}\n');
  const npm = join(root, 'bin', 'npm');
  writeFileSync(
    npm,
    `#!/usr/bin/env bash\necho "fake npm $*" >>"${root}/npm-calls"\n${npmBody}\n`,
  );
  chmodSync(npm, 0o755);
  const run = (env: Record<string, string> = {}) => {
    const result = spawnSync(
      'bash',
      [join(root, 'scripts', 'ensure-node-modules.sh')],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          PATH: `${join(root, 'bin')}:${process.env.PATH}`,
          ...env,
        },
        timeout: 60_000,
      },
    );
    return {code: result.status, stderr: result.stderr};
  };
  const calls = () =>
    existsSync(join(root, 'npm-calls'))
      ? readFileSync(join(root, 'npm-calls'), 'utf8').trim().split('\n')
      : [];
  return {root, run, calls};
}

const INSTALL = 'mkdir -p node_modules/pkg && echo "added 1 package"';

describe('scripts/ensure-node-modules.sh', () => {
  it('runs npm ci once, shows its output, stamps the lockfile, then does nothing', () => {
    const box = sandbox('fresh', INSTALL);
    const first = box.run();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /\[install\] npm ci: node_modules is missing/);
    assert.match(first.stderr, /added 1 package/);
    assert.equal(box.calls().length, 1);
    assert.match(
      box.calls()[0],
      /^fake npm ci .*--fetch-timeout=60000 --fetch-retries=4/,
    );
    const stamp = readFileSync(
      join(box.root, 'node_modules', '.exploration-data-installed'),
      'utf8',
    );
    assert.match(stamp, /^[0-9a-f]{64} node-/);
    const second = box.run();
    assert.equal(second.code, 0);
    assert.equal(second.stderr, '');
    assert.equal(box.calls().length, 1);
  });

  it('installs again when the lockfile changes or node_modules has no stamp', () => {
    const box = sandbox('changed', INSTALL);
    assert.equal(box.run().code, 0);
    writeFileSync(
      join(box.root, 'package-lock.json'),
      '{"lockfileVersion": 3, "x": 1}\n',
    );
    const changed = box.run();
    assert.match(changed.stderr, /no stamp of this package-lock\.json/);
    assert.equal(box.calls().length, 2);
    rmSync(join(box.root, 'node_modules', '.exploration-data-installed'));
    assert.equal(box.run().code, 0);
    assert.equal(box.calls().length, 3);
  });

  it('stops a hanging install at the timeout, tries twice, and removes node_modules', () => {
    const box = sandbox('hangs', 'mkdir -p node_modules/half; exec sleep 30');
    const started = Date.now();
    const result = box.run({EXPLORATION_DATA_NPM_TIMEOUT: '1'});
    assert.equal(result.code, 1);
    assert.ok(Date.now() - started < 20_000, 'bounded in time');
    assert.equal(box.calls().length, 2);
    assert.match(result.stderr, /did not finish within 1 s/);
    assert.match(result.stderr, /giving up after 2 attempts/);
    assert.equal(existsSync(join(box.root, 'node_modules')), false);
  });

  it('retries a failed install at most EXPLORATION_DATA_NPM_ATTEMPTS times', () => {
    const box = sandbox('fails', 'echo "npm error network" >&2; exit 1');
    const result = box.run({EXPLORATION_DATA_NPM_ATTEMPTS: '3'});
    assert.equal(result.code, 1);
    assert.equal(box.calls().length, 3);
    assert.match(result.stderr, /npm error network/);
    assert.match(result.stderr, /npm ci failed \(exit 1\)/);
  });
});
