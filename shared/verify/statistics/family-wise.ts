/**
 * The family-wise error of `verify`'s statistical checks: a correct dataset
 * fails any one of them with probability at most FAMILY_WISE_ALPHA. The
 * budget is split evenly (Bonferroni) between the three checks:
 *
 * - every creative's rate within its Bernstein bound (itself Bonferroni over
 *   the creatives),
 * - the goodness-of-fit over all creatives,
 * - the goodness-of-fit over all target stores;
 *
 * and, for a dataset drawn under a logging policy (docs/design.md §12), a
 * fourth: the creatives drawn against the policy (draw-fit.ts). Then each of
 * the four spends a quarter. A dataset without a policy keeps the thirds.
 */
export const FAMILY_WISE_ALPHA = 1e-6;
export const STATISTICAL_CHECKS = 3;
/** The share of the family-wise error each statistical check may spend. */
export const ALPHA_PER_CHECK = FAMILY_WISE_ALPHA / STATISTICAL_CHECKS;
/** The checks of a dataset with a logging policy: the three and the draw's fit. */
export const POLICY_STATISTICAL_CHECKS = STATISTICAL_CHECKS + 1;
export const POLICY_ALPHA_PER_CHECK =
  FAMILY_WISE_ALPHA / POLICY_STATISTICAL_CHECKS;

/** Each check's share for a dataset with or without a logging policy. */
export function alphaPerCheck(withPolicy: boolean): number {
  return withPolicy ? POLICY_ALPHA_PER_CHECK : ALPHA_PER_CHECK;
}
