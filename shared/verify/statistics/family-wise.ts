/**
 * The family-wise error of `verify`'s statistical checks: a correct dataset
 * fails any one of them with probability at most FAMILY_WISE_ALPHA. The
 * budget is split evenly (Bonferroni) between the three checks:
 *
 * - every creative's rate within its Bernstein bound (itself Bonferroni over
 *   the creatives),
 * - the goodness-of-fit over all creatives,
 * - the goodness-of-fit over all target stores.
 */
export const FAMILY_WISE_ALPHA = 1e-6;
export const STATISTICAL_CHECKS = 3;
/** The share of the family-wise error each statistical check may spend. */
export const ALPHA_PER_CHECK = FAMILY_WISE_ALPHA / STATISTICAL_CHECKS;
