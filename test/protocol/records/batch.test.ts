import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkBatchFrame,
  computeBatchCrc,
  readBaseOffset,
  readMaxTimestamp,
  readPartitionLeaderEpoch,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  validateBatch,
  writeBatchCrc,
} from '../../../src/protocol/records/batch.js';
import { CRC_OFFSET, MAGIC_OFFSET, Compression, RECORDS_OFFSET } from '../../../src/protocol/records/layout.js';
import { decodeRecordBatch, encodeRecordBatch } from '../../../src/protocol/records/records.js';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import { InvariantError } from '../../../src/runtime/assert.js';

const options = { maxBatchSizeBytes: 1 << 20, requireKeys: false, allowControlBatches: false };

function sampleBatch(recordCount = 3): Buffer {
  return encodeRecordBatch({
    timestampMs: 1_700_000_000_000,
    records: Array.from({ length: recordCount }, (_, index) => ({ key: `k${index}`, value: `value ${index}` })),
  });
}

function expectKafkaError(action: () => unknown, code: number): void {
  assert.throws(action, (error: unknown) => error instanceof KafkaError && error.code === code);
}

test('patching baseOffset and partitionLeaderEpoch keeps the CRC valid', () => {
  const batch = sampleBatch();
  const crcBefore = batch.readUInt32BE(CRC_OFFSET);
  setBaseOffset(batch, 0, 123_456_789_012);
  setPartitionLeaderEpoch(batch, 0, 42);
  assert.equal(readBaseOffset(batch, 0), 123_456_789_012);
  assert.equal(readPartitionLeaderEpoch(batch, 0), 42);
  assert.equal(computeBatchCrc(batch, 0), crcBefore);
  assert.equal(checkBatchFrame(batch, 0, batch.length), batch.length);
  assert.deepEqual(decodeRecordBatch(batch).records.map((record) => record.offset), [123_456_789_012, 123_456_789_013, 123_456_789_014]);
});

test('setLogAppendTime rewrites maxTimestamp and the CRC, and decoders report the append time', () => {
  const batch = sampleBatch();
  setLogAppendTime(batch, 0, 1_800_000_000_000);
  assert.equal(readMaxTimestamp(batch, 0), 1_800_000_000_000);
  assert.equal(checkBatchFrame(batch, 0, batch.length), batch.length);
  const decoded = decodeRecordBatch(batch);
  assert.ok(decoded.records.every((record) => record.timestampMs === 1_800_000_000_000));
});

test('stamping a CRC on a batch whose header length disagrees with its bytes is an invariant error', () => {
  const batch = sampleBatch();
  assert.equal(computeBatchCrc(batch, 0), batch.readUInt32BE(CRC_OFFSET));
  assert.throws(() => writeBatchCrc(batch.subarray(0, batch.length - 1), 0), InvariantError, 'header length runs past the bytes');
  const short = Buffer.from(batch);
  short.writeInt32BE(RECORDS_OFFSET - 13, 8); // batchLength one byte short of the header
  assert.throws(() => setLogAppendTime(short, 0, 1), /does not fit the header \(61\)/);
});

test('validation accepts a good batch and reports its header', () => {
  const batch = sampleBatch(5);
  const info = validateBatch(batch, 0, batch.length, options);
  assert.equal(info.recordsCount, 5);
  assert.equal(info.lastOffsetDelta, 4);
  assert.equal(info.sizeBytes, batch.length);
});

test('validation maps each failure to the Kafka error code a broker returns', () => {
  const flipped = sampleBatch();
  flipped[flipped.length - 1]! ^= 0x01;
  expectKafkaError(() => validateBatch(flipped, 0, flipped.length, options), ErrorCode.CORRUPT_MESSAGE);

  const truncated = sampleBatch().subarray(0, 40);
  expectKafkaError(() => validateBatch(truncated, 0, truncated.length, options), ErrorCode.CORRUPT_MESSAGE);

  const shortened = sampleBatch();
  expectKafkaError(() => validateBatch(shortened, 0, shortened.length - 1, options), ErrorCode.CORRUPT_MESSAGE);

  const oldMagic = sampleBatch();
  oldMagic.writeInt8(1, MAGIC_OFFSET);
  expectKafkaError(() => validateBatch(oldMagic, 0, oldMagic.length, options), ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);

  const futureMagic = sampleBatch();
  futureMagic.writeInt8(3, MAGIC_OFFSET);
  expectKafkaError(() => validateBatch(futureMagic, 0, futureMagic.length, options), ErrorCode.CORRUPT_MESSAGE);

  const big = sampleBatch(50);
  expectKafkaError(() => validateBatch(big, 0, big.length, { ...options, maxBatchSizeBytes: 100 }), ErrorCode.MESSAGE_TOO_LARGE);

  const badCount = sampleBatch(3);
  badCount.writeInt32BE(4, RECORDS_OFFSET - 4);
  writeBatchCrc(badCount, 0);
  expectKafkaError(() => validateBatch(badCount, 0, badCount.length, options), ErrorCode.INVALID_RECORD);

  const control = encodeRecordBatch({ control: true, records: [{ key: Buffer.alloc(4), value: Buffer.alloc(6) }] });
  expectKafkaError(() => validateBatch(control, 0, control.length, options), ErrorCode.INVALID_RECORD);

  const noKey = encodeRecordBatch({ records: [{ key: null, value: 'v' }] });
  expectKafkaError(() => validateBatch(noKey, 0, noKey.length, { ...options, requireKeys: true }), ErrorCode.INVALID_RECORD);
});

test('validation rejects records whose framing disagrees with the batch', () => {
  // Offset deltas must run 0..n-1 for a producer batch.
  const gapped = encodeRecordBatch({ records: [{ value: 'a', offsetDelta: 0 }, { value: 'b', offsetDelta: 2 }], lastOffsetDelta: 1 });
  expectKafkaError(() => validateBatch(gapped, 0, gapped.length, options), ErrorCode.INVALID_RECORD);
  // A record length that runs past the batch.
  const overrun = sampleBatch(1);
  overrun[RECORDS_OFFSET] = 0x7e; // varint 63: longer than the record
  writeBatchCrc(overrun, 0);
  expectKafkaError(() => validateBatch(overrun, 0, overrun.length, options), ErrorCode.CORRUPT_MESSAGE);
});

test('compressed batches are validated at the header level and kept opaque', () => {
  const gzip = encodeRecordBatch({ compression: Compression.GZIP, records: [{ key: 'k', value: 'v'.repeat(100) }] });
  const info = validateBatch(gzip, 0, gzip.length, options);
  assert.equal(info.attributes & 0x07, Compression.GZIP);
  assert.equal(decodeRecordBatch(gzip).records[0]!.value!.toString(), 'v'.repeat(100));
});
