import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { checkBatchFrame } from '../../../src/protocol/records/batch.js';
import { Compression, ControlType } from '../../../src/protocol/records/layout.js';
import {
  decodeRecordBatch,
  decodeRecordBatches,
  encodeControlBatch,
  encodeRecordBatch,
} from '../../../src/protocol/records/records.js';
import { kafkajsBaseTimestampMs, kafkajsGzipBatchHex, kafkajsUncompressedBatchHex } from './golden/kafkajs-batches.js';

test('decodes the golden batch captured from kafkajs 2.2.4', () => {
  const bytes = Buffer.from(kafkajsUncompressedBatchHex, 'hex');
  assert.equal(checkBatchFrame(bytes, 0, bytes.length), bytes.length);
  const batch = decodeRecordBatch(bytes);
  assert.equal(batch.magic, 2);
  assert.equal(batch.producerId, -1);
  assert.equal(batch.lastOffsetDelta, 2);
  assert.equal(batch.baseTimestampMs, kafkajsBaseTimestampMs);
  assert.deepEqual(
    batch.records.map((record) => [record.offset, record.timestampMs, record.key?.toString() ?? null, record.value?.toString()]),
    [
      [0, kafkajsBaseTimestampMs, 'key-a', 'value one'],
      [1, kafkajsBaseTimestampMs + 10, 'key-b', 'value two'],
      [2, kafkajsBaseTimestampMs + 20, null, 'no key'],
    ],
  );
  assert.deepEqual(batch.records[0]!.headers, [{ key: 'trace', value: Buffer.from('abc') }]);
});

test('our encoder reproduces the kafkajs golden batch byte for byte', () => {
  const ours = encodeRecordBatch({
    partitionLeaderEpoch: 0,
    producerEpoch: 0,
    baseSequence: 0,
    records: [
      { key: 'key-a', value: 'value one', headers: [{ key: 'trace', value: Buffer.from('abc') }], timestampMs: kafkajsBaseTimestampMs },
      { key: 'key-b', value: 'value two', timestampMs: kafkajsBaseTimestampMs + 10 },
      { key: null, value: 'no key', timestampMs: kafkajsBaseTimestampMs + 20 },
    ],
  });
  assert.equal(ours.toString('hex'), kafkajsUncompressedBatchHex);
});

test('decodes the gzip batch captured from kafkajs', () => {
  const bytes = Buffer.from(kafkajsGzipBatchHex, 'hex');
  assert.equal(checkBatchFrame(bytes, 0, bytes.length), bytes.length);
  const batch = decodeRecordBatch(bytes);
  assert.equal(batch.compression, Compression.GZIP);
  assert.deepEqual(batch.records.map((record) => record.value?.toString()), ['value one', 'value two', 'no key']);
});

test('the live kafkajs encoder agrees with ours on random inputs', async () => {
  const require = createRequire(import.meta.url);
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
  for (let round = 0; round < 20; round++) {
    const count = 1 + ((round * 7) % 9);
    const inputs = Array.from({ length: count }, (_, index) => ({
      key: index % 3 === 0 ? null : Buffer.from(`key-${round}-${index}`),
      value: Buffer.alloc((round * 13 + index * 31) % 300, index),
    }));
    const baseTimestampMs = 1_650_000_000_000 + round;
    const theirs = await RecordBatch({
      firstTimestamp: baseTimestampMs,
      maxTimestamp: baseTimestampMs + (count - 1) * 3,
      lastOffsetDelta: count - 1,
      records: inputs.map((input, index) => Record({ offsetDelta: index, timestampDelta: index * 3, key: input.key, value: input.value })),
    });
    const ours = encodeRecordBatch({
      partitionLeaderEpoch: 0,
      producerEpoch: 0,
      baseSequence: 0,
      records: inputs.map((input, index) => ({ key: input.key, value: input.value, timestampMs: baseTimestampMs + index * 3 })),
    });
    assert.equal(ours.toString('hex'), theirs.buffer.toString('hex'), `round ${round}`);
  }
});

test('batches round-trip through encode and decode, compressed or not', () => {
  for (const compression of [Compression.NONE, Compression.GZIP]) {
    const records = [
      { key: 'a', value: 'x'.repeat(1000), headers: [{ key: 'h1', value: null }, { key: 'h2', value: Buffer.from([1, 2]) }] },
      { key: null, value: null },
      { key: Buffer.alloc(0), value: Buffer.alloc(0), timestampMs: 5 },
    ];
    const bytes = encodeRecordBatch({ baseOffset: 1000, compression, timestampMs: 10, records, producerId: 77, producerEpoch: 3, baseSequence: 9, transactional: true });
    const decoded = decodeRecordBatch(bytes);
    assert.equal(decoded.baseOffset, 1000);
    assert.equal(decoded.producerId, 77);
    assert.equal(decoded.producerEpoch, 3);
    assert.equal(decoded.baseSequence, 9);
    assert.equal(decoded.isTransactional, true);
    assert.equal(decoded.baseTimestampMs, 5);
    assert.equal(decoded.maxTimestampMs, 10);
    assert.equal(decoded.records[0]!.value!.toString(), 'x'.repeat(1000));
    assert.deepEqual(decoded.records[0]!.headers, [{ key: 'h1', value: null }, { key: 'h2', value: Buffer.from([1, 2]) }]);
    assert.equal(decoded.records[1]!.key, null);
    assert.equal(decoded.records[1]!.value, null);
    assert.equal(decoded.records[2]!.key!.length, 0);
    assert.deepEqual(decoded.records.map((record) => record.offset), [1000, 1001, 1002]);
  }
});

test('control batches have the 4-byte key clients insist on', () => {
  const bytes = encodeControlBatch({ type: ControlType.COMMIT, coordinatorEpoch: 7, producerId: 5, producerEpoch: 1, timestampMs: 1 });
  const batch = decodeRecordBatch(bytes);
  assert.equal(batch.isControl, true);
  assert.equal(batch.isTransactional, true);
  assert.equal(batch.records[0]!.key!.toString('hex'), '00000001');
  assert.equal(batch.records[0]!.value!.readInt32BE(2), 7);
});

test('decodeRecordBatches skips a trailing partial batch', () => {
  const one = encodeRecordBatch({ records: [{ value: 'a' }] });
  const two = encodeRecordBatch({ baseOffset: 1, records: [{ value: 'b' }] });
  const joined = Buffer.concat([one, two.subarray(0, two.length - 3)]);
  assert.equal(decodeRecordBatches(joined).length, 1);
  assert.equal(decodeRecordBatches(Buffer.concat([one, two])).length, 2);
});
