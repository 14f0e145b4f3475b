/**
 * Reads a dataset's Parquet file with hyparquet, an independent reader, one
 * row group at a time, and checks its schema.
 */
import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetRead,
} from 'hyparquet';
import {DataLossError} from '../errors.js';
import {RowCollector, type RowsSummary} from './row-sink.js';

export const COLUMNS = [
  'target_store_id',
  'creative_pack_id',
  'label',
] as const;

export async function readParquetRows(path: string): Promise<RowsSummary> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const names = metadata.schema.slice(1).map(e => e.name);
  if (names.join(',') !== COLUMNS.join(',')) {
    throw new DataLossError(
      `${path}: columns are ${names.join(', ')}, expected ${COLUMNS.join(', ')}`,
    );
  }
  const collector = new RowCollector();
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const size = rowEnd - rowStart;
    // hyparquet hands columns over in pieces (pages); place each where it belongs.
    const columns = new Map<string, unknown[]>(
      COLUMNS.map(name => [name, new Array<unknown>(size)]),
    );
    const filled = new Map<string, number>(COLUMNS.map(name => [name, 0]));
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
    for (const name of COLUMNS) {
      if (filled.get(name) !== size) {
        throw new DataLossError(
          `${path}: column ${name} of row group at row ${rowStart} has ${filled.get(name)} of ${size} values`,
        );
      }
    }
    const target = columns.get('target_store_id') as unknown[];
    const creative = columns.get('creative_pack_id') as unknown[];
    const label = columns.get('label') as unknown[];
    for (let i = 0; i < size; i++) {
      collector.add(String(target[i]), String(creative[i]), Number(label[i]));
    }
    rowStart = rowEnd;
  }
  return collector.summary();
}
