import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { murmur2, partitionForKey } from '../../src/client/murmur2.js';
import { SeededRandom } from '../helpers/random.js';

// Apache Kafka's UtilsTest.testMurmur2.
const kafkaVectors: readonly [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

// kafkajs src/producer/partitioners/defaultJava/murmur2.spec.js, generated with the Java client.
const kafkajsJavaVectors: readonly [string, number][] = [
  ['0', 971027396],
  ['1', -1993445489],
  ['128', -326012175],
  ['2187', -1508407203],
  ['16384', -325739742],
  ['78125', -1654490814],
  ['279936', 1462227128],
  ['823543', -2014198330],
  ['2097152', 607668903],
  ['4782969', -1182699775],
  ['10000000', -1830336757],
  ['19487171', -1603849305],
  ['35831808', -857013643],
  ['62748517', -1167431028],
  ['105413504', -381294639],
  ['170859375', -1658323481],
  ['100:48069', 1009543857],
];

test('murmur2 matches the Java client on Kafka and kafkajs test vectors', () => {
  for (const [key, expected] of [...kafkaVectors, ...kafkajsJavaVectors]) {
    assert.equal(murmur2(Buffer.from(key)), expected, key);
  }
});

test('murmur2 agrees with kafkajs (Java-compatible partitioner) on random keys of every tail length', () => {
  const require = createRequire(import.meta.url);
  const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;
  const random = new SeededRandom(2024);
  for (let round = 0; round < 500; round++) {
    const key = Buffer.from(Array.from({ length: random.int(0, 40) }, () => random.int(0, 255)));
    assert.equal(murmur2(key), kafkajsMurmur2(key), key.toString('hex'));
  }
});

test('partitionForKey is toPositive(murmur2) % partitionCount, also for negative hashes', () => {
  // murmur2("foobar") = -790332482; & 0x7fffffff = 1357151166; % 50 = 16.
  assert.equal(partitionForKey(Buffer.from('foobar'), 50), 16);
  assert.equal(partitionForKey(Buffer.from('21'), 7), (-973932308 & 0x7fffffff) % 7);
  assert.throws(() => partitionForKey(Buffer.from('x'), 0), RangeError);
});
