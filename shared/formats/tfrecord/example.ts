/**
 * tf.train.Example, encoded and decoded with protobufjs from the messages of
 * TensorFlow's example.proto and feature.proto (the parts a dataset uses),
 * one feature per column of the row schema (row-schema.ts).
 */
import protobuf from 'protobufjs';
import {DataLossError} from '../../errors.js';
import {COLUMNS, valueOf, type Row} from '../row-schema.js';
import type {FeatureKind} from '../value-types.js';

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

/** The row as an Example's feature map: one feature per column, in column order. */
function features(
  row: Row,
): Record<string, Record<string, {value: unknown[]}>> {
  const feature: Record<string, Record<string, {value: unknown[]}>> = {};
  for (const column of COLUMNS) {
    feature[column.name] = {
      [column.type.tf.kind]: {
        value: [column.type.toFeature(valueOf(row, column))],
      },
    };
  }
  return feature;
}

/** Serialises a row as tf.train.Example, features in column order. */
export function encodeExample(row: Row): Uint8Array {
  const message = ExampleType.fromObject({features: {feature: features(row)}});
  return ExampleType.encode(message).finish();
}

type DecodedFeature = Partial<Record<FeatureKind, {value?: unknown[]}>>;

function single<T>(values: T[] | undefined, name: string): T {
  if (!values || values.length !== 1) {
    throw new DataLossError(
      `tf.train.Example feature ${name} must hold exactly one value, got ${values?.length ?? 0}`,
    );
  }
  return values[0];
}

/** Parses a tf.train.Example with the notebook's feature spec (the row schema's). */
export function decodeExample(payload: Uint8Array): Row {
  let decoded: {features?: {feature?: Record<string, DecodedFeature>}};
  try {
    decoded = ExampleType.toObject(ExampleType.decode(payload), {
      longs: Number,
    }) as typeof decoded;
  } catch (error) {
    throw new DataLossError('tf.train.Example does not parse', error);
  }
  const feature = decoded.features?.feature ?? {};
  const row: Record<string, unknown> = {};
  for (const column of COLUMNS) {
    const values = feature[column.name]?.[column.type.tf.kind]?.value;
    row[column.name] = column.type.fromFeature(single(values, column.name));
  }
  return row as Row;
}
