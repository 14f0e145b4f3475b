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

  /** The last header whose length CRC was checked (records of a dataset share one length). */
  private checkedLength = -1n;
  private checkedLengthCrc = -1;

  /** Payloads completed by this chunk, CRCs checked. */
  push(chunk: Uint8Array): Uint8Array[] {
    const payloads: Uint8Array[] = [];
    this.forEachRecord(chunk, (bytes, start, end) =>
      payloads.push(bytes.subarray(start, end)),
    );
    return payloads;
  }

  /**
   * Calls `visit` for every record completed by this chunk, CRCs checked,
   * with the payload's place in `bytes` (valid only during the call) and its
   * masked CRC as stored; no object is made per record. With
   * `checkPayloadCrc: false` the caller checks each payload's CRC itself
   * (e.g. by finding the same bytes among payloads already checked).
   */
  forEachRecord(
    chunk: Uint8Array,
    visit: (bytes: Buffer, start: number, end: number, crc: number) => void,
    options: {checkPayloadCrc?: boolean} = {},
  ): void {
    const checkPayloadCrc = options.checkPayloadCrc ?? true;
    this.pending =
      this.pending.length === 0
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.concat([this.pending, chunk]);
    let position = 0;
    const bytes = this.pending;
    while (bytes.length - position >= HEADER_BYTES) {
      const length = bytes.readBigUInt64LE(position);
      const lengthCrc = bytes.readUInt32LE(position + 8);
      // The same 12 header bytes as a header already checked are checked.
      if (
        length !== this.checkedLength ||
        lengthCrc !== this.checkedLengthCrc
      ) {
        if (
          unmaskCrc(lengthCrc) !==
          crc32c(bytes.subarray(position, position + 8))
        ) {
          throw new DataLossError(
            `TFRecord record ${this.recordIndex} at byte ${this.offset + position}: length CRC mismatch`,
          );
        }
        this.checkedLength = length;
        this.checkedLengthCrc = lengthCrc;
      }
      const payloadLength = Number(length);
      const total = HEADER_BYTES + payloadLength + FOOTER_BYTES;
      if (bytes.length - position < total) break;
      const start = position + HEADER_BYTES;
      const end = start + payloadLength;
      const payloadCrc = bytes.readUInt32LE(end);
      if (
        checkPayloadCrc &&
        !payloadCrcMatches(bytes, start, end, payloadCrc)
      ) {
        throw this.payloadCrcError(position);
      }
      visit(bytes, start, end, payloadCrc);
      position += total;
      this.recordIndex++;
    }
    this.offset += position;
    this.pending = bytes.subarray(position);
  }

  /** The error for record `recordIndex` (the one being visited) failing its payload CRC. */
  payloadCrcError(position?: number): DataLossError {
    const where =
      position === undefined ? '' : ` at byte ${this.offset + position}`;
    return new DataLossError(
      `TFRecord record ${this.recordIndex}${where}: payload CRC mismatch`,
    );
  }

  end(): void {
    if (this.pending.length !== 0) {
      throw new DataLossError(
        `TFRecord truncated: ${this.pending.length} bytes after record ${this.recordIndex}`,
      );
    }
  }
}

/** Whether bytes[start, end) has the masked CRC `stored`. */
export function payloadCrcMatches(
  bytes: Uint8Array,
  start: number,
  end: number,
  stored: number,
): boolean {
  return unmaskCrc(stored) === crc32c(bytes.subarray(start, end));
}
