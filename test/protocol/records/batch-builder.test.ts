import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBatchFrame, validateBatch } from '../../../src/protocol/records/batch.js';
import { BatchBuilder, maxRecordSizeBytes, recordSizeBytes } from '../../../src/protocol/records/batch-builder.js';
import { RECORDS_OFFSET } from '../../../src/protocol/records/layout.js';
import { decodeRecordBatch, encodeRecordBatch, type RecordInput } from '../../../src/protocol/records/records.js';

const validation = { maxBatchSizeBytes: 1 << 24, requireKeys: false, allowControlBatches: false };

interface Sample {
  key: Buffer | null;
  value: Buffer | null;
  timestampMs: number;
}

function bytes(length: number, seed: number): Buffer {
  const buffer = Buffer.alloc(length);
  for (let index = 0; index < length; index++) buffer[index] = (index * 31 + seed) & 0xff;
  return buffer;
}

/** Keys and values of every varint width that matters, nulls, timestamp deltas past one byte. */
function samples(): Sample[] {
  const base = 1_700_000_000_000;
  return [
    { key: null, value: bytes(100, 1), timestampMs: base },
    { key: Buffer.from('k'), value: bytes(0, 2), timestampMs: base },
    { key: bytes(8, 3), value: null, timestampMs: base + 1 },
    { key: null, value: bytes(63, 4), timestampMs: base + 63 },
    { key: bytes(64, 5), value: bytes(64, 6), timestampMs: base + 64 },
    { key: null, value: bytes(200, 7), timestampMs: base + 8191 },
    { key: Buffer.alloc(0), value: bytes(20_000, 8), timestampMs: base + 70_000 },
  ];
}

function build(builder: BatchBuilder, records: readonly Sample[]): Buffer {
  builder.reset();
  for (const record of records) assert.ok(builder.append(record.timestampMs, record.key, record.value) >= 0);
  return builder.seal();
}

function reference(records: readonly Sample[]): Buffer {
  const inputs: RecordInput[] = records.map((record) => ({ key: record.key, value: record.value, timestampMs: record.timestampMs }));
  return encodeRecordBatch({ records: inputs });
}

test('seal produces exactly the bytes encodeRecordBatch does for the same records', () => {
  const records = samples();
  const builder = new BatchBuilder(64 * 1024);
  const built = build(builder, records);
  assert.deepEqual(built, reference(records));
  for (let count = 1; count < records.length; count++) {
    assert.deepEqual(build(builder, records.slice(0, count)), reference(records.slice(0, count)), `first ${count} records`);
  }
});

test('a sealed batch decodes to its records and passes CRC and framing checks', () => {
  const records = samples();
  const batch = build(new BatchBuilder(64 * 1024), records);
  assert.equal(checkBatchFrame(batch, 0, batch.length), batch.length);
  const info = validateBatch(batch, 0, batch.length, validation);
  assert.equal(info.recordsCount, records.length);
  assert.equal(info.lastOffsetDelta, records.length - 1);
  const decoded = decodeRecordBatch(batch);
  assert.equal(decoded.records.length, records.length);
  assert.equal(decoded.baseTimestampMs, records[0]!.timestampMs);
  assert.equal(decoded.maxTimestampMs, records.at(-1)!.timestampMs);
  assert.equal(decoded.producerId, -1);
  assert.equal(decoded.partitionLeaderEpoch, -1);
  records.forEach((record, index) => {
    const got = decoded.records[index]!;
    assert.equal(got.offset, index);
    assert.equal(got.timestampMs, record.timestampMs);
    assert.deepEqual(got.key, record.key);
    assert.deepEqual(got.value, record.value);
    assert.deepEqual(got.headers, []);
  });
});

test('append refuses a record that does not fit and leaves the batch intact', () => {
  const value = bytes(100, 9);
  const capacity = 1024;
  const builder = new BatchBuilder(capacity);
  let appended = 0;
  const timestampMs = 1_700_000_000_000;
  while (builder.append(timestampMs, null, value) >= 0) {
    appended++;
    assert.ok(appended < 100, 'bounded');
  }
  assert.equal(builder.recordCount, appended);
  assert.ok(builder.sizeBytes <= capacity);
  assert.ok(builder.sizeBytes + recordSizeBytes(0, appended, -1, value.length) > capacity);
  const batch = builder.seal();
  assert.equal(batch.length, builder.sizeBytes);
  assert.deepEqual(batch, reference(Array.from({ length: appended }, () => ({ key: null, value, timestampMs }))));
});

test('reset reuses the buffer for a fresh, correct batch', () => {
  const builder = new BatchBuilder(4096);
  const first = [{ key: null, value: bytes(300, 1), timestampMs: 1000 }];
  const second = [
    { key: Buffer.from('a'), value: bytes(10, 2), timestampMs: 2000 },
    { key: Buffer.from('b'), value: bytes(20, 3), timestampMs: 2005 },
  ];
  const firstCopy = Buffer.from(build(builder, first));
  assert.deepEqual(firstCopy, reference(first));
  assert.deepEqual(build(builder, second), reference(second));
});

test('the returned value position lets the caller patch the value before seal', () => {
  const builder = new BatchBuilder(4096);
  const payload = Buffer.alloc(16);
  const positions = [0, 1, 2].map((index) => builder.append(5000 + index, null, payload));
  positions.forEach((position, index) => builder.buffer.writeDoubleBE(1234.5 + index, position));
  const decoded = decodeRecordBatch(builder.seal());
  decoded.records.forEach((record, index) => assert.equal(record.value!.readDoubleBE(0), 1234.5 + index));
  assert.equal(checkBatchFrame(builder.buffer, 0, builder.sizeBytes), builder.sizeBytes);
});

test('recordSizeBytes predicts the growth of each append', () => {
  const builder = new BatchBuilder(64 * 1024);
  samples().forEach((record, index) => {
    const before = builder.sizeBytes;
    const delta = record.timestampMs - (index === 0 ? record.timestampMs : builder.firstTimestampMs);
    builder.append(record.timestampMs, record.key, record.value);
    const keyBytes = record.key === null ? -1 : record.key.length;
    const valueBytes = record.value === null ? -1 : record.value.length;
    assert.equal(builder.sizeBytes - before, recordSizeBytes(delta, index, keyBytes, valueBytes));
    assert.ok(builder.sizeBytes - before <= maxRecordSizeBytes(keyBytes, valueBytes));
  });
});

test('misuse is refused: empty seal, append after seal, a capacity below one record', () => {
  const builder = new BatchBuilder(RECORDS_OFFSET + 64);
  assert.throws(() => builder.seal(), /at least one record/);
  builder.append(1, null, Buffer.alloc(1));
  builder.seal();
  assert.throws(() => builder.append(1, null, Buffer.alloc(1)), /after seal/);
  assert.throws(() => new BatchBuilder(RECORDS_OFFSET), RangeError);
});
