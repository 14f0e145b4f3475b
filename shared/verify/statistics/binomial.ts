/**
 * Exact binomial tail probabilities and the two-sided p-value built from
 * them, through the regularized incomplete beta function (stdlib's port of
 * Boost's ibeta, accurate far into the tails and fast for n up to 10^9):
 *
 *   P(X >= k) = I_q(k, n - k + 1),   P(X <= k) = I_{1-q}(n - k, k + 1).
 */
import betainc from '@stdlib/math-base-special-betainc';

/** P(X >= k) for X ~ Binomial(n, q). */
export function binomialUpperTail(n: number, k: number, q: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (q <= 0) return 0;
  if (q >= 1) return 1;
  return betainc(q, k, n - k + 1);
}

/** P(X <= k) for X ~ Binomial(n, q). */
export function binomialLowerTail(n: number, k: number, q: number): number {
  if (k >= n) return 1;
  if (k < 0) return 0;
  if (q <= 0) return 1;
  if (q >= 1) return 0;
  return betainc(1 - q, n - k, k + 1);
}

/**
 * Two-sided p-value of k positives in n Binomial(q) draws: twice the smaller
 * tail, at most 1. It is exact in the sense that matters here: under the
 * null hypothesis P(p <= a) <= a for every a (each tail contributes at most
 * a/2), for any n and q, however small the expected counts; discreteness
 * only makes it conservative.
 */
export function binomialTwoSidedPValue(
  n: number,
  k: number,
  q: number,
): number {
  return Math.min(
    1,
    2 * Math.min(binomialLowerTail(n, k, q), binomialUpperTail(n, k, q)),
  );
}
