import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coordinatorPartitionFor, javaStringHashCode, kafkaAbs } from '../../src/group/coordinator-partition.js';

/** An independent oracle: the hashCode polynomial in BigInt, reduced to a signed int32. */
function oracleHashCode(value: string): number {
  let hash = 0n;
  for (let index = 0; index < value.length; index++) hash = (hash * 31n + BigInt(value.charCodeAt(index))) % (1n << 32n);
  return Number(BigInt.asIntN(32, hash));
}

test('Java String.hashCode on known values', () => {
  assert.equal(javaStringHashCode(''), 0);
  assert.equal(javaStringHashCode('a'), 97);
  // 'Aa' and 'BB' are Java's classic collision.
  assert.equal(javaStringHashCode('Aa'), 2112);
  assert.equal(javaStringHashCode('BB'), 2112);
  assert.equal(javaStringHashCode('hello'), 99162322);
  // ((((103*31+114)*31+111)*31+117)*31+112
  assert.equal(javaStringHashCode('group'), 98629247);
  // The famous string whose hashCode is Integer.MIN_VALUE.
  assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
});

test('hashCode wraps like int32 and counts UTF-16 code units', () => {
  for (const value of ['Hello World', 'console-consumer-12345', 'kafkajs-group', 'ü-grüppe', '😀 emoji group', 'x'.repeat(1000)]) {
    assert.equal(javaStringHashCode(value), oracleHashCode(value), value);
  }
  assert.ok(javaStringHashCode('Hello World') < 0, 'a negative hash');
});

test('coordinatorPartitionFor = (hashCode & 0x7fffffff) % n, MIN_VALUE maps to 0', () => {
  assert.equal(kafkaAbs(-2147483648), 0);
  assert.equal(kafkaAbs(-1), 2147483647);
  assert.equal(coordinatorPartitionFor('', 50), 0);
  assert.equal(coordinatorPartitionFor('a', 50), 97 % 50);
  assert.equal(coordinatorPartitionFor('group', 50), 98629247 % 50);
  assert.equal(coordinatorPartitionFor('polygenelubricants', 50), 0);
  const negative = javaStringHashCode('Hello World');
  assert.equal(coordinatorPartitionFor('Hello World', 50), (negative & 0x7fffffff) % 50);
  assert.equal(coordinatorPartitionFor('group', 1), 0);
  assert.throws(() => coordinatorPartitionFor('g', 0), RangeError);
});
