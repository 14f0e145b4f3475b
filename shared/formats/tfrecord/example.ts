/**
 * tf.train.Example, encoded and decoded with protobufjs from the messages of
 * TensorFlow's example.proto and feature.proto (the parts a dataset uses).
 */
import protobuf from 'protobufjs';
import {DataLossError} from '../../errors.js';

const FEATURE_PROTO = `
syntax = "proto3";
package tensorflow;
message BytesList { repeated bytes value = 1; }
message FloatList { repeated float value = 1 [packed = true]; }
message Int64List { repeated int64 value = 1 [packed = true]; }
message Feature {
  oneof kind {
    BytesList bytes_list = 1;
    FloatList float_list = 2;
    Int64List int64_list = 3;
  }
}
message Features { map<string, Feature> feature = 1; }
message Example { Features features = 1; }
`;

const root = protobuf.parse(FEATURE_PROTO, {keepCase: true}).root;
const ExampleType = root.lookupType('tensorflow.Example');

/** One dataset row, as the notebook's feature spec reads it. */
export interface ExampleRow {
  target_store_id: string;
  creative_pack_id: string;
  label: number;
}

/** Serialises a row as tf.train.Example, features in column order. */
export function encodeExample(row: ExampleRow): Uint8Array {
  const message = ExampleType.fromObject({
    features: {
      feature: {
        target_store_id: {
          bytes_list: {value: [Buffer.from(row.target_store_id, 'utf8')]},
        },
        creative_pack_id: {
          bytes_list: {value: [Buffer.from(row.creative_pack_id, 'utf8')]},
        },
        label: {int64_list: {value: [row.label]}},
      },
    },
  });
  return ExampleType.encode(message).finish();
}

interface DecodedFeature {
  bytes_list?: {value?: Uint8Array[]};
  int64_list?: {value?: Array<number | {toNumber(): number}>};
}

function single<T>(values: T[] | undefined, name: string): T {
  if (!values || values.length !== 1) {
    throw new DataLossError(
      `tf.train.Example feature ${name} must hold exactly one value, got ${values?.length ?? 0}`,
    );
  }
  return values[0];
}

/** Parses a tf.train.Example with the notebook's feature spec. */
export function decodeExample(payload: Uint8Array): ExampleRow {
  let decoded: {features?: {feature?: Record<string, DecodedFeature>}};
  try {
    decoded = ExampleType.toObject(ExampleType.decode(payload), {
      longs: Number,
    }) as typeof decoded;
  } catch (error) {
    throw new DataLossError('tf.train.Example does not parse', error);
  }
  const feature = decoded.features?.feature ?? {};
  const text = (name: string): string =>
    Buffer.from(single(feature[name]?.bytes_list?.value, name)).toString(
      'utf8',
    );
  const labelValue = single(feature.label?.int64_list?.value, 'label');
  return {
    target_store_id: text('target_store_id'),
    creative_pack_id: text('creative_pack_id'),
    label: typeof labelValue === 'number' ? labelValue : labelValue.toNumber(),
  };
}
