/**
 * A worker thread of verify: reads one data file (a whole dataset's, or a
 * shard), checksums its bytes and reads its rows with an independent reader.
 */
import {createReadStream} from 'node:fs';
import {stat} from 'node:fs/promises';
import {InlineDigester} from '../digest/inline-digester.js';
import {serveTasks} from '../parallel/serve-tasks.js';
import {readParquetRows} from '../formats/parquet/parquet-rows.js';
import {readTfrecordRows} from '../formats/tfrecord/tfrecord-rows.js';
import {rowSchemaFor} from '../formats/row-schema.js';
import type {FileCheckResult, FileCheckTask} from './verify-files.js';
import {rowCheckFor} from './policy/row-checks.js';

/** MD5 only when the metadata records one (docs/design.md §4). */
async function digestsOf(path: string, md5: boolean) {
  const digester = new InlineDigester({md5});
  for await (const chunk of createReadStream(path, {
    highWaterMark: 8 * 1024 * 1024,
  })) {
    await digester.update(chunk as Buffer);
  }
  return digester.digest();
}

serveTasks<FileCheckTask, FileCheckResult, never>(async task => {
  const size = await stat(task.path).then(
    s => s.size,
    () => -1,
  );
  if (size < 0) {
    const {rowCheck: sent, ...file} = task;
    void sent;
    return {...file, size, digests: null, summary: null};
  }
  const schema = rowSchemaFor(task.schemaConfig ?? {});
  const rowCheck = task.rowCheck ? rowCheckFor(task.rowCheck) : undefined;
  const [digests, summary] = await Promise.all([
    digestsOf(task.path, task.object.md5 !== undefined),
    (task.format === 'parquet'
      ? readParquetRows(task.path, schema, rowCheck)
      : readTfrecordRows(task.path, schema, rowCheck)
    ).catch((error: unknown) =>
      // a damaged file is a failed check, not a failed verify
      error instanceof Error ? error.message : String(error),
    ),
  ]);
  // the row check's inputs need not travel back
  const {rowCheck: sent, ...file} = task;
  void sent;
  if (typeof summary === 'string')
    return {...file, size, digests, summary: null, readError: summary};
  return rowCheck
    ? {...file, size, digests, summary, rowCheckResult: rowCheck.result()}
    : {...file, size, digests, summary};
});
