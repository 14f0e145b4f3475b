/**
 * A fixed policy's pscores as a file held them (row-checks.ts `fixed`)
 * against pi_b(c | m(c)): equal in Parquet (a double), equal to
 * Math.fround(pi_b) in TFRecord (a float32), and one value per creative.
 */
import type {Format} from '../../dataset/config.js';
import type {Check} from '../verify-files.js';
import type {FixedRowsResult} from './row-checks.js';

export function pscorePrecisionOf(format: Format): 'double' | 'float32' {
  return format === 'parquet' ? 'double' : 'float32';
}

/** The format's files' tallies (every file, in order) against pi. */
export function checkFixedPscores(
  format: Format,
  results: readonly FixedRowsResult[],
  pi: Float64Array,
  indexOf: (creative: string) => number | undefined,
): Check {
  const float32 = pscorePrecisionOf(format) === 'float32';
  const seen = new Set<string>();
  const wrongIds = new Set<string>();
  let rows = 0;
  let wrongRows = 0;
  let example = '';
  for (const result of results)
    for (const [creative, tally] of result.perCreative) {
      const c = indexOf(creative);
      if (c === undefined) continue; // verify counts unknown creatives
      seen.add(creative);
      rows += tally.rows;
      const expected = float32 ? Math.fround(pi[c]) : pi[c];
      // pi_b is a function of the creative: one value, and that one
      if (tally.value === expected && tally.differing === 0) continue;
      wrongIds.add(creative);
      // rows not holding `value` hold at least one other value (not counted apart)
      wrongRows +=
        tally.value === expected
          ? tally.differing
          : tally.rows - tally.differing;
      if (!example) {
        const found = tally.value === expected ? tally.other : tally.value;
        example = `; e.g. ${creative}: pscore ${found} in the file, pi_b ${expected}${float32 ? ' (as float32)' : ''}`;
      }
    }
  const creatives = seen.size;
  const wrongCreatives = wrongIds.size;
  return {
    name: `${format}: pscore is pi_b(c | m(c)) on every row`,
    ok: wrongCreatives === 0,
    detail:
      wrongCreatives === 0
        ? `${rows} rows of ${creatives} creatives, ${float32 ? 'equal as float32' : 'exactly equal'}`
        : `at least ${wrongRows} rows of ${wrongCreatives} of ${creatives} creatives differ${example}`,
  };
}
