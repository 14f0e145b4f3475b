/**
 * A dataset with columns beyond today's three (a float64 per creative,
 * int64 and float64 per row: test/support/extra-columns.ts) as pandas,
 * pyarrow and tf.data read it, with the columns taken from the metadata's
 * config or from the files themselves, and the row digest ours.
 */
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {readParquetRows} from '../../shared/formats/parquet/parquet-rows.js';
import {readTfrecordRows} from '../../shared/formats/tfrecord/tfrecord-rows.js';
import {
  ADAPTIVE,
  EXTRA_DECLARATION,
  extraSchema,
  writeExtraDataset,
} from '../support/extra-columns.js';
import {projectPython, runPythonJson} from '../support/python.js';
import type {ReadDatasetReport} from '../support/read-dataset-report.js';
import {rowSchemaFileOf} from '../support/row-schema-file.js';

const scratch = mkdtempSync(join(tmpdir(), 'exploration-interop-columns-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

describe(
  'extra columns through pandas, pyarrow and TensorFlow',
  {timeout: 10 * 60_000},
  () => {
    const schema = extraSchema();
    const dataset = {
      seed: 12,
      nSamples: 150_000,
      nTargetStoreIds: 5,
      nCreativePackIds: 30,
    };
    const withMetadata = join(scratch, 'with-metadata');
    const filesOnly = join(scratch, 'files-only');
    let ours: {parquet: string; tfrecord: string};

    before(async () => {
      projectPython();
      writeExtraDataset(withMetadata, dataset, 1, schema);
      writeExtraDataset(filesOnly, dataset, 1, schema);
      writeFileSync(
        join(withMetadata, 'metadata_v1.json'),
        JSON.stringify({config: {...dataset, ...ADAPTIVE}}),
      );
      ours = {
        parquet: (
          await readParquetRows(join(filesOnly, 'dataset_v1.parquet'), schema)
        ).rowDigest,
        tfrecord: (
          await readTfrecordRows(join(filesOnly, 'dataset_v1.tfrecord'), schema)
        ).rowDigest,
      };
      assert.equal(ours.parquet, ours.tfrecord);
    });

    for (const [dir, from] of [
      [withMetadata, 'metadata'],
      [filesOnly, 'parquet'],
    ] as const) {
      it(`reads the columns ${from === 'metadata' ? "the metadata's config has" : 'the Parquet file has'}, with their dtypes and our row digest`, () => {
        const report = runPythonJson<ReadDatasetReport>(
          'test/interop/read_dataset.py',
          [dir, '1', '--schema', rowSchemaFileOf(EXTRA_DECLARATION)],
        );
        assert.equal(report.columnsFrom, from);
        assert.deepEqual(report.columns, schema.names);
        const {parquet, tfrecord} = report;
        assert.equal(parquet.rows, dataset.nSamples);
        assert.equal(tfrecord.rows, dataset.nSamples);
        for (const column of schema.columns) {
          const {name, type} = column;
          assert.ok(
            type.pandasDtypes.includes(parquet.pandasDtypes[name]),
            `${name}: pandas reads ${parquet.pandasDtypes[name]}`,
          );
          assert.ok(
            type.arrowTypes.includes(parquet.arrowTypes[name]),
            `${name}: pyarrow reads ${parquet.arrowTypes[name]}`,
          );
          assert.equal(parquet.parquetPhysicalTypes[name], type.parquet.type);
          assert.equal(tfrecord.tfTypes[name], type.tf.dtype);
          assert.equal(tfrecord.featureKinds[name], type.tf.kind);
        }
        assert.equal(parquet.pandasDtypes.creative_score, 'float64');
        assert.equal(parquet.pandasDtypes.row_epoch, 'int64');
        assert.equal(tfrecord.tfTypes.epoch_score, 'float32');
        assert.equal(parquet.digest, ours.parquet, 'pyarrow digest');
        assert.equal(parquet.pandasDigest, ours.parquet, 'pandas digest');
        assert.equal(tfrecord.digest, ours.tfrecord, 'tf.data digest');
        assert.equal(tfrecord.parseSingleExampleChecked, 4096);
        assert.equal(report.formatsAgree, true);
      });
    }
  },
);
