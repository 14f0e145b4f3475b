/**
 * verify on real files generated under a logging policy: honest ones pass,
 * and each tampering issue 15 names fails with the check that sees it (and
 * only that one). The files are rewritten with consistent checksums and
 * empirical tallies (test/support/rewrite-dataset.ts).
 */
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {ROWS_PER_BLOCK} from '../../shared/dataset/blocks.js';
import {policyProbabilities} from '../../shared/policy/probabilities.js';
import {storesOf} from '../../shared/policy/stores.js';
import {streamFor, rowBlockStream} from '../../shared/dataset/prng.js';
import {
  verifyDirectory,
  type VerifyReport,
} from '../../shared/verify/verify.js';
import {runCli} from '../support/cli-process.js';
import {editMetadata, rewriteDataset} from '../support/rewrite-dataset.js';

const scratch = mkdtempSync(join(tmpdir(), 'verify-policy-files-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

function generate(name: string, ...flags: string[]): string {
  const out = join(scratch, name);
  const {code, stderr} = runCli(
    'generate',
    ...flags,
    '--out',
    out,
    '--no-progress',
  );
  assert.equal(code, 0, stderr);
  return out;
}

function failedChecks(report: VerifyReport): string[] {
  return report.checks.filter(c => !c.ok).map(c => c.name);
}

const SOFTMAX = '{"type":"softmax","beta":5}';

describe('verify: a log generated under softmax beta = 5', () => {
  it('passes honest, with the policy checks and the draw fit in the report', async () => {
    const dir = generate(
      'honest',
      '--samples',
      '100000',
      '--seed',
      '4',
      '--logging-policy',
      SOFTMAX,
    );
    const report = await verifyDirectory(dir);
    assert.deepEqual(failedChecks(report), []);
    const names = report.checks.map(c => c.name);
    for (const name of [
      'parquet: pscore is pi_b(c | m(c)) on every row',
      'tfrecord: pscore is pi_b(c | m(c)) on every row',
      'creatives drawn fit p(t) pi_b(c | t) (stores, then creatives per store)',
      "metadata's policy_values are V(logging), V(uniform), V(best) recomputed",
    ])
      assert.ok(names.includes(name), name);
    assert.equal(report.statistics.draws!.alpha, 2.5e-7);
    assert.equal(report.statistics.creatives!.alpha, 2.5e-7);
    assert.equal(report.statistics.draws!.ok, true);
  });

  it('pscore scaled by 0.9 fails the pscore check of both formats, and nothing else', async () => {
    const dir = generate(
      'scaled',
      '--samples',
      '100000',
      '--seed',
      '4',
      '--logging-policy',
      SOFTMAX,
    );
    rewriteDataset(dir, block => {
      const pscore = block.perRow!.pscore;
      for (let i = 0; i < block.count; i++) pscore[i] *= 0.9;
    });
    const report = await verifyDirectory(dir);
    assert.deepEqual(failedChecks(report), [
      'parquet: pscore is pi_b(c | m(c)) on every row',
      'tfrecord: pscore is pi_b(c | m(c)) on every row',
    ]);
    const parquet = report.checks.find(c =>
      c.name.startsWith('parquet: pscore'),
    )!;
    assert.match(
      parquet.detail,
      /^at least 100000 rows of 100 of 100 creatives differ/,
    );
  });

  it('policy_values.best edited fails the policy_values check, and nothing else', async () => {
    const dir = generate(
      'best',
      '--samples',
      '100000',
      '--seed',
      '4',
      '--logging-policy',
      SOFTMAX,
    );
    editMetadata(dir, metadata => {
      const values = metadata.policy_values as {best: number};
      values.best += 1e-6;
    });
    const report = await verifyDirectory(dir);
    assert.deepEqual(failedChecks(report), [
      "metadata's policy_values are V(logging), V(uniform), V(best) recomputed",
    ]);
  });

  it('creatives redrawn uniformly (pscore and labels made to match) at 1M rows fail the draw fit, and nothing else', async () => {
    const dir = generate(
      'uniform',
      '--samples',
      '1000000',
      '--seed',
      '4',
      '--formats',
      'parquet',
      '--logging-policy',
      SOFTMAX,
    );
    rewriteDataset(dir, (block, model) => {
      // the row's creative drawn uniformly, its label from its own q, pscore pi_b of it
      const stores = storesOf(model);
      const rng = streamFor(99, rowBlockStream(block.start / ROWS_PER_BLOCK));
      const pscore = block.perRow!.pscore;
      const pi = policyProbabilities(
        {type: 'softmax', beta: 5, scoreNoise: 0},
        model.pairProbs,
        model,
      );
      for (let i = 0; i < block.count; i++) {
        const c = rng.nextBelow(stores.nCreatives);
        block.creative[i] = c;
        block.label[i] = rng.nextUint32() < model.labelThresholds[c] ? 1 : 0;
        pscore[i] = pi[c];
      }
    });
    const report = await verifyDirectory(dir);
    assert.deepEqual(failedChecks(report), [
      'creatives drawn fit p(t) pi_b(c | t) (stores, then creatives per store)',
    ]);
    assert.ok(
      report.statistics.draws!.pValue < 1e-20,
      String(report.statistics.draws!.pValue),
    );
  });
});

describe('verify: an adaptive log in 3 shards (epsilon-greedy, k = 3)', () => {
  const policy =
    '{"type":"epsilon-greedy","epsilon":0.3,"adaptive":{"updateEveryBlocks":3}}';

  it('passes honest; its epochs recomputed from the files', async () => {
    const dir = generate(
      'adaptive',
      '--samples',
      '1000000',
      '--seed',
      '5',
      '--shards',
      '3',
      '--formats',
      'parquet',
      '--logging-policy',
      policy,
    );
    const report = await verifyDirectory(dir);
    assert.deepEqual(failedChecks(report), []);
    assert.equal(
      report.checks.find(c => c.name.startsWith('parquet: policy_epoch'))!
        .detail,
      '1000000 rows in 6 epochs',
    );
  });
});
