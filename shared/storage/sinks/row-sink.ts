/**
 * What a reader hands rows to: a canonical digest of the rows in order (the
 * same one the Python interop check computes) and per-creative counts.
 */
import {createHash} from 'node:crypto';
import {
  CREATIVE_PACK_ID,
  digestLine,
  LABEL,
  TARGET_STORE_ID,
  type Row,
} from '../../formats/row-schema.js';

export interface RowsSummary {
  rows: number;
  positives: number;
  /** the row digest (row-schema.ts digestLine: DIGEST_DEFINITION) */
  rowDigest: string;
  /** per creative id: [rows, positives] */
  perCreative: Map<string, [number, number]>;
  /** per creative id, the target ids it was seen with */
  creativeTargets: Map<string, Set<string>>;
}

export class RowCollector {
  private readonly hash = createHash('sha256');
  private text = '';
  private rows = 0;
  private positives = 0;
  private readonly perCreative = new Map<string, [number, number]>();
  private readonly creativeTargets = new Map<string, Set<string>>();

  /** Adds a row. */
  add(row: Row): void {
    this.addLine(
      digestLine(row),
      row[TARGET_STORE_ID.name],
      row[CREATIVE_PACK_ID.name],
      row[LABEL.name],
    );
  }

  /**
   * Adds a row by its digest line (digestLine) and the values the statistics
   * read, for readers that have the line at hand (a cached payload's, or one
   * built column by column).
   */
  addLine(line: string, target: string, creative: string, label: number): void {
    this.text += line;
    if (this.text.length > 1 << 20) {
      this.hash.update(this.text, 'utf8');
      this.text = '';
    }
    this.rows++;
    this.positives += label;
    let counts = this.perCreative.get(creative);
    if (!counts) {
      counts = [0, 0];
      this.perCreative.set(creative, counts);
      this.creativeTargets.set(creative, new Set());
    }
    counts[0]++;
    counts[1] += label;
    const targets = this.creativeTargets.get(creative);
    if (targets && !targets.has(target)) targets.add(target);
  }

  summary(): RowsSummary {
    this.hash.update(this.text, 'utf8');
    this.text = '';
    return {
      rows: this.rows,
      positives: this.positives,
      rowDigest: this.hash.digest('hex'),
      perCreative: this.perCreative,
      creativeTargets: this.creativeTargets,
    };
  }
}
