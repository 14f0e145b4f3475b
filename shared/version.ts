/**
 * The generator's identity, recorded with every dataset. The same inputs and
 * the same generator version give byte-identical data files; bump the version
 * whenever a change alters a single byte of output.
 */
export const GENERATOR = Object.freeze({
  name: 'exploration-data',
  version: '0.1.0',
});

/** What the Parquet footer names as its writer: no timestamp, no dataset version. */
export const PARQUET_CREATED_BY = `${GENERATOR.name} ${GENERATOR.version} (hyparquet-writer 0.17.0)`;
