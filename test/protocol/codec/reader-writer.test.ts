import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ProtocolDecodeError,
  Reader,
  SlabPool,
  Writer,
  concatChunks,
  referenceThresholdBytes,
} from '../../../src/protocol/codec/index.js';
import { InvariantError } from '../../../src/runtime/assert.js';

function written(fill: (writer: Writer) => void, pool?: SlabPool): Buffer {
  const writer = new Writer(pool);
  fill(writer);
  return concatChunks(writer.finish());
}

test('unsigned varints round-trip at every length boundary', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2 ** 31 - 1, 'ffffffff07'],
    [2 ** 32 - 1, 'ffffffff0f'],
  ];
  for (const [value, hex] of cases) {
    const bytes = written((writer) => writer.uvarint(value));
    assert.equal(bytes.toString('hex'), hex, `encoding ${value}`);
    const reader = new Reader(bytes);
    assert.equal(reader.uvarint('test'), value);
    assert.equal(reader.remainingBytes, 0);
  }
  assert.throws(() => written((writer) => writer.uvarint(-1)), RangeError);
  assert.throws(() => written((writer) => writer.uvarint(2 ** 32)), RangeError);
});

test('overlong or truncated varints throw ProtocolDecodeError', () => {
  for (const hex of ['ffffffff10', 'ffffffffff01', '80', 'ffff']) {
    assert.throws(() => new Reader(Buffer.from(hex, 'hex')).uvarint('v'), ProtocolDecodeError, hex);
  }
});

test('primitives use big-endian fixed widths', () => {
  const bytes = written((writer) => {
    writer.bool(true);
    writer.int8(-2);
    writer.int16(-3);
    writer.uint16(65535);
    writer.int32(-4);
    writer.uint32(4294967295);
    writer.int64(-5n);
    writer.float64(0.5);
  });
  assert.equal(
    bytes.toString('hex'),
    '01' + 'fe' + 'fffd' + 'ffff' + 'fffffffc' + 'ffffffff' + 'fffffffffffffffb' + '3fe0000000000000',
  );
  const reader = new Reader(bytes);
  assert.equal(reader.bool('f'), true);
  assert.equal(reader.int8('f'), -2);
  assert.equal(reader.int16('f'), -3);
  assert.equal(reader.uint16('f'), 65535);
  assert.equal(reader.int32('f'), -4);
  assert.equal(reader.uint32('f'), 4294967295);
  assert.equal(reader.int64('f'), -5n);
  assert.equal(reader.float64('f'), 0.5);
});

test('strings count UTF-8 bytes; null is length -1', () => {
  const bytes = written((writer) => {
    writer.string('hé');
    writer.nullableString(null);
    writer.compactString('hé');
    writer.compactNullableString(null);
  });
  assert.equal(bytes.toString('hex'), '000368c3a9' + 'ffff' + '0468c3a9' + '00');
  const reader = new Reader(bytes);
  assert.equal(reader.string('s'), 'hé');
  assert.equal(reader.nullableString('s'), null);
  assert.equal(reader.compactString('s'), 'hé');
  assert.equal(reader.compactNullableString('s'), null);
  assert.throws(() => new Reader(Buffer.from('ffff', 'hex')).string('topic'), /topic: non-nullable string/);
});

test('a string, bytes or records longer than its length field can hold is an invariant error', () => {
  const writer = new Writer();
  writer.string('a'.repeat(0x7fff)); // the largest int16 length
  assert.throws(() => writer.string('a'.repeat(0x8000)), InvariantError);
  assert.throws(() => writer.string('é'.repeat(0x4000)), /string of 32768 bytes does not fit its int16 length field/);
  // Only the length is read before the check fails: no 2 GiB buffer is needed.
  const huge = { length: 2 ** 31 } as Uint8Array;
  assert.throws(() => writer.bytes(huge), /bytes of 2147483648 bytes do not fit their int32 length field/);
  assert.throws(() => writer.records([huge], false), /records of 2147483648 bytes do not fit their length field/);
  writer.finish();
});

test('uuids are 16 bytes shown as 22 characters of unpadded base64url', () => {
  const raw = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const text = raw.toString('base64url');
  assert.equal(text.length, 22);
  const bytes = written((writer) => writer.uuid(text));
  assert.deepStrictEqual(bytes, raw);
  assert.equal(new Reader(bytes).uuid('id'), text);
  assert.throws(() => written((writer) => writer.uuid('not-a-uuid')), TypeError);
  assert.throws(() => written((writer) => writer.uuid('AAAAAAAAAAAAAAAAAAAAAB')), TypeError); // stray low bits
});

test('bytes at or above the threshold are emitted by reference, smaller ones copied', () => {
  const large = Buffer.alloc(referenceThresholdBytes, 1);
  const small = Buffer.alloc(referenceThresholdBytes - 1, 2);
  const writer = new Writer();
  writer.bytes(small);
  writer.bytes(large);
  writer.int8(3);
  const encoded = writer.finish();
  assert.equal(encoded.chunks.length, 3);
  assert.equal(encoded.chunks[1], large);
  assert.notEqual(encoded.chunks[0]!.buffer, small.buffer);
  assert.equal(encoded.sizeBytes, 4 + small.length + 4 + large.length + 1);
});

test('chunks handed out are never overwritten by later writers sharing the slab', () => {
  const pool = new SlabPool(128);
  const first = new Writer(pool);
  first.int32(0x11111111);
  const firstEncoded = first.finish();
  const second = new Writer(pool);
  for (let index = 0; index < 100; index++) second.int32(0x22222222); // spills into new slabs
  const secondEncoded = second.finish();
  assert.equal(concatChunks(firstEncoded).toString('hex'), '11111111');
  assert.equal(concatChunks(secondEncoded).toString('hex'), '22222222'.repeat(100));
  assert.equal(secondEncoded.sizeBytes, 400);
  // The first writer's chunk and the second's first chunk share the slab without overlapping.
  assert.equal(firstEncoded.chunks[0]!.buffer, secondEncoded.chunks[0]!.buffer);
  assert.equal(firstEncoded.chunks[0]!.byteOffset + 4, secondEncoded.chunks[0]!.byteOffset);
});

test('reserveInt32 patches a value written before what follows', () => {
  const writer = new Writer();
  const patch = writer.reserveInt32();
  writer.string('abc');
  const encoded = writer.finish();
  patch(encoded.sizeBytes - 4);
  assert.equal(concatChunks(encoded).toString('hex'), '00000005' + '0003616263');
});

test('reads past the end throw ProtocolDecodeError, never RangeError', () => {
  const reader = new Reader(Buffer.from('0001', 'hex'));
  assert.throws(() => reader.int32('partitionIndex'), (error: unknown) => {
    assert.ok(error instanceof ProtocolDecodeError);
    assert.match(error.message, /partitionIndex: needs 4 bytes, only 2 remain/);
    return true;
  });
});
