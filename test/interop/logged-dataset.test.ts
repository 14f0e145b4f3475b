/**
 * Datasets generated under a logging policy (docs/design.md §12) as pandas,
 * pyarrow and tf.data read them: `pscore` float64 in pandas and float32 in
 * TensorFlow, `policy_epoch` int64, the columns taken from the metadata's
 * config, and the row digest ours in every reader.
 */
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {readParquetRows} from '../../shared/formats/parquet/parquet-rows.js';
import {rowSchemaFor} from '../../shared/formats/row-schema.js';
import {readTfrecordRows} from '../../shared/formats/tfrecord/tfrecord-rows.js';
import type {DatasetConfig} from '../../shared/dataset/config.js';
import {runCli} from '../support/cli-process.js';
import {projectPython, runPythonJson} from '../support/python.js';

interface Report {
  columns: string[];
  columnsFrom: string;
  formatsAgree: boolean;
  parquet: {
    rows: number;
    digest: string;
    pandasDigest: string;
    pandasDtypes: Record<string, string>;
    arrowTypes: Record<string, string>;
  };
  tfrecord: {rows: number; digest: string; tfTypes: Record<string, string>};
}

const scratch = mkdtempSync(join(tmpdir(), 'exploration-interop-logged-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

const CASES = [
  {
    name: 'softmax',
    policy: {type: 'softmax', beta: 40},
    shards: 1,
    columns: ['pscore'],
  },
  {
    name: 'adaptive epsilon-greedy',
    policy: {
      type: 'epsilon-greedy',
      epsilon: 0.3,
      adaptive: {updateEveryBlocks: 1},
    },
    shards: 1,
    columns: ['pscore', 'policy_epoch'],
  },
];

describe(
  'logged datasets through pandas, pyarrow and TensorFlow',
  {timeout: 10 * 60_000},
  () => {
    before(() => projectPython());

    for (const c of CASES) {
      it(`${c.name}: ${c.columns.join(' and ')} with their dtypes and our row digest`, async () => {
        const dir = join(scratch, c.name.replace(/\W+/g, '-'));
        const cli = runCli(
          'generate',
          '--out',
          dir,
          '--samples',
          '200000',
          '--seed',
          '17',
          '--creative-pack-ids',
          '30',
          '--shards',
          String(c.shards),
          '--logging-policy',
          JSON.stringify(c.policy),
          '--no-progress',
        );
        assert.equal(cli.code, 0, cli.stderr);
        const config = (
          JSON.parse(readFileSync(join(dir, 'metadata_v1.json'), 'utf8')) as {
            config: DatasetConfig;
          }
        ).config;
        const schema = rowSchemaFor(config);
        assert.deepEqual(schema.names.slice(3), c.columns);
        const report = runPythonJson<Report>('test/interop/read_dataset.py', [
          dir,
          '1',
        ]);
        assert.equal(report.columnsFrom, 'metadata');
        assert.deepEqual(report.columns, schema.names);
        assert.equal(report.parquet.rows, 200_000);
        assert.equal(report.tfrecord.rows, 200_000);
        assert.equal(report.parquet.pandasDtypes.pscore, 'float64');
        assert.equal(report.parquet.arrowTypes.pscore, 'double');
        assert.equal(report.tfrecord.tfTypes.pscore, 'float32');
        if (c.columns.includes('policy_epoch')) {
          assert.equal(report.parquet.pandasDtypes.policy_epoch, 'int64');
          assert.equal(report.tfrecord.tfTypes.policy_epoch, 'int64');
        }
        const ours = await readParquetRows(
          join(dir, 'dataset_v1.parquet'),
          schema,
        );
        const tf = await readTfrecordRows(
          join(dir, 'dataset_v1.tfrecord'),
          schema,
        );
        assert.equal(ours.rowDigest, tf.rowDigest);
        assert.equal(report.parquet.digest, ours.rowDigest, 'pyarrow digest');
        assert.equal(
          report.parquet.pandasDigest,
          ours.rowDigest,
          'pandas digest',
        );
        assert.equal(report.tfrecord.digest, ours.rowDigest, 'tf.data digest');
        assert.equal(report.formatsAgree, true);
      });
    }
  },
);
