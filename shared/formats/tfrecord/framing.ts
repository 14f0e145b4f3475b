/**
 * TFRecord framing: uint64 length (little endian), masked CRC-32C of those 8
 * bytes, the payload, masked CRC-32C of the payload.
 */
import {DataLossError} from '../../errors.js';
import {crc32c, maskCrc, unmaskCrc} from '../crc32c.js';

export const HEADER_BYTES = 12;
export const FOOTER_BYTES = 4;

/** One framed record. */
export function frameRecord(payload: Uint8Array): Uint8Array {
  const record = new Uint8Array(HEADER_BYTES + payload.length + FOOTER_BYTES);
  const view = new DataView(record.buffer);
  view.setBigUint64(0, BigInt(payload.length), true);
  view.setUint32(8, maskCrc(crc32c(record.subarray(0, 8))), true);
  record.set(payload, HEADER_BYTES);
  view.setUint32(HEADER_BYTES + payload.length, maskCrc(crc32c(payload)), true);
  return record;
}

/**
 * Splits a byte stream into verified payloads. Feed chunks with `push`;
 * `end` fails on a truncated last record.
 */
export class TfrecordDeframer {
  private pending: Buffer = Buffer.alloc(0);
  private offset = 0;
  recordIndex = 0;

  /** Payloads completed by this chunk, CRCs checked. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.pending =
      this.pending.length === 0
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.concat([this.pending, chunk]);
    const payloads: Uint8Array[] = [];
    let position = 0;
    const bytes = this.pending;
    while (bytes.length - position >= HEADER_BYTES) {
      const length = Number(bytes.readBigUInt64LE(position));
      const lengthCrc = bytes.readUInt32LE(position + 8);
      if (
        unmaskCrc(lengthCrc) !== crc32c(bytes.subarray(position, position + 8))
      ) {
        throw new DataLossError(
          `TFRecord record ${this.recordIndex} at byte ${this.offset + position}: length CRC mismatch`,
        );
      }
      const total = HEADER_BYTES + length + FOOTER_BYTES;
      if (bytes.length - position < total) break;
      const payload = bytes.subarray(
        position + HEADER_BYTES,
        position + HEADER_BYTES + length,
      );
      const payloadCrc = bytes.readUInt32LE(position + HEADER_BYTES + length);
      if (unmaskCrc(payloadCrc) !== crc32c(payload)) {
        throw new DataLossError(
          `TFRecord record ${this.recordIndex} at byte ${this.offset + position}: payload CRC mismatch`,
        );
      }
      payloads.push(payload);
      position += total;
      this.recordIndex++;
    }
    this.offset += position;
    this.pending = bytes.subarray(position);
    return payloads;
  }

  end(): void {
    if (this.pending.length !== 0) {
      throw new DataLossError(
        `TFRecord truncated: ${this.pending.length} bytes after record ${this.recordIndex}`,
      );
    }
  }
}
