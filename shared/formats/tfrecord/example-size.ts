/**
 * The byte size of a row's tf.train.Example and TFRecord record, worked out
 * from the protobuf wire format and the row schema, without encoding: what
 * a file of n rows must weigh (n records of one length), for tests and for a
 * cross-check of the encoder.
 */
import {COLUMNS, SAMPLE_ROW, valueOf, type Row} from '../row-schema.js';
import {varintBytes} from '../value-types.js';
import {FOOTER_BYTES, HEADER_BYTES} from './framing.js';

/** A length-delimited field of one-byte tag: tag, length varint, body. */
function delimited(body: number): number {
  return 1 + varintBytes(body) + body;
}

/**
 * Example{features: Features{feature: map<name, Feature{kind: List{value: [v]}}>}}:
 * each map entry is {key: name, value: Feature}, and a list of one value is
 * one delimited field (a bytes entry, or a packed run of varints/floats).
 */
export function exampleBytes(row: Row): number {
  let features = 0;
  for (const column of COLUMNS) {
    const list = delimited(column.type.featureBytes(valueOf(row, column)));
    const feature = delimited(list);
    const entry =
      delimited(Buffer.byteLength(column.name, 'utf8')) + delimited(feature);
    features += delimited(entry);
  }
  return delimited(features);
}

/** A framed record holding the row's Example. */
export function tfrecordRecordBytes(row: Row = SAMPLE_ROW): number {
  return HEADER_BYTES + exampleBytes(row) + FOOTER_BYTES;
}
