/**
 * What a log drawn under its logging policy must hold (docs/design.md §12),
 * recomputed from the metadata's model (its tables, checked against the
 * seed elsewhere) and the recorded config: the policy, pi_b and the drawn
 * weights of a fixed policy, the score noise of the seed when the policy
 * asks for it. An adaptive policy's pi_e come from the rows (row-checks.ts).
 */
import type {DatasetConfig} from '../../dataset/config.js';
import type {DatasetModel} from '../../dataset/model.js';
import type {ProbabilityTables} from '../../metadata/probability-tables.js';
import {rowUnitWeights} from '../../policy/alias.js';
import {
  policyProbabilities,
  uniformProbabilities,
} from '../../policy/probabilities.js';
import {modelScoreNoise, trueScores} from '../../policy/scores.js';
import {isAdaptive, type LoggingPolicy} from '../../policy/spec.js';

/** The metadata's tables as the model the policy code takes. */
export function modelOfTables(tables: ProbabilityTables): DatasetModel {
  const pairProbs = Float64Array.from(tables.pairProbs);
  return {
    targetIds: tables.targetIds,
    creativeIds: tables.creativeIds,
    targetProbs: Float64Array.from(tables.targetProbs),
    creativeEffects: Float64Array.from(tables.creativeEffects),
    creativeTarget: Int32Array.from(tables.creativeTarget),
    pairProbs,
    labelThresholds: pairProbs.map(q => Math.round(q * 0x1_0000_0000)),
  };
}

export interface PolicyExpectations {
  policy: LoggingPolicy;
  model: DatasetModel;
  /** z_c of the seed when scoreNoise > 0, else null */
  noise: Float64Array | null;
  /** a fixed policy: pi_b(c | m(c)); adaptive: null */
  pi: Float64Array | null;
  /**
   * a fixed policy: the drawn weights W_c (draw-fit.ts): 1 each for the
   * uniform draw of §2, the alias table's units otherwise; adaptive: null
   */
  weights: Float64Array | null;
}

/** Why the expectations cannot be had: the seed's noise does not replay on this model. */
export class ExpectationsError extends Error {}

export function policyExpectations(
  config: Pick<DatasetConfig, 'seed'>,
  policy: LoggingPolicy,
  model: DatasetModel,
): PolicyExpectations {
  let noise: Float64Array | null = null;
  if (policy.type !== 'uniform' && policy.scoreNoise > 0) {
    try {
      noise = modelScoreNoise(config.seed, model);
    } catch (error) {
      throw new ExpectationsError(
        `the score noise of seed ${config.seed} does not replay on the metadata's model: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  if (isAdaptive(policy))
    return {policy, model, noise, pi: null, weights: null};
  if (policy.type === 'uniform') {
    return {
      policy,
      model,
      noise,
      pi: uniformProbabilities(model),
      weights: new Float64Array(model.creativeIds.length).fill(1),
    };
  }
  const pi = policyProbabilities(
    policy,
    trueScores(model, policy.scoreNoise, () => noise as Float64Array),
    model,
  );
  return {policy, model, noise, pi, weights: rowUnitWeights(pi, model)};
}
