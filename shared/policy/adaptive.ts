/**
 * Adaptive logging policies (docs/design.md §12): block b belongs to epoch
 * e = floor(b / k); epoch e's scores are the posterior means
 * (1 + positives_c) / (2 + rows_c) of each creative's labels in blocks
 * [0, e * k) (Beta(1, 1) prior), plus the model's score noise when
 * scoreNoise > 0, and pi_e is the policy over them. The logging value is
 * sum_e rows_e * V_true(pi_e) / nSamples.
 */
import type {DatasetModel} from '../dataset/model.js';
import {ROWS_PER_BLOCK} from '../dataset/blocks.js';
import {policyProbabilities} from './probabilities.js';
import {noisyScores} from './scores.js';
import type {AdaptivePolicy} from './spec.js';
import {CompensatedSum} from './values.js';

/** One epoch of an adaptive log: metadata.policy_epochs without the value. */
export interface PolicyEpoch {
  epoch: number;
  firstBlock: number;
  /** one past the epoch's last block */
  endBlock: number;
  firstRow: number;
  rows: number;
}

export function epochOfBlock(block: number, updateEveryBlocks: number): number {
  return Math.floor(block / updateEveryBlocks);
}

/** The epochs of nSamples rows updated every k blocks; the last may be short. */
export function epochPlan(
  nSamples: number,
  updateEveryBlocks: number,
): PolicyEpoch[] {
  const blocks = Math.ceil(nSamples / ROWS_PER_BLOCK);
  const epochs: PolicyEpoch[] = [];
  for (let e = 0; e * updateEveryBlocks < blocks; e++) {
    const firstBlock = e * updateEveryBlocks;
    const endBlock = Math.min(blocks, firstBlock + updateEveryBlocks);
    const firstRow = firstBlock * ROWS_PER_BLOCK;
    const endRow = Math.min(nSamples, endBlock * ROWS_PER_BLOCK);
    epochs.push({
      epoch: e,
      firstBlock,
      endBlock,
      firstRow,
      rows: endRow - firstRow,
    });
  }
  return epochs;
}

/** The part of a RowBlock (shared/rows.ts) the counts need. */
export interface LabelledRows {
  count: number;
  creative: Int32Array;
  label: Uint8Array;
}

/**
 * Per-creative rows and positives of the blocks drawn so far, in order, and
 * the policy they give the next epoch.
 */
export class AdaptiveState {
  readonly rows: Float64Array;
  readonly positives: Float64Array;
  private blocks = 0;

  constructor(
    readonly policy: AdaptivePolicy,
    readonly model: DatasetModel,
    /** the model's score noise z (scores.ts), asked for only when scoreNoise > 0 */
    private readonly noise: () => Float64Array,
  ) {
    const n = model.creativeIds.length;
    this.rows = new Float64Array(n);
    this.positives = new Float64Array(n);
  }

  /** Blocks counted so far: the next block added is block `blocksAdded`. */
  get blocksAdded(): number {
    return this.blocks;
  }

  /** Counts the next block's rows (blocks must come in order, 0, 1, ...). */
  addBlock(block: LabelledRows): void {
    const {creative, label, count} = block;
    const rows = this.rows;
    const positives = this.positives;
    for (let i = 0; i < count; i++) {
      const c = creative[i];
      rows[c]++;
      positives[c] += label[i];
    }
    this.blocks++;
  }

  /**
   * Counts the next `blocks` blocks at once from their per-creative tallies
   * (verify resumes a log's state from counts it took from the files, not
   * from the rows themselves).
   */
  addCounts(
    rows: ArrayLike<number>,
    positives: ArrayLike<number>,
    blocks: number,
  ): void {
    if (rows.length !== this.rows.length || positives.length !== rows.length)
      throw new RangeError(
        `counts of ${rows.length} / ${positives.length} creatives for ${this.rows.length}`,
      );
    if (!Number.isInteger(blocks) || blocks < 0)
      throw new RangeError(`blocks must be a whole number, got ${blocks}`);
    for (let c = 0; c < rows.length; c++) {
      this.rows[c] += rows[c];
      this.positives[c] += positives[c];
    }
    this.blocks += blocks;
  }

  /** (1 + positives_c) / (2 + rows_c) */
  posteriorMeans(): Float64Array {
    const n = this.rows.length;
    const means = new Float64Array(n);
    for (let c = 0; c < n; c++) {
      means[c] = (1 + this.positives[c]) / (2 + this.rows[c]);
    }
    return means;
  }

  /**
   * pi_e, from the counts of blocks [0, e * k): exactly those must have
   * been added.
   */
  epochProbabilities(epoch: number): Float64Array {
    const expected = epoch * this.policy.adaptive.updateEveryBlocks;
    if (this.blocks !== expected) {
      throw new RangeError(
        `epoch ${epoch} needs the counts of blocks [0, ${expected}), have [0, ${this.blocks})`,
      );
    }
    const scores = noisyScores(
      this.posteriorMeans(),
      this.policy.scoreNoise,
      this.noise,
    );
    return policyProbabilities(this.policy, scores, this.model);
  }
}

/** sum_e rows_e * value_e / nSamples: an adaptive log's policy_values.logging. */
export function rowWeightedValue(
  epochs: ReadonlyArray<{rows: number; value: number}>,
  nSamples: number,
): number {
  const total = new CompensatedSum();
  for (const e of epochs) total.add(e.rows * e.value);
  return total.value() / nSamples;
}

/**
 * The row-weighted mixture sum_e rows_e * pi_e / nSamples, per creative: the
 * one policy an adaptive log amounts to (each store's entries still sum to
 * 1), for the stores an evaluated probability table leaves out. Its value
 * equals rowWeightedValue's up to rounding.
 */
export class ProbabilityMixture {
  private readonly sums: Float64Array;
  private rows = 0;

  constructor(nCreatives: number) {
    this.sums = new Float64Array(nCreatives);
  }

  add(rows: number, pi: Float64Array): void {
    if (pi.length !== this.sums.length) {
      throw new RangeError(
        `${pi.length} probabilities for ${this.sums.length} creatives`,
      );
    }
    for (let c = 0; c < pi.length; c++) this.sums[c] += rows * pi[c];
    this.rows += rows;
  }

  probabilities(): Float64Array {
    const pi = new Float64Array(this.sums.length);
    for (let c = 0; c < pi.length; c++) pi[c] = this.sums[c] / this.rows;
    return pi;
  }
}
