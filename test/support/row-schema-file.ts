/**
 * The row schema as JSON in a file, for the Python readers' --schema FILE
 * (test/interop/row_schema.py): the file the Python client ships
 * (clients/python/src/exploration_data/row_schema.json, which the readers
 * also load by default), or a declaration of a test's own columns written
 * into a temporary folder removed at exit.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {ROW_SCHEMA_JSON} from '../../scripts/row-schema-json.js';
import {
  rowSchemaDescription,
  type ColumnDeclaration,
} from '../../shared/formats/row-schema.js';
import {REPO_ROOT} from './python.js';

/** The shipped row_schema.json (row-schema-json.test.ts holds it to the code). */
export function rowSchemaFile(): string {
  return REPO_ROOT + ROW_SCHEMA_JSON;
}

let folder: string | undefined;
let written = 0;

/** A file describing `declaration` (a test's columns), removed at exit. */
export function rowSchemaFileOf(
  declaration: readonly ColumnDeclaration[],
): string {
  if (!folder) {
    const made = mkdtempSync(join(tmpdir(), 'exploration-row-schema-'));
    process.once('exit', () => rmSync(made, {recursive: true, force: true}));
    folder = made;
  }
  const path = join(folder, `row-schema-${written++}.json`);
  writeFileSync(
    path,
    JSON.stringify(rowSchemaDescription(declaration), null, 2) + '\n',
  );
  return path;
}
