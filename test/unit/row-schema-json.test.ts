/**
 * The row schema's JSON that the Python client ships (and the interop
 * readers load) is what shared/row-schema.ts declares: `npm run build`
 * writes it; this fails when the committed file was not updated.
 */
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {describe, it} from 'node:test';
import {
  ROW_COLUMNS,
  rowSchemaDescription,
} from '../../shared/formats/row-schema.js';
import {REPO_ROOT} from '../support/python.js';
import {ROW_SCHEMA_JSON, rowSchemaJson} from '../../scripts/row-schema-json.js';

describe('row_schema.json', () => {
  it('is committed as the code would write it', () => {
    const committed = readFileSync(REPO_ROOT + ROW_SCHEMA_JSON, 'utf8');
    assert.equal(
      committed,
      rowSchemaJson(),
      `${ROW_SCHEMA_JSON} is stale: run npm run build and commit it`,
    );
    const parsed = JSON.parse(committed);
    assert.deepEqual(parsed, rowSchemaDescription());
    assert.deepEqual(
      parsed.columns.map((c: {name: string}) => c.name),
      ROW_COLUMNS.map(c => c.name),
    );
  });

  it('is what the build script checks (exit 0 now, usage error for other arguments)', () => {
    const script = `${REPO_ROOT}build/scripts/row-schema-json.js`;
    execFileSync(process.execPath, [script, '--check'], {stdio: 'pipe'});
    assert.throws(
      () =>
        execFileSync(process.execPath, [script, '--force'], {stdio: 'pipe'}),
      (error: {status?: number; stderr?: Buffer}) =>
        error.status === 2 &&
        /usage: row-schema-json.js \[--check\], got: --force/.test(
          String(error.stderr),
        ),
    );
  });
});
