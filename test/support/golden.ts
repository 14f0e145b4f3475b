/**
 * Golden digests: what this generator version writes for fixed inputs. They
 * belong to one generator version; when shared/dataset/generator-version.ts is bumped, they are
 * regenerated (run the tests, copy the digests they report) and renamed here.
 */
export const GOLDEN = Object.freeze({
  generatorVersion: '0.3.0',
  /** sha256 of dataset_v1.parquet and .tfrecord, seed 7, 200,000 rows, defaults otherwise */
  seed7Rows200k: {
    parquet: '0bde7fd95e716b4054b0d562b2e32cc2ab621a03ad676dd6252e661559fb0af4',
    tfrecord:
      'a3a1f014bde7a784183c69478d76e8648d1bcf43d1edd98152f14ce8a544432f',
  },
  /** sha256 of the model of seed 42 (10 target stores, 100 creatives) */
  modelSeed42:
    '6aa798226263f51b029758dc3b331c2482dad6dfc29ee468d1e51bd36979e831',
});

/**
 * The version before, for the files whose bytes it changed only in the
 * Parquet footer's created_by (0.3.0 changed the shard plan: one file,
 * shards: 1, is the same rows in the same bytes).
 */
export const PREVIOUS_GOLDEN = Object.freeze({
  generatorVersion: '0.2.0',
  seed7Rows200k: {
    parquet: '261e89704b977986668da55060279071c71839d641501d9245284032f61e5af3',
    tfrecord:
      'a3a1f014bde7a784183c69478d76e8648d1bcf43d1edd98152f14ce8a544432f',
  },
});
