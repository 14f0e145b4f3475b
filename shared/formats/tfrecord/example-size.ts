/**
 * The byte size and layout of a row's tf.train.Example and TFRecord record,
 * worked out from the protobuf wire format and the row schema, without
 * encoding: what a file of n rows must weigh, where each column's value
 * bytes sit in a record (the block encoder patches them), for tests and for
 * a cross-check of the encoder.
 */
import {BASE_SCHEMA, valueOf, type Row, type RowSchema} from '../row-schema.js';
import {varintBytes} from '../value-types.js';
import {FOOTER_BYTES, HEADER_BYTES} from './framing.js';

/** A length-delimited field of one-byte tag: tag, length varint, body. */
function delimited(body: number): number {
  return 1 + varintBytes(body) + body;
}

/** The bytes before a delimited field's body: tag and length. */
function head(body: number): number {
  return 1 + varintBytes(body);
}

export interface ExampleLayout {
  /** the Example's bytes */
  bytes: number;
  /** per column, in schema order: where its one value's bytes start in the Example */
  valueOffsets: number[];
}

/**
 * Example{features: Features{feature: map<name, Feature{kind: List{value: [v]}}>}}:
 * each map entry is {key: name, value: Feature}, and a list of one value is
 * one delimited field (a bytes entry, or a packed run of varints/floats).
 */
export function exampleLayout(
  row: Row,
  schema: RowSchema = BASE_SCHEMA,
): ExampleLayout {
  const entries: number[] = [];
  const offsetsInEntry: number[] = [];
  for (const column of schema.columns) {
    const value = column.type.featureBytes(valueOf(row, column));
    const list = delimited(value);
    const feature = delimited(list);
    const key = delimited(Buffer.byteLength(column.name, 'utf8'));
    const entry = key + delimited(feature);
    entries.push(entry);
    offsetsInEntry.push(
      head(entry) + key + head(feature) + head(list) + head(value),
    );
  }
  const features = entries.reduce((sum, e) => sum + delimited(e), 0);
  const valueOffsets: number[] = [];
  let offset = head(features);
  for (let k = 0; k < entries.length; k++) {
    valueOffsets.push(offset + offsetsInEntry[k]);
    offset += delimited(entries[k]);
  }
  return {bytes: delimited(features), valueOffsets};
}

export function exampleBytes(
  row: Row,
  schema: RowSchema = BASE_SCHEMA,
): number {
  return exampleLayout(row, schema).bytes;
}

/**
 * A framed record holding the row's Example (by default the schema's sample
 * row: every record's length when the schema has no `row` column of
 * varying length).
 */
export function tfrecordRecordBytes(
  schema: RowSchema = BASE_SCHEMA,
  row: Row = schema.sampleRow,
): number {
  return HEADER_BYTES + exampleBytes(row, schema) + FOOTER_BYTES;
}
