/**
 * What a reader of a dataset's files (parquet-rows.ts, tfrecord-rows.ts)
 * can hand each row to besides its counts: the row's creative id, label and
 * the values of the row schema's `row` columns (RowSchema.rowColumns, in
 * that order: `pscore`, `policy_epoch`), as the file holds them. verify's
 * logging-policy checks (docs/design.md §12) observe rows this way, one at
 * a time, so nothing grows with the rows.
 */
export interface RowObserver {
  /**
   * Row after row, in file order. `values` is reused between calls: read
   * it, do not keep it.
   */
  observe(creative: string, label: number, values: readonly number[]): void;
}
