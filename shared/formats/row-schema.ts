/**
 * The dataset's row schema, declared once (docs/design.md §2): ROW_COLUMNS
 * lists every column a dataset can have, in file order, each with its kind
 * of value (value-types.ts), where a drawn row (rows.ts) gets its value,
 * and which datasets have it. rowSchemaFor(config) is one dataset's columns;
 * the writers, readers, row digest, TFRecord sizes and the JSON the Python
 * side loads (rowSchemaDescription) all derive from it. docs/generator.md
 * "Row schema" says how to add a column.
 */
import {
  CREATIVE_PREFIX,
  ID_LETTERS,
  TARGET_PREFIX,
  type DatasetModel,
} from '../dataset/model.js';
import type {RowBlock} from '../dataset/rows.js';
import {FLOAT64, INT64, UTF8_STRING, type ValueType} from './value-types.js';

/**
 * What the column list depends on: the parts of a dataset's config that
 * add columns (a DatasetConfig is one; read it only through ConfigPath).
 */
export interface RowSchemaConfig {
  readonly loggingPolicy?: {readonly adaptive?: unknown} | undefined;
}

/** A config member whose presence (not null) adds a column: `a.b` is config.a.b. */
export type ConfigPath = 'loggingPolicy' | 'loggingPolicy.adaptive';

/**
 * Where a column's value comes from in a drawn row (creative pack c, label l,
 * row i of a RowBlock):
 * - `creative`: a function of c, `dictionary[indexByCreative[c]]` (or
 *   `dictionary[c]` without an index). The Parquet writer dictionary-encodes
 *   with it; the TFRecord encoder builds one record per creative from it.
 * - `label`: the row's label draw l (0 or 1), `dictionary[l]`.
 * - `row`: `block.perRow[field][i]`, a number the row drawer stores per row
 *   (numeric value types only). The Parquet writer builds each row group's
 *   dictionary from the values it meets; the TFRecord encoder patches a
 *   creative's record when the value for that creative changes, so values
 *   that change rarely (per epoch, per block) cost nothing per row.
 */
export type ColumnSource<V> =
  | {
      from: 'creative';
      dictionary(model: DatasetModel, config: RowSchemaConfig): ArrayLike<V>;
      indexByCreative?(
        model: DatasetModel,
        config: RowSchemaConfig,
      ): Int32Array;
    }
  | {from: 'label'; dictionary: readonly [V, V]}
  | {from: 'row'; field: string};

export interface Column<N extends string = string, V = unknown> {
  name: N;
  type: ValueType<V>;
  repetition: 'REQUIRED';
  source: ColumnSource<V>;
  /**
   * A value as long (encoded) as the column's values: the TFRecord record
   * length of a `creative`/`label` column is one per dataset (example-size.ts).
   */
  sample: V;
}

/** A column as ROW_COLUMNS declares it. */
export interface ColumnDeclaration<
  N extends string = string,
  V = unknown,
> extends Omit<Column<N, V>, 'source'> {
  /** the source, or a source per config (resolved by rowSchemaFor) */
  source: ColumnSource<V> | ((config: RowSchemaConfig) => ColumnSource<V>);
  /** absent: every dataset has the column; else datasets whose config has this */
  presentWhen?: ConfigPath;
}

function column<const N extends string, V>(
  spec: ColumnDeclaration<N, V>,
): ColumnDeclaration<N, V> {
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

/**
 * pi_b(c | m(c)) of the row's creative under the logging policy it was
 * drawn by (docs/design.md §12); an adaptive policy's pi_e of the row's
 * epoch. Per row, so that one declaration covers fixed and adaptive
 * policies: the Parquet writer's dictionary then holds one value per
 * creative (per creative and epoch when adaptive), and the TFRecord encoder
 * patches a creative's record only when its value changes.
 */
export const PSCORE = column({
  name: 'pscore',
  type: FLOAT64,
  repetition: 'REQUIRED',
  source: {from: 'row', field: 'pscore'},
  sample: 0.5,
  presentWhen: 'loggingPolicy',
});

/** The adaptive policy's epoch e = floor(block / updateEveryBlocks) of the row. */
export const POLICY_EPOCH = column({
  name: 'policy_epoch',
  type: INT64,
  repetition: 'REQUIRED',
  source: {from: 'row', field: 'policy_epoch'},
  sample: 0,
  presentWhen: 'loggingPolicy.adaptive',
});

/** The columns every dataset has (docs/design.md §2), in file order. */
export const BASE_COLUMNS: readonly ColumnDeclaration[] = [
  TARGET_STORE_ID,
  CREATIVE_PACK_ID,
  LABEL,
];

/** Every column a dataset can have, in file order (rowSchemaFor picks a dataset's). */
export const ROW_COLUMNS: readonly ColumnDeclaration[] = [
  ...BASE_COLUMNS,
  PSCORE,
  POLICY_EPOCH,
];

/** The columns every dataset has, with the statistics' roles. */
const ROLES = {
  target: TARGET_STORE_ID.name,
  creative: CREATIVE_PACK_ID.name,
  label: LABEL.name,
} as const;

/**
 * One row, as the readers and the Example codec hand it over: the three
 * columns every dataset has, typed, and the others by name.
 */
export type Row = {
  [TARGET_STORE_ID.name]: string;
  [CREATIVE_PACK_ID.name]: string;
  [LABEL.name]: number;
} & {readonly [column: string]: unknown};

/** Reads column `name` of a row held as a plain record (generic code). */
export function valueOf(row: Row, column: Pick<Column, 'name'>): unknown {
  return (row as Record<string, unknown>)[column.name];
}

/** Whether config has `path` (every member on the way present, not null). */
export function configHas(config: RowSchemaConfig, path: ConfigPath): boolean {
  let value: unknown = config;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return false;
    value = (value as Record<string, unknown>)[key];
  }
  return value !== undefined && value !== null;
}

/** The rows of a model: `rowOf(c, l, values)`, `rowAt(block, i)`. */
export interface RowMaker {
  /**
   * The row drawn as creative pack c with label l; `values` holds the `row`
   * columns' values in the order of RowSchema.rowColumns (default: their samples).
   */
  rowOf(creative: number, label: number, values?: ArrayLike<number>): Row;
  /** Row i of a block. */
  rowAt(block: RowBlock, i: number): Row;
}

/**
 * One dataset's columns, in file order (rowSchemaFor, rowSchemaOf): what
 * the writers, readers and digests take.
 */
export class RowSchema {
  readonly names: readonly string[];
  /** the columns whose source is `row`, in file order */
  readonly rowColumns: readonly Column[];
  /** a row whose every value has its column's sample */
  readonly sampleRow: Row;
  /** the row digest's definition, with this schema's column names */
  readonly digestDefinition: string;
  private readonly digestTexts: Array<(value: unknown) => string>;

  constructor(
    readonly columns: readonly Column[],
    /** what `creative` sources read besides the model */
    readonly config: RowSchemaConfig = {},
  ) {
    const names = columns.map(c => c.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate !== undefined)
      throw new Error(`row schema: column ${duplicate} is declared twice`);
    for (const role of Object.values(ROLES)) {
      if (!names.includes(role))
        throw new Error(`row schema: every dataset has column ${role}`);
    }
    for (const c of columns) {
      if (c.source.from === 'row' && !c.type.numeric)
        throw new Error(
          `row schema: column ${c.name} comes from a per-row array, so its value type must be numeric, not ${c.type.name}`,
        );
    }
    this.names = names;
    this.rowColumns = columns.filter(c => c.source.from === 'row');
    this.sampleRow = Object.fromEntries(
      columns.map(c => [c.name, c.sample]),
    ) as Row;
    this.digestTexts = columns.map(
      c => c.type.digestText as (value: unknown) => string,
    );
    this.digestDefinition = `sha256 hex of the UTF-8 bytes of one line per row, in order: ${names.map(n => `{${n}}`).join('\\t')}\\n (${digestEncodingsText(columns)})`;
  }

  /**
   * The row's line in the row digest: every column's digest text, in file
   * order, joined by tabs, then a newline. The row digest of a file is the
   * sha256 hex of the UTF-8 bytes of its rows' lines, in order.
   */
  digestLine(row: Row): string {
    const values = row as Record<string, unknown>;
    const texts = this.digestTexts;
    let line = texts[0](values[this.names[0]]);
    for (let i = 1; i < texts.length; i++)
      line += '\t' + texts[i](values[this.names[i]]);
    return line + '\n';
  }

  /**
   * The rows of a model, by creative, label and `row` values (for encoders
   * that build a table of rows once, and for tests; the writers' hot loops
   * use the sources directly).
   */
  rowMaker(model: DatasetModel): RowMaker {
    const config = this.config;
    const rowIndex = new Map(this.rowColumns.map((c, k) => [c.name, k]));
    const samples = this.rowColumns.map(c => c.sample as number);
    const resolved = this.columns.map(c => {
      const source = c.source;
      if (source.from === 'label')
        return (_c: number, l: number) => source.dictionary[l];
      if (source.from === 'row') {
        const k = rowIndex.get(c.name) as number;
        return (_c: number, _l: number, values: ArrayLike<number>) => values[k];
      }
      const dictionary = source.dictionary(model, config);
      const index = source.indexByCreative?.(model, config);
      return index
        ? (c: number) => dictionary[index[c]]
        : (c: number) => dictionary[c];
    });
    const columns = this.columns;
    const rowOf = (
      creative: number,
      label: number,
      values: ArrayLike<number> = samples,
    ): Row => {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < columns.length; i++)
        row[columns[i].name] = resolved[i](creative, label, values);
      return row as Row;
    };
    const fields = this.rowColumns.map(c => rowField(c));
    return {
      rowOf,
      rowAt: (block, i) =>
        rowOf(
          block.creative[i],
          block.label[i],
          fields.map(f => perRowArray(block, f)[i]),
        ),
    };
  }
}

/** The `row` source's field of a column. */
export function rowField(column: Column): string {
  if (column.source.from !== 'row')
    throw new Error(`column ${column.name} is not a per-row column`);
  return column.source.field;
}

/** A block's per-row array `field`, or a clear error when the drawer gave none. */
export function perRowArray(
  block: RowBlock,
  field: string,
): Float64Array | Int32Array {
  const values = block.perRow?.[field];
  if (!values)
    throw new Error(
      `row block at row ${block.start} has no per-row array "${field}" (the row schema reads one)`,
    );
  if (values.length < block.count)
    throw new Error(
      `row block at row ${block.start}: per-row array "${field}" holds ${values.length} values, the block ${block.count} rows`,
    );
  return values;
}

const DIGEST_ENCODING_TEXT: Record<ValueType<unknown>['digest'], string> = {
  utf8: 'strings as they are',
  decimal: 'integers in decimal',
  'float32-bits':
    'floats rounded to float32 (round half to even), their 4 bytes read as a little-endian int32, in decimal',
};

function digestEncodingsText(columns: ReadonlyArray<Pick<Column, 'type'>>) {
  const encodings = [...new Set(columns.map(c => c.type.digest))];
  return encodings.map(e => DIGEST_ENCODING_TEXT[e]).join(', ');
}

/**
 * A schema of the given columns, as they are (tests, tools); datasets use
 * rowSchemaFor.
 */
export function rowSchemaOf(
  columns: ReadonlyArray<ColumnDeclaration | Column>,
  config: RowSchemaConfig = {},
): RowSchema {
  return new RowSchema(
    columns.map(c => resolveColumn(c, config)),
    config,
  );
}

function resolveColumn(
  declaration: ColumnDeclaration | Column,
  config: RowSchemaConfig,
): Column {
  const source =
    typeof declaration.source === 'function'
      ? declaration.source(config)
      : declaration.source;
  return {
    name: declaration.name,
    type: declaration.type,
    repetition: declaration.repetition,
    source,
    sample: declaration.sample,
  };
}

/**
 * The columns of a dataset with this config, in file order: the declared
 * columns present for it (ROW_COLUMNS, or `declaration` in tests). A
 * generic parameter rather than RowSchemaConfig itself, so that any config
 * object is accepted, with or without the members that add columns.
 */
export function rowSchemaFor<C extends object>(
  config: C & RowSchemaConfig,
  declaration: readonly ColumnDeclaration[] = ROW_COLUMNS,
): RowSchema {
  const present = declaration.filter(
    c => c.presentWhen === undefined || configHas(config, c.presentWhen),
  );
  return rowSchemaOf(present, config);
}

/** The columns of a dataset without a logging policy (the three of docs/design.md §2). */
export const BASE_SCHEMA = rowSchemaFor({});

/** The schema as JSON, for the Python side (clients/python row_schema.json). */
export interface RowSchemaDescription {
  columns: Array<{
    name: string;
    valueType: string;
    /** null: every dataset; else a dotted config path (see `presence`) */
    presentWhen: string | null;
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
  /** how a reader tells which columns a dataset has */
  presence: string;
  /** which column holds the target store, the creative pack and the label */
  roles: {target: string; creative: string; label: string};
  digestDefinition: string;
}

export function rowSchemaDescription(
  declaration: readonly ColumnDeclaration[] = ROW_COLUMNS,
): RowSchemaDescription {
  return {
    columns: declaration.map(c => ({
      name: c.name,
      valueType: c.type.name,
      presentWhen: c.presentWhen ?? null,
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
    presence:
      'a dataset has a column when its presentWhen is null, or when the dataset config (metadata "config") has the dotted path presentWhen names with a value that is not null; the columns are in this order',
    roles: {...ROLES},
    digestDefinition: `sha256 hex of the UTF-8 bytes of one line per row, in order: the digest text of every column the dataset has, in this order, joined by \\t, then \\n (${digestEncodingsText(declaration)})`,
  };
}
