/**
 * A version's logging policy pi_b as its recorded config gives it
 * (`config.loggingPolicy`, docs/design.md §12): the policy itself, pi_b per
 * creative and its exact value. No policy is the uniform draw; an adaptive
 * one is the row-weighted mixture of its epochs, recomputed from the rows
 * (adaptive-replay.ts).
 */
import type {DatasetConfig} from '../dataset/config.js';
import type {DatasetModel} from '../dataset/model.js';
import {DataLossError, InvalidArgumentError} from '../errors.js';
import {replayAdaptiveEpochs, type ReplayedEpoch} from './adaptive-replay.js';
import {rowWeightedValue} from './adaptive.js';
import {policyProbabilities, uniformProbabilities} from './probabilities.js';
import {trueScores} from './scores.js';
import {isAdaptive, parseLoggingPolicy, type LoggingPolicy} from './spec.js';
import {policyValue, uniformValue} from './values.js';

/** The config members the logging policy depends on. */
export type LoggingConfig = Pick<
  DatasetConfig,
  'seed' | 'nSamples' | 'nCreativePackIds' | 'loggingPolicy'
>;

/**
 * `config.loggingPolicy`, resolved; undefined when the config has none. A
 * recorded policy the parser refuses is data loss (the service wrote it),
 * never the caller's bad argument.
 */
export function recordedLoggingPolicy(
  config: Pick<DatasetConfig, 'nCreativePackIds' | 'loggingPolicy'>,
): LoggingPolicy | undefined {
  // As recorded: parsed again, not trusted to be the resolved form.
  const value: unknown = config.loggingPolicy;
  if (value === undefined) return undefined;
  try {
    return parseLoggingPolicy(value, {
      nCreativePackIds: config.nCreativePackIds,
    });
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw new DataLossError(
      `the recorded config's loggingPolicy is not a policy: ${error.message}`,
      error,
    );
  }
}

export interface VersionLogging {
  /** undefined: the version was drawn uniformly, without a policy */
  policy: LoggingPolicy | undefined;
  /** pi_b(c | m(c)); adaptive: sum_e rows_e pi_e / nSamples */
  probabilities: Float64Array;
  /** V(pi_b); no policy: V(uniform) exactly; adaptive: the row-weighted mean */
  value: number;
  /** adaptive: each epoch's rows and V(pi_e) */
  epochs?: ReplayedEpoch[];
}

/** The logging policy of the version with this config and model. */
export function versionLogging(
  config: LoggingConfig,
  model: DatasetModel,
  noise: () => Float64Array,
): VersionLogging {
  const policy = recordedLoggingPolicy(config);
  if (policy === undefined) {
    return {
      policy,
      probabilities: uniformProbabilities(model),
      value: uniformValue(model),
    };
  }
  if (isAdaptive(policy)) {
    const replay = replayAdaptiveEpochs(
      policy,
      model,
      config.seed,
      config.nSamples,
      noise,
    );
    return {
      policy,
      probabilities: replay.mixture,
      value: rowWeightedValue(replay.epochs, config.nSamples),
      epochs: replay.epochs,
    };
  }
  const scores =
    policy.type === 'uniform'
      ? model.pairProbs
      : trueScores(model, policy.scoreNoise, noise);
  const probabilities = policyProbabilities(policy, scores, model);
  return {policy, probabilities, value: policyValue(probabilities, model)};
}
