import assert from 'node:assert/strict';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {
  entriesOf,
  policyMetadataChecks,
  readPolicyMetadata,
  withinTolerance,
  type ExpectedPolicyMetadata,
} from '../../shared/verify/policy/policy-metadata.js';
import type {Check} from '../../shared/verify/verify-files.js';

const scratch = mkdtempSync(join(tmpdir(), 'verify-policy-metadata-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

const policy = {type: 'softmax', beta: 5, scoreNoise: 0};
const probs: Array<[string, number]> = [
  ['creative_a', 0.25],
  ['creative_b', 0.75],
  ['creative_c', 1],
];
const best: Array<[string, string]> = [
  ['target_x', 'creative_b'],
  ['target_y', 'creative_c'],
];
const values = {logging: 0.51, uniform: 0.5, best: 0.6};
const expected: ExpectedPolicyMetadata = {
  loggingPolicy: policy,
  adaptive: false,
  values,
  epochs: null,
};

let files = 0;
async function checksOf(
  metadata: Record<string, unknown>,
  want: ExpectedPolicyMetadata = expected,
): Promise<Check[]> {
  const path = join(scratch, `metadata_v${++files}.json`);
  writeFileSync(
    path,
    JSON.stringify({schemaVersion: 1, pair_probs: {}, ...metadata}, null, 2),
  );
  const read = await readPolicyMetadata(path, {
    loggingProbs: want.adaptive ? entriesOf([]) : entriesOf(probs),
    bestCreative: entriesOf(best),
  });
  return policyMetadataChecks(read, want);
}

const honest = {
  logging_policy: policy,
  logging_probs: Object.fromEntries(probs),
  policy_values: values,
  best_creative: Object.fromEntries(best),
};

function failed(checks: Check[]): Check[] {
  return checks.filter(c => !c.ok);
}

describe("the metadata's logging-policy members", () => {
  it('an honest fixed policy: five checks, all pass', async () => {
    const checks = await checksOf(honest);
    assert.deepEqual(
      checks.map(c => [c.name, c.ok]),
      [
        ["metadata's logging_policy is the recorded config's", true],
        ["metadata's logging_probs are pi_b(c | m(c)) recomputed", true],
        ["metadata's best_creative is argmax q_c per store recomputed", true],
        [
          "metadata's policy_values are V(logging), V(uniform), V(best) recomputed",
          true,
        ],
        ['metadata has no policy_epochs (the policy is not adaptive)', true],
      ],
    );
    assert.equal(checks[1].detail, '3 entries equal, in order');
  });

  it('policy_values.best edited fails, naming the member and both values', async () => {
    const checks = await checksOf({
      ...honest,
      policy_values: {...values, best: 0.61},
    });
    assert.deepEqual(failed(checks), [
      {
        name: "metadata's policy_values are V(logging), V(uniform), V(best) recomputed",
        ok: false,
        detail: 'best is 0.61, recomputed 0.6',
      },
    ]);
  });

  it('values within 1e-12 relative pass; 1e-11 does not', () => {
    assert.equal(withinTolerance(0.6 * (1 + 5e-13), 0.6), true);
    assert.equal(withinTolerance(0.6 * (1 + 1e-11), 0.6), false);
    assert.equal(withinTolerance('0.6', 0.6), false);
  });

  it('a logging_prob changed, a best creative swapped, the policy edited: each fails', async () => {
    const checks = await checksOf({
      logging_policy: {...policy, beta: 6},
      logging_probs: {...Object.fromEntries(probs), creative_b: 0.7},
      policy_values: values,
      best_creative: {target_x: 'creative_a', target_y: 'creative_c'},
    });
    assert.deepEqual(
      failed(checks).map(c => [c.name, c.detail]),
      [
        [
          "metadata's logging_policy is the recorded config's",
          '{"type":"softmax","beta":6,"scoreNoise":0}, the config\'s {"type":"softmax","beta":5,"scoreNoise":0}',
        ],
        [
          "metadata's logging_probs are pi_b(c | m(c)) recomputed",
          '1 of 3 entries wrong or missing; entry 1 is "creative_b": 0.7, expected "creative_b": 0.75',
        ],
        [
          "metadata's best_creative is argmax q_c per store recomputed",
          '1 of 2 entries wrong or missing; entry 0 is "target_x": "creative_a", expected "target_x": "creative_b"',
        ],
      ],
    );
  });

  it('members missing fail as absent', async () => {
    const checks = await checksOf({logging_policy: policy});
    assert.deepEqual(
      failed(checks).map(c => c.detail),
      [
        'metadata has no logging_probs',
        'metadata has no best_creative',
        'metadata has no policy_values',
      ],
    );
  });

  it('adaptive: policy_epochs compared entry by entry, no logging_probs allowed', async () => {
    const epochs = [
      {epoch: 0, firstRow: 0, rows: 65536, value: 0.5},
      {epoch: 1, firstRow: 65536, rows: 100, value: 0.55},
    ];
    const want: ExpectedPolicyMetadata = {
      loggingPolicy: {...policy, adaptive: {updateEveryBlocks: 1}},
      adaptive: true,
      values,
      epochs,
    };
    const good = {
      logging_policy: want.loggingPolicy,
      policy_values: values,
      best_creative: Object.fromEntries(best),
      policy_epochs: epochs,
    };
    assert.deepEqual(failed(await checksOf(good, want)), []);
    const bad = await checksOf(
      {
        ...good,
        logging_probs: Object.fromEntries(probs),
        policy_epochs: [epochs[0], {...epochs[1], value: 0.56}],
      },
      want,
    );
    assert.deepEqual(
      failed(bad).map(c => [c.name, c.detail]),
      [
        [
          'metadata has no logging_probs (an adaptive policy has none)',
          'logging_probs with 3 entries',
        ],
        [
          "metadata's policy_epochs are the epochs and V(pi_e) recomputed from the rows",
          '1 wrong: entry 1 is {"epoch":1,"firstRow":65536,"rows":100,"value":0.56}, recomputed {"epoch":1,"firstRow":65536,"rows":100,"value":0.55}',
        ],
      ],
    );
  });
});
