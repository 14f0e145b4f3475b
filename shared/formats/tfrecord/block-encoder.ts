/**
 * Encodes blocks of rows as TFRecord bytes by copying prebuilt records.
 *
 * One framed record per creative pack (protobufjs + CRC-32C), built from the
 * row schema with label 0; the record with label 1 differs only in that
 * byte and in the payload CRC, kept apart. A row costs one copy of the
 * record, plus a 5-byte patch when labelled 1. Every value of a `creative`
 * or `label` column has one length, so without `row` columns every record
 * of a dataset has the same length R (example-size.ts).
 *
 * A `row` column (a per-row value: a propensity per epoch, an epoch) is
 * checked per row against the value the creative's record holds; when it
 * differs the record is patched in place (value bytes and both CRCs), or
 * rebuilt when the value's encoded length changes. Values that change
 * rarely (per block) so cost one compare per row.
 *
 * The copy is the hot loop. For up to WORD_TABLE_MAX_CREATIVES creatives it
 * is done in 32-bit words: each record is kept at the four byte alignments a
 * row can start at, so a row is ~R/4 word stores (the first one OR-ed into
 * the word it shares with the row before). Past that the tables would take
 * too much memory, and each row is one Buffer.copy.
 */
import type {DatasetModel} from '../../dataset/model.js';
import type {RowBlock} from '../../dataset/rows.js';
import {crc32c, maskCrc, unmaskCrc} from '../crc32c.js';
import {
  BASE_SCHEMA,
  perRowArray,
  rowField,
  type Column,
  type RowMaker,
  type RowSchema,
} from '../row-schema.js';
import {encodeExample} from './example.js';
import {exampleLayout, tfrecordRecordBytes} from './example-size.js';
import {FOOTER_BYTES, frameRecord, HEADER_BYTES} from './framing.js';

/** 4 alignments x ~R bytes per creative: 64k creatives take ~32 MB. */
export const WORD_TABLE_MAX_CREATIVES = 65_536;

export interface TfrecordEncoderOptions {
  /** the dataset's columns (default: a dataset without a logging policy) */
  schema?: RowSchema;
  wordTableMaxCreatives?: number;
}

/**
 * Each creative's framed record with label 0, the masked payload CRC of its
 * label-1 twin, and (when there are few enough creatives) the records at the
 * four alignments as words.
 */
class RecordTable {
  readonly records: Buffer;
  readonly labelOneCrc: Uint32Array;
  /** words per aligned record */
  readonly words: number;
  readonly wordTable: Uint32Array | undefined;
  private readonly wordBytes: Uint8Array | undefined;

  constructor(
    nCreatives: number,
    /** bytes per record slot: the longest record */
    readonly stride: number,
    zeroed: boolean,
    wordTableMaxCreatives: number,
  ) {
    this.records = zeroed
      ? Buffer.alloc(nCreatives * stride)
      : Buffer.allocUnsafe(nCreatives * stride);
    this.labelOneCrc = new Uint32Array(nCreatives);
    this.words = Math.ceil((3 + stride) / 4);
    if (nCreatives <= wordTableMaxCreatives) {
      this.wordTable = new Uint32Array(nCreatives * 4 * this.words);
      this.wordBytes = new Uint8Array(this.wordTable.buffer);
    }
  }

  /** Sets creative c's record (label 0) and the CRC of the one with label 1. */
  set(c: number, record: Uint8Array, labelOneCrc: number): void {
    const at = c * this.stride;
    if (record.length < this.stride)
      this.records.fill(0, at + record.length, at + this.stride);
    this.records.set(record, at);
    this.labelOneCrc[c] = labelOneCrc;
    this.align(c);
  }

  /** Copies bytes [from, to) of creative c's record into its four aligned slots. */
  alignBytes(c: number, from: number, to: number): void {
    const bytes = this.wordBytes;
    if (!bytes) return;
    const slot = this.words * 4;
    const records = this.records;
    const base = c * this.stride;
    for (let phase = 0; phase < 4; phase++) {
      const at = (c * 4 + phase) * slot + phase;
      for (let k = from; k < to; k++) bytes[at + k] = records[base + k];
    }
  }

  /** Copies creative c's record into its four aligned slots of the word table. */
  align(c: number): void {
    const bytes = this.wordBytes;
    if (!bytes) return;
    const slot = this.words * 4;
    const record = this.records.subarray(
      c * this.stride,
      (c + 1) * this.stride,
    );
    for (let phase = 0; phase < 4; phase++) {
      const at = (c * 4 + phase) * slot;
      if (phase > 0) bytes.fill(0, at, at + phase);
      bytes.fill(0, at + phase + record.length, at + slot);
      bytes.set(record, at + phase);
    }
  }
}

export class TfrecordBlockEncoder {
  /** bytes of a record as built at construction (every record's, without `row` columns) */
  readonly recordBytes: number;
  /** bytes the longest record can take */
  readonly maxRecordBytes: number;
  private readonly table: RecordTable;
  /** where the label's varint byte sits inside a record */
  private readonly labelOffset: number;
  /** the `row` columns' state, when the schema has any */
  private readonly rowColumns: RowColumnRecords | undefined;

  constructor(model: DatasetModel, options: TfrecordEncoderOptions = {}) {
    const schema = options.schema ?? BASE_SCHEMA;
    const nCreatives = model.creativeIds.length;
    const rows = schema.rowMaker(model);
    const rowOf = rows.rowOf;
    const build = (c: number, label: number): Uint8Array =>
      encodeExample(rowOf(c, label), schema);
    const zero = build(0, 0);
    const one = build(0, 1);
    this.labelOffset = HEADER_BYTES + differingByte(zero, one);
    this.recordBytes = HEADER_BYTES + zero.length + FOOTER_BYTES;
    if (this.recordBytes !== tfrecordRecordBytes(schema, rowOf(0, 1))) {
      throw new Error(
        `TFRecord record of ${this.recordBytes} bytes, the row schema says ${tfrecordRecordBytes(schema, rowOf(0, 1))}`,
      );
    }
    const widest = schema.rowColumns.map(
      c => (c.type.numeric as {widest: number}).widest,
    );
    this.maxRecordBytes = Math.max(
      this.recordBytes,
      tfrecordRecordBytes(schema, rowOf(0, 1, widest)),
    );
    this.table = new RecordTable(
      nCreatives,
      this.maxRecordBytes,
      this.maxRecordBytes !== this.recordBytes,
      options.wordTableMaxCreatives ?? WORD_TABLE_MAX_CREATIVES,
    );
    for (let c = 0; c < nCreatives; c++) {
      const payload = c === 0 ? zero : build(c, 0);
      if (payload.length + HEADER_BYTES + FOOTER_BYTES !== this.recordBytes) {
        throw new Error(
          `TFRecord records must share one length; creative ${c} has ${payload.length} payload bytes, expected ${zero.length}`,
        );
      }
      const record = frameRecord(payload);
      payload[this.labelOffset - HEADER_BYTES] = 1;
      this.table.set(c, record, maskCrc(crc32c(payload)));
    }
    if (schema.rowColumns.length > 0) {
      this.rowColumns = new RowColumnRecords(schema, rows, this.table, {
        recordBytes: this.recordBytes,
        labelOffset: this.labelOffset,
      });
    }
  }

  /** Bytes a buffer needs for a block of `rows` rows (word stores may run 4 bytes past the end). */
  bytesFor(rows: number): number {
    return rows * this.maxRecordBytes + this.table.words * 4;
  }

  /**
   * Writes the block's records, in order, into `out` (4-byte aligned, at
   * least bytesFor(block.count) long); returns the part holding the records.
   */
  encode(block: RowBlock, out: Buffer): Buffer {
    if (out.length < this.bytesFor(block.count)) {
      throw new RangeError(
        `TFRecord block needs ${this.bytesFor(block.count)} bytes, buffer has ${out.length}`,
      );
    }
    if (this.rowColumns) return this.rowColumns.encode(block, out);
    const size = this.recordBytes;
    const creative = block.creative;
    const label = block.label;
    const labelOffset = this.labelOffset;
    const crcOffset = size - FOOTER_BYTES;
    const labelOneCrc = this.table.labelOneCrc;
    const table = this.table.wordTable;
    const count = block.count;
    let o = 0;
    if (table && out.byteOffset % 4 === 0) {
      const words = this.table.words;
      const out32 = new Uint32Array(
        out.buffer,
        out.byteOffset,
        out.length >>> 2,
      );
      for (let i = 0; i < count; i++) {
        const c = creative[i];
        const phase = o & 3;
        let from = (c * 4 + phase) * words;
        let w = o >>> 2;
        // the first word may hold the end of the previous row
        if (phase === 0) out32[w] = table[from];
        else out32[w] |= table[from];
        const end = from + words;
        for (from++, w++; from < end; from++, w++) out32[w] = table[from];
        if (label[i] === 1) {
          out[o + labelOffset] = 1;
          out.writeUInt32LE(labelOneCrc[c], o + crcOffset);
        }
        o += size;
      }
    } else {
      const records = this.table.records;
      const stride = this.table.stride;
      for (let i = 0; i < count; i++) {
        const c = creative[i];
        const from = c * stride;
        records.copy(out, o, from, from + size);
        if (label[i] === 1) {
          out[o + labelOffset] = 1;
          out.writeUInt32LE(labelOneCrc[c], o + crcOffset);
        }
        o += size;
      }
    }
    return out.subarray(0, o);
  }
}

/**
 * The records of a schema with `row` columns: which value each creative's
 * record holds for each of them, each record's length and where its label
 * and values sit, and the patching when a row's values differ.
 */
class RowColumnRecords {
  private readonly columns: readonly Column[];
  private readonly fields: string[];
  /** per row column: its index among the schema's columns */
  private readonly columnIndex: number[];
  private readonly labelIndex: number;
  /** per row column: the value each creative's record holds */
  private readonly current: Float64Array[];
  /** per row column: where its value bytes start in each creative's record, and how many */
  private readonly valueAt: Int32Array[];
  private readonly valueBytes: Int32Array[];
  /** per creative: its record's length and its label byte's offset */
  private readonly lengths: Int32Array;
  private readonly labelAt: Int32Array;
  /**
   * per creative: the unmasked payload CRC of label 1 XOR that of label 0.
   * CRCs of equal-length messages are affine, so it depends only on the
   * length and the label's offset: a patch keeps it, and needs one CRC.
   */
  private readonly labelDelta: Uint32Array;
  /** scratch: the values being written */
  private readonly values: number[];

  constructor(
    private readonly schema: RowSchema,
    private readonly rows: RowMaker,
    private readonly table: RecordTable,
    built: {recordBytes: number; labelOffset: number},
  ) {
    const nCreatives = table.labelOneCrc.length;
    this.columns = schema.rowColumns;
    this.fields = this.columns.map(rowField);
    this.columnIndex = this.columns.map(c => schema.columns.indexOf(c));
    this.labelIndex = schema.columns.findIndex(c => c.source.from === 'label');
    const samples = this.columns.map(c => c.sample as number);
    const layout = exampleLayout(rows.rowOf(0, 0), schema);
    if (
      HEADER_BYTES + layout.valueOffsets[this.labelIndex] !==
      built.labelOffset
    )
      throw new Error('TFRecord: the label byte is not where the layout says');
    this.current = samples.map(v => new Float64Array(nCreatives).fill(v));
    this.valueAt = this.columnIndex.map(k =>
      new Int32Array(nCreatives).fill(HEADER_BYTES + layout.valueOffsets[k]),
    );
    this.valueBytes = this.columns.map((c, j) =>
      new Int32Array(nCreatives).fill(c.type.featureBytes(samples[j])),
    );
    this.lengths = new Int32Array(nCreatives).fill(built.recordBytes);
    this.labelAt = new Int32Array(nCreatives).fill(built.labelOffset);
    this.labelDelta = new Uint32Array(nCreatives).fill(
      this.deltaOf(0, built.recordBytes, built.labelOffset),
    );
    this.values = samples.slice();
  }

  encode(block: RowBlock, out: Buffer): Buffer {
    const {records, labelOneCrc, stride, wordTable, words} = this.table;
    const arrays = this.fields.map(f => perRowArray(block, f));
    const current = this.current;
    const k = arrays.length;
    const lengths = this.lengths;
    const labelAt = this.labelAt;
    const creative = block.creative;
    const label = block.label;
    const count = block.count;
    const out32 =
      wordTable && out.byteOffset % 4 === 0
        ? new Uint32Array(out.buffer, out.byteOffset, out.length >>> 2)
        : undefined;
    let o = 0;
    for (let i = 0; i < count; i++) {
      const c = creative[i];
      for (let j = 0; j < k; j++) {
        const v = arrays[j][i];
        const held = current[j][c];
        // -0 and 0 are === but encode differently
        if (v !== held || (v === 0 && 1 / v !== 1 / held)) {
          this.refresh(c, arrays, i);
          break;
        }
      }
      const size = lengths[c];
      if (out32 && wordTable) {
        const phase = o & 3;
        let from = (c * 4 + phase) * words;
        let w = o >>> 2;
        if (phase === 0) out32[w] = wordTable[from];
        else out32[w] |= wordTable[from];
        const end = from + words;
        for (from++, w++; from < end; from++, w++) out32[w] = wordTable[from];
      } else {
        records.copy(out, o, c * stride, c * stride + size);
      }
      if (label[i] === 1) {
        out[o + labelAt[c]] = 1;
        out.writeUInt32LE(labelOneCrc[c], o + size - FOOTER_BYTES);
      }
      o += size;
    }
    return out.subarray(0, o);
  }

  /**
   * Makes creative c's record hold row i's `row` values: their bytes written
   * in place when every one keeps its encoded length (then the payload CRC,
   * and the label-1 CRC from it), else the record is encoded again.
   */
  private refresh(
    c: number,
    arrays: ReadonlyArray<Float64Array | Int32Array>,
    i: number,
  ): void {
    const {records, stride} = this.table;
    const values = this.values;
    let sameLengths = true;
    for (let j = 0; j < arrays.length; j++) {
      values[j] = arrays[j][i];
      const bytes = this.columns[j].type.featureBytes(values[j]);
      if (bytes !== this.valueBytes[j][c]) sameLengths = false;
    }
    for (let j = 0; j < values.length; j++) this.current[j][c] = values[j];
    const base = c * stride;
    if (!sameLengths) {
      this.rebuild(c, values);
      return;
    }
    for (let j = 0; j < values.length; j++) {
      const at = this.valueAt[j][c];
      const numeric = this.columns[j].type.numeric;
      numeric?.writeFeature(values[j], records, base + at);
      this.table.alignBytes(c, at, at + this.valueBytes[j][c]);
    }
    const end = this.lengths[c] - FOOTER_BYTES;
    const crc = crc32c(records.subarray(base + HEADER_BYTES, base + end));
    records.writeUInt32LE(maskCrc(crc), base + end);
    this.table.alignBytes(c, end, end + FOOTER_BYTES);
    this.table.labelOneCrc[c] = maskCrc((crc ^ this.labelDelta[c]) >>> 0);
  }

  /** Encodes creative c's record again with these `row` values (a length changed). */
  private rebuild(c: number, values: readonly number[]): void {
    const row = this.rows.rowOf(c, 0, values);
    const payload = encodeExample(row, this.schema);
    const layout = exampleLayout(row, this.schema);
    if (layout.bytes !== payload.length)
      throw new Error(
        `TFRecord: Example of ${payload.length} bytes, the layout says ${layout.bytes}`,
      );
    const record = frameRecord(payload);
    const labelAt = HEADER_BYTES + layout.valueOffsets[this.labelIndex];
    this.lengths[c] = record.length;
    this.labelAt[c] = labelAt;
    for (let j = 0; j < values.length; j++) {
      const k = this.columnIndex[j];
      this.valueAt[j][c] = HEADER_BYTES + layout.valueOffsets[k];
      this.valueBytes[j][c] = this.columns[j].type.featureBytes(values[j]);
    }
    payload[labelAt - HEADER_BYTES] = 1;
    this.table.set(c, record, maskCrc(crc32c(payload)));
    this.labelDelta[c] = this.deltaOf(c, record.length, labelAt);
  }

  /** labelDelta of creative c's record as the table holds it. */
  private deltaOf(c: number, length: number, labelAt: number): number {
    const {records, stride, labelOneCrc} = this.table;
    const base = c * stride;
    const zero = crc32c(
      records.subarray(base + HEADER_BYTES, base + length - FOOTER_BYTES),
    );
    if (records[base + labelAt] !== 0)
      throw new Error('TFRecord: a record in the table has label 1');
    return (zero ^ unmaskCrc(labelOneCrc[c])) >>> 0;
  }
}

function differingByte(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) {
    throw new Error('examples with label 0 and 1 must have the same length');
  }
  let found = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      if (found !== -1) throw new Error('examples must differ in one byte');
      found = i;
    }
  }
  if (found === -1) throw new Error('examples with label 0 and 1 are equal');
  return found;
}
