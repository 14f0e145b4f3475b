/**
 * The exact value of an evaluated policy on one version (docs/design.md §12),
 * beside its logging policy's, the uniform one's and the best one's: what
 * POST /evaluatePolicy and `exploration-data evaluate` answer.
 */
import type {DatasetModel} from '../dataset/model.js';
import {evaluationProbabilities, parseEvaluationPolicy} from './evaluation.js';
import {versionLogging, type LoggingConfig} from './logging.js';
import {lazyScoreNoise} from './scores.js';
import {bestValue, policyValue, uniformValue} from './values.js';

export interface PolicyEvaluation {
  /** V(pi) of the evaluated policy */
  value: number;
  /** V(pi_b) of the version's logging policy (uniform's when it has none) */
  logging: number;
  uniform: number;
  best: number;
}

/**
 * Validates `policy` against the version's model (400s name `policy.*`)
 * before anything costly, then computes the four values. `model` must be
 * buildModel(config); the score noise is drawn only if a policy needs it,
 * once for both.
 */
export function evaluateVersionPolicy(
  config: LoggingConfig,
  model: DatasetModel,
  policy: unknown,
): PolicyEvaluation {
  const evaluation = parseEvaluationPolicy(policy, model);
  const noise = lazyScoreNoise(config.seed, model);
  const logging = versionLogging(config, model, noise);
  const pi = evaluationProbabilities(
    evaluation,
    model,
    logging.probabilities,
    noise,
  );
  return {
    value: policyValue(pi, model),
    logging: logging.value,
    uniform: uniformValue(model),
    best: bestValue(model),
  };
}
