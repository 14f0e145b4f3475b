/**
 * The rows of a dataset, drawn as its config says (docs/design.md §12): the
 * uniform draw of §2 without a logging policy (no per-row columns, today's
 * bytes), the same draw plus `pscore` under `{"type": "uniform"}`, the alias
 * sampler of pi_b otherwise, and per epoch pi_e under an adaptive policy
 * (plus `policy_epoch`). Rows depend only on (seed, block): a drawer that
 * starts at block b0 of an adaptive log first redraws blocks [0, b0) to
 * count their labels (draws only, nothing encoded), so a shard's rows are
 * the single file's.
 */
import type {DatasetConfig} from '../dataset/config.js';
import type {DatasetModel} from '../dataset/model.js';
import {drawBlock, newRowBlock, type RowBlock} from '../dataset/rows.js';
import {AdaptiveState, epochOfBlock} from './adaptive.js';
import {drawSampledBlock} from './adaptive-replay.js';
import {rowSampler, type AliasTable} from './alias.js';
import {policyProbabilities, uniformProbabilities} from './probabilities.js';
import {lazyScoreNoise, trueScores} from './scores.js';
import {isAdaptive, type AdaptivePolicy, type LoggingPolicy} from './spec.js';

/** The per-row fields the row schema's `pscore` and `policy_epoch` read. */
export const PSCORE_FIELD = 'pscore';
export const POLICY_EPOCH_FIELD = 'policy_epoch';

/** The config members the rows depend on. */
export type DrawConfig = Pick<DatasetConfig, 'seed' | 'nSamples'> & {
  loggingPolicy?: LoggingPolicy;
};

export interface RowDrawer {
  /** A block with the per-row arrays this drawer fills. */
  newBlock(): RowBlock;
  /**
   * Fills `block` (from newBlock) with the rows of block `blockIndex`.
   * Adaptive logs need the blocks in increasing order; any order otherwise.
   */
  draw(blockIndex: number, block: RowBlock): RowBlock;
  /** Blocks drawn only to count labels (an adaptive shard's preamble). */
  readonly blocksReplayed: number;
}

/** The row drawer of a dataset with this config and model. */
export function rowDrawerFor(
  config: DrawConfig,
  model: DatasetModel,
): RowDrawer {
  const policy = config.loggingPolicy;
  if (policy === undefined) return new UniformDrawer(config, model);
  if (policy.type === 'uniform') {
    return new UniformDrawer(config, model, uniformProbabilities(model));
  }
  const noise = lazyScoreNoise(config.seed, model);
  if (isAdaptive(policy)) {
    return new AdaptiveDrawer(config, model, policy, noise);
  }
  const pi = policyProbabilities(
    policy,
    trueScores(model, policy.scoreNoise, noise),
    model,
  );
  return new FixedPolicyDrawer(config, model, pi);
}

function blockWith(fields: string[]): RowBlock {
  const block = newRowBlock();
  const perRow: Record<string, Float64Array | Int32Array> = {};
  for (const field of fields) {
    perRow[field] =
      field === POLICY_EPOCH_FIELD
        ? new Int32Array(block.creative.length)
        : new Float64Array(block.creative.length);
  }
  return fields.length === 0 ? block : {...block, perRow};
}

function fillPscore(block: RowBlock, pi: Float64Array): void {
  const pscore = block.perRow?.[PSCORE_FIELD];
  if (!pscore) throw new Error('row block has no pscore array (newBlock())');
  const creative = block.creative;
  for (let i = 0; i < block.count; i++) pscore[i] = pi[creative[i]];
  block.perCreative = {[PSCORE_FIELD]: pi};
}

/** The uniform draw of §2; with `pi`, each row's pscore 1 / |C_t| too. */
class UniformDrawer implements RowDrawer {
  readonly blocksReplayed = 0;
  constructor(
    private readonly config: DrawConfig,
    private readonly model: DatasetModel,
    private readonly pi?: Float64Array,
  ) {}

  newBlock(): RowBlock {
    return blockWith(this.pi ? [PSCORE_FIELD] : []);
  }

  draw(blockIndex: number, block: RowBlock): RowBlock {
    const {seed, nSamples} = this.config;
    drawBlock(this.model, seed, nSamples, blockIndex, block);
    if (this.pi) fillPscore(block, this.pi);
    return block;
  }
}

/** One pi_b for every row: its alias table. */
class FixedPolicyDrawer implements RowDrawer {
  readonly blocksReplayed = 0;
  private readonly sampler: AliasTable;
  constructor(
    private readonly config: DrawConfig,
    private readonly model: DatasetModel,
    private readonly pi: Float64Array,
  ) {
    this.sampler = rowSampler(pi, model);
  }

  newBlock(): RowBlock {
    return blockWith([PSCORE_FIELD]);
  }

  draw(blockIndex: number, block: RowBlock): RowBlock {
    const {seed, nSamples} = this.config;
    drawSampledBlock(
      this.model,
      seed,
      nSamples,
      blockIndex,
      this.sampler,
      block,
    );
    fillPscore(block, this.pi);
    return block;
  }
}

/** pi_e per epoch, from the label counts of the blocks before it. */
class AdaptiveDrawer implements RowDrawer {
  private readonly state: AdaptiveState;
  private readonly k: number;
  private epoch = -1;
  private pi: Float64Array = new Float64Array(0);
  private sampler: AliasTable | undefined;
  private replayed = 0;
  private scratch: RowBlock | undefined;

  constructor(
    private readonly config: DrawConfig,
    private readonly model: DatasetModel,
    policy: AdaptivePolicy,
    noise: () => Float64Array,
  ) {
    this.state = new AdaptiveState(policy, model, noise);
    this.k = policy.adaptive.updateEveryBlocks;
  }

  get blocksReplayed(): number {
    return this.replayed;
  }

  newBlock(): RowBlock {
    return blockWith([PSCORE_FIELD, POLICY_EPOCH_FIELD]);
  }

  draw(blockIndex: number, block: RowBlock): RowBlock {
    const next = this.state.blocksAdded;
    if (blockIndex < next) {
      throw new RangeError(
        `an adaptive log draws its blocks in order: block ${blockIndex} asked after block ${next - 1}`,
      );
    }
    if (blockIndex > next) {
      // The blocks before this one, drawn only for their counts.
      const scratch = (this.scratch ??= newRowBlock());
      for (let b = next; b < blockIndex; b++) {
        this.state.addBlock(this.drawRows(b, scratch));
        this.replayed++;
      }
    }
    this.drawRows(blockIndex, block);
    this.state.addBlock(block);
    fillPscore(block, this.pi);
    const epochs = block.perRow?.[POLICY_EPOCH_FIELD];
    if (!epochs) throw new Error('row block has no policy_epoch array');
    epochs.fill(this.epoch, 0, block.count);
    return block;
  }

  /** The rows of block b under its epoch's pi (counts not added). */
  private drawRows(b: number, block: RowBlock): RowBlock {
    const epoch = epochOfBlock(b, this.k);
    if (epoch !== this.epoch) {
      this.pi = this.state.epochProbabilities(epoch);
      this.sampler = rowSampler(this.pi, this.model);
      this.epoch = epoch;
    }
    const {seed, nSamples} = this.config;
    return drawSampledBlock(
      this.model,
      seed,
      nSamples,
      b,
      this.sampler as AliasTable,
      block,
    );
  }
}
