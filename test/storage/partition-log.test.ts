import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../src/runtime/clock.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { decodeRecordBatches } from '../../src/protocol/records/records.js';
import { readPartitionLeaderEpoch } from '../../src/protocol/records/batch.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';
import { SeededRandom } from '../helpers/random.js';
import { clientBatch, openLog, readAllOffsets, testConfig } from './log-fixtures.js';

function offsetsIn(records: Buffer): number[] {
  return decodeRecordBatches(records).flatMap((batch) => batch.records.map((record) => record.offset));
}

test('appends assign dense offsets and reads return whole batches across segments', async () => {
  const directory = temporaryDirectory();
  const log = openLog(directory, new ManualClock(), testConfig({ segmentBytes: 2048 }));
  let expected = 0;
  for (let round = 0; round < 40; round++) {
    const count = 1 + (round % 5);
    const result = log.appendAsLeader(clientBatch(count), 3);
    assert.equal(result.baseOffset, expected);
    assert.equal(result.lastOffset, expected + count - 1);
    expected += count;
  }
  assert.equal(log.logEndOffset, expected);
  assert.ok(log.segmentCount > 3, `expected several segments, got ${log.segmentCount}`);
  const seen: number[] = [];
  let fetchOffset = 0;
  while (fetchOffset < log.logEndOffset) {
    const { records } = log.read(fetchOffset, 1000);
    assert.ok(records.length > 0);
    const offsets = offsetsIn(records);
    assert.ok(offsets[0]! <= fetchOffset && offsets.includes(fetchOffset));
    for (const offset of offsets) if (offset >= fetchOffset) seen.push(offset);
    fetchOffset = offsets[offsets.length - 1]! + 1;
  }
  assert.deepEqual(seen, Array.from({ length: expected }, (_, index) => index));
  const firstBatch = log.read(0, 1).records;
  assert.equal(readPartitionLeaderEpoch(firstBatch, 0), 3, 'leader epoch stamped in place');
  await log.close();
});

test('read honours maxBytes, minOneBatch and the exclusive upper offset', async () => {
  const log = openLog(temporaryDirectory(), new ManualClock(), testConfig({ segmentBytes: 1 << 20 }));
  for (let round = 0; round < 10; round++) log.appendAsLeader(clientBatch(2, 100), 0);
  const batchBytes = clientBatch(2, 100).length;
  assert.equal(log.read(0, batchBytes * 3 + 10).records.length, batchBytes * 3);
  assert.equal(log.read(0, 10).records.length, batchBytes, 'at least one batch');
  assert.equal(log.read(0, 10, log.logEndOffset, false).records.length, 0);
  assert.deepEqual(offsetsIn(log.read(0, 1 << 20, 6).records), [0, 1, 2, 3, 4, 5]);
  assert.equal(log.read(6, 1 << 20, 6).records.length, 0);
  assert.equal(log.read(20, 1 << 20).records.length, 0, 'reading at the log end is empty');
  assert.throws(() => log.read(21, 100), (error: unknown) => error instanceof KafkaError && error.code === ErrorCode.OFFSET_OUT_OF_RANGE);
  await log.close();
});

test('offset index lookups agree with a linear scan on random logs', async () => {
  for (const seed of [1, 2, 3]) {
    const random = new SeededRandom(seed);
    const log = openLog(temporaryDirectory(), new ManualClock(), testConfig({ segmentBytes: 8192, indexIntervalBytes: random.int(64, 1024) }));
    const batchStarts: Array<{ base: number; last: number }> = [];
    for (let round = 0; round < 200; round++) {
      const count = random.int(1, 8);
      const result = log.appendAsLeader(clientBatch(count, random.int(1, 200)), 0);
      batchStarts.push({ base: result.baseOffset, last: result.lastOffset });
    }
    for (let probe = 0; probe < 300; probe++) {
      const target = random.int(0, log.logEndOffset - 1);
      const expectedBase = batchStarts.find((batch) => batch.last >= target)!.base;
      const first = decodeRecordBatches(log.read(target, 1).records)[0]!;
      assert.equal(first.baseOffset, expectedBase, `seed ${seed} target ${target}`);
    }
    await log.close();
  }
});

test('offset for timestamp agrees with a linear scan, record-exact', async () => {
  const random = new SeededRandom(42);
  const log = openLog(temporaryDirectory(), new ManualClock(), testConfig({ segmentBytes: 4096, indexIntervalBytes: 128 }));
  const timeline: Array<{ offset: number; timestampMs: number }> = [];
  let timestampMs = 1_000_000;
  for (let round = 0; round < 150; round++) {
    timestampMs += random.int(-5, 30); // mostly increasing, sometimes not, as with CreateTime
    const count = random.int(1, 4);
    const result = log.appendAsLeader(clientBatch(count, 30, timestampMs), 0);
    for (let index = 0; index < count; index++) timeline.push({ offset: result.baseOffset + index, timestampMs: timestampMs + index });
  }
  for (let probe = 0; probe < 200; probe++) {
    const target = random.int(999_000, timestampMs + 50);
    const expected = timeline.find((entry) => entry.timestampMs >= target) ?? null;
    const found = log.offsetForTimestamp(target);
    assert.deepEqual(found, expected, `target ${target}`);
  }
  const max = log.maxTimestamp()!;
  assert.equal(max.timestampMs, Math.max(...timeline.map((entry) => entry.timestampMs)));
  await log.close();
});

test('segments roll on size, on age and when the index is full', async () => {
  const clock = new ManualClock();
  const bySize = openLog(temporaryDirectory(), clock, testConfig({ segmentBytes: 1000 }));
  const batch = clientBatch(3, 100);
  for (let round = 0; round < 6; round++) bySize.appendAsLeader(clientBatch(3, 100), 0);
  assert.equal(bySize.segmentCount, Math.ceil(6 / Math.floor(1000 / batch.length)));
  await bySize.close();

  const byAge = openLog(temporaryDirectory(), clock, testConfig({ segmentBytes: 1 << 20, segmentMs: 60_000 }));
  byAge.appendAsLeader(clientBatch(1), 0);
  clock.advance(59_999);
  byAge.appendAsLeader(clientBatch(1), 0);
  assert.equal(byAge.segmentCount, 1);
  clock.advance(1);
  byAge.appendAsLeader(clientBatch(1), 0);
  assert.deepEqual(byAge.segmentBaseOffsets(), [0, 2]);
  await byAge.close();

  const byIndex = openLog(temporaryDirectory(), clock, testConfig({ segmentBytes: 1 << 20, indexIntervalBytes: 1, segmentIndexBytes: 8 * 4 }));
  for (let round = 0; round < 12; round++) byIndex.appendAsLeader(clientBatch(1), 0);
  assert.ok(byIndex.segmentCount >= 3, `index-full rolls: ${byIndex.segmentCount} segments`);
  await byIndex.close();
});

test('retention deletes whole closed segments by time and by size, never the active one', async () => {
  const clock = new ManualClock(10_000_000);
  const directory = temporaryDirectory();
  const log = openLog(directory, clock, testConfig({ segmentBytes: 600, retentionMs: 1000, retentionBytes: -1 }));
  for (let round = 0; round < 12; round++) log.appendAsLeader(clientBatch(2, 100, clock.nowMs() - 5000 + round * 400), 0);
  const before = log.segmentBaseOffsets();
  assert.ok(before.length >= 4);
  const deleted = await log.applyRetention();
  const after = log.segmentBaseOffsets();
  assert.ok(deleted > 0 && deleted < before.length);
  assert.equal(after[after.length - 1], before[before.length - 1], 'active segment kept');
  assert.equal(log.logStartOffset, after[0]);
  assert.throws(() => log.read(0, 100), (error: unknown) => error instanceof KafkaError && error.code === ErrorCode.OFFSET_OUT_OF_RANGE);
  const logFiles = readdirSync(directory).filter((name) => name.endsWith('.log'));
  assert.equal(logFiles.length, after.length, 'segment files removed from disk');
  await log.close();

  const sized = openLog(temporaryDirectory(), clock, testConfig({ segmentBytes: 600, retentionMs: -1, retentionBytes: 1500 }));
  for (let round = 0; round < 12; round++) sized.appendAsLeader(clientBatch(2, 100, clock.nowMs()), 0);
  await sized.applyRetention();
  const remainingClosed = sized.sizeBytes;
  assert.ok(sized.segmentCount >= 2);
  assert.ok(remainingClosed <= 1500 + 600, `size after retention ${remainingClosed}`);
  await sized.close();

  const forever = openLog(temporaryDirectory(), clock, testConfig({ segmentBytes: 600, retentionMs: -1, retentionBytes: -1 }));
  for (let round = 0; round < 12; round++) forever.appendAsLeader(clientBatch(2, 100, 0), 0);
  assert.equal(await forever.applyRetention(), 0);
  await forever.close();
});

test('truncateTo removes every record at and above the offset, and appends continue from there', async () => {
  const log = openLog(temporaryDirectory(), new ManualClock(), testConfig({ segmentBytes: 1000 }));
  for (let round = 0; round < 20; round++) log.appendAsLeader(clientBatch(2, 60), 0);
  assert.equal(log.logEndOffset, 40);
  await log.truncateTo(31); // offsets 30-31 share a batch: it goes whole
  assert.equal(log.logEndOffset, 30);
  await log.truncateTo(10);
  assert.equal(log.logEndOffset, 10);
  const appended = log.appendAsLeader(clientBatch(3), 0);
  assert.equal(appended.baseOffset, 10);
  assert.deepEqual(readAllOffsets(log), Array.from({ length: 13 }, (_, index) => index));
  await log.truncateTo(0);
  assert.equal(log.logEndOffset, 0);
  assert.equal(log.segmentCount, 1);
  await log.close();
});

test('DeleteRecords moves the log start offset and drops segments below it', async () => {
  const log = openLog(temporaryDirectory(), new ManualClock(), testConfig({ segmentBytes: 700 }));
  for (let round = 0; round < 20; round++) log.appendAsLeader(clientBatch(2, 60), 0);
  const segmentsBefore = log.segmentCount;
  assert.equal(await log.deleteRecordsBefore(17), 17);
  assert.equal(log.logStartOffset, 17);
  assert.ok(log.segmentCount < segmentsBefore);
  assert.throws(() => log.read(16, 100), (error: unknown) => error instanceof KafkaError && error.code === ErrorCode.OFFSET_OUT_OF_RANGE);
  assert.ok(offsetsIn(log.read(17, 100).records).includes(17));
  await assert.rejects(log.deleteRecordsBefore(41), (error: unknown) => error instanceof KafkaError && error.code === ErrorCode.OFFSET_OUT_OF_RANGE);
  assert.equal(await log.deleteRecordsBefore(40), 40);
  assert.equal(log.segmentCount, 1);
  assert.equal(log.appendAsLeader(clientBatch(1), 0).baseOffset, 40);
  await log.close();
});

test('invalid batches are rejected whole and nothing is written', async () => {
  const log = openLog(temporaryDirectory(), new ManualClock(), testConfig());
  const good = clientBatch(2);
  const bad = clientBatch(2);
  bad[bad.length - 1]! ^= 0xff;
  assert.throws(
    () => log.appendAsLeader(Buffer.concat([good, bad]), 0),
    (error: unknown) => error instanceof KafkaError && error.code === ErrorCode.CORRUPT_MESSAGE,
  );
  assert.equal(log.logEndOffset, 0);
  assert.equal(log.sizeBytes, 0);
  await log.close();
});

test('LogAppendTime stamps the broker clock into each batch', async () => {
  const clock = new ManualClock(1_900_000_000_000);
  const log = openLog(temporaryDirectory(), clock, testConfig({ messageTimestampType: 'LogAppendTime' }));
  const result = log.appendAsLeader(clientBatch(3, 20, 5), 0);
  assert.equal(result.logAppendTimeMs, 1_900_000_000_000);
  const [batch] = decodeRecordBatches(log.read(0, 1000).records);
  assert.ok(batch!.records.every((record) => record.timestampMs === 1_900_000_000_000));
  await log.close();
});

test('segment files are named by base offset with .log, .index and .timeindex', async () => {
  const directory = temporaryDirectory();
  const log = openLog(directory, new ManualClock(), testConfig({ segmentBytes: 500 }));
  for (let round = 0; round < 6; round++) log.appendAsLeader(clientBatch(2, 60), 0);
  await log.close();
  const names = readdirSync(directory).sort();
  for (const base of log.segmentBaseOffsets()) {
    const stem = String(base).padStart(20, '0');
    assert.ok(names.includes(`${stem}.log`) && names.includes(`${stem}.index`) && names.includes(`${stem}.timeindex`), stem);
  }
  assert.ok(names.includes(join('00000000000000000000.log')));
});

test('a journal range after data fsynced in the log files joins once that fsync is done', async () => {
  const log = openLog(temporaryDirectory(), new ManualClock(), testConfig());
  log.appendAsLeader(clientBatch(2), 0); // offsets 0-1: made durable by the log's own fsync
  const fileFlush = log.flush();
  log.appendAsLeader(clientBatch(2), 0); // offsets 2-3: made durable by the journal
  log.acknowledgeDurable(2, 4);
  await fileFlush;
  assert.equal(log.durableEndOffset, 4);
  await log.close();
});

test('journal durability: acknowledgeDurable releases waiters; appendRecovered restores batches with their offsets', async () => {
  const clock = new ManualClock();
  const source = openLog(temporaryDirectory(), clock, testConfig());
  const batches = [clientBatch(2), clientBatch(3), clientBatch(1)].map((batch) => {
    source.appendAsLeader(batch, 4);
    return batch; // patched in place: now carries its assigned offsets
  });
  const waiting = source.whenDurable(5);
  let released = false;
  void waiting.then(() => (released = true));
  source.acknowledgeDurable(2, 6);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(released, false, 'offsets 0-1 are not durable yet, so 2-5 do not count');
  assert.equal(source.durableEndOffset, 0);
  source.acknowledgeDurable(0, 2);
  await waiting;
  assert.equal(source.durableEndOffset, 6, 'the ranges join into one durable prefix');
  assert.equal(source.recoveryPoint, 0, 'the segment files themselves are not fsynced yet');
  await source.close();

  const target = openLog(temporaryDirectory(), clock, testConfig());
  assert.equal(target.appendRecovered(batches[0]!), 1);
  assert.equal(target.appendRecovered(Buffer.concat([batches[0]!, batches[1]!, batches[2]!])), 2, 'the batch it has is skipped');
  assert.equal(target.logEndOffset, 6);
  assert.deepEqual(readAllOffsets(target), [0, 1, 2, 3, 4, 5]);
  const ahead = clientBatch(1);
  ahead.writeBigInt64BE(10n, 0); // offset 10 would leave a gap after 6
  assert.equal(target.appendRecovered(ahead), 0, 'a gap stops the replay of this log');
  assert.equal(target.logEndOffset, 6);
  await target.close();
});
