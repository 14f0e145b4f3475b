/**
 * The files as their users read them: pandas/pyarrow for the Parquet file,
 * tf.data.TFRecordDataset + tf.io.parse_single_example with the notebook's
 * feature spec for the TFRecord file, in the project's Python environment.
 */
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {COLUMN_NAMES, COLUMNS} from '../../shared/formats/row-schema.js';
import {projectPython, REPO_ROOT, runPythonJson} from '../support/python.js';
import {rowSchemaFile} from '../support/row-schema-file.js';

interface FormatReport {
  rows: number;
  columns: string[];
  positives: number;
  digest: string;
  distinctTargetStoreIds: number;
  distinctCreativePackIds: number;
}
interface ParquetReport extends FormatReport {
  pandasDtypes: Record<string, string>;
  arrowTypes: Record<string, string>;
  pandasMatchesPyarrow: boolean;
}
interface TfrecordReport extends FormatReport {
  compression: string;
  tfTypes: Record<string, string>;
  /** the first record's features, as tf.train.Example parses them */
  featureKinds: Record<string, string>;
}
interface InteropReport {
  parquet: ParquetReport | null;
  tfrecord: TfrecordReport | null;
  formatsAgree: boolean;
  creativeCheck: {
    allWithinBound: boolean;
    creativesOutsideBound: number;
    unknownCreativeRows: number;
    targetMismatchRows: number;
  };
}

const scratch = mkdtempSync(join(tmpdir(), 'exploration-interop-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

function generate(
  out: string,
  ...args: string[]
): {ok: boolean; rowDigest: Record<string, string>} {
  execFileSync(
    process.execPath,
    [
      `${REPO_ROOT}build/cli/main.js`,
      'generate',
      '--out',
      out,
      '--json',
      ...args,
    ],
    {stdio: 'ignore'},
  );
  const verify = execFileSync(
    process.execPath,
    [`${REPO_ROOT}build/cli/main.js`, 'verify', out, '--json'],
    {encoding: 'utf8'},
  );
  return JSON.parse(verify);
}

describe(
  'interop with pandas, pyarrow and TensorFlow',
  {timeout: 30 * 60_000},
  () => {
    before(() => {
      projectPython(); // creates the venv once (cached outside the repository)
    });

    const cases: Array<[string, string[], number, number, number, boolean]> = [
      [
        'defaults shape, 200k rows',
        ['--samples', '200000', '--seed', '31'],
        200_000,
        10,
        100,
        false,
      ],
      [
        'GZIP TFRecord',
        [
          '--samples',
          '100000',
          '--seed',
          '32',
          '--tfrecord-compression',
          'gzip',
        ],
        100_000,
        10,
        100,
        true,
      ],
      [
        'one target, one creative',
        [
          '--samples',
          '5000',
          '--seed',
          '33',
          '--target-store-ids',
          '1',
          '--creative-pack-ids',
          '1',
        ],
        5000,
        1,
        1,
        false,
      ],
      [
        'many creatives, several row groups',
        [
          '--samples',
          '1100000',
          '--seed',
          '34',
          '--target-store-ids',
          '300',
          '--creative-pack-ids',
          '20000',
          '--formats',
          'parquet',
        ],
        1_100_000,
        300,
        20_000,
        false,
      ],
    ];
    for (const [name, args, rows, targets, creatives, gzip] of cases) {
      it(name, () => {
        const out = join(scratch, name.replace(/[^a-z0-9]+/gi, '-'));
        const ours = generate(out, ...args);
        assert.equal(ours.ok, true);
        const report = runPythonJson<InteropReport>(
          'test/interop/read_dataset.py',
          [out, '1', '--schema', rowSchemaFile(), ...(gzip ? ['--gzip'] : [])],
        );

        const parquet = report.parquet;
        assert.ok(parquet, 'pandas read no Parquet file');
        assert.equal(parquet.rows, rows);
        assert.deepEqual(parquet.columns, COLUMN_NAMES);
        // docs/design.md §2: what pandas and pyarrow must read each column as
        for (const {name, type} of COLUMNS) {
          assert.ok(
            type.pandasDtypes.includes(parquet.pandasDtypes[name]),
            `${name}: pandas reads ${parquet.pandasDtypes[name]}`,
          );
          assert.ok(
            type.arrowTypes.includes(parquet.arrowTypes[name]),
            `${name}: pyarrow reads ${parquet.arrowTypes[name]}`,
          );
        }
        assert.equal(parquet.pandasMatchesPyarrow, true);
        assert.equal(parquet.distinctTargetStoreIds <= targets, true);
        assert.equal(parquet.distinctCreativePackIds <= creatives, true);
        assert.equal(
          parquet.digest,
          ours.rowDigest.parquet,
          'pandas sees other rows than our reader',
        );

        if (
          args.includes('parquet') &&
          !args.includes('tfrecord') &&
          args.includes('--formats')
        ) {
          assert.equal(report.tfrecord, null);
        } else {
          const tfrecord = report.tfrecord;
          assert.ok(tfrecord, 'TensorFlow read no TFRecord file');
          assert.equal(tfrecord.compression, gzip ? 'GZIP' : 'NONE');
          assert.equal(tfrecord.rows, rows);
          assert.deepEqual(
            tfrecord.tfTypes,
            Object.fromEntries(COLUMNS.map(c => [c.name, c.type.tf.dtype])),
          );
          assert.deepEqual(
            tfrecord.featureKinds,
            Object.fromEntries(COLUMNS.map(c => [c.name, c.type.tf.kind])),
          );
          assert.equal(
            tfrecord.digest,
            parquet.digest,
            'row i differs between the formats',
          );
          assert.equal(tfrecord.positives, parquet.positives);
          assert.equal(report.formatsAgree, true);
        }
        assert.equal(report.creativeCheck.unknownCreativeRows, 0);
        assert.equal(report.creativeCheck.targetMismatchRows, 0);
        assert.equal(report.creativeCheck.allWithinBound, true);
      });
    }
  },
);
