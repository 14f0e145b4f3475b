/**
 * The dataset's row schema, declared once (docs/design.md §2): for each column, in
 * file order, its name, the kind of value it holds (value-types.ts: its
 * Parquet type, TF feature, digest encoding), its repetition, and how a
 * drawn row block (rows.ts) yields its value.
 *
 * Everything else derives from this list: the Parquet writer's schema and
 * columns, the tf.train.Example encoder/decoder, both readers, the row
 * digest, the TFRecord record size (example-size.ts), and the JSON the Python
 * readers load (rowSchemaDescription). A new column is one entry here (plus
 * a ValueType if its kind of value is new). docs/generator.md says more.
 */
import {
  CREATIVE_PREFIX,
  ID_LETTERS,
  TARGET_PREFIX,
  type DatasetModel,
} from '../dataset/model.js';
import {INT64, UTF8_STRING, type ValueType} from './value-types.js';

/**
 * Where a column's value comes from in a drawn row (creative pack c, label l):
 * - `creative`: a function of c, `dictionary[indexByCreative[c]]` (or
 *   `dictionary[c]` without an index). The Parquet writer dictionary-encodes
 *   with it; the TFRecord encoder builds one record per creative from it.
 * - `label`: the row's label draw l (0 or 1), `dictionary[l]`.
 */
export type ColumnSource<V> =
  | {
      from: 'creative';
      dictionary(model: DatasetModel): readonly V[];
      indexByCreative?(model: DatasetModel): Int32Array;
    }
  | {from: 'label'; dictionary: readonly [V, V]};

export interface Column<N extends string = string, V = unknown> {
  name: N;
  type: ValueType<V>;
  repetition: 'REQUIRED';
  source: ColumnSource<V>;
  /**
   * A value as long (encoded) as every value of the column: the TFRecord
   * encoder needs one record length per dataset, and example-size.ts
   * computes it from these.
   */
  sample: V;
}

function column<const N extends string, V>(spec: Column<N, V>): Column<N, V> {
  return spec;
}

export const TARGET_STORE_ID = column({
  name: 'target_store_id',
  type: UTF8_STRING,
  repetition: 'REQUIRED',
  source: {
    from: 'creative',
    dictionary: model => model.targetIds,
    indexByCreative: model => model.creativeTarget,
  },
  sample: TARGET_PREFIX + 'a'.repeat(ID_LETTERS),
});

export const CREATIVE_PACK_ID = column({
  name: 'creative_pack_id',
  type: UTF8_STRING,
  repetition: 'REQUIRED',
  source: {from: 'creative', dictionary: model => model.creativeIds},
  sample: CREATIVE_PREFIX + 'a'.repeat(ID_LETTERS),
});

export const LABEL = column({
  name: 'label',
  type: INT64,
  repetition: 'REQUIRED',
  source: {from: 'label', dictionary: [0, 1]},
  sample: 1,
});

/** The columns, in file order. */
export const ROW_SCHEMA = [TARGET_STORE_ID, CREATIVE_PACK_ID, LABEL] as const;

type ValueOf<C> = C extends Column<string, infer V> ? V : never;

/** One row, as the readers and the Example codec hand it over. */
export type Row = {
  [C in (typeof ROW_SCHEMA)[number] as C['name']]: ValueOf<C>;
};

/** The schema as a list of columns of any value type (for generic code). */
export const COLUMNS: readonly Column[] = ROW_SCHEMA;

export const COLUMN_NAMES: readonly string[] = COLUMNS.map(c => c.name);

/** A row whose every value has its column's sample length. */
export const SAMPLE_ROW = Object.fromEntries(
  COLUMNS.map(c => [c.name, c.sample]),
) as Row;

/** Reads column `name` of a row held as a plain record (generic code). */
export function valueOf(row: Row, column: Column): unknown {
  return (row as Record<string, unknown>)[column.name];
}

/**
 * The rows of a model, by creative and label: `rowOf(c, l)` is the row drawn
 * as creative pack c with label l (for encoders that build a table of rows
 * once, and for tests; the writers' hot loops use the sources directly).
 */
export function rowMaker(
  model: DatasetModel,
): (creative: number, label: number) => Row {
  const resolved = COLUMNS.map(c => {
    const source = c.source;
    if (source.from === 'label')
      return (_c: number, l: number) => source.dictionary[l];
    const dictionary = source.dictionary(model);
    const index = source.indexByCreative?.(model);
    return index
      ? (c: number) => dictionary[index[c]]
      : (c: number) => dictionary[c];
  });
  return (creative, label) => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < COLUMNS.length; i++)
      row[COLUMNS[i].name] = resolved[i](creative, label);
    return row as Row;
  };
}

const DIGEST_TEXT = COLUMNS.map(c => c.type.digestText);

/**
 * The row's line in the row digest: every column's digest text, in file
 * order, joined by tabs, then a newline. The row digest of a file is the
 * sha256 hex of the UTF-8 bytes of its rows' lines, in order.
 */
export function digestLine(row: Row): string {
  const values = row as Record<string, unknown>;
  let line = DIGEST_TEXT[0](values[COLUMN_NAMES[0]]);
  for (let i = 1; i < DIGEST_TEXT.length; i++)
    line += '\t' + DIGEST_TEXT[i](values[COLUMN_NAMES[i]]);
  return line + '\n';
}

export const DIGEST_DEFINITION = `sha256 hex of the UTF-8 bytes of one line per row, in order: ${COLUMN_NAMES.map(n => `{${n}}`).join('\\t')}\\n (strings as they are, integers in decimal)`;

/** The schema as JSON, for the Python readers (test/interop/row_schema.py). */
export interface RowSchemaDescription {
  columns: Array<{
    name: string;
    valueType: string;
    parquet: {
      type: string;
      convertedType: string | null;
      logicalType: string | null;
      repetition: string;
    };
    tf: {kind: string; dtype: string};
    digest: string;
    pandasDtypes: readonly string[];
    arrowTypes: readonly string[];
  }>;
  /** which column holds the target store, the creative pack and the label */
  roles: {target: string; creative: string; label: string};
  digestDefinition: string;
}

export function rowSchemaDescription(): RowSchemaDescription {
  return {
    columns: COLUMNS.map(c => ({
      name: c.name,
      valueType: c.type.name,
      parquet: {
        type: c.type.parquet.type,
        convertedType: c.type.parquet.convertedType ?? null,
        logicalType: c.type.parquet.logicalType?.type ?? null,
        repetition: c.repetition,
      },
      tf: c.type.tf,
      digest: c.type.digest,
      pandasDtypes: c.type.pandasDtypes,
      arrowTypes: c.type.arrowTypes,
    })),
    roles: {
      target: TARGET_STORE_ID.name,
      creative: CREATIVE_PACK_ID.name,
      label: LABEL.name,
    },
    digestDefinition: DIGEST_DEFINITION,
  };
}
