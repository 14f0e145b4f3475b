/**
 * CRC-32C (Castagnoli), the checksum of TFRecord framing and of Cloud
 * Storage objects. The native SIMD implementation of @node-rs/crc32 does the
 * bytes; this module adds the masking TFRecord uses and GCS's base64 form.
 */
import {crc32c as nativeCrc32c} from '@node-rs/crc32';

/** CRC-32C of `bytes`, continuing from `previous` (0 to start). */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  return nativeCrc32c(bytes, previous) >>> 0;
}

const MASK_DELTA = 0xa282ead8;

/** TFRecord's masked CRC: rotate right by 15 and add a constant. */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

export function unmaskCrc(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}

/** The form GCS reports: big-endian 4 bytes, base64. */
export function crc32cBase64(crc: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc >>> 0, 0);
  return bytes.toString('base64');
}
