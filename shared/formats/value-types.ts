/**
 * The kinds of value a dataset column can hold, each with its encoders: how
 * the value is written and read in Parquet and in a tf.train.Example feature,
 * how it is written into the row digest, and what pandas/pyarrow read it as.
 * A column (row-schema.ts) names one of these; a new kind of value (a float
 * propensity score, say) is one more object here.
 */
import type {ConvertedType, LogicalType, ParquetType} from 'hyparquet';
import {DataLossError} from '../errors.js';

/** tf.train.Feature's oneof, and the tf.io dtype that parses it. */
export type FeatureKind = 'bytes_list' | 'int64_list' | 'float_list';
export type TfDtype = 'string' | 'int64' | 'float32';

/**
 * How a value is written into the row digest; the Python readers
 * (test/interop/row_schema.py) implement the same names.
 */
export type DigestEncoding = 'utf8' | 'decimal';

export interface ValueType<V> {
  /** the name the Python side knows it by */
  name: 'utf8' | 'int64';
  parquet: {
    type: ParquetType;
    convertedType?: ConvertedType;
    logicalType?: LogicalType;
  };
  /** a dictionary value as hyparquet-writer's writePlain takes it */
  toParquet(value: V): string | bigint;
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

/** A whole number (here 0 or 1): Parquet INT64, a packed Int64List feature. */
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
  // non-negative values only (a negative int64 is a 10-byte varint)
  featureBytes: value => varintBytes(value),
  digest: 'decimal',
  digestText: value => String(value),
  pandasDtypes: ['int64'],
  arrowTypes: ['int64'],
};
