import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../src/runtime/clock.js';
import { decodeRecordBatches, encodeControlBatch, encodeRecordBatch } from '../../../src/protocol/records/records.js';
import { snappyLookalike } from './opaque-batch.js';
import { Attribute, BATCH_LENGTH_OFFSET, Compression, ControlType, LOG_OVERHEAD_BYTES } from '../../../src/protocol/records/layout.js';
import { openLog } from '../log-fixtures.js';
import {
  BASE_TIME_MS,
  compactConfig,
  expectedAfterCompaction,
  fillKeyed,
  keyedBatch,
  latestValues,
  newCleaner,
  partitionDirectory,
  readAllRecords,
} from './cleaner-fixtures.js';

function activeSegmentFile(directory: string): Buffer {
  const logs = readdirSync(directory).filter((name) => name.endsWith('.log')).sort();
  return readFileSync(join(directory, logs[logs.length - 1]!));
}

test('the latest value per key survives, older ones go, offsets and reads by offset are unchanged', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig());
  fillKeyed(log, 60, 10);
  const before = readAllRecords(log);
  const closed = log.closedSegments();
  const cleanEnd = closed[closed.length - 1]!.nextOffset;
  const activeBefore = activeSegmentFile(directory);
  const activeBase = log.segmentBaseOffsets().at(-1);
  const cleaner = newCleaner(dataDir, clock);
  const result = await cleaner.cleanNow(log);
  assert.equal(result.outcome, 'swapped');
  assert.equal(result.firstDirtyOffset, cleanEnd);
  const after = readAllRecords(log);
  assert.deepEqual(after, expectedAfterCompaction(before, cleanEnd), 'survivors keep their offsets, values and timestamps');
  assert.ok(after.length < before.length / 2, `compaction removed records: ${before.length} -> ${after.length}`);
  assert.deepEqual(latestValues(after), latestValues(before));
  assert.ok(log.sizeBytes < closed.reduce((sum, segment) => sum + segment.sizeBytes, 0));
  assert.deepEqual(activeSegmentFile(directory), activeBefore, 'the active segment is untouched');
  assert.equal(log.segmentBaseOffsets().at(-1), activeBase);
  assert.equal(log.logEndOffset, before[before.length - 1]!.offset + 1);
  // A read at any offset returns the batch holding it or, if compacted away, the next surviving one.
  const survivors = after.map((record) => record.offset);
  for (let offset = 0; offset < log.logEndOffset; offset++) {
    const batches = decodeRecordBatches(log.read(offset, 1).records);
    const firstAtOrAfter = batches[0]!.records.find((record) => record.offset >= offset)!;
    assert.equal(firstAtOrAfter.offset, survivors.find((survivor) => survivor >= offset), `read at ${offset}`);
  }
  // Appends continue at the log end; reopening finds the same records.
  assert.equal(log.appendAsLeader(keyedBatch([{ key: 'k1', value: 'new' }]), 0).baseOffset, before.length);
  await log.close();
  const reopened = openLog(directory, clock, compactConfig());
  assert.deepEqual(readAllRecords(reopened).slice(0, after.length), after);
  await reopened.close();
  await cleaner.close();
});

test('tombstones stay for delete.retention.ms after the first cleaning and go after it', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const config = compactConfig({ deleteRetentionMs: 60_000 });
  const log = openLog(directory, clock, config);
  log.appendAsLeader(keyedBatch([{ key: 'a', value: 'a1' }, { key: 'b', value: 'b1' }]), 0);
  log.appendAsLeader(keyedBatch([{ key: 'a', value: null }, { key: 'c', value: 'c1' }], { timestampMs: BASE_TIME_MS + 500 }), 0);
  log.roll();
  log.appendAsLeader(keyedBatch([{ key: 'd', value: 'd1' }]), 0);
  const cleaner = newCleaner(dataDir, clock);

  assert.equal((await cleaner.cleanNow(log)).outcome, 'swapped');
  let records = readAllRecords(log);
  assert.deepEqual(records.map((record) => [record.key, record.value]), [['b', 'b1'], ['a', null], ['c', 'c1'], ['d', 'd1']]);
  const tombstone = records.find((record) => record.key === 'a')!;
  assert.equal(tombstone.timestampMs, BASE_TIME_MS + 500, 'record timestamps survive the delete-horizon stamp');
  const stamped = decodeRecordBatches(log.read(tombstone.offset, 1).records)[0]!;
  assert.ok((stamped.attributes & Attribute.DELETE_HORIZON) !== 0);
  assert.equal(stamped.baseTimestampMs, BASE_TIME_MS + 60_000, 'horizon = first cleaning + delete.retention.ms');

  clock.advance(59_999);
  await cleaner.cleanNow(log);
  assert.ok(readAllRecords(log).some((record) => record.key === 'a'), 'still inside delete.retention.ms');
  assert.equal(await cleaner.maybeClean([{ topic: 'compacted', partition: 0, log }]), null, 'not due yet');

  clock.advance(1);
  const pass = await cleaner.maybeClean([{ topic: 'compacted', partition: 0, log }]);
  assert.ok(pass !== null, 'a reached delete horizon makes the log due even with no dirty bytes');
  assert.equal((await pass.done).outcome, 'swapped');
  records = readAllRecords(log);
  assert.deepEqual(records.map((record) => [record.offset, record.key, record.value]), [[1, 'b', 'b1'], [3, 'c', 'c1'], [4, 'd', 'd1']]);
  await log.close();
  await cleaner.close();
});


test('gzip batches are inflated, filtered and written back gzip with their offsets', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig({ segmentBytes: 1024 }));
  for (let round = 0; round < 30; round++) {
    const records = Array.from({ length: 5 }, (_, index) => ({ key: `g${(round * 5 + index) % 7}`, value: `v${round}-${index}`.padEnd(60, 'x') }));
    log.appendAsLeader(keyedBatch(records, { compression: Compression.GZIP }), 0);
  }
  const before = readAllRecords(log);
  const cleanEnd = log.closedSegments().at(-1)!.nextOffset;
  const cleaner = newCleaner(dataDir, clock);
  const result = await cleaner.cleanNow(log);
  assert.equal(result.outcome, 'swapped');
  assert.ok(result.stats!.batchesRebuilt > 0);
  const after = readAllRecords(log);
  assert.deepEqual(after, expectedAfterCompaction(before, cleanEnd));
  const batches = decodeRecordBatches(log.read(0, 1 << 20).records);
  assert.ok(batches.every((batch) => batch.compression === Compression.GZIP));
  await log.close();
  await cleaner.close();
});

/** Base offsets of the batches in `bytes`, from their headers only. */
function batchBaseOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  for (let position = 0; position < bytes.length; position += LOG_OVERHEAD_BYTES + bytes.readInt32BE(position + BATCH_LENGTH_OFFSET)) {
    offsets.push(Number(bytes.readBigInt64BE(position)));
  }
  return offsets;
}

test('a batch with a codec the broker cannot inflate is kept byte for byte; control and transactional batches survive', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig({ segmentBytes: 1 << 20 }));
  const opaque = snappyLookalike('k0');
  log.appendAsLeader(keyedBatch([{ key: 'k0', value: 'old' }]), 0);
  const opaqueOffset = log.appendAsLeader(Buffer.from(opaque), 0).baseOffset;
  const transactional = encodeRecordBatch({ timestampMs: BASE_TIME_MS, transactional: true, producerId: 7, producerEpoch: 0, baseSequence: 0, records: [{ key: 'k0', value: 'txn' }] });
  const transactionalOffset = log.appendAsLeader(transactional, 0).baseOffset;
  const marker = encodeControlBatch({ type: ControlType.COMMIT, coordinatorEpoch: 0, producerId: 7, producerEpoch: 0, timestampMs: BASE_TIME_MS });
  const markerOffset = log.appendInternal(marker, 0).baseOffset;
  log.appendAsLeader(keyedBatch([{ key: 'k0', value: 'newest' }]), 0);
  log.roll();
  log.appendAsLeader(keyedBatch([{ key: 'z', value: 'active' }]), 0);
  const cleaner = newCleaner(dataDir, clock);
  const result = await cleaner.cleanNow(log);
  assert.equal(result.outcome, 'swapped');
  assert.equal(result.stats!.batchesKeptOpaque, 1);
  const kept = log.read(opaqueOffset, 1).records;
  const expectedOpaque = Buffer.from(opaque);
  expectedOpaque.writeBigInt64BE(BigInt(opaqueOffset), 0); // stamped by the broker on append
  expectedOpaque.writeInt32BE(0, 12); // partition leader epoch, likewise
  assert.deepEqual(kept.subarray(0, opaque.length), expectedOpaque, 'the opaque batch is byte for byte as appended');
  // The first k0 goes (superseded by the newest, non-transactional k0); so does the transactional k0.
  const offsets = batchBaseOffsets(log.read(0, 1 << 20).records);
  assert.ok(!offsets.includes(0));
  assert.ok(offsets.includes(opaqueOffset));
  assert.ok(!offsets.includes(transactionalOffset), 'a superseded transactional record goes');
  assert.ok(offsets.includes(markerOffset), 'the transaction marker stays');
  const markerBatch = decodeRecordBatches(log.read(markerOffset, 1).records)[0]!;
  assert.equal(markerBatch.isControl, true);
  const tail = decodeRecordBatches(log.read(markerOffset + 1, 1 << 20).records);
  assert.deepEqual(tail.map((batch) => batch.records[0]!.value!.toString()), ['newest'], 'the rest of the cleaned segment');
  await log.close();
  await cleaner.close();
});

test('a transactional value never supersedes an earlier value (it may have aborted)', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig({ segmentBytes: 1 << 20 }));
  log.appendAsLeader(keyedBatch([{ key: 'x', value: 'committed' }]), 0);
  log.appendAsLeader(encodeRecordBatch({ timestampMs: BASE_TIME_MS, transactional: true, producerId: 9, producerEpoch: 0, baseSequence: 0, records: [{ key: 'x', value: 'maybe-aborted' }] }), 0);
  log.appendInternal(encodeControlBatch({ type: ControlType.ABORT, coordinatorEpoch: 0, producerId: 9, producerEpoch: 0, timestampMs: BASE_TIME_MS }), 0);
  log.roll();
  log.appendAsLeader(keyedBatch([{ key: 'y', value: 'active' }]), 0);
  const cleaner = newCleaner(dataDir, clock);
  await cleaner.cleanNow(log);
  assert.deepEqual(readAllRecords(log).map((record) => record.value), ['committed', 'maybe-aborted', '\u0000\u0000\u0000\u0000\u0000\u0000', 'active']);
  await log.close();
  await cleaner.close();
});

test('output segments stay within segment.bytes and small cleaned segments merge', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const config = compactConfig({ segmentBytes: 4096 });
  const log = openLog(directory, clock, config);
  fillKeyed(log, 200, 400, 4, 60); // few duplicates: output close to input size
  const before = readAllRecords(log);
  const segmentsBefore = log.segmentCount;
  const cleaner = newCleaner(dataDir, clock);
  await cleaner.cleanNow(log);
  for (const segment of log.closedSegments()) assert.ok(segment.sizeBytes <= config.segmentBytes, `segment ${segment.baseOffset}: ${segment.sizeBytes} bytes`);
  assert.ok(log.segmentCount < segmentsBefore, `${segmentsBefore} segments merged into ${log.segmentCount}`);
  assert.deepEqual(latestValues(readAllRecords(log)), latestValues(before));
  await log.close();
  await cleaner.close();
});

test('a full offset map cleans a prefix and the next pass finishes the dirty range', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig());
  fillKeyed(log, 80, 30);
  const before = readAllRecords(log);
  const cleanEnd = log.closedSegments().at(-1)!.nextOffset;
  const cleaner = newCleaner(dataDir, clock, false, { maxOffsetMapEntries: 20 });
  const first = await cleaner.cleanNow(log);
  assert.equal(first.outcome, 'swapped');
  assert.ok(first.firstDirtyOffset < cleanEnd, `map filled at ${first.firstDirtyOffset}`);
  assert.deepEqual(latestValues(readAllRecords(log)), latestValues(before));
  let passes = 1;
  while (cleaner.checkpointedDirtyOffset('compacted', 0)! < cleanEnd && passes < 100) {
    await cleaner.cleanNow(log);
    passes++;
  }
  assert.ok(passes > 2);
  assert.deepEqual(readAllRecords(log), expectedAfterCompaction(before, cleanEnd));
  await log.close();
  await cleaner.close();
});
