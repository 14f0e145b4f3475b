/**
 * Deployable today, offline: every runtime terraform/ deploys is GA by the
 * dated table terraform/runtime-support.json (this fails from its deprecation
 * date), and it is the Node.js major the project runs and is typed for; the
 * Python client's floor is still supported by clients/python/python-support.json
 * and is what pyproject.toml declares. EXPLORATION_DATA_TODAY=YYYY-MM-DD
 * runs the check as of another day.
 */
import assert from 'node:assert/strict';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {REPO_ROOT} from '../support/python.js';

interface RuntimeDates {
  stack?: string;
  /** First day the runtime is deprecated (YYYY-MM-DD). */
  deprecated: string;
  /** First day no function can be created or updated on it. */
  decommissioned?: string;
}

type Support = 'ga' | 'deprecated' | 'decommissioned';

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Where a runtime stands on a day (ISO dates compare as strings). */
function runtimeSupport(dates: RuntimeDates, day: string): Support {
  if (dates.decommissioned !== undefined && day >= dates.decommissioned)
    return 'decommissioned';
  return day >= dates.deprecated ? 'deprecated' : 'ga';
}

/** Whether a Python version whose support ends in month YYYY-MM is still safe on a day. */
function pythonSupported(endOfLifeMonth: string, day: string): boolean {
  return day < `${endOfLifeMonth}-01`;
}

function today(): string {
  const day =
    process.env.EXPLORATION_DATA_TODAY || new Date().toISOString().slice(0, 10);
  assert.match(
    day,
    ISO_DAY,
    `EXPLORATION_DATA_TODAY must be YYYY-MM-DD, got "${day}"`,
  );
  return day;
}

const read = (...path: string[]) =>
  readFileSync(join(REPO_ROOT, ...path), 'utf8');
const table = JSON.parse(read('terraform', 'runtime-support.json')) as {
  runtimes: Record<string, RuntimeDates>;
};
const python = JSON.parse(read('clients', 'python', 'python-support.json')) as {
  floor: string;
  versions: Record<string, {endOfLife: string}>;
};

/** Every `runtime = "..."` in terraform/*.tf. */
function deployedRuntimes(): string[] {
  const dir = join(REPO_ROOT, 'terraform');
  return readdirSync(dir)
    .filter(f => f.endsWith('.tf'))
    .flatMap(f => [
      ...readFileSync(join(dir, f), 'utf8').matchAll(
        /^\s*runtime\s*=\s*"([^"]+)"/gm,
      ),
    ])
    .map(m => m[1]);
}

describe('the dated tables', () => {
  it('are well formed', () => {
    for (const [name, dates] of Object.entries(table.runtimes)) {
      assert.match(name, /^nodejs\d+$/);
      assert.match(dates.deprecated, ISO_DAY, name);
      if (dates.decommissioned !== undefined) {
        assert.match(dates.decommissioned, ISO_DAY, name);
        assert.ok(dates.decommissioned > dates.deprecated, name);
      }
    }
    for (const [version, {endOfLife}] of Object.entries(python.versions)) {
      assert.match(version, /^3\.\d+$/);
      assert.match(endOfLife, /^\d{4}-\d{2}$/, version);
    }
  });

  it('say what the runtime support schedule says (issue 17)', () => {
    const nodejs20 = table.runtimes.nodejs20;
    assert.equal(runtimeSupport(nodejs20, '2026-04-29'), 'ga');
    assert.equal(runtimeSupport(nodejs20, '2026-04-30'), 'deprecated');
    assert.equal(runtimeSupport(nodejs20, '2026-10-29'), 'deprecated');
    assert.equal(runtimeSupport(nodejs20, '2026-10-30'), 'decommissioned');
    assert.equal(
      runtimeSupport(table.runtimes.nodejs22, '2027-04-30'),
      'deprecated',
    );
    assert.equal(runtimeSupport(table.runtimes.nodejs24, '2028-04-29'), 'ga');
    assert.equal(
      runtimeSupport(table.runtimes.nodejs24, '2028-04-30'),
      'deprecated',
    );
    assert.equal(python.versions['3.11'].endOfLife, '2027-10');
    assert.equal(pythonSupported('2027-10', '2027-09-30'), true);
    assert.equal(pythonSupported('2027-10', '2027-10-01'), false);
  });
});

describe('deployable today', () => {
  it('deploys only runtimes that are GA today', () => {
    const day = today();
    const runtimes = deployedRuntimes();
    assert.ok(runtimes.length > 0, 'no runtime = "..." in terraform/*.tf');
    for (const runtime of runtimes) {
      const dates = table.runtimes[runtime];
      assert.ok(
        dates,
        `terraform/ deploys ${runtime}, which terraform/runtime-support.json does not list`,
      );
      const support = runtimeSupport(dates, day);
      assert.equal(
        support,
        'ga',
        `terraform/ deploys ${runtime}, ${support} since ${
          support === 'deprecated' ? dates.deprecated : dates.decommissioned
        } (terraform/runtime-support.json, today ${day}): move to a GA runtime`,
      );
    }
  });

  it('runs, types and pins the Node.js major it deploys on', () => {
    const majors = new Set(
      deployedRuntimes().map(r => /^nodejs(\d+)$/.exec(r)?.[1]),
    );
    assert.equal(majors.size, 1, `one Node.js runtime, got ${[...majors]}`);
    const [major] = majors;
    const manifest = JSON.parse(read('package.json'));
    assert.equal(manifest.engines.node, `>=${major} <${Number(major) + 1}`);
    assert.match(
      manifest.devDependencies['@types/node'],
      new RegExp(`^\\^${major}\\.`),
    );
    const pinned = /^version (\d+)\.\d+\.\d+$/m.exec(
      read('scripts', 'node-version'),
    );
    assert.equal(pinned?.[1], major, 'scripts/node-version');
    assert.equal(
      process.versions.node.split('.')[0],
      major,
      'the node running the tests',
    );
  });

  it("keeps the Python client's floor supported, and declares it", () => {
    const day = today();
    const floor = python.floor;
    const endOfLife = python.versions[floor]?.endOfLife;
    assert.ok(
      endOfLife,
      `clients/python/python-support.json has no date for ${floor}`,
    );
    assert.ok(
      pythonSupported(endOfLife, day),
      `the Python client's floor ${floor} reaches its end of life in ${endOfLife} (clients/python/python-support.json, today ${day}): raise the floor`,
    );
    const pyproject = read('clients', 'python', 'pyproject.toml');
    assert.match(
      pyproject,
      new RegExp(`^requires-python = ">=${floor}"$`, 'm'),
    );
    assert.match(
      pyproject,
      new RegExp(`"Programming Language :: Python :: ${floor}"`),
    );
    assert.match(pyproject, new RegExp(`^python_version = "${floor}"$`, 'm'));
    assert.match(
      pyproject,
      new RegExp(`^target-version = "py${floor.replace('.', '')}"$`, 'm'),
    );
    assert.match(
      read('scripts', 'python-env.sh'),
      new RegExp(`python${floor}`),
    );
    assert.match(
      read('clients', 'python', 'README.md'),
      new RegExp(`Python ${floor}\\b[^\\n]*${endOfLife.slice(0, 4)}`),
    );
  });
});
