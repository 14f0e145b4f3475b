/**
 * The RLE/bit-packing hybrid of Parquet's RLE_DICTIONARY pages, for the case
 * this dataset has: indices with no long runs. One bit-packed run of
 * ceil(n / 8) groups, values packed LSB first, in one tight loop.
 */

export function bitWidthFor(dictionarySize: number): number {
  // Width 0 is legal for a one-value dictionary, but not every reader takes
  // it; 1 bit costs n/8 bytes and is read everywhere.
  return Math.max(1, Math.ceil(Math.log2(dictionarySize)));
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

function writeVarint(out: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    out[offset++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[offset++] = value;
  return offset;
}

/**
 * The body of an RLE_DICTIONARY data page: bit width, run header, packed
 * `values[from .. from + count)` mapped through `remap`.
 */
export function encodeDictionaryIndices(
  values: Int32Array | Uint8Array,
  from: number,
  count: number,
  remap: Int32Array,
  bitWidth: number,
): Uint8Array {
  const groups = Math.ceil(count / 8);
  const header = groups * 2 + 1;
  const dataBytes = groups * bitWidth;
  const out = new Uint8Array(1 + varintLength(header) + dataBytes);
  out[0] = bitWidth;
  let o = writeVarint(out, 1, header);
  let buffer = 0;
  let bits = 0;
  const end = from + count;
  for (let i = from; i < end; i++) {
    buffer |= remap[values[i]] << bits;
    bits += bitWidth;
    while (bits >= 8) {
      out[o++] = buffer & 0xff;
      buffer >>>= 8;
      bits -= 8;
    }
  }
  // Pad the last group with zero values (the page header says how many are real).
  const padding = groups * 8 - count;
  bits += padding * bitWidth;
  while (bits > 0) {
    out[o++] = buffer & 0xff;
    buffer >>>= 8;
    bits -= 8;
  }
  return out;
}
