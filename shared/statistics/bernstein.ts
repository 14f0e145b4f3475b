/**
 * The bound an observed rate must meet. For n Bernoulli(q) draws, Bernstein's
 * inequality gives P(|rate - q| >= eps) <= 2 exp(-n eps^2 / (2 q(1-q) + 2 eps / 3)).
 * Solving for eps at probability delta = alpha / k (Bonferroni over k pairs)
 * gives a bound that a correct generator exceeds, anywhere in the dataset,
 * with probability at most alpha.
 */

/** Family-wise probability that a correct dataset fails the check. */
export const FAMILY_WISE_ALPHA = 1e-6;

export function bernsteinBound(
  n: number,
  q: number,
  pairs: number,
  alpha = FAMILY_WISE_ALPHA,
): number {
  if (n <= 0) return Infinity;
  const log = Math.log((2 * pairs) / alpha);
  const variance = q * (1 - q);
  return (log / 3 + Math.sqrt((log * log) / 9 + 2 * n * variance * log)) / n;
}

export const BOUND_DESCRIPTION =
  "|observed - q| <= (L/3 + sqrt(L^2/9 + 2 n q(1-q) L)) / n with L = ln(2k/alpha), k pairs, alpha = 1e-6 (Bernstein's inequality, Bonferroni over pairs)";
