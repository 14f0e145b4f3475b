/**
 * POST /evaluatePolicy on the local stack (real emulators, functions-framework):
 * a version generated through the API, each answer against values computed
 * here from the metadata's pair_probs and creative_pack_target (to 1e-12),
 * the CLI's `evaluate` on the CLI's files for the same inputs, 404/409/400
 * with their fields, and nothing written by any of it.
 */
import assert from 'node:assert/strict';
import {execFile, execFileSync} from 'node:child_process';
import {promisify} from 'node:util';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {ApiClient} from '../../clients/typescript/index.js';
import {FirestoreCatalog} from '../../shared/catalog/firestore-catalog.js';
import {resolveConfig} from '../../shared/dataset/config.js';
import {REPO_ROOT} from '../support/python.js';
import {
  call,
  objectNames,
  postJson,
  startTestStack,
  waitReady,
  type TestStack,
} from '../support/stack.js';

const execFileAsync = promisify(execFile);

const INPUTS = {
  nSamples: 70_000,
  seed: 314,
  nTargetStoreIds: 7,
  nCreativePackIds: 60,
  formats: ['parquet'],
};

let t: TestStack;
const scratch = mkdtempSync(join(tmpdir(), 'exploration-evaluate-'));

before(async () => {
  t = await startTestStack();
});
after(async () => {
  await t?.stop();
  rmSync(scratch, {recursive: true, force: true});
});

interface Metadata {
  pair_probs: Record<string, number>;
  creative_pack_target: Record<string, string>;
}

interface Evaluation {
  version: number;
  value: number;
  logging: number;
  uniform: number;
  best: number;
}

interface ErrorBody {
  error: {
    code: string;
    message: string;
    field?: string;
    versionStatus?: string;
    requestId: string;
  };
}

/** The stores of the metadata: target id -> its creative ids, in file order. */
function storesOf(meta: Metadata): Map<string, string[]> {
  const stores = new Map<string, string[]>();
  for (const id of Object.keys(meta.pair_probs)) {
    const t = meta.creative_pack_target[id];
    stores.set(t, [...(stores.get(t) ?? []), id]);
  }
  return stores;
}

/** V(pi) = sum_c (|C_m(c)| / C) pi(c | m(c)) q_c, pi per creative id and its store's ids. */
function valueFrom(
  meta: Metadata,
  pi: (id: string, store: string[]) => number,
): number {
  const stores = storesOf(meta);
  const ids = Object.keys(meta.pair_probs);
  let v = 0;
  for (const id of ids) {
    const store = stores.get(meta.creative_pack_target[id])!;
    v += (store.length / ids.length) * pi(id, store) * meta.pair_probs[id];
  }
  return v;
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= 1e-12,
    `${what}: ${actual} vs ${expected} (off by ${actual - expected})`,
  );
}

function evaluate(body: unknown) {
  return postJson(`${t.url}/evaluatePolicy`, body);
}

/** Every catalogue document and every object: what evaluatePolicy must leave as it was. */
async function written(): Promise<string> {
  const snapshot = await t.firestore.collection('datasets').get();
  const documents = snapshot.docs
    .map(d => `${d.id}@${d.updateTime.toDate().toISOString()}`)
    .sort();
  return JSON.stringify({objects: await objectNames(t.bucket), documents});
}

describe('POST /evaluatePolicy', {timeout: 10 * 60_000}, () => {
  let version = 0;
  let meta: Metadata;
  let before = '';
  const versions = {generating: 0, failed: 0};

  it('generate a small version (no logging policy), ready', async () => {
    const generated = await postJson(`${t.url}/generateDataset`, INPUTS);
    assert.equal(generated.status, 201, generated.text);
    version = (generated.body as {version: number}).version;
    const loaded = await waitReady(t.url, version);
    meta = (loaded.body as {metadata: Metadata}).metadata;
    assert.equal(Object.keys(meta.pair_probs).length, INPUTS.nCreativePackIds);
    // a version still generating and one failed, as a crashed generate leaves them
    const catalog = new FirestoreCatalog(t.firestore, 'datasets');
    const allocate = (seed: number) =>
      catalog.allocate({
        config: resolveConfig({nSamples: 10, seed}),
        now: new Date(),
        leaseMs: 600_000,
      });
    versions.generating = (await allocate(1)).version;
    versions.failed = (await allocate(2)).version;
    await catalog.markFailed(versions.failed, 'test: abandoned', new Date());
    before = await written();
  });

  it('uniform, softmax, epsilon-greedy and probs: the values of the metadata’s maps', async () => {
    const q = meta.pair_probs;
    const stores = storesOf(meta);
    const uniform = valueFrom(meta, (_, s) => 1 / s.length);
    const argmax = (s: string[]) => s.reduce((b, c) => (q[c] > q[b] ? c : b));
    const best = valueFrom(meta, (id, s) => (argmax(s) === id ? 1 : 0));
    const softmax = (beta: number) => (id: string, s: string[]) => {
      const ref =
        beta > 0
          ? Math.max(...s.map(c => q[c]))
          : Math.min(...s.map(c => q[c]));
      const sum = s.reduce((a, c) => a + Math.exp(beta * (q[c] - ref)), 0);
      return Math.exp(beta * (q[id] - ref)) / sum;
    };
    const greedy = (e: number) => (id: string, s: string[]) =>
      (argmax(s) === id ? 1 - e : 0) + e / s.length;
    // a table naming two stores (one split, one on its worst creative); the rest uniform
    const [[storeA, a], [storeB, b]] = [...stores].filter(
      ([, s]) => s.length >= 2,
    );
    const worstB = b.reduce((w, c) => (q[c] < q[w] ? c : w));
    const probs = {[a[0]]: 0.125, [a[1]]: 0.875, [worstB]: 1};
    const table = (id: string, s: string[]) => {
      const store = meta.creative_pack_target[id];
      if (store !== storeA && store !== storeB) return 1 / s.length;
      return probs[id] ?? 0;
    };
    const cases: Array<[string, unknown, number]> = [
      ['uniform', {type: 'uniform'}, uniform],
      [
        'softmax 150',
        {type: 'softmax', beta: 150},
        valueFrom(meta, softmax(150)),
      ],
      [
        'softmax -40',
        {type: 'softmax', beta: -40, scoreNoise: 0},
        valueFrom(meta, softmax(-40)),
      ],
      [
        'epsilon-greedy 0.25',
        {type: 'epsilon-greedy', epsilon: 0.25},
        valueFrom(meta, greedy(0.25)),
      ],
      ['greedy', {type: 'epsilon-greedy', epsilon: 0}, best],
      ['probs', {probs}, valueFrom(meta, table)],
    ];
    for (const [name, policy, value] of cases) {
      const response = await evaluate({version, policy});
      assert.equal(response.status, 200, `${name}: ${response.text}`);
      const answer = response.body as unknown as Evaluation;
      assert.deepEqual(Object.keys(answer), [
        'version',
        'value',
        'logging',
        'uniform',
        'best',
      ]);
      assert.equal(answer.version, version);
      close(answer.value, value, name);
      close(answer.uniform, uniform, `${name} uniform`);
      close(answer.best, best, `${name} best`);
      assert.equal(
        answer.logging,
        answer.uniform,
        'no logging policy: logging = uniform',
      );
    }
  });

  it('latest is the newest ready version; the API client gives the same answer', async () => {
    const policy = {type: 'softmax', beta: 25, scoreNoise: 0.005} as const;
    const latest = await evaluate({version: 'latest', policy});
    assert.equal(latest.status, 200, latest.text);
    const byNumber = await new ApiClient({baseUrl: t.url}).evaluatePolicy(
      version,
      policy,
    );
    assert.deepEqual(latest.body, byNumber);
  });

  it('the CLI’s evaluate on the CLI’s files for the same inputs prints the same JSON', async () => {
    const cliDir = join(scratch, 'cli');
    const cli = (...args: string[]) =>
      execFileSync(
        process.execPath,
        [`${REPO_ROOT}build/cli/main.js`, ...args],
        {
          encoding: 'utf8',
        },
      );
    cli(
      'generate',
      '--out',
      cliDir,
      '--samples',
      String(INPUTS.nSamples),
      '--seed',
      String(INPUTS.seed),
      '--target-store-ids',
      String(INPUTS.nTargetStoreIds),
      '--creative-pack-ids',
      String(INPUTS.nCreativePackIds),
      '--formats',
      'parquet',
      '--dataset-version',
      String(version),
      '--no-progress',
    );
    for (const policy of [
      {type: 'epsilon-greedy', epsilon: 0.1, scoreNoise: 0.02},
      {probs: {[Object.keys(meta.pair_probs)[3]]: 1}},
    ]) {
      const http = await evaluate({version, policy});
      assert.equal(http.status, 200, http.text);
      const printed = cli(
        'evaluate',
        cliDir,
        '--policy',
        JSON.stringify(policy),
      );
      assert.equal(printed, `${http.text}\n`);
    }
  });

  it('404 no such version, 409 generating (Retry-After) and failed, with versionStatus', async () => {
    const missing = await evaluate({
      version: 999_999,
      policy: {type: 'uniform'},
    });
    assert.equal(missing.status, 404, missing.text);
    assert.equal(
      (missing.body as unknown as ErrorBody).error.code,
      'NOT_FOUND',
    );
    for (const [v, status, retry] of [
      [versions.generating, 'generating', '2'],
      [versions.failed, 'failed', null],
    ] as const) {
      const response = await evaluate({version: v, policy: {type: 'uniform'}});
      assert.equal(response.status, 409, response.text);
      const error = (response.body as unknown as ErrorBody).error;
      assert.equal(error.code, 'FAILED_PRECONDITION');
      assert.equal(error.versionStatus, status);
      assert.equal(response.headers.get('retry-after'), retry);
      // the same answer loadParquet gives (the loaders' status table)
      const loader = await call<ErrorBody>(`${t.url}/loadParquet?version=${v}`);
      assert.equal(loader.status, 409);
      assert.equal(loader.body.error.versionStatus, status);
    }
  });

  it('400 INVALID_ARGUMENT naming the field', async () => {
    const ids = Object.keys(meta.pair_probs);
    const storeOf = meta.creative_pack_target;
    const sameStore = ids.filter(id => storeOf[id] === storeOf[ids[0]]);
    const cases: Array<[string, unknown, string | undefined, RegExp]> = [
      [
        'no version',
        {policy: {type: 'uniform'}},
        'version',
        /version is required/,
      ],
      [
        'version "1"',
        {version: '1', policy: {type: 'uniform'}},
        'version',
        /got "1"/,
      ],
      ['no policy', {version}, 'policy', /policy is required/],
      [
        'unknown member',
        {version, policy: {type: 'uniform'}, seed: 3},
        'seed',
        /allowed: version, policy/,
      ],
      ['policy null', {version, policy: null}, 'policy', /got null/],
      [
        'unknown type',
        {version, policy: {type: 'thompson'}},
        'policy.type',
        /got "thompson"/,
      ],
      [
        'beta "5"',
        {version, policy: {type: 'softmax', beta: '5'}},
        'policy.beta',
        /got "5"/,
      ],
      [
        'beta 1e7',
        {version, policy: {type: 'softmax', beta: 1e7}},
        'policy.beta',
        /1000000/,
      ],
      [
        'epsilon 1.5',
        {version, policy: {type: 'epsilon-greedy', epsilon: 1.5}},
        'policy.epsilon',
        /must be a number in \[0, 1\], got 1\.5/,
      ],
      [
        'scoreNoise -1',
        {version, policy: {type: 'softmax', beta: 1, scoreNoise: -1}},
        'policy.scoreNoise',
        />= 0, got -1/,
      ],
      [
        'adaptive',
        {
          version,
          policy: {type: 'softmax', beta: 1, adaptive: {updateEveryBlocks: 2}},
        },
        'policy.adaptive',
        /must not be adaptive/,
      ],
      [
        'a member of another type',
        {version, policy: {type: 'uniform', beta: 1}},
        'policy.beta',
        /not a member/,
      ],
      [
        'probs beside type',
        {version, policy: {probs: {}, type: 'uniform'}},
        'policy.type',
        /probability table/,
      ],
      [
        'probs an array',
        {version, policy: {probs: [1]}},
        'policy.probs',
        /must be an object/,
      ],
      [
        'an unknown creative',
        {version, policy: {probs: {creative_zzzz: 1}}},
        'policy.probs',
        /"creative_zzzz", which is not a creative of this version/,
      ],
      [
        'a negative probability',
        {version, policy: {probs: {[ids[0]]: -0.5}}},
        'policy.probs',
        new RegExp(`${ids[0]}.*got -0\\.5`),
      ],
      [
        'a store summing to 0.9',
        {version, policy: {probs: {[sameStore[0]]: 0.9}}},
        'policy.probs',
        new RegExp(`store "${storeOf[ids[0]]}" sums to 0\\.9`),
      ],
    ];
    for (const [name, body, field, message] of cases) {
      const response = await evaluate(body);
      assert.equal(response.status, 400, `${name}: ${response.text}`);
      const error = (response.body as unknown as ErrorBody).error;
      assert.equal(error.code, 'INVALID_ARGUMENT', name);
      assert.equal(error.field, field, name);
      assert.match(error.message, message, name);
      assert.equal(error.requestId, response.headers.get('x-request-id'), name);
    }
  });

  it('wrote nothing: the bucket’s objects and every catalogue document are as they were', async () => {
    assert.ok(before !== '');
    assert.equal(await written(), before);
  });
});

describe(
  'a version logged under a policy, sharded, on the stack',
  {timeout: 10 * 60_000},
  () => {
    const LOGGED = {
      nSamples: 200_000,
      seed: 2718,
      nTargetStoreIds: 5,
      nCreativePackIds: 40,
      shards: 3,
      formats: ['tfrecord'],
      loggingPolicy: {
        type: 'softmax',
        beta: 60,
        adaptive: {updateEveryBlocks: 1},
      },
    };

    it('ends ready with the logging members, its TFRecord shards the CLI’s single file byte for byte, and evaluatePolicy’s logging its policy_values.logging', async () => {
      const generated = await postJson(`${t.url}/generateDataset`, LOGGED);
      assert.equal(generated.status, 202, generated.text);
      const version = (generated.body as {version: number}).version;
      const loaded = await waitReady(t.url, version);
      const metadata = (
        loaded.body as {
          metadata: {
            config: {loggingPolicy?: unknown};
            logging_policy?: unknown;
            policy_values?: {logging: number; uniform: number; best: number};
            policy_epochs?: Array<{epoch: number; rows: number}>;
            objects: {tfrecord: {shards: Array<{name: string; rows: number}>}};
          };
        }
      ).metadata;
      const resolved = {
        type: 'softmax',
        beta: 60,
        scoreNoise: 0,
        adaptive: {updateEveryBlocks: 1},
      };
      assert.deepEqual(metadata.config.loggingPolicy, resolved);
      assert.deepEqual(metadata.logging_policy, resolved);
      assert.deepEqual(
        metadata.policy_epochs?.map(e => e.rows),
        [65_536, 65_536, 65_536, 3_392],
      );
      const values = metadata.policy_values;
      assert.ok(
        values &&
          values.logging > values.uniform &&
          values.logging < values.best,
      );

      // The same inputs through the CLI: one file, the shards' bytes concatenated.
      const cliDir = join(scratch, 'logged-cli');
      execFileSync(process.execPath, [
        `${REPO_ROOT}build/cli/main.js`,
        'generate',
        '--out',
        cliDir,
        '--samples',
        String(LOGGED.nSamples),
        '--seed',
        String(LOGGED.seed),
        '--target-store-ids',
        String(LOGGED.nTargetStoreIds),
        '--creative-pack-ids',
        String(LOGGED.nCreativePackIds),
        '--formats',
        'tfrecord',
        '--logging-policy',
        JSON.stringify(LOGGED.loggingPolicy),
        '--no-progress',
      ]);
      const shards = await Promise.all(
        metadata.objects.tfrecord.shards.map(async s => {
          const [bytes] = await t.bucket.file(s.name).download();
          return bytes;
        }),
      );
      const single = readFileSync(join(cliDir, 'dataset_v1.tfrecord'));
      assert.ok(
        Buffer.concat(shards).equals(single),
        'service shards = CLI file',
      );

      // fetch through the loaders (it runs verify: exit 0 only if every check passed)
      const fetched = join(scratch, 'logged-fetched');
      // a child of its own, not execFileSync: the stack's router runs in this process
      const cliJson = async (...args: string[]) =>
        JSON.parse(
          (
            await execFileAsync(
              process.execPath,
              [`${REPO_ROOT}build/cli/main.js`, ...args],
              {encoding: 'utf8', maxBuffer: 64 << 20},
            )
          ).stdout,
        ) as Record<string, unknown>;
      const fetchReport = await cliJson(
        'fetch',
        '--base-url',
        t.url,
        '--dataset-version',
        String(version),
        '--out',
        fetched,
        '--json',
        '--no-progress',
      );
      assert.equal(fetchReport.verified, true);
      assert.equal(fetchReport.shards, 3);
      const verifyReport = (await cliJson(
        'verify',
        fetched,
        '--dataset-version',
        String(version),
        '--json',
      )) as {ok: boolean; checks: Array<{name: string; ok: boolean}>};
      assert.equal(verifyReport.ok, true);
      const names = verifyReport.checks.map(c => c.name).join('\n');
      assert.match(names, /pscore/);
      assert.match(names, /policy_epochs/);

      const evaluated = await postJson(`${t.url}/evaluatePolicy`, {
        version,
        policy: {type: 'uniform'},
      });
      assert.equal(evaluated.status, 200, evaluated.text);
      const answer = evaluated.body as unknown as Evaluation;
      assert.equal(answer.logging, values.logging);
      assert.equal(answer.uniform, values.uniform);
      assert.equal(answer.best, values.best);
      close(answer.value, values.uniform, 'V(uniform) as a policy'); // sum of pi q vs mean of q: rounding apart
    });
  },
);
