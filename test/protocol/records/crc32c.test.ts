import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, crc32cUpdate } from '../../../src/protocol/records/crc32c.js';

// Check values from RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check.
test('crc32c matches published check values', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32, 0x00)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  const ascending = Buffer.from(Array.from({ length: 32 }, (_, index) => index));
  assert.equal(crc32c(ascending), 0x46dd794e);
  const descending = Buffer.from(Array.from({ length: 32 }, (_, index) => 31 - index));
  assert.equal(crc32c(descending), 0x113fdb5c);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
});

/** Bit-at-a-time reference, independent of the table code. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

test('crc32c agrees with a bitwise reference on every length and alignment up to 300', () => {
  const bytes = Buffer.from(Array.from({ length: 400 }, (_, index) => (index * 37 + 11) & 0xff));
  for (let start = 0; start < 9; start++) {
    for (let length = 0; length <= 300; length++) {
      const slice = bytes.subarray(start, start + length);
      assert.equal(crc32c(bytes, start, start + length), referenceCrc32c(slice), `start ${start} length ${length}`);
    }
  }
});

test('crc32cUpdate continues a checksum across ranges', () => {
  const bytes = Buffer.from('the quick brown fox jumps over the lazy dog');
  const whole = crc32c(bytes);
  for (let split = 0; split <= bytes.length; split++) {
    assert.equal(crc32cUpdate(crc32c(bytes, 0, split), bytes, split, bytes.length), whole);
  }
});
