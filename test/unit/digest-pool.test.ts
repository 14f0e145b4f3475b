/** The inline digests (small outputs) equal the workers' and node:crypto's. */
import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import {describe, it} from 'node:test';
import {DigestPool} from '../../shared/digest/digest-pool.js';
import {digestsOf} from '../../shared/digest/digests.js';

describe('DigestPool', () => {
  for (const inline of [true, false]) {
    it(`${inline ? 'inline' : 'workers'}: md5, sha256, crc32c and size of chunked bytes`, async () => {
      const chunks = [randomBytes(1000), randomBytes(0), randomBytes(70_001)];
      const pool = new DigestPool({inline});
      try {
        const stream = pool.open();
        for (const chunk of chunks) await stream.update(chunk);
        assert.deepEqual(
          await stream.digest(),
          digestsOf(Buffer.concat(chunks)),
        );
      } finally {
        await pool.close();
      }
    });
  }
});
