/**
 * A worker thread of verify's second pass over an adaptive log
 * (adaptive-runs.ts): reads a run of consecutive files in order, as one
 * stream of rows, through the adaptive row check.
 */
import {readParquetRows} from '../../formats/parquet/parquet-rows.js';
import {rowSchemaFor} from '../../formats/row-schema.js';
import {readTfrecordRows} from '../../formats/tfrecord/tfrecord-rows.js';
import {serveTasks} from '../../parallel/serve-tasks.js';
import type {AdaptiveRunTask} from './adaptive-runs.js';
import {rowCheckFor, type AdaptiveRowsResult} from './row-checks.js';

serveTasks<AdaptiveRunTask, AdaptiveRowsResult, never>(async task => {
  const schema = rowSchemaFor(task.schemaConfig);
  const check = rowCheckFor(task.check);
  for (const path of task.paths) {
    // the first pass read every file whole, so these read too
    if (path.endsWith('.parquet')) await readParquetRows(path, schema, check);
    else await readTfrecordRows(path, schema, check);
  }
  return check.result() as AdaptiveRowsResult;
});
