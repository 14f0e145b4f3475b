/**
 * Reads a dataset's Parquet file with hyparquet, an independent reader, one
 * row group at a time, and checks its columns against the row schema.
 */
import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetRead,
} from 'hyparquet';
import {DataLossError} from '../../errors.js';
import {
  BASE_SCHEMA,
  CREATIVE_PACK_ID,
  LABEL,
  TARGET_STORE_ID,
  type RowSchema,
} from '../row-schema.js';
import {RowCollector, type RowsSummary} from '../../storage/sinks/row-sink.js';
import type {RowObserver} from '../row-observer.js';

/**
 * Reads the file as a dataset with `schema`'s columns (rowSchemaFor its
 * config), handing each row to `observer` when given.
 */
export async function readParquetRows(
  path: string,
  schema: RowSchema = BASE_SCHEMA,
  observer?: RowObserver,
): Promise<RowsSummary> {
  const names = schema.names;
  // "name TYPE" of each column, as the row schema declares and the file says
  const expected = schema.columns.map(c => `${c.name} ${c.type.parquet.type}`);
  // each column's digest text of a value as hyparquet hands it over
  const digest = schema.columns.map(c => {
    const {fromParquet, digestText} = c.type;
    return (value: unknown) => digestText(fromParquet(value));
  });
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const found = metadata.schema.slice(1).map(e => `${e.name} ${e.type}`);
  if (found.join(', ') !== expected.join(', ')) {
    throw new DataLossError(
      `${path}: columns are ${found.join(', ')}, expected ${expected.join(', ')}`,
    );
  }
  const collector = new RowCollector();
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const size = rowEnd - rowStart;
    // hyparquet hands columns over in pieces (pages); place each where it belongs.
    const columns = new Map<string, unknown[]>(
      names.map(name => [name, new Array<unknown>(size)]),
    );
    const filled = new Map<string, number>(names.map(name => [name, 0]));
    await parquetRead({
      file,
      metadata,
      rowStart,
      rowEnd,
      onChunk: chunk => {
        const target = columns.get(chunk.columnName);
        if (!target) return;
        const from = Math.max(chunk.rowStart, rowStart);
        const to = Math.min(chunk.rowEnd, rowEnd);
        for (let row = from; row < to; row++) {
          target[row - rowStart] = chunk.columnData[row - chunk.rowStart];
        }
        filled.set(
          chunk.columnName,
          (filled.get(chunk.columnName) ?? 0) + Math.max(0, to - from),
        );
      },
    });
    for (const name of names) {
      if (filled.get(name) !== size) {
        throw new DataLossError(
          `${path}: column ${name} of row group at row ${rowStart} has ${filled.get(name)} of ${size} values`,
        );
      }
    }
    const values = names.map(name => columns.get(name) as unknown[]);
    const target = columns.get(TARGET_STORE_ID.name) as unknown[];
    const creative = columns.get(CREATIVE_PACK_ID.name) as unknown[];
    const label = columns.get(LABEL.name) as unknown[];
    const observed = schema.rowColumns.map(c => ({
      values: columns.get(c.name) as unknown[],
      from: c.type.fromParquet as (value: unknown) => number,
    }));
    const rowValues = observed.map(() => 0);
    for (let i = 0; i < size; i++) {
      let line = digest[0](values[0][i]);
      for (let k = 1; k < values.length; k++)
        line += '\t' + digest[k](values[k][i]);
      collector.addLine(
        line + '\n',
        TARGET_STORE_ID.type.fromParquet(target[i]),
        CREATIVE_PACK_ID.type.fromParquet(creative[i]),
        LABEL.type.fromParquet(label[i]),
      );
      if (observer) {
        for (let k = 0; k < observed.length; k++)
          rowValues[k] = observed[k].from(observed[k].values[i]);
        observer.observe(
          CREATIVE_PACK_ID.type.fromParquet(creative[i]),
          LABEL.type.fromParquet(label[i]),
          rowValues,
        );
      }
    }
    rowStart = rowEnd;
  }
  return collector.summary();
}
