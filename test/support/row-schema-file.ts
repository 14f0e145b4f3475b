/**
 * The row schema as JSON in a file, for the Python readers' --schema FILE
 * (test/interop/row_schema.py). Written once per process into a temporary
 * folder removed at exit. Run directly, it prints the JSON:
 *
 *   node build/test/support/row-schema-file.js > row-schema.json
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {rowSchemaDescription} from '../../shared/formats/row-schema.js';

let path: string | undefined;

export function rowSchemaFile(): string {
  if (path) return path;
  const folder = mkdtempSync(join(tmpdir(), 'exploration-row-schema-'));
  process.once('exit', () => rmSync(folder, {recursive: true, force: true}));
  path = join(folder, 'row-schema.json');
  writeFileSync(path, JSON.stringify(rowSchemaDescription(), null, 2) + '\n');
  return path;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(rowSchemaDescription(), null, 2) + '\n');
}
