/**
 * Writes the row schema's JSON (shared/formats/row-schema.ts rowSchemaDescription)
 * where the Python client ships it, clients/python/src/exploration_data/
 * row_schema.json (committed; `npm run build` runs this). With --check it
 * writes nothing and exits 1 when the file is not what the code would write.
 *
 *   node build/scripts/row-schema-json.js [--check]
 */
import {readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {rowSchemaDescription} from '../shared/formats/row-schema.js';

/** The shipped file, from the repository root. */
export const ROW_SCHEMA_JSON =
  'clients/python/src/exploration_data/row_schema.json';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The file's text as the code declares it. */
export function rowSchemaJson(): string {
  return JSON.stringify(rowSchemaDescription(), null, 2) + '\n';
}

function committed(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.length > 1 || (args.length === 1 && args[0] !== '--check')) {
    process.stderr.write(
      `usage: row-schema-json.js [--check], got: ${args.join(' ')}\n`,
    );
    process.exit(2);
  }
  const path = ROOT + ROW_SCHEMA_JSON;
  const want = rowSchemaJson();
  if (committed(path) === want) process.exit(0);
  if (args[0] === '--check') {
    process.stderr.write(
      `${ROW_SCHEMA_JSON} is not what shared/formats/row-schema.ts declares: run npm run build and commit it\n`,
    );
    process.exit(1);
  }
  writeFileSync(path, want);
  process.stdout.write(`wrote ${ROW_SCHEMA_JSON}\n`);
}
