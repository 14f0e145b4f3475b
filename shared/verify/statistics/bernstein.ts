/**
 * The bound an observed rate must meet. For n Bernoulli(q) draws, Bernstein's
 * inequality gives P(|rate - q| >= eps) <= 2 exp(-n eps^2 / (2 q(1-q) + 2 eps / 3)).
 * Solving for eps at probability delta = alpha / k (Bonferroni over k pairs)
 * gives a bound that a correct generator exceeds, anywhere in the dataset,
 * with probability at most alpha. It catches a broken creative; it cannot see
 * the creative effects (about +-0.03 at 1M rows, three times the largest
 * effect): the goodness-of-fit tests (goodness-of-fit.ts) do.
 */
import {ALPHA_PER_CHECK} from './family-wise.js';

export function bernsteinBound(
  n: number,
  q: number,
  pairs: number,
  alpha = ALPHA_PER_CHECK,
): number {
  if (n <= 0) return Infinity;
  const log = Math.log((2 * pairs) / alpha);
  const variance = q * (1 - q);
  return (log / 3 + Math.sqrt((log * log) / 9 + 2 * n * variance * log)) / n;
}

/** The bound as the report states it, at this check's alpha. */
export function boundDescription(alpha = ALPHA_PER_CHECK): string {
  return `|observed - q| <= (L/3 + sqrt(L^2/9 + 2 n q(1-q) L)) / n with L = ln(2k/alpha), k pairs, alpha = ${alpha.toPrecision(2)} (Bernstein's inequality, Bonferroni over pairs)`;
}

export const BOUND_DESCRIPTION = boundDescription();
