/**
 * `exploration-data evaluate DIR --policy JSON`, run as a process on files
 * the CLI generated: the answer against values computed here from the
 * metadata's own maps (pair_probs, creative_pack_target), the version it
 * picks, and one line with exit 2 for every bad input.
 */
import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {runCli} from '../support/cli-process.js';

const scratch = mkdtempSync(join(tmpdir(), 'exploration-cli-evaluate-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

const run = runCli;

interface Metadata {
  pair_probs: Record<string, number>;
  creative_pack_target: Record<string, string>;
}

/** V(pi) from the metadata: sum_c (|C_m(c)| / C) pi(c) q_c, pi given per creative id. */
function valueFrom(
  meta: Metadata,
  pi: (id: string, members: string[]) => number,
) {
  const ids = Object.keys(meta.pair_probs);
  const members = new Map<string, string[]>();
  for (const id of ids) {
    const t = meta.creative_pack_target[id];
    members.set(t, [...(members.get(t) ?? []), id]);
  }
  let v = 0;
  for (const id of ids) {
    const store = members.get(meta.creative_pack_target[id])!;
    v += (store.length / ids.length) * pi(id, store) * meta.pair_probs[id];
  }
  return v;
}

const dir = join(scratch, 'one');
let meta: Metadata;

before(() => {
  const generated = run(
    'generate',
    '--out',
    dir,
    '--samples',
    '2000',
    '--seed',
    '21',
    '--target-store-ids',
    '5',
    '--creative-pack-ids',
    '30',
    '--formats',
    'parquet',
    '--no-progress',
  );
  assert.equal(generated.code, 0, generated.stderr);
  meta = JSON.parse(readFileSync(join(dir, 'metadata_v1.json'), 'utf8'));
});

function answerOf(...args: string[]) {
  const result = run('evaluate', ...args);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  assert.equal(result.stdout.split('\n').length, 2, 'one line');
  return JSON.parse(result.stdout) as Record<string, number>;
}

function close(actual: number, expected: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= 1e-12,
    `${what}: ${actual} vs ${expected}`,
  );
}

describe('exploration-data evaluate', () => {
  it('prints {version, value, logging, uniform, best}, the values of the metadata’s maps', () => {
    const q = meta.pair_probs;
    const uniform = valueFrom(meta, (_, s) => 1 / s.length);
    const best = valueFrom(meta, (id, s) =>
      s.reduce((b, c) => (q[c] > q[b] ? c : b)) === id ? 1 : 0,
    );
    const softmax = (beta: number) =>
      valueFrom(meta, (id, s) => {
        const top = Math.max(...s.map(c => q[c]));
        const sum = s.reduce((a, c) => a + Math.exp(beta * (q[c] - top)), 0);
        return Math.exp(beta * (q[id] - top)) / sum;
      });
    const greedy = (e: number) =>
      valueFrom(meta, (id, s) => {
        const b = s.reduce((x, c) => (q[c] > q[x] ? c : x));
        return (id === b ? 1 - e : 0) + e / s.length;
      });
    const cases: Array<[unknown, number]> = [
      [{type: 'uniform'}, uniform],
      [{type: 'softmax', beta: 120}, softmax(120)],
      [{type: 'epsilon-greedy', epsilon: 0.3}, greedy(0.3)],
    ];
    for (const [policy, value] of cases) {
      const answer = answerOf(dir, '--policy', JSON.stringify(policy));
      assert.deepEqual(Object.keys(answer), [
        'version',
        'value',
        'logging',
        'uniform',
        'best',
      ]);
      assert.equal(answer.version, 1);
      close(answer.value, value, JSON.stringify(policy));
      close(answer.uniform, uniform, 'uniform');
      close(answer.best, best, 'best');
      assert.equal(answer.logging, answer.uniform, 'no logging policy');
    }
    // a table: one store as named, the rest follow the uniform draw
    const first = Object.keys(q)[0];
    const store = meta.creative_pack_target[first];
    const table = answerOf(
      dir,
      '--policy',
      JSON.stringify({probs: {[first]: 1}}),
    );
    close(
      table.value,
      valueFrom(meta, (id, s) =>
        meta.creative_pack_target[id] !== store
          ? 1 / s.length
          : id === first
            ? 1
            : 0,
      ),
      'probs',
    );
  });

  it('picks the version with --dataset-version (or --version) when DIR holds several', () => {
    const two = join(scratch, 'two');
    mkdirSync(two);
    copyFileSync(join(dir, 'metadata_v1.json'), join(two, 'metadata_v1.json'));
    const other = run(
      'generate',
      '--out',
      two,
      '--samples',
      '1000',
      '--seed',
      '22',
      '--creative-pack-ids',
      '9',
      '--formats',
      'parquet',
      '--dataset-version',
      '2',
      '--no-progress',
    );
    assert.equal(other.code, 0, other.stderr);
    const several = run('evaluate', two, '--policy', '{"type":"uniform"}');
    assert.equal(several.code, 2);
    assert.match(
      several.stderr,
      /^exploration-data: .* holds 2 versions .*--dataset-version\n$/,
    );
    assert.equal(
      answerOf(two, '--policy', '{"type":"uniform"}', '--dataset-version', '2')
        .version,
      2,
    );
    const v1 = answerOf(
      two,
      '--policy',
      '{"type":"uniform"}',
      '--version',
      '1',
    );
    assert.equal(v1.version, 1);
    close(
      v1.uniform,
      answerOf(dir, '--policy', '{"type":"uniform"}').uniform,
      'same file',
    );
  });

  const bad: Array<[string, string[], RegExp]> = [
    [
      'bad JSON',
      ['--policy', '{"type":'],
      /^exploration-data: --policy is not valid JSON: /,
    ],
    ['no --policy', [], /required option '--policy <json>'/],
    [
      'an unknown type',
      ['--policy', '{"type":"greedy"}'],
      /policy\.type must be one of uniform, softmax, epsilon-greedy, got "greedy"/,
    ],
    [
      'beta a string',
      ['--policy', '{"type":"softmax","beta":"9"}'],
      /policy\.beta must be a finite number/,
    ],
    [
      'epsilon 1.5',
      ['--policy', '{"type":"epsilon-greedy","epsilon":1.5}'],
      /policy\.epsilon must be a number in \[0, 1\], got 1\.5/,
    ],
    [
      'adaptive',
      [
        '--policy',
        '{"type":"softmax","beta":1,"adaptive":{"updateEveryBlocks":1}}',
      ],
      /policy\.adaptive is not allowed here/,
    ],
    [
      'an unknown creative',
      ['--policy', '{"probs":{"creative_nobody":1}}'],
      /policy\.probs names "creative_nobody", which is not a creative/,
    ],
    [
      'a policy that is not an object',
      ['--policy', '[1]'],
      /policy must be an object/,
    ],
  ];
  for (const [name, args, message] of bad) {
    it(`${name}: one line, exit 2`, () => {
      const result = run('evaluate', dir, ...args);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, message);
      assert.equal(result.stderr.split('\n').length, 2, result.stderr);
    });
  }

  it('no metadata, or no folder: exit 2', () => {
    const empty = join(scratch, 'empty');
    mkdirSync(empty);
    for (const folder of [empty, join(scratch, 'missing')]) {
      const result = run('evaluate', folder, '--policy', '{"type":"uniform"}');
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /no metadata_v\{N\}\.json|no such folder/);
    }
  });

  it('metadata whose pair_probs are not its config’s model: exit 1, named', () => {
    const edited = join(scratch, 'edited');
    mkdirSync(edited);
    const whole = JSON.parse(
      readFileSync(join(dir, 'metadata_v1.json'), 'utf8'),
    ) as Metadata;
    const first = Object.keys(whole.pair_probs)[0];
    whole.pair_probs[first] /= 2;
    const changed = JSON.stringify(whole, null, 2);
    writeFileSync(join(edited, 'metadata_v1.json'), changed);
    const result = run('evaluate', edited, '--policy', '{"type":"uniform"}');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /are not those of the model its config gives/);
  });

  it('is in --help', () => {
    const top = run('--help');
    assert.match(top.stdout, /evaluate \[options\] <dir>/);
    const help = run('evaluate', '--help');
    assert.equal(help.code, 0);
    for (const flag of ['--policy <json>', '--dataset-version <n>'])
      assert.ok(help.stdout.includes(flag), flag);
  });
});
