/**
 * Goodness-of-fit of the creatives a logging policy drew (docs/design.md
 * §12): a row's creative c has probability exactly W_c / (C * 2^32), with
 * W_c the alias table's integer weights (policy/alias.ts rowUnitWeights;
 * the uniform draw is W_c = 1 of C), store t's weights summing to
 * |C_t| * 2^32, so P(store t) = |C_t| / C whatever the policy.
 *
 * The multinomial counts are split by the chain rule into conditional
 * binomials, each tested exactly (two-sided, binomial.ts):
 *
 * - stores, in index order: n_t given the earlier stores' counts is
 *   Binomial(N - sum_{s<t} n_s, u_t / sum_{s>=t} u_s), u_t = |C_t|;
 * - within store t, its creatives in index order: x_i given the earlier
 *   ones is Binomial(n_t - sum_{j<i} x_j, W_i / sum_{j>=i} W_j).
 *
 * Every p-value is super-uniform given everything tested before it (the
 * conditional law is exactly that binomial), so Fisher's X = -2 sum ln p
 * is stochastically at most chi-square(2m) (couple each -2 ln p_i below an
 * independent chi-square(2)): the test keeps its alpha for any counts, and
 * a run of conditionally tested pieces (one per adaptive epoch and file) is
 * combined by adding their parts. Weights are integers, their suffix sums
 * exact (below 2^53), so the probabilities tested are the drawn ones, not
 * pi rounded.
 */
import {binomialTwoSidedPValue} from './binomial.js';
import {chiSquareSurvival} from './goodness-of-fit.js';

/** One conditional binomial: `drawn` of `trials` against `probability`. */
export interface DrawGroup {
  /** the creative id, or the target store id for a store's share */
  id: string;
  drawn: number;
  trials: number;
  probability: number;
  pValue: number;
}

/** A piece of Fisher's sum: parts add up (DrawFitPart). */
export interface DrawFitPart {
  statistic: number;
  groups: number;
  /** binomials without information: no trials, or probability 0 or 1 met */
  skipped: number;
  worst: DrawGroup | null;
}

export interface DrawFit extends DrawFitPart {
  method: string;
  degreesOfFreedom: number;
  pValue: number;
  alpha: number;
  ok: boolean;
}

export const CONDITIONAL_BINOMIALS =
  "Fisher's combination of exact two-sided conditional binomial p-values (the multinomial of stores, then of each store's creatives, by the chain rule), X = -2 sum ln p_i vs chi-square(2m)";

export function emptyPart(): DrawFitPart {
  return {statistic: 0, groups: 0, skipped: 0, worst: null};
}

/** Adds `from` into `into`. */
export function addPart(into: DrawFitPart, from: DrawFitPart): void {
  into.statistic += from.statistic;
  into.groups += from.groups;
  into.skipped += from.skipped;
  if (from.worst && (!into.worst || from.worst.pValue < into.worst.pValue))
    into.worst = from.worst;
}

/** One binomial into the part: p-value, or skipped when it carries no information. */
export function addBinomial(
  part: DrawFitPart,
  id: string,
  drawn: number,
  trials: number,
  probability: number,
): void {
  let pValue: number;
  if (trials === 0) {
    part.skipped++;
    return;
  }
  if (probability <= 0 || probability >= 1) {
    const expected = probability <= 0 ? 0 : trials;
    if (drawn === expected) {
      part.skipped++;
      return;
    }
    pValue = 0; // a creative of weight 0 drawn, or one of weight 1 missed
  } else pValue = binomialTwoSidedPValue(trials, drawn, probability);
  part.groups++;
  part.statistic += pValue > 0 ? -2 * Math.log(pValue) : Infinity;
  if (!part.worst || pValue < part.worst.pValue)
    part.worst = {id, drawn, trials, probability, pValue};
}

/**
 * The chain of conditional binomials over `members` (indexes into counts
 * and weights, in order): each member's count given the earlier ones'.
 * The last member is determined by the others and adds nothing.
 */
export function addChain(
  part: DrawFitPart,
  members: ArrayLike<number>,
  counts: ArrayLike<number>,
  weights: ArrayLike<number>,
  idOf: (member: number) => string,
): void {
  const n = members.length;
  let remainingWeight = 0;
  let remainingCount = 0;
  for (let i = 0; i < n; i++) {
    remainingWeight += weights[members[i]];
    remainingCount += counts[members[i]];
  }
  for (let i = 0; i < n - 1; i++) {
    const m = members[i];
    const w = weights[m];
    const x = counts[m];
    const probability = remainingWeight > 0 ? w / remainingWeight : 0;
    addBinomial(part, idOf(m), x, remainingCount, probability);
    remainingWeight -= w;
    remainingCount -= x;
  }
  // the last member must take what is left: anything drawn of weight 0 fails
  if (n > 0 && remainingWeight === 0 && remainingCount > 0) {
    addBinomial(part, idOf(members[n - 1]), remainingCount, remainingCount, 0);
  }
}

/** The creatives of a store index (policy/stores.ts), as the chains need them. */
export interface StoreGroups {
  nStores: number;
  offsets: Int32Array;
  creatives: Int32Array;
}

/**
 * Within every store, its creatives' counts against `weights` (one chain
 * per store): the part a fixed policy tests once, an adaptive one per
 * epoch and file.
 */
export function addCreativeChains(
  part: DrawFitPart,
  stores: StoreGroups,
  counts: ArrayLike<number>,
  weights: ArrayLike<number>,
  creativeIds: readonly string[],
): void {
  const idOf = (c: number) => creativeIds[c];
  for (let t = 0; t < stores.nStores; t++) {
    const members = stores.creatives.subarray(
      stores.offsets[t],
      stores.offsets[t + 1],
    );
    addChain(part, members, counts, weights, idOf);
  }
}

/** The stores' counts against u_t = |C_t|: one chain over the stores. */
export function addStoreChain(
  part: DrawFitPart,
  stores: StoreGroups,
  storeCounts: ArrayLike<number>,
  targetIds: readonly string[],
): void {
  const members = Int32Array.from({length: stores.nStores}, (_, t) => t);
  const sizes = Float64Array.from(
    {length: stores.nStores},
    (_, t) => stores.offsets[t + 1] - stores.offsets[t],
  );
  addChain(part, members, storeCounts, sizes, t => targetIds[t]);
}

/** The combined test: fails when P(chi-square(2m) >= X) < alpha. */
export function drawFitOf(part: DrawFitPart, alpha: number): DrawFit {
  const degreesOfFreedom = 2 * part.groups;
  const pValue =
    part.groups === 0 ? 1 : chiSquareSurvival(part.statistic, degreesOfFreedom);
  return {
    method: CONDITIONAL_BINOMIALS,
    ...part,
    degreesOfFreedom,
    pValue,
    alpha,
    ok: pValue >= alpha,
  };
}

/** One line: the statistic, its p-value, the threshold and the worst binomial. */
export function describeDrawFit(fit: DrawFit): string {
  const worst = fit.worst
    ? `; worst ${fit.worst.id}: ${fit.worst.drawn} of ${fit.worst.trials} vs p ${fit.worst.probability.toPrecision(4)}, p-value ${fit.worst.pValue.toPrecision(3)}`
    : '';
  return `X = ${fit.statistic.toFixed(1)} over ${fit.groups} conditional binomials (chi-square, ${fit.degreesOfFreedom} d.f.), p = ${fit.pValue.toPrecision(3)}, fails below ${fit.alpha.toPrecision(2)}${worst}`;
}
