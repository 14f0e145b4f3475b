/**
 * Encodes blocks of rows as TFRecord bytes by copying prebuilt records.
 *
 * Every column of the row schema (row-schema.ts) but the label is a function
 * of the creative pack, every value of a column has one length, and a label
 * is one varint byte, so every record of a dataset has the same length R
 * (example-size.ts). For each creative pack the framed record with label 0
 * is built once from the schema (protobufjs + CRC-32C); the record with
 * label 1 differs only in that byte and in the payload CRC, kept apart.
 * A row then costs one copy of R bytes, plus a 5-byte patch when labelled 1.
 *
 * The copy is the hot loop. For up to WORD_TABLE_MAX_CREATIVES creatives it
 * is done in 32-bit words: each record is kept at the four byte alignments a
 * row can start at, so a row is ~R/4 word stores (the first one OR-ed into
 * the word it shares with the row before). Past that the tables would take
 * too much memory, and each row is one Buffer.copy.
 */
import type {DatasetModel} from '../../dataset/model.js';
import type {RowBlock} from '../../dataset/rows.js';
import {crc32c, maskCrc} from '../crc32c.js';
import {rowMaker} from '../row-schema.js';
import {encodeExample} from './example.js';
import {tfrecordRecordBytes} from './example-size.js';
import {FOOTER_BYTES, frameRecord, HEADER_BYTES} from './framing.js';

/** 4 alignments x ~R bytes per creative: 64k creatives take ~32 MB. */
export const WORD_TABLE_MAX_CREATIVES = 65_536;

export class TfrecordBlockEncoder {
  /** bytes per record */
  readonly recordBytes: number;
  private readonly records: Buffer;
  private readonly labelOneCrc: Uint32Array;
  /** where the label's varint byte sits inside a record */
  private readonly labelOffset: number;
  /** words per aligned record, and the records at alignment 0..3 (or undefined: copy path) */
  private readonly wordsPerRecord: number;
  private readonly wordTable: Uint32Array | undefined;

  constructor(
    model: DatasetModel,
    options: {wordTableMaxCreatives?: number} = {},
  ) {
    const nCreatives = model.creativeIds.length;
    const rowOf = rowMaker(model);
    const build = (c: number, label: number): Uint8Array =>
      encodeExample(rowOf(c, label));
    const zero = build(0, 0);
    const one = build(0, 1);
    this.labelOffset = HEADER_BYTES + differingByte(zero, one);
    this.recordBytes = HEADER_BYTES + zero.length + FOOTER_BYTES;
    if (this.recordBytes !== tfrecordRecordBytes(rowOf(0, 1))) {
      throw new Error(
        `TFRecord record of ${this.recordBytes} bytes, the row schema says ${tfrecordRecordBytes(rowOf(0, 1))}`,
      );
    }
    this.records = Buffer.allocUnsafe(nCreatives * this.recordBytes);
    this.labelOneCrc = new Uint32Array(nCreatives);
    for (let c = 0; c < nCreatives; c++) {
      const payload = c === 0 ? zero : build(c, 0);
      if (payload.length + HEADER_BYTES + FOOTER_BYTES !== this.recordBytes) {
        throw new Error(
          `TFRecord records must share one length; creative ${c} has ${payload.length} payload bytes, expected ${zero.length}`,
        );
      }
      this.records.set(frameRecord(payload), c * this.recordBytes);
      payload[this.labelOffset - HEADER_BYTES] = 1;
      this.labelOneCrc[c] = maskCrc(crc32c(payload));
    }

    this.wordsPerRecord = Math.ceil((3 + this.recordBytes) / 4);
    const maxCreatives =
      options.wordTableMaxCreatives ?? WORD_TABLE_MAX_CREATIVES;
    if (nCreatives <= maxCreatives) {
      const stride = this.wordsPerRecord * 4;
      const bytes = new Uint8Array(nCreatives * 4 * stride);
      for (let c = 0; c < nCreatives; c++) {
        const record = this.records.subarray(
          c * this.recordBytes,
          (c + 1) * this.recordBytes,
        );
        for (let phase = 0; phase < 4; phase++)
          bytes.set(record, (c * 4 + phase) * stride + phase);
      }
      this.wordTable = new Uint32Array(bytes.buffer);
    }
  }

  /** Bytes a buffer needs for a block of `rows` rows (word stores may run 4 bytes past the end). */
  bytesFor(rows: number): number {
    return rows * this.recordBytes + this.wordsPerRecord * 4;
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
    const size = this.recordBytes;
    const creative = block.creative;
    const label = block.label;
    const labelOffset = this.labelOffset;
    const crcOffset = size - FOOTER_BYTES;
    const labelOneCrc = this.labelOneCrc;
    const table = this.wordTable;
    const count = block.count;
    let o = 0;
    if (table && out.byteOffset % 4 === 0) {
      const words = this.wordsPerRecord;
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
      const records = this.records;
      for (let i = 0; i < count; i++) {
        const c = creative[i];
        const from = c * size;
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
