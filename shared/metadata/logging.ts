/**
 * The metadata members of a dataset drawn under a logging policy
 * (docs/design.md §12): the resolved policy, pi_b per creative, the exact
 * values of the logging, uniform and best policies, the best creative per
 * store and, adaptive, each epoch's value. A dataset without a policy has
 * none of them, so its metadata is the bytes it always was.
 */
import type {DatasetModel} from '../dataset/model.js';
import {versionLogging, type LoggingConfig} from '../policy/logging.js';
import {lazyScoreNoise} from '../policy/scores.js';
import type {LoggingPolicy} from '../policy/spec.js';
import {
  bestCreativeIds,
  bestValue,
  uniformValue,
  type PolicyValues,
} from '../policy/values.js';

/** metadata.policy_epochs' entry (adaptive logs). */
export interface PolicyEpochRecord {
  epoch: number;
  firstRow: number;
  rows: number;
  /** V(pi_e) under the true q */
  value: number;
}

/** The small logging members, in the order they are written (logging_probs streams between). */
export interface LoggingHead {
  logging_policy: LoggingPolicy;
  policy_values: PolicyValues;
  best_creative: Record<string, string>;
  policy_epochs?: PolicyEpochRecord[];
}

export interface LoggingMetadata {
  head: LoggingHead;
  /** pi_b(c | m(c)) in creative index order: metadata.logging_probs (absent when adaptive) */
  probabilities?: Float64Array;
}

/**
 * The logging members of a config's metadata; undefined without a policy.
 * An adaptive log's epochs are replayed from the seed (draws only).
 */
export function loggingMetadataOf(
  config: LoggingConfig,
  model: DatasetModel,
): LoggingMetadata | undefined {
  const logging = versionLogging(
    config,
    model,
    lazyScoreNoise(config.seed, model),
  );
  const policy = logging.policy;
  if (policy === undefined) return undefined;
  const head: LoggingHead = {
    logging_policy: policy,
    policy_values: {
      logging: logging.value,
      uniform: uniformValue(model),
      best: bestValue(model),
    },
    best_creative: bestCreativeIds(model),
  };
  if (logging.epochs) {
    head.policy_epochs = logging.epochs.map(e => ({
      epoch: e.epoch,
      firstRow: e.firstRow,
      rows: e.rows,
      value: e.value,
    }));
    return {head};
  }
  return {head, probabilities: logging.probabilities};
}
