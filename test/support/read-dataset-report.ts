/** What test/interop/read_dataset.py prints: a dataset as pandas, pyarrow and tf.data read it. */
export interface ReadDatasetReport {
  columns: string[];
  /** where the column list came from: the metadata's config or the Parquet file */
  columnsFrom: string;
  formatsAgree: boolean;
  parquet: {
    rows: number;
    digest: string;
    pandasDigest: string;
    pandasDtypes: Record<string, string>;
    arrowTypes: Record<string, string>;
    parquetPhysicalTypes: Record<string, string>;
  };
  tfrecord: {
    rows: number;
    digest: string;
    tfTypes: Record<string, string>;
    featureKinds: Record<string, string>;
    parseSingleExampleChecked: number;
  };
}
