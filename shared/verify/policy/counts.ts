/** Per-creative rows and positives, by creative index: what an adaptive log's state is made of. */
export interface CreativeCounts {
  rows: Float64Array;
  positives: Float64Array;
}

export function zeroCounts(nCreatives: number): CreativeCounts {
  return {
    rows: new Float64Array(nCreatives),
    positives: new Float64Array(nCreatives),
  };
}

export function copyCounts(counts: CreativeCounts): CreativeCounts {
  return {rows: counts.rows.slice(), positives: counts.positives.slice()};
}

/** into += from (integer counts, so exact). */
export function addCounts(into: CreativeCounts, from: CreativeCounts): void {
  for (let c = 0; c < into.rows.length; c++) {
    into.rows[c] += from.rows[c];
    into.positives[c] += from.positives[c];
  }
}

/** a - b, a new tally. */
export function subtractCounts(
  a: CreativeCounts,
  b: CreativeCounts,
): CreativeCounts {
  const out = copyCounts(a);
  for (let c = 0; c < out.rows.length; c++) {
    out.rows[c] -= b.rows[c];
    out.positives[c] -= b.positives[c];
  }
  return out;
}

/**
 * A reader's per-creative-id counts ([rows, positives], RowsSummary) by
 * index; ids the index does not know are left out (verify counts those).
 */
export function countsOfSummary(
  perCreative: ReadonlyMap<string, readonly [number, number]>,
  indexOf: (creative: string) => number | undefined,
  nCreatives: number,
): CreativeCounts {
  const counts = zeroCounts(nCreatives);
  for (const [creative, [n, p]] of perCreative) {
    const c = indexOf(creative);
    if (c === undefined) continue;
    counts.rows[c] += n;
    counts.positives[c] += p;
  }
  return counts;
}
