/**
 * The block: the run of rows drawn from one PRNG stream (rows.ts) and the
 * unit the shard plan splits a dataset into (shard-plan.ts).
 */

/** Part of the generator's contract: changing it changes every dataset. */
export const ROWS_PER_BLOCK = 65_536;

export function blockCount(nSamples: number): number {
  return Math.ceil(nSamples / ROWS_PER_BLOCK);
}
