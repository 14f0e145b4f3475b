/**
 * The row-level checks of a log drawn under a logging policy
 * (docs/design.md §12), run by verify's workers as a file's rows stream
 * past (row-observer.ts), in memory that does not grow with the rows:
 *
 * - `fixed` (a non-adaptive policy): each creative's pscore, the first
 *   value met and how many rows differ from it. verify compares the values
 *   with pi_b afterwards (fixed-pscores.ts).
 * - `adaptive`: each row's policy_epoch against floor(row / 65,536 / k)
 *   and its pscore against pi_e(c | m(c)), pi_e recomputed from the
 *   file's own earlier rows (AdaptiveState over the labels counted so far,
 *   resumed from the counts of the rows before this file); the value
 *   V(pi_e) of every epoch met; the creatives drawn per store against pi_e
 *   (conditional binomials, one piece per epoch and run of files).
 * - `count`: the counts of a file's rows before given rows (the epoch
 *   starts another run of files resumes from).
 */
import {ROWS_PER_BLOCK} from '../../dataset/blocks.js';
import type {DatasetModel} from '../../dataset/model.js';
import type {RowObserver} from '../../formats/row-observer.js';
import {AdaptiveState, epochOfBlock} from '../../policy/adaptive.js';
import {rowUnitWeights} from '../../policy/alias.js';
import type {AdaptivePolicy} from '../../policy/spec.js';
import {storesOf} from '../../policy/stores.js';
import {policyValue} from '../../policy/values.js';
import {
  addCreativeChains,
  emptyPart,
  type DrawFitPart,
} from '../statistics/draw-fit.js';
import {copyCounts, zeroCounts, type CreativeCounts} from './counts.js';

/** How a format holds pscore: Parquet the double, TFRecord float32. */
export type PscorePrecision = 'double' | 'float32';

/** What an adaptive check needs of the version (small: at most 10,000 creatives). */
export interface AdaptiveContext {
  policy: AdaptivePolicy;
  nSamples: number;
  /** the model as the metadata gives it (model-of-tables.ts) */
  model: DatasetModel;
  /** z_c of the seed when scoreNoise > 0, else null */
  noise: Float64Array | null;
}

/** Where a run of rows starts and the counts of the rows before it. */
export interface AdaptiveStart {
  /** the global index of the run's first row: a block's first row */
  firstRow: number;
  /** counts of blocks [0, e k), e the epoch of firstRow */
  beforeEpoch: CreativeCounts;
  /** counts of blocks [e k, firstRow / 65,536) */
  inEpoch: CreativeCounts;
}

export type RowCheckTask =
  | {kind: 'fixed'}
  | {
      kind: 'adaptive';
      context: AdaptiveContext;
      start: AdaptiveStart;
      precision: PscorePrecision;
      /** global rows: also the counts of the run's rows before each (as `count`) */
      countBefore?: number[];
    }
  | {
      kind: 'count';
      creativeIds: readonly string[];
      /** the global index of the file's first row */
      firstRow: number;
      /** global rows: the counts of the file's rows before each */
      before: number[];
    };

/** A creative's pscores in a log of a fixed policy. */
export interface PscoreTally {
  /** the first pscore met */
  value: number;
  rows: number;
  /** rows whose pscore is not `value` */
  differing: number;
  /** one such pscore */
  other: number;
}

export interface FixedRowsResult {
  kind: 'fixed';
  perCreative: Map<string, PscoreTally>;
}

export interface RowMismatch {
  /** global row index */
  row: number;
  creative: string;
  epoch: number;
  found: number;
  expected: number;
}

export interface AdaptiveRowsResult {
  kind: 'adaptive';
  firstRow: number;
  rows: number;
  unknownCreatives: number;
  epochMismatches: number;
  firstEpochMismatch: RowMismatch | null;
  pscoreMismatches: number;
  firstPscoreMismatch: RowMismatch | null;
  /** V(pi_e) of every epoch whose rows the run met, in order */
  epochs: Array<{epoch: number; value: number}>;
  /** the creatives drawn per store against pi_e, per epoch of the run */
  fit: DrawFitPart;
  /** the counts asked for by countBefore */
  before: CountRowsResult['before'];
}

/** An adaptive run's result before it has met a row. */
export function emptyAdaptiveResult(firstRow: number): AdaptiveRowsResult {
  return {
    kind: 'adaptive',
    firstRow,
    rows: 0,
    unknownCreatives: 0,
    epochMismatches: 0,
    firstEpochMismatch: null,
    pscoreMismatches: 0,
    firstPscoreMismatch: null,
    epochs: [],
    fit: emptyPart(),
    before: [],
  };
}

export interface CountRowsResult {
  kind: 'count';
  /** per row asked for, the counts of the file's rows before it */
  before: Array<{row: number; counts: CreativeCounts}>;
}

export type RowCheckResult =
  FixedRowsResult | AdaptiveRowsResult | CountRowsResult;

export interface RowCheck extends RowObserver {
  result(): RowCheckResult;
}

export function rowCheckFor(task: RowCheckTask): RowCheck {
  switch (task.kind) {
    case 'fixed':
      return new FixedPscores();
    case 'adaptive':
      return new AdaptiveRows(
        task.context,
        task.start,
        task.precision,
        task.countBefore ?? [],
      );
    case 'count':
      return new CountsBefore(task.creativeIds, task.firstRow, task.before);
  }
}

class FixedPscores implements RowCheck {
  private readonly perCreative = new Map<string, PscoreTally>();

  observe(creative: string, _label: number, values: readonly number[]): void {
    const pscore = values[0];
    const tally = this.perCreative.get(creative);
    if (!tally) {
      this.perCreative.set(creative, {
        value: pscore,
        rows: 1,
        differing: 0,
        other: pscore,
      });
      return;
    }
    tally.rows++;
    if (!Object.is(pscore, tally.value)) {
      tally.differing++;
      tally.other = pscore;
    }
  }

  result(): FixedRowsResult {
    return {kind: 'fixed', perCreative: this.perCreative};
  }
}

/** Creative id -> index over the model's ids. */
function indexOfIds(ids: readonly string[]): Map<string, number> {
  return new Map(ids.map((id, c) => [id, c]));
}

class AdaptiveRows implements RowCheck {
  private readonly k: number;
  private readonly index: Map<string, number>;
  private readonly state: AdaptiveState;
  /** counts of the current epoch's blocks so far (not yet in state) */
  private pending: CreativeCounts;
  /** the current epoch's draws, for the fit */
  private drawn: Float64Array;
  private epoch: number;
  private expected: Float64Array = new Float64Array(0);
  private weights: Float64Array = new Float64Array(0);
  private row: number;
  private readonly out: AdaptiveRowsResult;
  private readonly counted: CountsBefore | null;

  constructor(
    private readonly context: AdaptiveContext,
    start: AdaptiveStart,
    private readonly precision: PscorePrecision,
    countBefore: number[],
  ) {
    const {policy, model} = context;
    this.k = policy.adaptive.updateEveryBlocks;
    this.index = indexOfIds(model.creativeIds);
    if (start.firstRow % ROWS_PER_BLOCK !== 0)
      throw new RangeError(
        `an adaptive check starts at a block's first row, not row ${start.firstRow}`,
      );
    this.row = start.firstRow;
    this.epoch = epochOfBlock(start.firstRow / ROWS_PER_BLOCK, this.k);
    const noise = context.noise;
    this.state = new AdaptiveState(policy, model, () => {
      if (!noise)
        throw new Error('the adaptive check was given no score noise');
      return noise;
    });
    this.state.addCounts(
      start.beforeEpoch.rows,
      start.beforeEpoch.positives,
      this.epoch * this.k,
    );
    this.pending = copyCounts(start.inEpoch);
    this.drawn = new Float64Array(model.creativeIds.length);
    this.out = emptyAdaptiveResult(start.firstRow);
    this.counted =
      countBefore.length > 0
        ? new CountsBefore(model.creativeIds, start.firstRow, countBefore)
        : null;
    this.beginEpoch();
  }

  /** pi_e from the counts of blocks [0, e k), its pscores as the file holds them. */
  private beginEpoch(): void {
    const {model} = this.context;
    const pi = this.state.epochProbabilities(this.epoch);
    this.weights = rowUnitWeights(pi, model);
    this.expected =
      this.precision === 'float32' ? pi.map(p => Math.fround(p)) : pi;
    this.out.epochs.push({epoch: this.epoch, value: policyValue(pi, model)});
    this.drawn.fill(0);
  }

  /** The creatives drawn in the epoch, as conditional binomials, into the fit. */
  private fitEpochDraws(): void {
    const {model} = this.context;
    addCreativeChains(
      this.out.fit,
      storesOf(model),
      this.drawn,
      this.weights,
      model.creativeIds,
    );
  }

  /** The epoch's draws into the fit; its counts into the state. */
  private endEpoch(next: number): void {
    this.fitEpochDraws();
    const blocks = next * this.k - this.state.blocksAdded;
    this.state.addCounts(this.pending.rows, this.pending.positives, blocks);
    this.pending = zeroCounts(this.context.model.creativeIds.length);
  }

  observe(creative: string, label: number, values: readonly number[]): void {
    this.counted?.observe(creative, label);
    const row = this.row++;
    this.out.rows++;
    const epoch = epochOfBlock(Math.floor(row / ROWS_PER_BLOCK), this.k);
    if (epoch !== this.epoch) {
      this.endEpoch(epoch);
      this.epoch = epoch;
      this.beginEpoch();
    }
    const [pscore, policyEpoch] = values;
    const c = this.index.get(creative);
    if (c === undefined) {
      this.out.unknownCreatives++;
      return;
    }
    if (policyEpoch !== epoch) {
      if (this.out.epochMismatches++ === 0)
        this.out.firstEpochMismatch = {
          row,
          creative,
          epoch,
          found: policyEpoch,
          expected: epoch,
        };
    }
    const expected = this.expected[c];
    if (pscore !== expected) {
      if (this.out.pscoreMismatches++ === 0)
        this.out.firstPscoreMismatch = {
          row,
          creative,
          epoch,
          found: pscore,
          expected,
        };
    }
    this.drawn[c]++;
    this.pending.rows[c]++;
    this.pending.positives[c] += label;
  }

  result(): AdaptiveRowsResult {
    // the last epoch's draws (its counts feed no later policy here)
    this.fitEpochDraws();
    this.drawn.fill(0);
    if (this.counted) this.out.before = this.counted.result().before;
    return this.out;
  }
}

class CountsBefore implements RowCheck {
  private readonly index: Map<string, number>;
  private readonly counts: CreativeCounts;
  private readonly before: number[];
  private readonly out: CountRowsResult = {kind: 'count', before: []};
  private row: number;

  constructor(
    creativeIds: readonly string[],
    firstRow: number,
    before: number[],
  ) {
    this.index = indexOfIds(creativeIds);
    this.counts = zeroCounts(creativeIds.length);
    this.row = firstRow;
    this.before = [...before].sort((a, b) => a - b);
    this.snapshot();
  }

  private snapshot(): void {
    while (this.before.length > 0 && this.before[0] <= this.row) {
      const row = this.before.shift() as number;
      this.out.before.push({row, counts: copyCounts(this.counts)});
    }
  }

  observe(creative: string, label: number): void {
    const c = this.index.get(creative);
    if (c !== undefined) {
      this.counts.rows[c]++;
      this.counts.positives[c] += label;
    }
    this.row++;
    this.snapshot();
  }

  result(): CountRowsResult {
    // rows past the file's end: all of it
    for (const row of this.before)
      this.out.before.push({row, counts: copyCounts(this.counts)});
    this.before.length = 0;
    return this.out;
  }
}
