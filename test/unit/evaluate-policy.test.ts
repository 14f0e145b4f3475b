/**
 * evaluatePolicy over the in-memory catalogue: the request's shape, 404 and
 * 409 as the loaders, and the four values against sums written out here
 * from the model (not through shared/policy's own arithmetic), for versions
 * without a policy, with a named one, and adaptive (against a full
 * simulation of the log, every block drawn).
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {ROWS_PER_BLOCK} from '../../shared/dataset/blocks.js';
import {
  resolveConfig,
  type DatasetConfig,
} from '../../shared/dataset/config.js';
import {buildModel, type DatasetModel} from '../../shared/dataset/model.js';
import {newRowBlock} from '../../shared/dataset/rows.js';
import {VersionNotReadyError} from '../../shared/catalog/statuses.js';
import type {
  DatasetRecord,
  DatasetStatus,
} from '../../shared/catalog/records.js';
import {
  DataLossError,
  InvalidArgumentError,
  NotFoundError,
} from '../../shared/errors.js';
import {
  AdaptiveState,
  epochPlan,
  modelScoreNoise,
  recordedLoggingPolicy,
  replayAdaptiveEpochs,
  rowSampler,
  drawSampledBlock,
  type AdaptivePolicy,
} from '../../shared/policy/index.js';
import {
  evaluatePolicy,
  parseEvaluateRequest,
} from '../../shared/service/evaluate-service.js';
import {memoryContext, type MemoryContext} from '../support/memory-context.js';

const TOLERANCE = 1e-12;

// ---- the reference arithmetic, written out per creative --------------------

/** |C_t| of each creative's store. */
function storeSizes(model: DatasetModel): number[] {
  const sizes = new Array<number>(model.targetIds.length).fill(0);
  for (const t of model.creativeTarget) sizes[t]++;
  return Array.from(model.creativeTarget, t => sizes[t]);
}

/** sum_c (|C_m(c)| / C) pi(c) q_c */
function valueOf(model: DatasetModel, pi: ArrayLike<number>): number {
  const sizes = storeSizes(model);
  const n = model.creativeIds.length;
  let v = 0;
  for (let c = 0; c < n; c++) v += (sizes[c] / n) * pi[c] * model.pairProbs[c];
  return v;
}

function membersOf(model: DatasetModel, c: number): number[] {
  const out: number[] = [];
  model.creativeTarget.forEach((t, i) => {
    if (t === model.creativeTarget[c]) out.push(i);
  });
  return out;
}

function uniformPi(model: DatasetModel): number[] {
  const sizes = storeSizes(model);
  return sizes.map(s => 1 / s);
}

function softmaxPi(model: DatasetModel, beta: number, s: ArrayLike<number>) {
  return Array.from(model.creativeIds, (_, c) => {
    const members = membersOf(model, c);
    const top = Math.max(...members.map(i => beta * s[i]));
    const sum = members.reduce((a, i) => a + Math.exp(beta * s[i] - top), 0);
    return Math.exp(beta * s[c] - top) / sum;
  });
}

function greedyPi(model: DatasetModel, epsilon: number, s: ArrayLike<number>) {
  return Array.from(model.creativeIds, (_, c) => {
    const members = membersOf(model, c);
    let best = members[0];
    for (const i of members) if (s[i] > s[best]) best = i;
    return (c === best ? 1 - epsilon : 0) + epsilon / members.length;
  });
}

function bestOf(model: DatasetModel): number {
  const sizes = storeSizes(model);
  const n = model.creativeIds.length;
  const seen = new Set<number>();
  let v = 0;
  for (let c = 0; c < n; c++) {
    const t = model.creativeTarget[c];
    if (seen.has(t)) continue;
    seen.add(t);
    const q = Math.max(...membersOf(model, c).map(i => model.pairProbs[i]));
    v += (sizes[c] / n) * q;
  }
  return v;
}

function close(actual: number, expected: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= TOLERANCE,
    `${what}: ${actual} vs ${expected} (off by ${actual - expected})`,
  );
}

// ---- versions in the memory catalogue --------------------------------------

function record(
  version: number,
  config: DatasetConfig,
  status: DatasetStatus = 'ready',
): DatasetRecord {
  return {
    version,
    status,
    config,
    createdAt: '2026-03-04T05:06:07.000Z',
    generator: {name: 'exploration-data', version: 'test'},
    ...(status === 'generating'
      ? {leaseExpiresAt: '2099-01-01T00:00:00.000Z'}
      : {}),
    ...(status === 'failed' ? {error: 'test: abandoned'} : {}),
  };
}

const plain = resolveConfig({
  nSamples: 5000,
  seed: 11,
  nTargetStoreIds: 6,
  nCreativePackIds: 40,
});
const plainModel = buildModel(plain);
const withPolicy = (loggingPolicy: unknown): DatasetConfig =>
  ({...plain, loggingPolicy}) as DatasetConfig;

function contextWith(...records: DatasetRecord[]): MemoryContext {
  const context = memoryContext();
  for (const r of records) context.catalog.put(r);
  return context;
}

async function evaluate(
  context: MemoryContext,
  version: number | 'latest',
  policy: unknown,
) {
  return evaluatePolicy(parseEvaluateRequest({version, policy}), context);
}

describe('parseEvaluateRequest', () => {
  const refused: Array<[string, unknown, string | undefined, RegExp]> = [
    ['an array', [], undefined, /JSON object/],
    ['null', null, undefined, /JSON object/],
    ['a number', 3, undefined, /JSON object/],
    ['no version', {policy: {type: 'uniform'}}, 'version', /required/],
    ['version 0', {version: 0, policy: {}}, 'version', /got 0/],
    ['version 1.5', {version: 1.5, policy: {}}, 'version', /got 1.5/],
    ['version "3"', {version: '3', policy: {}}, 'version', /got "3"/],
    ['version 2^53', {version: 2 ** 53, policy: {}}, 'version', /positive/],
    ['version null', {version: null, policy: {}}, 'version', /got null/],
    ['no policy', {version: 1}, 'policy', /policy is required/],
    ['unknown member', {version: 1, policy: {}, seed: 1}, 'seed', /allowed/],
    ['__proto__', JSON.parse('{"__proto__": 1}'), '__proto__', /allowed/],
  ];
  for (const [name, body, field, message] of refused) {
    it(`refuses ${name}${field ? ` (field ${field})` : ''}`, () => {
      assert.throws(
        () => parseEvaluateRequest(body),
        (error: unknown) => {
          assert.ok(error instanceof InvalidArgumentError);
          assert.equal(error.field, field);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('takes a version number or "latest", the policy unchecked', () => {
    assert.deepEqual(parseEvaluateRequest({version: 7, policy: 'x'}), {
      selector: 7,
      policy: 'x',
    });
    assert.deepEqual(
      parseEvaluateRequest({policy: {type: 'uniform'}, version: 'latest'}),
      {selector: 'latest', policy: {type: 'uniform'}},
    );
  });
});

describe('evaluatePolicy on a version without a logging policy', () => {
  const context = contextWith(
    record(1, plain),
    record(2, {...plain, seed: 12}, 'generating'),
    record(3, {...plain, seed: 13}, 'failed'),
  );
  const uniform = plainModel.pairProbs.reduce((v, q) => v + q, 0);

  it('uniform, softmax, epsilon-greedy: the sums written out; logging = uniform', async () => {
    const q = plainModel.pairProbs;
    const cases: Array<[unknown, number[]]> = [
      [{type: 'uniform'}, uniformPi(plainModel)],
      [{type: 'softmax', beta: 80}, softmaxPi(plainModel, 80, q)],
      [{type: 'softmax', beta: -30.5}, softmaxPi(plainModel, -30.5, q)],
      [{type: 'epsilon-greedy', epsilon: 0.2}, greedyPi(plainModel, 0.2, q)],
      [{type: 'epsilon-greedy', epsilon: 0}, greedyPi(plainModel, 0, q)],
    ];
    for (const [policy, pi] of cases) {
      const answer = await evaluate(context, 1, policy);
      assert.deepEqual(Object.keys(answer), [
        'version',
        'value',
        'logging',
        'uniform',
        'best',
      ]);
      assert.equal(answer.version, 1);
      close(answer.value, valueOf(plainModel, pi), JSON.stringify(policy));
      close(answer.uniform, uniform / q.length, 'uniform');
      assert.equal(answer.logging, answer.uniform);
      close(answer.best, bestOf(plainModel), 'best');
    }
    const greedy = await evaluate(context, 1, {
      type: 'epsilon-greedy',
      epsilon: 0,
    });
    close(greedy.value, greedy.best, 'greedy on q is the best policy');
  });

  it('scoreNoise: the version seed’s z_c on q_c', async () => {
    const z = modelScoreNoise(plain.seed, plainModel);
    const scores = Array.from(plainModel.pairProbs, (q, c) => q + 0.01 * z[c]);
    const answer = await evaluate(context, 'latest', {
      type: 'softmax',
      beta: 200,
      scoreNoise: 0.01,
    });
    close(
      answer.value,
      valueOf(plainModel, softmaxPi(plainModel, 200, scores)),
      'noisy',
    );
    const clean = await evaluate(context, 1, {type: 'softmax', beta: 200});
    assert.notEqual(answer.value, clean.value);
  });

  it('a probs table: named stores as given, the others uniform', async () => {
    const m = plainModel;
    const store = m.creativeTarget[0];
    const members = membersOf(m, 0);
    assert.ok(members.length >= 2, 'store 0 has two creatives');
    const probs = {
      [m.creativeIds[members[0]]]: 0.25,
      [m.creativeIds[members[1]]]: 0.75,
    };
    const pi = uniformPi(m).map((p, c) =>
      m.creativeTarget[c] !== store
        ? p
        : c === members[0]
          ? 0.25
          : c === members[1]
            ? 0.75
            : 0,
    );
    const answer = await evaluate(context, 1, {probs});
    close(answer.value, valueOf(m, pi), 'probs');
  });

  it('refuses a bad policy with its field, after finding the version', async () => {
    const bad: Array<[unknown, string]> = [
      [{type: 'softmax', beta: 'x'}, 'policy.beta'],
      [{type: 'epsilon-greedy', epsilon: 1.5}, 'policy.epsilon'],
      [{type: 'boltzmann'}, 'policy.type'],
      [
        {type: 'softmax', beta: 1, adaptive: {updateEveryBlocks: 1}},
        'policy.adaptive',
      ],
      [{probs: {creative_nobody: 1}}, 'policy.probs'],
      [{probs: {}, extra: 1}, 'policy.extra'],
      [null, 'policy'],
    ];
    for (const [policy, field] of bad) {
      await assert.rejects(evaluate(context, 1, policy), (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError, String(error));
        assert.equal(error.field, field);
        return true;
      });
    }
    await assert.rejects(
      evaluate(context, 99, {type: 'softmax', beta: 'x'}),
      NotFoundError,
    );
  });

  it('404 for no such version, 409 with versionStatus for generating and failed', async () => {
    await assert.rejects(
      evaluate(context, 4, {type: 'uniform'}),
      (e: unknown) => {
        assert.ok(e instanceof NotFoundError);
        assert.match(e.message, /version 4 does not exist/);
        return true;
      },
    );
    for (const [version, status] of [
      [2, 'generating'],
      [3, 'failed'],
    ] as const) {
      await assert.rejects(
        evaluate(context, version, {type: 'uniform'}),
        (e: unknown) => {
          assert.ok(e instanceof VersionNotReadyError);
          assert.equal(e.versionStatus, status);
          return true;
        },
      );
    }
    await assert.rejects(
      evaluate(contextWith(), 'latest', {type: 'uniform'}),
      /no dataset version is ready yet/,
    );
  });

  it('reads the catalogue only: nothing written, nothing read from the bucket', async () => {
    const before = JSON.stringify([...context.catalog.documents]);
    const calls = context.catalog.calls.length;
    await evaluate(context, 1, {type: 'softmax', beta: 3});
    assert.equal(JSON.stringify([...context.catalog.documents]), before);
    assert.deepEqual(context.catalog.calls.slice(calls), ['get 1']);
    assert.equal(context.store.objects.size, 0);
  });
});

describe('evaluatePolicy on a version with a logging policy', () => {
  it('named: logging is V(pi_b) of the recorded policy, scoreNoise included', async () => {
    const z = modelScoreNoise(plain.seed, plainModel);
    const scores = Array.from(plainModel.pairProbs, (q, c) => q + 0.02 * z[c]);
    const cases: Array<[unknown, number[]]> = [
      [{type: 'uniform'}, uniformPi(plainModel)],
      [
        {type: 'softmax', beta: 40, scoreNoise: 0},
        softmaxPi(plainModel, 40, plainModel.pairProbs),
      ],
      [
        {type: 'epsilon-greedy', epsilon: 0.1, scoreNoise: 0.02},
        greedyPi(plainModel, 0.1, scores),
      ],
    ];
    for (const [loggingPolicy, pi] of cases) {
      const context = contextWith(record(1, withPolicy(loggingPolicy)));
      const answer = await evaluate(context, 1, {type: 'uniform'});
      close(
        answer.logging,
        valueOf(plainModel, pi),
        JSON.stringify(loggingPolicy),
      );
      // a table's unnamed stores follow the logging policy
      const c0 = membersOf(plainModel, 0);
      const table = await evaluate(context, 1, {
        probs: {[plainModel.creativeIds[c0[0]]]: 1},
      });
      const mixed = pi.map((p, c) =>
        plainModel.creativeTarget[c] === plainModel.creativeTarget[0]
          ? c === c0[0]
            ? 1
            : 0
          : p,
      );
      close(table.value, valueOf(plainModel, mixed), 'table over logging');
    }
  });

  it('a recorded policy the parser refuses is data loss, not a bad argument', async () => {
    const context = contextWith(record(1, withPolicy({type: 'softmax'})));
    await assert.rejects(
      evaluate(context, 1, {type: 'uniform'}),
      (e: unknown) => {
        assert.ok(e instanceof DataLossError);
        assert.match(
          e.message,
          /loggingPolicy is not a policy: loggingPolicy\.beta/,
        );
        return true;
      },
    );
    assert.equal(recordedLoggingPolicy(plain), undefined);
  });
});

// ---- adaptive: the replay against a full simulation -------------------------

/** The log as the generator draws it: every block, the last epoch's too. */
function simulate(
  policy: AdaptivePolicy,
  model: DatasetModel,
  config: DatasetConfig,
) {
  const noise = () => modelScoreNoise(config.seed, model);
  const state = new AdaptiveState(policy, model, noise);
  const block = newRowBlock();
  const epochs: Array<{rows: number; value: number; pi: Float64Array}> = [];
  for (const e of epochPlan(
    config.nSamples,
    policy.adaptive.updateEveryBlocks,
  )) {
    const pi = state.epochProbabilities(e.epoch);
    const sampler = rowSampler(pi, model);
    for (let b = e.firstBlock; b < e.endBlock; b++)
      state.addBlock(
        drawSampledBlock(
          model,
          config.seed,
          config.nSamples,
          b,
          sampler,
          block,
        ),
      );
    epochs.push({rows: e.rows, value: valueOf(model, pi), pi});
  }
  return {epochs, rowsCounted: state.rows.reduce((a, b) => a + b, 0)};
}

describe('evaluatePolicy on an adaptive version', () => {
  const config = {
    ...resolveConfig({
      nSamples: 5 * ROWS_PER_BLOCK + 123,
      seed: 5,
      nTargetStoreIds: 3,
      nCreativePackIds: 12,
    }),
  };
  const model = buildModel(config);
  const policy: AdaptivePolicy = {
    type: 'softmax',
    beta: 60,
    scoreNoise: 0.01,
    adaptive: {updateEveryBlocks: 2},
  };
  const adaptive = {...config, loggingPolicy: policy} as DatasetConfig;
  const full = simulate(policy, model, config);

  it('replays the epochs, skipping the last one’s blocks', () => {
    const noise = () => modelScoreNoise(config.seed, model);
    const replay = replayAdaptiveEpochs(
      policy,
      model,
      config.seed,
      config.nSamples,
      noise,
    );
    assert.equal(full.rowsCounted, config.nSamples);
    assert.equal(replay.epochs.length, 3);
    assert.equal(replay.blocksDrawn, 4); // blocks 0..3; epoch 2 (blocks 4, 5) is not drawn
    assert.deepEqual(
      replay.epochs.map(e => [e.epoch, e.firstRow, e.rows]),
      [
        [0, 0, 2 * ROWS_PER_BLOCK],
        [1, 2 * ROWS_PER_BLOCK, 2 * ROWS_PER_BLOCK],
        [2, 4 * ROWS_PER_BLOCK, ROWS_PER_BLOCK + 123],
      ],
    );
    replay.epochs.forEach((e, i) =>
      close(e.value, full.epochs[i].value, `epoch ${i}`),
    );
    // the epochs differ: the policy did learn
    assert.notEqual(full.epochs[0].value, full.epochs[2].value);
  });

  it('logging = sum_e rows_e V(pi_e) / nSamples; a table’s other stores follow the mixture', async () => {
    const context = contextWith(record(1, adaptive));
    const logging =
      full.epochs.reduce((v, e) => v + e.rows * e.value, 0) / config.nSamples;
    const answer = await evaluate(context, 1, {
      type: 'epsilon-greedy',
      epsilon: 0,
    });
    close(answer.logging, logging, 'logging');
    close(answer.value, bestOf(model), 'greedy = best');
    const c0 = membersOf(model, 0);
    const table = await evaluate(context, 1, {
      probs: {[model.creativeIds[c0[0]]]: 1},
    });
    const mixture = Array.from(
      model.creativeIds,
      (_, c) =>
        full.epochs.reduce((p, e) => p + e.rows * e.pi[c], 0) / config.nSamples,
    );
    const pi = mixture.map((p, c) =>
      model.creativeTarget[c] === model.creativeTarget[0]
        ? c === c0[0]
          ? 1
          : 0
        : p,
    );
    close(table.value, valueOf(model, pi), 'table over the mixture');
  });
});
