/**
 * The kinds of value a dataset column can hold, each with its encoders: how
 * the value is written and read in Parquet and in a tf.train.Example feature,
 * how it is written into the row digest, and what pandas/pyarrow read it as.
 * A column (row-schema.ts) names one of these; a new kind of value is one
 * more object here (and its digest encoding in the Python readers).
 */
import type {ConvertedType, LogicalType, ParquetType} from 'hyparquet';
import {DataLossError} from '../errors.js';

/** tf.train.Feature's oneof, and the tf.io dtype that parses it. */
export type FeatureKind = 'bytes_list' | 'int64_list' | 'float_list';
export type TfDtype = 'string' | 'int64' | 'float32';

/**
 * How a value is written into the row digest; the Python readers
 * (exploration_data/readers.py, test/interop/row_schema.py) implement the
 * same names.
 */
export type DigestEncoding = 'utf8' | 'decimal' | 'float32-bits';

export interface ValueType<V> {
  /** the name the Python side knows it by */
  name: 'utf8' | 'int64' | 'float64';
  parquet: {
    type: ParquetType;
    convertedType?: ConvertedType;
    logicalType?: LogicalType;
  };
  /** a dictionary value as hyparquet-writer's writePlain takes it */
  toParquet(value: V): string | bigint | number;
  /** a value as hyparquet's reader hands it back */
  fromParquet(value: unknown): V;
  tf: {kind: FeatureKind; dtype: TfDtype};
  /** the one element of the feature's list, as protobufjs takes it */
  toFeature(value: V): Uint8Array | number;
  /** the one element of the feature's list, as protobufjs decodes it */
  fromFeature(value: unknown): V;
  /**
   * Bytes the value takes inside its list message (a bytes entry's length;
   * a packed list's payload): what example-size.ts adds up.
   */
  featureBytes(value: V): number;
  /**
   * Numeric types: writes the value's featureBytes(value) bytes at
   * out[offset] exactly as protobufjs does (the TFRecord encoder patches a
   * record in place with it), and a value whose encoding is as long as any.
   */
  numeric?: {
    writeFeature(value: number, out: Uint8Array, offset: number): void;
    widest: number;
  };
  digest: DigestEncoding;
  /** the value's text in the row digest */
  digestText(value: V): string;
  /** what pandas (pyarrow engine) and pyarrow read the Parquet column as (docs/design.md §2) */
  pandasDtypes: readonly string[];
  arrowTypes: readonly string[];
}

export function varintBytes(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

/** Bytes of an int64 as a protobuf varint: a negative one is 10 (two's complement). */
function int64VarintBytes(value: number): number {
  return value < 0 ? 10 : varintBytes(value);
}

function writeInt64Varint(value: number, out: Uint8Array, offset: number) {
  if (value < 0) {
    let bits = BigInt.asUintN(64, BigInt(value));
    for (let i = 0; i < 9; i++) {
      out[offset++] = Number(bits & 0x7fn) | 0x80;
      bits >>= 7n;
    }
    out[offset] = Number(bits);
    return;
  }
  while (value >= 0x80) {
    out[offset++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[offset] = value;
}

/** A UTF-8 string: Parquet BYTE_ARRAY (UTF8/STRING), a BytesList feature. */
export const UTF8_STRING: ValueType<string> = {
  name: 'utf8',
  parquet: {
    type: 'BYTE_ARRAY',
    convertedType: 'UTF8',
    logicalType: {type: 'STRING'},
  },
  toParquet: value => value,
  fromParquet: value => String(value),
  tf: {kind: 'bytes_list', dtype: 'string'},
  toFeature: value => Buffer.from(value, 'utf8'),
  fromFeature: value => {
    if (!(value instanceof Uint8Array))
      throw new DataLossError(
        'tf.train.Example: a bytes_list value is not bytes',
      );
    return Buffer.from(value).toString('utf8');
  },
  featureBytes: value => Buffer.byteLength(value, 'utf8'),
  digest: 'utf8',
  digestText: value => value,
  pandasDtypes: ['object', 'string', 'str'],
  arrowTypes: ['string', 'large_string'],
};

/** A whole number: Parquet INT64, a packed Int64List feature (varints). */
export const INT64: ValueType<number> = {
  name: 'int64',
  parquet: {type: 'INT64'},
  toParquet: value => BigInt(value),
  fromParquet: value => Number(value),
  tf: {kind: 'int64_list', dtype: 'int64'},
  toFeature: value => value,
  fromFeature: value =>
    typeof value === 'number'
      ? value
      : (value as {toNumber(): number}).toNumber(),
  featureBytes: int64VarintBytes,
  numeric: {writeFeature: writeInt64Varint, widest: -1},
  digest: 'decimal',
  digestText: value => String(value),
  pandasDtypes: ['int64'],
  arrowTypes: ['int64'],
};

// One float, its bytes and its bits, for writing and digesting a FLOAT64.
const FLOAT = new Float32Array(1);
const FLOAT_BYTES = new Uint8Array(FLOAT.buffer);
const FLOAT_BITS = new Int32Array(FLOAT.buffer);

/**
 * A double: Parquet DOUBLE, a FloatList feature (so float32 in a TFRecord:
 * tf.train.Feature has no double). The row digest writes the value as both
 * formats hold it: rounded to float32 (round half to even), its 4 bytes
 * read as a little-endian int32, in decimal. Exact, the same from either
 * file, and computable in TensorFlow by tf.bitcast (arithmetic there, a
 * cast to float64, flushes subnormal floats to zero).
 */
export const FLOAT64: ValueType<number> = {
  name: 'float64',
  parquet: {type: 'DOUBLE'},
  toParquet: value => value,
  fromParquet: value => Number(value),
  tf: {kind: 'float_list', dtype: 'float32'},
  toFeature: value => value,
  fromFeature: value => {
    if (typeof value !== 'number')
      throw new DataLossError(
        'tf.train.Example: a float_list value is not a number',
      );
    return value;
  },
  featureBytes: () => 4,
  numeric: {
    // protobufjs writes a float through a Float32Array, little endian
    writeFeature: (value, out, offset) => {
      FLOAT[0] = value;
      out.set(FLOAT_BYTES, offset);
    },
    widest: 0,
  },
  digest: 'float32-bits',
  digestText: value => {
    FLOAT[0] = value;
    return String(FLOAT_BITS[0]);
  },
  pandasDtypes: ['float64'],
  arrowTypes: ['double'],
};
