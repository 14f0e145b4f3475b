/**
 * The Parquet footer as other readers see it: created_by in the form the
 * Parquet spec recommends (so parquet-mr keeps the statistics), and column
 * statistics that pyarrow and DuckDB both read and that bound the data.
 */
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {
  COLUMN_NAMES,
  CREATIVE_PACK_ID,
  LABEL,
  TARGET_STORE_ID,
} from '../../shared/formats/row-schema.js';
import {
  GENERATOR,
  PARQUET_CREATED_BY,
} from '../../shared/dataset/generator-version.js';
import {projectPython, REPO_ROOT, runPythonJson} from '../support/python.js';

interface ArrowColumn {
  hasMinMax: boolean;
  min: string | number | null;
  max: string | number | null;
  nullCount: number | null;
  dataMin: string | number;
  dataMax: string | number;
}
interface DuckColumn {
  min: string | null;
  max: string | null;
  nullCount: number | null;
}
interface StatisticsReport {
  pyarrow: {
    createdBy: string;
    rowGroups: Array<{rows: number; columns: Record<string, ArrowColumn>}>;
  };
  duckdb: {
    createdBy: string;
    rowGroups: Array<Record<string, DuckColumn>>;
    version: string;
  };
  parquetMr: {
    parsed: boolean;
    keeps: boolean;
    application?: string;
    version?: string;
    build?: string;
  };
}

const scratch = mkdtempSync(join(tmpdir(), 'exploration-parquet-stats-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

describe(
  'Parquet statistics through pyarrow and DuckDB',
  {timeout: 15 * 60_000},
  () => {
    let report: StatisticsReport;

    before(() => {
      projectPython();
      // 1,100,000 rows: two row groups (1,048,576 + 51,424)
      execFileSync(
        process.execPath,
        [
          `${REPO_ROOT}build/cli/main.js`,
          'generate',
          '--samples',
          '1100000',
          '--seed',
          '31',
          '--formats',
          'parquet',
          '--out',
          scratch,
        ],
        {stdio: 'ignore'},
      );
      report = runPythonJson<StatisticsReport>(
        'test/interop/parquet_statistics.py',
        [join(scratch, 'dataset_v1.parquet')],
      );
    });

    it('names the writer in the spec form, and parquet-mr would keep the statistics', () => {
      assert.equal(report.pyarrow.createdBy, PARQUET_CREATED_BY);
      assert.equal(report.duckdb.createdBy, PARQUET_CREATED_BY);
      assert.deepEqual(report.parquetMr, {
        parsed: true,
        keeps: true,
        application: 'exploration-data',
        version: GENERATOR.version,
        build: PARQUET_CREATED_BY.replace(/^.*\(build (.*)\)$/, '$1'),
      });
    });

    it('has min, max and null count in every row group and column, bounding the data (pyarrow)', () => {
      assert.deepEqual(
        report.pyarrow.rowGroups.map(g => g.rows),
        [1_048_576, 51_424],
      );
      for (const [g, group] of report.pyarrow.rowGroups.entries()) {
        assert.deepEqual(Object.keys(group.columns), COLUMN_NAMES);
        for (const [name, column] of Object.entries(group.columns)) {
          const where = `row group ${g}, ${name}`;
          assert.equal(column.hasMinMax, true, where);
          assert.equal(column.nullCount, 0, where);
          assert.ok(column.min !== null && column.max !== null, where);
          assert.ok(
            column.min <= column.dataMin,
            `${where}: min ${column.min} > ${column.dataMin}`,
          );
          assert.ok(
            column.max >= column.dataMax,
            `${where}: max ${column.max} < ${column.dataMax}`,
          );
        }
        assert.deepEqual(
          [group.columns[LABEL.name].min, group.columns[LABEL.name].max],
          [0, 1],
        );
        assert.match(
          String(group.columns[TARGET_STORE_ID.name].min),
          /^target_[a-z]{10}$/,
        );
        assert.match(
          String(group.columns[CREATIVE_PACK_ID.name].max),
          /^creative_[a-z]{10}$/,
        );
      }
    });

    it('gives DuckDB the same statistics as pyarrow', () => {
      assert.equal(
        report.duckdb.rowGroups.length,
        report.pyarrow.rowGroups.length,
      );
      for (const [g, group] of report.duckdb.rowGroups.entries()) {
        for (const name of COLUMN_NAMES) {
          const arrow = report.pyarrow.rowGroups[g].columns[name];
          assert.deepEqual(
            group[name],
            {
              min: String(arrow.min),
              max: String(arrow.max),
              nullCount: 0,
            },
            `row group ${g}, ${name} (DuckDB ${report.duckdb.version})`,
          );
        }
      }
    });
  },
);
