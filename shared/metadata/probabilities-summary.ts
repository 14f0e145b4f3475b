/**
 * Count, min, max and mean of a run of probabilities, one value at a time:
 * a million values never go through a spread into Math.min/Math.max (whose
 * argument count the engine bounds, a RangeError past ~125,000) and are
 * never gathered in one array just to be summarized.
 */

export interface ProbabilitiesSummary {
  count: number;
  /** NaN when count is 0 */
  min: number;
  max: number;
  /** the sum in arrival order divided by count: the same order gives the same bits */
  mean: number;
}

export class RunningSummary {
  private count = 0;
  private min = Infinity;
  private max = -Infinity;
  private sum = 0;

  add(value: number): void {
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.sum += value;
    this.count++;
  }

  result(): ProbabilitiesSummary {
    if (this.count === 0) return {count: 0, min: NaN, max: NaN, mean: NaN};
    return {
      count: this.count,
      min: this.min,
      max: this.max,
      mean: this.sum / this.count,
    };
  }
}
