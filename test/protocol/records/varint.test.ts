import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  readUnsignedVarint,
  readVarint,
  readVarlong,
  VarintError,
  varintSize,
  varlongSize,
  writeUnsignedVarint,
  writeVarint,
  writeVarlong,
} from '../../../src/protocol/records/varint.js';

test('zigzag varints have the protobuf encodings', () => {
  const cases: Array<[number, string]> = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-2, '03'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [2147483647, 'feffffff0f'],
    [-2147483648, 'ffffffff0f'],
  ];
  for (const [value, hex] of cases) {
    const bytes = Buffer.alloc(10);
    const end = writeVarint(bytes, 0, value);
    assert.equal(bytes.subarray(0, end).toString('hex'), hex, `encode ${value}`);
    assert.equal(varintSize(value), hex.length / 2);
    const cursor = { position: 0 };
    assert.equal(readVarint(bytes, cursor, end), value);
    assert.equal(cursor.position, end);
  }
});

test('varlongs round-trip across the safe integer range', () => {
  const values = [0, 1, -1, 300, -300, 2 ** 31, -(2 ** 31) - 1, 2 ** 40 + 7, -(2 ** 45), 2 ** 51 - 1, -(2 ** 51)];
  for (const value of values) {
    const bytes = Buffer.alloc(10);
    const end = writeVarlong(bytes, 0, value);
    assert.equal(end, varlongSize(value));
    const cursor = { position: 0 };
    assert.equal(readVarlong(bytes, cursor, end), value);
  }
});

test('unsigned varints round-trip', () => {
  for (const value of [0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32 - 1]) {
    const bytes = Buffer.alloc(10);
    const end = writeUnsignedVarint(bytes, 0, value);
    const cursor = { position: 0 };
    assert.equal(readUnsignedVarint(bytes, cursor, end), value);
  }
});

test('truncated and overlong varints throw VarintError', () => {
  assert.throws(() => readVarint(Buffer.from([0x80, 0x80]), { position: 0 }, 2), VarintError);
  assert.throws(() => readVarint(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), { position: 0 }, 6), VarintError);
  assert.throws(() => readVarlong(Buffer.alloc(11, 0x80), { position: 0 }, 11), VarintError);
});
