/**
 * Streams the dataset's Parquet file: the REQUIRED columns of the row schema
 * (row-schema.ts), each dictionary-encoded (RLE_DICTIONARY data pages over a
 * PLAIN dictionary page), Snappy-compressed, in row groups of ROW_GROUP_ROWS
 * rows.
 *
 * Every column's value is a dictionary index already (its source in the row
 * schema: a function of the creative c, or the label 0/1), so the hot path
 * only copies and bit-packs integers. Page headers, the dictionary pages,
 * Snappy and the Thrift footer come from hyparquet-writer
 * (docs/parquet-writer.md says why not its whole-column writer).
 */
import type {
  ColumnChunk,
  ColumnMetaData,
  FileMetaData,
  ParquetType,
  RowGroup,
  SchemaElement,
} from 'hyparquet';
import {ByteWriter} from 'hyparquet-writer';
import {writePageHeader} from 'hyparquet-writer/src/datapage.js';
import {writeMetadata} from 'hyparquet-writer/src/metadata.js';
import {writePlain} from 'hyparquet-writer/src/plain.js';
import {snappyCompress} from 'hyparquet-writer/src/snappy.js';
import type {DatasetModel} from '../../dataset/model.js';
import {
  BASE_SCHEMA,
  perRowArray,
  type Column,
  type RowSchema,
  type RowSchemaConfig,
} from '../row-schema.js';
import type {RowBlock} from '../../dataset/rows.js';
import {bitWidthFor, encodeDictionaryIndices} from './bit-pack.js';
import {ValueDictionary} from './value-dictionary.js';

export const ROW_GROUP_ROWS = 1 << 20;
export const PAGE_ROWS = 1 << 17;
const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

/** A dataset's Parquet schema, derived from its row schema (row-schema.ts). */
export function parquetSchema(schema: RowSchema): SchemaElement[] {
  return [
    {name: 'schema', num_children: schema.columns.length},
    ...schema.columns.map((c): SchemaElement => ({
      name: c.name,
      type: c.type.parquet.type,
      repetition_type: c.repetition,
      ...(c.type.parquet.convertedType && {
        converted_type: c.type.parquet.convertedType,
      }),
      ...(c.type.parquet.logicalType && {
        logical_type: c.type.parquet.logicalType,
      }),
    })),
  ];
}

type ParquetValue = string | bigint | number;

/** A column as the writer sees it: its dictionary and each row's index into it. */
interface DictionaryColumn {
  name: string;
  type: ParquetType;
  /** the values the indices point at (a `row` column's: this row group's) */
  dictionary: ArrayLike<unknown>;
  toParquet: (value: unknown) => ParquetValue;
  /** per row: the dictionary index (filled per row group) */
  indices: Int32Array | Uint8Array;
  /** copies rows [from, from + count) of a block to indices[to ...] */
  fill(block: RowBlock, from: number, count: number, to: number): void;
  /** after a row group is written (a `row` column starts a new dictionary) */
  reset?(): void;
}

/**
 * Builds a column's dictionary and its per-row copy from the column's
 * source, once per writer, so that push() runs one tight typed-array loop
 * per column.
 */
function dictionaryColumn(
  column: Column,
  model: DatasetModel,
  config: RowSchemaConfig,
  rowGroupRows: number,
): DictionaryColumn {
  const base = {
    name: column.name,
    type: column.type.parquet.type,
    toParquet: (value: unknown) => column.type.toParquet(value),
  };
  const source = column.source;
  if (source.from === 'label') {
    const indices = new Uint8Array(rowGroupRows);
    return {
      ...base,
      dictionary: source.dictionary,
      indices,
      fill: (block, from, count, to) =>
        indices.set(block.label.subarray(from, from + count), to),
    };
  }
  const indices = new Int32Array(rowGroupRows);
  if (source.from === 'row') {
    const values = new ValueDictionary();
    // Per creative, this row group's dictionary index of the value the
    // block's perCreative function gives it (-1: not met yet); valid while
    // that function is the same array.
    const byCreative = new Int32Array(model.creativeIds.length).fill(-1);
    let memoOf: Float64Array | undefined;
    return {
      ...base,
      get dictionary() {
        return values.values();
      },
      indices,
      fill: (block, from, count, to) => {
        const perRow = perRowArray(block, source.field);
        const ofCreative = block.perCreative?.[source.field];
        if (!ofCreative) {
          values.indexAll(perRow, from, count, indices, to);
          return;
        }
        if (ofCreative !== memoOf) {
          byCreative.fill(-1);
          memoOf = ofCreative;
        }
        // The same first-met order as indexAll: the same dictionary, the same bytes.
        const creative = block.creative;
        for (let k = from, o = to; k < from + count; k++, o++) {
          const c = creative[k];
          let index = byCreative[c];
          if (index < 0) {
            index = values.index(ofCreative[c]);
            byCreative[c] = index;
          }
          indices[o] = index;
        }
      },
      reset: () => {
        values.clear();
        byCreative.fill(-1);
        memoOf = undefined;
      },
    };
  }
  const index = source.indexByCreative?.(model, config);
  return {
    ...base,
    dictionary: source.dictionary(model, config),
    indices,
    fill: index
      ? (block, from, count, to) => {
          const creative = block.creative;
          for (let k = from, o = to; k < from + count; k++, o++)
            indices[o] = index[creative[k]];
        }
      : (block, from, count, to) =>
          indices.set(block.creative.subarray(from, from + count), to),
  };
}

export interface ParquetWriterOptions {
  createdBy: string;
  /** the dataset's columns (default: a dataset without a logging policy) */
  schema?: RowSchema;
  rowGroupRows?: number;
  pageRows?: number;
}

export class ParquetDatasetWriter {
  private readonly rowGroupRows: number;
  private readonly pageRows: number;
  private readonly createdBy: string;
  private readonly schema: SchemaElement[];
  private readonly columns: DictionaryColumn[];
  private buffered = 0;
  private offset = 0;
  private totalRows = 0;
  private readonly rowGroups: RowGroup[] = [];

  constructor(model: DatasetModel, options: ParquetWriterOptions) {
    this.rowGroupRows = options.rowGroupRows ?? ROW_GROUP_ROWS;
    this.pageRows = options.pageRows ?? PAGE_ROWS;
    if (this.pageRows % 8 !== 0)
      throw new RangeError('pageRows must be a multiple of 8');
    this.createdBy = options.createdBy;
    const schema = options.schema ?? BASE_SCHEMA;
    this.schema = parquetSchema(schema);
    this.columns = schema.columns.map(c =>
      dictionaryColumn(c, model, schema.config, this.rowGroupRows),
    );
  }

  /**
   * The file's first bytes. A writer may write several files one after
   * another (the shards of one writer): start() begins the next, and the
   * column buffers are reused.
   */
  start(): Uint8Array[] {
    for (const column of this.columns) column.reset?.();
    this.buffered = 0;
    this.totalRows = 0;
    this.rowGroups.length = 0;
    this.offset = MAGIC.length;
    return [MAGIC];
  }

  /** Takes a block of rows; returns the bytes of any row group it completed. */
  push(block: RowBlock): Uint8Array[] {
    const out: Uint8Array[] = [];
    const columns = this.columns;
    let i = 0;
    while (i < block.count) {
      const take = Math.min(block.count - i, this.rowGroupRows - this.buffered);
      for (const column of columns) column.fill(block, i, take, this.buffered);
      this.buffered += take;
      i += take;
      if (this.buffered === this.rowGroupRows)
        out.push(...this.flushRowGroup());
    }
    return out;
  }

  /** The last row group and the footer. */
  finish(): Uint8Array[] {
    const out = this.buffered > 0 ? this.flushRowGroup() : [];
    const footer = new ByteWriter();
    const metadata: Omit<FileMetaData, 'metadata_length'> = {
      version: 2,
      schema: this.schema,
      num_rows: BigInt(this.totalRows),
      row_groups: this.rowGroups,
      created_by: this.createdBy,
    };
    writeMetadata(footer, metadata as FileMetaData, Infinity);
    footer.appendBytes(MAGIC);
    out.push(footer.getBytes());
    this.offset += footer.offset;
    return out;
  }

  private flushRowGroup(): Uint8Array[] {
    const rows = this.buffered;
    const groupStart = this.offset;
    const chunks: Uint8Array[] = [];
    const columnChunks: ColumnChunk[] = [];
    let uncompressedTotal = 0;
    for (const column of this.columns) {
      const {bytes, chunk, uncompressed} = this.encodeColumn(column, rows);
      chunks.push(...bytes);
      columnChunks.push(chunk);
      uncompressedTotal += uncompressed;
      column.reset?.();
    }
    this.rowGroups.push({
      columns: columnChunks,
      total_byte_size: BigInt(uncompressedTotal),
      num_rows: BigInt(rows),
      file_offset: BigInt(groupStart),
      total_compressed_size: BigInt(this.offset - groupStart),
    });
    this.totalRows += rows;
    this.buffered = 0;
    return chunks;
  }

  private encodeColumn(
    column: DictionaryColumn,
    rows: number,
  ): {bytes: Uint8Array[]; chunk: ColumnChunk; uncompressed: number} {
    // The chunk's dictionary holds exactly the values its rows use, in model order.
    const used = new Uint8Array(column.dictionary.length);
    const indices = column.indices;
    for (let i = 0; i < rows; i++) used[indices[i]] = 1;
    const remap = new Int32Array(column.dictionary.length);
    const values: ParquetValue[] = [];
    for (let d = 0; d < used.length; d++) {
      if (used[d]) {
        remap[d] = values.length;
        values.push(column.toParquet(column.dictionary[d]));
      }
    }
    const bitWidth = bitWidthFor(values.length);
    const chunkStart = this.offset;
    const bytes: Uint8Array[] = [];
    let uncompressed = 0;
    const emit = (
      page: Uint8Array,
      header: Parameters<typeof writePageHeader>[1],
    ) => {
      const headerWriter = new ByteWriter();
      writePageHeader(headerWriter, header);
      const headerBytes = headerWriter.getBytes().slice();
      bytes.push(headerBytes, page);
      uncompressed += headerBytes.length + header.uncompressed_page_size;
      this.offset += headerBytes.length + page.length;
    };

    const plain = new ByteWriter();
    writePlain(
      plain,
      values as string[] | bigint[] | number[],
      column.type,
      undefined,
    );
    const dictionaryRaw = plain.getBytes();
    const dictionaryPage = snappyCompress(dictionaryRaw);
    const dictionaryOffset = this.offset;
    emit(dictionaryPage, {
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: dictionaryRaw.length,
      compressed_page_size: dictionaryPage.length,
      dictionary_page_header: {num_values: values.length, encoding: 'PLAIN'},
    });

    const dataOffset = this.offset;
    for (let from = 0; from < rows; from += this.pageRows) {
      const count = Math.min(this.pageRows, rows - from);
      const raw = encodeDictionaryIndices(
        indices,
        from,
        count,
        remap,
        bitWidth,
      );
      const page = snappyCompress(raw);
      emit(page, {
        type: 'DATA_PAGE',
        uncompressed_page_size: raw.length,
        compressed_page_size: page.length,
        data_page_header: {
          num_values: count,
          encoding: 'RLE_DICTIONARY',
          definition_level_encoding: 'RLE',
          repetition_level_encoding: 'RLE',
        },
      });
    }

    const metaData: ColumnMetaData = {
      type: column.type,
      encodings: ['PLAIN', 'RLE', 'RLE_DICTIONARY'],
      path_in_schema: [column.name],
      codec: 'SNAPPY',
      num_values: BigInt(rows),
      total_uncompressed_size: BigInt(uncompressed),
      total_compressed_size: BigInt(this.offset - chunkStart),
      data_page_offset: BigInt(dataOffset),
      dictionary_page_offset: BigInt(dictionaryOffset),
      statistics: {
        null_count: 0n,
        distinct_count: BigInt(values.length),
        // Dictionary order is model order, not sort order: take the extremes.
        min_value: extreme(values, -1),
        max_value: extreme(values, 1),
      },
    };
    return {
      bytes,
      chunk: {file_offset: BigInt(chunkStart), meta_data: metaData},
      uncompressed,
    };
  }
}

/** The least (sign -1) or greatest value; NaN is no candidate (the Parquet spec). */
function extreme(
  values: ParquetValue[],
  sign: 1 | -1,
): ParquetValue | undefined {
  let best: ParquetValue | undefined;
  for (const value of values) {
    if (value !== value) continue; // NaN
    if (
      best === undefined ||
      (sign > 0 && value > best) ||
      (sign < 0 && value < best)
    )
      best = value;
  }
  return best;
}
