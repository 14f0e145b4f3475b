import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {blockCount, ROWS_PER_BLOCK} from '../../shared/dataset/blocks.js';
import {buildModel, type DatasetModel} from '../../shared/dataset/model.js';
import {newRowBlock} from '../../shared/dataset/rows.js';
import {AdaptiveState, epochOfBlock} from '../../shared/policy/adaptive.js';
import {
  drawSampledBlock,
  replayAdaptiveEpochs,
} from '../../shared/policy/adaptive-replay.js';
import {rowSampler} from '../../shared/policy/alias.js';
import {policyProbabilities} from '../../shared/policy/probabilities.js';
import type {AdaptivePolicy} from '../../shared/policy/spec.js';
import {
  firstPassCheck,
  mergeRuns,
  planRuns,
  runTasks,
} from '../../shared/verify/policy/adaptive-runs.js';
import {checkFixedPscores} from '../../shared/verify/policy/fixed-pscores.js';
import {
  rowCheckFor,
  type AdaptiveContext,
  type AdaptiveRowsResult,
  type FixedRowsResult,
  type PscorePrecision,
  type RowCheckTask,
} from '../../shared/verify/policy/row-checks.js';
import {drawFitOf} from '../../shared/verify/statistics/draw-fit.js';
import {POLICY_ALPHA_PER_CHECK} from '../../shared/verify/statistics/family-wise.js';
import type {ReadFile} from '../../shared/verify/verify-files.js';

/** A log's rows as the generator draws them, held whole (a test's sizes). */
interface Log {
  creative: Int32Array;
  label: Uint8Array;
  pscore: Float64Array;
  epoch: Int32Array;
}

function emptyLog(n: number): Log {
  return {
    creative: new Int32Array(n),
    label: new Uint8Array(n),
    pscore: new Float64Array(n),
    epoch: new Int32Array(n),
  };
}

/** An adaptive log drawn by hand as §12 says: pi_e from blocks [0, e k), each block by drawSampledBlock. */
function adaptiveLog(
  model: DatasetModel,
  policy: AdaptivePolicy,
  seed: number,
  nSamples: number,
): Log {
  const log = emptyLog(nSamples);
  const state = new AdaptiveState(policy, model, () => {
    throw new Error('no noise');
  });
  const k = policy.adaptive.updateEveryBlocks;
  const block = newRowBlock();
  let pi: Float64Array = new Float64Array(0);
  let sampler = rowSampler(state.epochProbabilities(0), model);
  for (let b = 0; b < blockCount(nSamples); b++) {
    const e = epochOfBlock(b, k);
    if (b % k === 0) {
      pi = state.epochProbabilities(e);
      sampler = rowSampler(pi, model);
    }
    drawSampledBlock(model, seed, nSamples, b, sampler, block);
    for (let i = 0; i < block.count; i++) {
      const r = block.start + i;
      log.creative[r] = block.creative[i];
      log.label[r] = block.label[i];
      log.pscore[r] = pi[block.creative[i]];
      log.epoch[r] = e;
    }
    state.addBlock(block);
  }
  return log;
}

/** Feeds rows [from, to) of the log to a row check, as a reader would. */
function feed(
  check: ReturnType<typeof rowCheckFor>,
  model: DatasetModel,
  log: Log,
  from: number,
  to: number,
  float32 = false,
): void {
  const values = [0, 0];
  for (let r = from; r < to; r++) {
    values[0] = float32 ? Math.fround(log.pscore[r]) : log.pscore[r];
    values[1] = log.epoch[r];
    check.observe(model.creativeIds[log.creative[r]], log.label[r], values);
  }
}

function zero(n: number) {
  return {rows: new Float64Array(n), positives: new Float64Array(n)};
}

function checkWhole(
  context: AdaptiveContext,
  log: Log,
  precision: PscorePrecision = 'double',
  float32 = false,
): AdaptiveRowsResult {
  const n = context.model.creativeIds.length;
  const check = rowCheckFor({
    kind: 'adaptive',
    context,
    precision,
    start: {firstRow: 0, beforeEpoch: zero(n), inEpoch: zero(n)},
  });
  feed(check, context.model, log, 0, log.creative.length, float32);
  return check.result() as AdaptiveRowsResult;
}

describe('adaptive rows: policy_epoch and pscore from the file’s own earlier rows', () => {
  const seed = 11;
  const nSamples = 5 * ROWS_PER_BLOCK + 1234;
  const model = buildModel({seed, nTargetStoreIds: 4, nCreativePackIds: 20});
  const policy: AdaptivePolicy = {
    type: 'softmax',
    beta: 50,
    scoreNoise: 0,
    adaptive: {updateEveryBlocks: 1},
  };
  const context: AdaptiveContext = {policy, nSamples, model, noise: null};
  const log = adaptiveLog(model, policy, seed, nSamples);

  it('an honest log: no mismatch, epoch values those of the seed’s replay, the draws fit', () => {
    const result = checkWhole(context, log);
    assert.equal(result.rows, nSamples);
    assert.equal(result.epochMismatches, 0);
    assert.equal(result.pscoreMismatches, 0);
    assert.equal(result.unknownCreatives, 0);
    const replay = replayAdaptiveEpochs(policy, model, seed, nSamples, () => {
      throw new Error('no noise');
    });
    assert.deepEqual(
      result.epochs,
      replay.epochs.map(e => ({epoch: e.epoch, value: e.value})),
    );
    const fit = drawFitOf(result.fit, POLICY_ALPHA_PER_CHECK);
    assert.equal(fit.groups, 6 * (20 - 4)); // 6 epochs, C - T chains' members
    assert.ok(fit.ok, `p = ${fit.pValue}`);
  });

  it('TFRecord’s float32 pscores equal Math.fround(pi_e); doubles there do not', () => {
    assert.equal(checkWhole(context, log, 'float32', true).pscoreMismatches, 0);
    assert.ok(checkWhole(context, log, 'float32', false).pscoreMismatches > 0);
  });

  it('a pscore scaled by 0.9 in epoch 2 is found on every such row', () => {
    const tampered = {...log, pscore: log.pscore.slice()};
    const from = 2 * ROWS_PER_BLOCK;
    for (let r = from; r < from + ROWS_PER_BLOCK; r++)
      tampered.pscore[r] *= 0.9;
    const result = checkWhole(context, tampered);
    assert.equal(result.pscoreMismatches, ROWS_PER_BLOCK);
    assert.equal(result.firstPscoreMismatch!.row, from);
    assert.equal(result.firstPscoreMismatch!.epoch, 2);
    assert.equal(result.firstPscoreMismatch!.found, log.pscore[from] * 0.9);
  });

  it('labels edited in block 0 move pi_1: later pscores no longer follow the rows', () => {
    const tampered = {...log, label: log.label.slice()};
    for (let r = 0; r < ROWS_PER_BLOCK; r++) tampered.label[r] = 1;
    const result = checkWhole(context, tampered);
    assert.ok(result.pscoreMismatches > 4 * ROWS_PER_BLOCK);
    assert.equal(result.firstPscoreMismatch!.epoch, 1);
  });

  it('a wrong policy_epoch is counted', () => {
    const tampered = {...log, epoch: log.epoch.slice()};
    tampered.epoch[ROWS_PER_BLOCK * 3 + 5] = 2;
    const result = checkWhole(context, tampered);
    assert.equal(result.epochMismatches, 1);
    assert.deepEqual(
      [result.firstEpochMismatch!.row, result.firstEpochMismatch!.found],
      [ROWS_PER_BLOCK * 3 + 5, 2],
    );
  });

  it('split into shards and runs (k = 2, runs starting mid-epoch): the same result as one pass', () => {
    const k2: AdaptivePolicy = {...policy, adaptive: {updateEveryBlocks: 2}};
    const ctx: AdaptiveContext = {...context, policy: k2};
    const log2 = adaptiveLog(model, k2, seed, nSamples);
    const whole = checkWhole(ctx, log2);
    const fileRows = [ROWS_PER_BLOCK, ROWS_PER_BLOCK, 2 * ROWS_PER_BLOCK];
    fileRows.push(nSamples - fileRows.reduce((a, b) => a + b));
    const runs = planRuns(fileRows, 2, 2);
    assert.deepEqual(
      runs.map(r => [r.from, r.to, r.firstRow, r.epochRow, r.epochFile]),
      [
        [1, 2, ROWS_PER_BLOCK, 0, 0],
        [2, 4, 2 * ROWS_PER_BLOCK, 2 * ROWS_PER_BLOCK, 2],
      ],
    );
    // the first pass, file by file
    const files: ReadFile[] = [];
    let firstRow = 0;
    fileRows.forEach((rows, index) => {
      const task = firstPassCheck(index, firstRow, runs, ctx, 'double');
      const perCreative = new Map<string, [number, number]>();
      for (let r = firstRow; r < firstRow + rows; r++) {
        const id = model.creativeIds[log2.creative[r]];
        const counts = perCreative.get(id) ?? [0, 0];
        counts[0]++;
        counts[1] += log2.label[r];
        perCreative.set(id, counts);
      }
      const file: ReadFile = {
        path: `file${index}`,
        firstRow,
        summary: {
          rows,
          positives: 0,
          rowDigest: '',
          perCreative,
          creativeTargets: new Map(),
        },
      };
      if (task) {
        const check = rowCheckFor(task);
        feed(check, model, log2, firstRow, firstRow + rows);
        file.rowCheck = check.result();
      }
      files.push(file);
      firstRow += rows;
    });
    // file 0 checked in the first pass; no run needs a count inside a file here
    assert.equal(files[0].rowCheck!.kind, 'adaptive');
    const index = new Map(model.creativeIds.map((id, c) => [id, c]));
    const tasks = runTasks(runs, files, ctx, 'double', id => index.get(id), {});
    const results = tasks.map((task, i) => {
      const check = rowCheckFor(task.check as RowCheckTask);
      const run = runs[i];
      feed(
        check,
        model,
        log2,
        run.firstRow,
        files[run.to - 1].firstRow + fileRows[run.to - 1],
      );
      return check.result() as AdaptiveRowsResult;
    });
    const merged = mergeRuns([
      files[0].rowCheck as AdaptiveRowsResult,
      ...results,
    ]);
    assert.equal(merged.rows, nSamples);
    assert.equal(merged.pscoreMismatches, 0);
    assert.equal(merged.epochMismatches, 0);
    assert.deepEqual(merged.epochs, whole.epochs);
    // run 0 starts mid-epoch 0 (block 1): it resumes from file 0's counts
    assert.equal(results[0].epochs[0].epoch, 0);
  });

  it('a run whose epoch starts inside an earlier file counts that file’s rows before it', () => {
    const k3: AdaptivePolicy = {...policy, adaptive: {updateEveryBlocks: 3}};
    const runs = planRuns([2 * ROWS_PER_BLOCK, 2 * ROWS_PER_BLOCK, 1234], 3, 2);
    // run 1 starts at block 4, in epoch 1 (blocks 3..5), which starts in file 1
    assert.deepEqual(
      runs.map(r => [r.from, r.firstRow, r.epochRow, r.epochFile]),
      [
        [1, 2 * ROWS_PER_BLOCK, 0, 0],
        [2, 4 * ROWS_PER_BLOCK, 3 * ROWS_PER_BLOCK, 1],
      ],
    );
    const task = firstPassCheck(
      1,
      2 * ROWS_PER_BLOCK,
      runs,
      {
        ...context,
        policy: k3,
      },
      'double',
    );
    assert.deepEqual(task && task.kind === 'count' ? task.before : null, [
      3 * ROWS_PER_BLOCK,
    ]);
  });
});

describe('fixed policy rows: one pscore per creative, pi_b', () => {
  const seed = 3;
  const nSamples = 2 * ROWS_PER_BLOCK;
  const model = buildModel({seed, nTargetStoreIds: 10, nCreativePackIds: 100});
  const pi = policyProbabilities(
    {type: 'softmax', beta: 5, scoreNoise: 0},
    model.pairProbs,
    model,
  );
  const sampler = rowSampler(pi, model);
  const index = new Map(model.creativeIds.map((id, c) => [id, c]));

  function tallies(scale: number, float32: boolean): FixedRowsResult[] {
    const block = newRowBlock();
    return [0, 1].map(b => {
      const check = rowCheckFor({kind: 'fixed'});
      drawSampledBlock(model, seed, nSamples, b, sampler, block);
      for (let i = 0; i < block.count; i++) {
        const p = pi[block.creative[i]] * scale;
        check.observe(model.creativeIds[block.creative[i]], block.label[i], [
          float32 ? Math.fround(p) : p,
        ]);
      }
      return check.result() as FixedRowsResult;
    });
  }

  it('an honest log passes, in Parquet (exact) and TFRecord (float32)', () => {
    const parquet = checkFixedPscores('parquet', tallies(1, false), pi, id =>
      index.get(id),
    );
    assert.deepEqual(parquet, {
      name: 'parquet: pscore is pi_b(c | m(c)) on every row',
      ok: true,
      detail: `${nSamples} rows of 100 creatives, exactly equal`,
    });
    const tfrecord = checkFixedPscores('tfrecord', tallies(1, true), pi, id =>
      index.get(id),
    );
    assert.equal(tfrecord.ok, true);
    assert.equal(
      tfrecord.detail,
      `${nSamples} rows of 100 creatives, equal as float32`,
    );
  });

  it('pscore scaled by 0.9 fails on every row, naming the check', () => {
    const check = checkFixedPscores('parquet', tallies(0.9, false), pi, id =>
      index.get(id),
    );
    assert.equal(check.ok, false);
    assert.equal(check.name, 'parquet: pscore is pi_b(c | m(c)) on every row');
    assert.match(
      check.detail,
      new RegExp(
        `^at least ${nSamples} rows of 100 of 100 creatives differ; e\\.g\\. creative_`,
      ),
    );
  });

  it('one row off within a creative is found', () => {
    const results = tallies(1, false);
    const [id, tally] = [...results[0].perCreative][0];
    tally.differing = 1;
    tally.other = tally.value * 0.5;
    const check = checkFixedPscores('parquet', results, pi, c => index.get(c));
    assert.equal(check.ok, false);
    assert.match(
      check.detail,
      new RegExp(
        `^at least 1 rows of 1 of 100 creatives differ; e\\.g\\. ${id}`,
      ),
    );
  });
});
