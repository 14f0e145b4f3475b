import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {
  crc32c,
  crc32cBase64,
  maskCrc,
  unmaskCrc,
} from '../../shared/formats/crc32c.js';

describe('crc32c', () => {
  // RFC 3720 (iSCSI) appendix B.4 test vectors, and the standard check value.
  const vectors: Array<[string, Uint8Array, number]> = [
    ['"123456789"', Buffer.from('123456789'), 0xe3069283],
    ['32 zero bytes', new Uint8Array(32), 0x8a9136aa],
    ['32 bytes of 0xff', new Uint8Array(32).fill(0xff), 0x62a8ab43],
    [
      '32 incrementing bytes',
      Uint8Array.from({length: 32}, (_, i) => i),
      0x46dd794e,
    ],
    [
      '32 decrementing bytes',
      Uint8Array.from({length: 32}, (_, i) => 31 - i),
      0x113fdb5c,
    ],
  ];
  for (const [name, bytes, expected] of vectors) {
    it(`matches the published value for ${name}`, () =>
      assert.equal(crc32c(bytes), expected));
  }

  it('continues across chunks', () => {
    const bytes = Buffer.from('The quick brown fox jumps over the lazy dog');
    assert.equal(
      crc32c(bytes.subarray(10), crc32c(bytes.subarray(0, 10))),
      crc32c(bytes),
    );
  });

  it('masks as TFRecord does, and unmasks', () => {
    // TensorFlow's crc32c::Mask: ((crc >> 15) | (crc << 17)) + 0xa282ead8
    assert.equal(maskCrc(0), 0xa282ead8);
    assert.equal(
      maskCrc(0xe3069283),
      ((((0xe3069283 >>> 15) | (0xe3069283 << 17)) >>> 0) + 0xa282ead8) >>> 0,
    );
    for (const crc of [0, 1, 0xffffffff, 0xe3069283, 0x80000000])
      assert.equal(unmaskCrc(maskCrc(crc)), crc);
  });

  it('prints as GCS does: big-endian, base64', () => {
    assert.equal(
      crc32cBase64(0xe3069283),
      Buffer.from([0xe3, 0x06, 0x92, 0x83]).toString('base64'),
    );
    assert.equal(crc32cBase64(0), 'AAAAAA==');
  });
});
