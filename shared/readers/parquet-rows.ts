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
    const columns: Record<string, ArrayLike<unknown>> = {};
    await parquetRead({
      file,
      metadata,
      rowStart,
      rowEnd,
      onChunk: chunk => {
        if (chunk.rowStart !== rowStart || chunk.rowEnd < rowEnd) {
          throw new DataLossError(
            `${path}: unexpected partial column chunk of ${chunk.columnName}`,
          );
        }
        columns[chunk.columnName] = chunk.columnData as ArrayLike<unknown>;
      },
    });
    const target = columns.target_store_id;
    const creative = columns.creative_pack_id;
    const label = columns.label;
    if (!target || !creative || !label)
      throw new DataLossError(`${path}: a column is missing`);
    for (let i = 0; i < rowEnd - rowStart; i++) {
      const value = label[i];
      collector.add(
        String(target[i]),
        String(creative[i]),
        typeof value === 'bigint' ? Number(value) : Number(value),
      );
    }
    rowStart = rowEnd;
  }
  return collector.summary();
}
