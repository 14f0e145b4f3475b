import assert from 'node:assert/strict';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {tfrecordRecordBytes} from '../../shared/formats/tfrecord/example-size.js';
import {readTfrecordRows} from '../../shared/formats/tfrecord/tfrecord-rows.js';
import {generateInMemory} from '../support/datasets.js';

const scratch = mkdtempSync(join(tmpdir(), 'exploration-tfrecord-reader-'));
after(() => rmSync(scratch, {recursive: true, force: true}));

describe('readTfrecordRows (payloads cached by CRC, confirmed byte for byte)', () => {
  it('reads every record and catches damage in a payload it has seen before, in a stored CRC and in a length', async () => {
    const {destination} = await generateInMemory({seed: 9, nSamples: 70_000});
    const bytes = destination.bytes('dataset_v1.tfrecord');
    const recordBytes = tfrecordRecordBytes();
    assert.equal(bytes.length, 70_000 * recordBytes);
    const good = join(scratch, 'good.tfrecord');
    writeFileSync(good, bytes);
    const rows = await readTfrecordRows(good);
    assert.equal(rows.rows, 70_000);

    const damaged: Array<[string, number, RegExp]> = [
      // record 60,000's creative was seen long before: a cache hit unless the bytes are compared
      [
        'a payload byte',
        60_000 * recordBytes + 40,
        /record 60000: payload CRC mismatch/,
      ],
      [
        'a stored payload CRC',
        60_001 * recordBytes - 2,
        /record 60000: payload CRC mismatch/,
      ],
      [
        'a length byte',
        50_000 * recordBytes,
        new RegExp(
          `record 50000 at byte ${50_000 * recordBytes}: length CRC mismatch`,
        ),
      ],
    ];
    for (const [name, offset, message] of damaged) {
      const copy = Buffer.from(bytes);
      copy[offset] ^= 0x04;
      const path = join(scratch, `${name.replace(/ /g, '-')}.tfrecord`);
      writeFileSync(path, copy);
      await assert.rejects(readTfrecordRows(path), message, name);
    }
  });
});
