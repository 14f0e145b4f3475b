/**
 * Encodes blocks of rows as TFRecord bytes by copying prebuilt records.
 *
 * Every id of a kind has the same length and a label is one varint byte, so
 * every record of a dataset has the same length R. For each creative pack the
 * framed record with label 0 is built once (protobufjs + CRC-32C); the record
 * with label 1 differs only in that byte and in the payload CRC, kept apart.
 * A row then costs one copy of R bytes, plus a 5-byte patch when labelled 1.
 */
import type {DatasetModel} from '../../model.js';
import type {RowBlock} from '../../rows.js';
import {crc32c, maskCrc} from '../crc32c.js';
import {encodeExample} from './example.js';
import {FOOTER_BYTES, frameRecord, HEADER_BYTES} from './framing.js';

export class TfrecordBlockEncoder {
  /** bytes per record */
  readonly recordBytes: number;
  private readonly records: Buffer;
  private readonly labelOneCrc: Uint32Array;
  /** where the label's varint byte sits inside a record */
  private readonly labelOffset: number;

  constructor(model: DatasetModel) {
    const nCreatives = model.creativeIds.length;
    const build = (c: number, label: number): Uint8Array =>
      encodeExample({
        target_store_id: model.targetIds[model.creativeTarget[c]],
        creative_pack_id: model.creativeIds[c],
        label,
      });
    const zero = build(0, 0);
    const one = build(0, 1);
    this.labelOffset = HEADER_BYTES + differingByte(zero, one);
    this.recordBytes = HEADER_BYTES + zero.length + FOOTER_BYTES;
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
  }

  /** Bytes needed for a block of `rows` rows. */
  bytesFor(rows: number): number {
    return rows * this.recordBytes;
  }

  /** Writes the block's records, in order, into `out`; returns the part used. */
  encode(block: RowBlock, out: Buffer): Buffer {
    const size = this.recordBytes;
    if (out.length < block.count * size) {
      throw new RangeError(
        `TFRecord block needs ${block.count * size} bytes, buffer has ${out.length}`,
      );
    }
    const records = this.records;
    const creative = block.creative;
    const label = block.label;
    const labelOffset = this.labelOffset;
    const crcOffset = size - FOOTER_BYTES;
    const labelOneCrc = this.labelOneCrc;
    let o = 0;
    for (let i = 0; i < block.count; i++) {
      const c = creative[i];
      const from = c * size;
      records.copy(out, o, from, from + size);
      if (label[i] === 1) {
        out[o + labelOffset] = 1;
        out.writeUInt32LE(labelOneCrc[c], o + crcOffset);
      }
      o += size;
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
