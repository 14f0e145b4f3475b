/**
 * The generator's identity, recorded with every dataset. The same inputs and
 * the same generator version give byte-identical data files; bump the version
 * whenever a change alters a single byte of output (and regenerate the golden
 * digests in test/support/golden.ts, which name the version they belong to).
 *
 * 0.3.0: the even shard plan (docs/design.md §3): shard k of S holds blocks
 *        [floor(k*B/S), floor((k+1)*B/S)) instead of ceil(B/S) each, so shard
 *        bytes change for some S; one file (S = 1) only in created_by.
 * 0.2.0: streams keyed by SHA-256(seed, stream) instead of
 *        seed XOR (stream * constant); Parquet created_by in the spec's form.
 * 0.1.0: first release.
 */
export const GENERATOR = Object.freeze({
  name: 'exploration-data',
  version: '0.3.0',
});

/** Whether a recorded generator ({name, version}) is this one. */
export function isThisGenerator(generator: {
  name: string;
  version: string;
}): boolean {
  return (
    generator.name === GENERATOR.name && generator.version === GENERATOR.version
  );
}

/** The Parquet writer library and its version, as pinned in package.json. */
export const PARQUET_WRITER = Object.freeze({
  name: 'hyparquet-writer',
  version: '0.17.0',
});

/**
 * What the Parquet footer names as its writer, in the form the Parquet spec
 * recommends, `<application> version <X.Y.Z> (build <build>)`: parquet-mr's
 * VersionParser reads it, so its CorruptStatistics rule keeps the column
 * statistics (an unparsable created_by makes it drop them). No timestamp and
 * no dataset version, so the data files do not depend on either.
 */
export const PARQUET_CREATED_BY = `${GENERATOR.name} version ${GENERATOR.version} (build ${PARQUET_WRITER.name} ${PARQUET_WRITER.version})`;
