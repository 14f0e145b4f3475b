/**
 * Goodness-of-fit of observed label counts to their true probabilities: one
 * exact two-sided p-value per group (a creative, or a target store: a
 * Poisson-binomial bounded by Hoeffding's theorem, so conservative), combined
 * by Fisher's method, X = -2 * sum(ln p_i) against chi-square(2m). Valid for
 * any counts; groups without information are skipped. The assumptions and
 * why they hold: docs/verify.md.
 */
import gammainc from '@stdlib/math-base-special-gammainc';
import {
  binomialLowerTail,
  binomialTwoSidedPValue,
  binomialUpperTail,
} from './binomial.js';

/** Observed counts of one group and its true label probability. */
export interface Tally {
  id: string;
  rows: number;
  positives: number;
  /** the true probability (for a pooled group, the row-weighted mean) */
  q: number;
}

export interface GoodnessOfFit {
  method: string;
  /** groups with information (rows, and 0 < q < 1) */
  groups: number;
  /** groups without rows, or with q in {0, 1} matched by their labels */
  skipped: number;
  /** Fisher's X = -2 sum ln p_i (Infinity when some p_i is 0) */
  statistic: number;
  degreesOfFreedom: number;
  /** P(chi-square(df) >= X) */
  pValue: number;
  /** the test fails when pValue < alpha */
  alpha: number;
  ok: boolean;
  /** the group with the smallest p-value */
  worst: (Tally & {pValue: number}) | null;
}

export const FISHER_EXACT_BINOMIAL =
  "Fisher's combination of exact two-sided binomial p-values, X = -2 sum ln p_i vs chi-square(2m)";
export const FISHER_HOEFFDING_BINOMIAL =
  "Fisher's combination of two-sided binomial p-values at the mean probability (Hoeffding's bound for sums of binomials), X = -2 sum ln p_i vs chi-square(2m)";

/** P(chi-square(df) >= x). */
export function chiSquareSurvival(x: number, degreesOfFreedom: number): number {
  if (x <= 0) return 1;
  if (!Number.isFinite(x)) return 0;
  return gammainc(x / 2, degreesOfFreedom / 2, true, true);
}

/** Fisher's method over per-group p-values given as (tally, p) pairs. */
function combine(
  scored: Array<{tally: Tally; pValue: number | null}>,
  alpha: number,
  method: string,
): GoodnessOfFit {
  let statistic = 0;
  let groups = 0;
  let worst: GoodnessOfFit['worst'] = null;
  for (const {tally, pValue} of scored) {
    if (pValue === null) continue;
    groups++;
    statistic += pValue > 0 ? -2 * Math.log(pValue) : Infinity;
    if (!worst || pValue < worst.pValue) worst = {...tally, pValue};
  }
  const degreesOfFreedom = 2 * groups;
  const pValue =
    groups === 0 ? 1 : chiSquareSurvival(statistic, degreesOfFreedom);
  return {
    method,
    groups,
    skipped: scored.length - groups,
    statistic,
    degreesOfFreedom,
    pValue,
    alpha,
    ok: pValue >= alpha,
    worst,
  };
}

/** The p-value of a group whose q is 0 or 1, or null when it has no information. */
function degeneratePValue(tally: Tally): number | null | undefined {
  if (tally.rows === 0) return null;
  if (tally.q <= 0) return tally.positives === 0 ? null : 0;
  if (tally.q >= 1) return tally.positives === tally.rows ? null : 0;
  return undefined;
}

/** Each group's labels Binomial(rows, q): the per-creative test. */
export function binomialGoodnessOfFit(
  tallies: Iterable<Tally>,
  alpha: number,
): GoodnessOfFit {
  const scored = [];
  for (const tally of tallies) {
    const degenerate = degeneratePValue(tally);
    scored.push({
      tally,
      pValue:
        degenerate !== undefined
          ? degenerate
          : binomialTwoSidedPValue(tally.rows, tally.positives, tally.q),
    });
  }
  return combine(scored, alpha, FISHER_EXACT_BINOMIAL);
}

/**
 * Each group's labels a sum of binomials with mean probability q (a target
 * store pooling its creatives): the per-target-store test.
 */
export function pooledGoodnessOfFit(
  tallies: Iterable<Tally>,
  alpha: number,
): GoodnessOfFit {
  const scored = [];
  for (const tally of tallies) {
    const degenerate = degeneratePValue(tally);
    if (degenerate !== undefined) {
      scored.push({tally, pValue: degenerate});
      continue;
    }
    const mean = tally.rows * tally.q;
    const lower =
      tally.positives <= mean - 2
        ? binomialLowerTail(tally.rows, tally.positives, tally.q)
        : 1;
    const upper =
      tally.positives >= mean + 2
        ? binomialUpperTail(tally.rows, tally.positives, tally.q)
        : 1;
    scored.push({tally, pValue: Math.min(1, 2 * Math.min(lower, upper))});
  }
  return combine(scored, alpha, FISHER_HOEFFDING_BINOMIAL);
}

/**
 * Pools creatives into their target stores: rows and positives add up, q is
 * the row-weighted mean of the creatives' q.
 */
export function poolByTarget(
  creatives: Iterable<Tally>,
  targetOf: (creative: string) => string | undefined,
): Tally[] {
  const pooled = new Map<string, Tally & {expected: number}>();
  for (const c of creatives) {
    const target = targetOf(c.id);
    if (target === undefined) continue;
    let t = pooled.get(target);
    if (!t) {
      t = {id: target, rows: 0, positives: 0, q: 0, expected: 0};
      pooled.set(target, t);
    }
    t.rows += c.rows;
    t.positives += c.positives;
    t.expected += c.rows * c.q;
  }
  return [...pooled.values()].map(({id, rows, positives, expected}) => ({
    id,
    rows,
    positives,
    q: rows > 0 ? expected / rows : 0,
  }));
}
