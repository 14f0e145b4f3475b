/** The inline digests (small outputs) equal the workers' and node:crypto's. */
import assert from 'node:assert/strict';
import {createHash, randomBytes} from 'node:crypto';
import {describe, it} from 'node:test';
import {DigestPool} from '../../shared/digest/digest-pool.js';
import {digestsOf} from '../../shared/digest/digests.js';

describe('DigestPool', () => {
  for (const inline of [true, false]) {
    it(`${inline ? 'inline' : 'workers'}: md5 (asked for), sha256, crc32c and size of chunked bytes`, async () => {
      const chunks = [randomBytes(1000), randomBytes(0), randomBytes(70_001)];
      const pool = new DigestPool({inline, md5: true});
      try {
        const stream = pool.open();
        for (const chunk of chunks) await stream.update(chunk);
        const digests = await stream.digest();
        assert.deepEqual(digests, digestsOf(Buffer.concat(chunks)));
        assert.equal(
          digests.md5,
          createHash('md5').update(Buffer.concat(chunks)).digest('base64'),
        );
      } finally {
        await pool.close();
      }
    });

    it(`${inline ? 'inline' : 'workers'}: no md5 unless asked for`, async () => {
      const chunks = [randomBytes(1000), randomBytes(70_001)];
      const pool = new DigestPool({inline});
      try {
        const stream = pool.open();
        for (const chunk of chunks) await stream.update(chunk);
        const digests = await stream.digest();
        assert.deepEqual(Object.keys(digests), ['bytes', 'crc32c', 'sha256']);
        assert.deepEqual(
          digests,
          digestsOf(Buffer.concat(chunks), {md5: false}),
        );
        assert.equal(
          digests.sha256,
          createHash('sha256').update(Buffer.concat(chunks)).digest('hex'),
        );
      } finally {
        await pool.close();
      }
    });
  }
});
