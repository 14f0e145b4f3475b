import {
  RunningSummary,
  type ProbabilitiesSummary,
} from '../../shared/metadata/probabilities-summary.js';

/** The summary of an array, through the RunningSummary the product uses. */
export function summarizeProbabilities(
  values: ArrayLike<number>,
): ProbabilitiesSummary {
  const summary = new RunningSummary();
  for (let i = 0; i < values.length; i++) summary.add(values[i]);
  return summary.result();
}
