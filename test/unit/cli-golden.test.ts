/**
 * The CLI's files on disk (FileSink, the default checksums) are the golden
 * bytes that generate.test.ts checks in memory.
 */
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {runCli} from '../support/cli-process.js';
import {GOLDEN} from '../support/golden.js';

const scratch = mkdtempSync(join(tmpdir(), 'file-sink-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

const sha256 = (bytes: Uint8Array) =>
  createHash('sha256').update(bytes).digest('hex');

describe('generate on disk', () => {
  it('the CLI writes the golden bytes (seed 7, 200,000 rows: three whole blocks and a partial one)', () => {
    const out = join(scratch, 'golden');
    const {code, stderr} = runCli(
      'generate',
      '--samples',
      '200000',
      '--seed',
      '7',
      '--out',
      out,
      '--no-progress',
    );
    assert.equal(code, 0, stderr);
    assert.equal(
      sha256(readFileSync(join(out, 'dataset_v1.tfrecord'))),
      GOLDEN.seed7Rows200k.tfrecord,
    );
    assert.equal(
      sha256(readFileSync(join(out, 'dataset_v1.parquet'))),
      GOLDEN.seed7Rows200k.parquet,
    );
  });
});
