/**
 * Sharded datasets as their users read them: the shard list through pandas,
 * pyarrow.dataset, DuckDB (when the venv has it) and tf.data, against the
 * single file of the same inputs read by the same tools.
 */
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {COLUMNS} from '../../shared/formats/row-schema.js';
import {projectPython, REPO_ROOT, runPythonJson} from '../support/python.js';
import {rowSchemaFile} from '../support/row-schema-file.js';

interface ShardsReport {
  parquet: {
    files: number;
    globMatchesMetadata: boolean;
    pandasRows: number;
    pandasDtypes: Record<string, string>;
    pandasDigest: string;
    datasetRows: number;
    datasetDigest: string;
    shardDigests: string[];
    duckdb: {rows: number; digest: string} | null;
  } | null;
  tfrecord: {
    files: number;
    compression: string;
    rows: number;
    positives: number;
    digest: string;
    parallelRows: number;
    parallelPositives: number;
  } | null;
}

interface SingleReport {
  parquet: {digest: string; rows: number; positives: number};
  tfrecord: {digest: string; rows: number; positives: number} | null;
}

const scratch = mkdtempSync(join(tmpdir(), 'exploration-interop-shards-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

function cli(...args: string[]): string {
  return execFileSync(
    process.execPath,
    [`${REPO_ROOT}build/cli/main.js`, ...args],
    {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']},
  );
}

describe(
  'sharded datasets through pandas, pyarrow.dataset, DuckDB and tf.data',
  {timeout: 20 * 60_000},
  () => {
    before(() => {
      projectPython();
    });

    const cases: Array<[string, string[], number, boolean]> = [
      [
        '4 shards over 250,000 rows',
        ['--samples', '250000', '--seed', '41', '--shards', '4'],
        4,
        false,
      ],
      [
        '3 shards, GZIP TFRecord',
        [
          '--samples',
          '300000',
          '--seed',
          '42',
          '--shards',
          '3',
          '--tfrecord-compression',
          'gzip',
        ],
        3,
        true,
      ],
    ];
    for (const [name, args, shards, gzip] of cases) {
      it(name, () => {
        const base = join(scratch, name.replace(/[^a-z0-9]+/gi, '-'));
        const single = join(base, 'single');
        const sharded = join(base, 'sharded');
        const noShardArgs = args
          .slice(0, args.indexOf('--shards'))
          .concat(args.slice(args.indexOf('--shards') + 2));
        cli('generate', '--out', single, '--json', ...noShardArgs);
        cli('generate', '--out', sharded, '--json', '--workers', '2', ...args);
        const verify = JSON.parse(cli('verify', sharded, '--json')) as {
          ok: boolean;
          shardRowDigests: {parquet: string[]};
        };
        assert.equal(verify.ok, true);

        const reference = runPythonJson<SingleReport>(
          'test/interop/read_dataset.py',
          [
            single,
            '1',
            '--schema',
            rowSchemaFile(),
            ...(gzip ? ['--gzip'] : []),
            '--no-per-creative',
          ],
        );
        const report = runPythonJson<ShardsReport>(
          'test/interop/read_shards.py',
          [
            sharded,
            '1',
            '--schema',
            rowSchemaFile(),
            ...(gzip ? ['--gzip'] : []),
          ],
        );
        const rows = reference.parquet.rows;
        const parquet = report.parquet;
        assert.ok(parquet);
        assert.equal(parquet.files, shards);
        assert.equal(parquet.globMatchesMetadata, true);
        assert.equal(parquet.pandasRows, rows);
        for (const column of COLUMNS) {
          assert.ok(
            column.type.pandasDtypes.includes(
              parquet.pandasDtypes[column.name],
            ),
            `${column.name}: pandas reads ${parquet.pandasDtypes[column.name]}`,
          );
        }
        assert.equal(parquet.pandasDigest, reference.parquet.digest);
        assert.equal(parquet.datasetRows, rows);
        assert.equal(parquet.datasetDigest, reference.parquet.digest);
        // our verify's per-shard digests are the same definition
        assert.deepEqual(parquet.shardDigests, verify.shardRowDigests.parquet);
        if (parquet.duckdb) {
          assert.equal(parquet.duckdb.rows, rows);
          assert.equal(parquet.duckdb.digest, reference.parquet.digest);
        }

        const tfrecord = report.tfrecord;
        assert.ok(tfrecord && reference.tfrecord);
        assert.equal(tfrecord.files, shards);
        assert.equal(tfrecord.compression, gzip ? 'GZIP' : 'NONE');
        assert.equal(tfrecord.rows, rows);
        assert.equal(tfrecord.digest, reference.tfrecord.digest);
        assert.equal(tfrecord.digest, reference.parquet.digest);
        assert.equal(tfrecord.parallelRows, rows);
        assert.equal(tfrecord.parallelPositives, reference.tfrecord.positives);
      });
    }
  },
);
