/**
 * An adaptive log's epochs recomputed from its seed (docs/design.md §12):
 * each epoch's pi_e from the counts of the blocks before it, those blocks
 * redrawn as the generator draws them (draws only, nothing encoded). The
 * last epoch's blocks are never drawn: no later policy depends on them.
 */
import {ROWS_PER_BLOCK} from '../dataset/blocks.js';
import type {DatasetModel} from '../dataset/model.js';
import {rowBlockStream, streamFor} from '../dataset/prng.js';
import {newRowBlock, type RowBlock} from '../dataset/rows.js';
import {
  AdaptiveState,
  epochPlan,
  ProbabilityMixture,
  type PolicyEpoch,
} from './adaptive.js';
import {rowSampler, type AliasTable} from './alias.js';
import type {AdaptivePolicy} from './spec.js';
import {policyValue} from './values.js';

/**
 * Block `blockIndex` of a log drawn under one pi: per row the sampler's
 * column and alias draws, then the label draw, from the block's own stream.
 */
export function drawSampledBlock(
  model: DatasetModel,
  seed: number,
  nSamples: number,
  blockIndex: number,
  sampler: AliasTable,
  block: RowBlock,
): RowBlock {
  const start = blockIndex * ROWS_PER_BLOCK;
  const count = Math.min(ROWS_PER_BLOCK, nSamples - start);
  const rng = streamFor(seed, rowBlockStream(blockIndex));
  const thresholds = model.labelThresholds;
  // AliasTable.sample, inlined: the hot loop of every policy-drawn row
  const columns = sampler.size;
  const columnThresholds = sampler.thresholds;
  const alias = sampler.alias;
  const {creative, label} = block;
  for (let i = 0; i < count; i++) {
    const column = rng.nextBelow(columns);
    const c =
      rng.nextUint32() < columnThresholds[column] ? column : alias[column];
    creative[i] = c;
    label[i] = rng.nextUint32() < thresholds[c] ? 1 : 0;
  }
  block.start = start;
  block.count = count;
  return block;
}

/** metadata.policy_epochs' entry: the epoch and V_true(pi_e). */
export interface ReplayedEpoch extends PolicyEpoch {
  value: number;
}

export interface AdaptiveReplay {
  epochs: ReplayedEpoch[];
  /** sum_e rows_e pi_e / nSamples per creative */
  mixture: Float64Array;
  /** blocks redrawn to get there */
  blocksDrawn: number;
}

export function replayAdaptiveEpochs(
  policy: AdaptivePolicy,
  model: DatasetModel,
  seed: number,
  nSamples: number,
  noise: () => Float64Array,
): AdaptiveReplay {
  const state = new AdaptiveState(policy, model, noise);
  const mixture = new ProbabilityMixture(model.creativeIds.length);
  const plan = epochPlan(nSamples, policy.adaptive.updateEveryBlocks);
  const block = newRowBlock();
  const epochs: ReplayedEpoch[] = [];
  let blocksDrawn = 0;
  for (const epoch of plan) {
    const pi = state.epochProbabilities(epoch.epoch);
    epochs.push({...epoch, value: policyValue(pi, model)});
    mixture.add(epoch.rows, pi);
    if (epoch.epoch === plan.length - 1) break;
    const sampler = rowSampler(pi, model);
    for (let b = epoch.firstBlock; b < epoch.endBlock; b++) {
      state.addBlock(
        drawSampledBlock(model, seed, nSamples, b, sampler, block),
      );
      blocksDrawn++;
    }
  }
  return {epochs, mixture: mixture.probabilities(), blocksDrawn};
}
