import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../src/runtime/clock.js';
import { CLEANED_SUFFIX } from '../../../src/storage/cleaner/cleaned-segment-writer.js';
import { runCompactionJob, type CompactionJobInput } from '../../../src/storage/cleaner/compaction-job.js';
import { CLEANER_OFFSET_CHECKPOINT } from '../../../src/storage/cleaner/log-cleaner.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { openLog } from '../log-fixtures.js';
import { snappyLookalike } from './opaque-batch.js';
import { decodeRecordBatches } from '../../../src/protocol/records/records.js';
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

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('the dirty ratio decides: clean at >= min.cleanable.dirty.ratio, the dirtiest log first, never a non-compacted log', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const config = compactConfig({ minCleanableDirtyRatio: 0.5 });
  const log = openLog(directory, clock, config);
  const other = openLog(join(dataDir, 'other-0'), clock, compactConfig({ minCleanableDirtyRatio: 0.5 }));
  const plain = openLog(join(dataDir, 'plain-0'), clock, compactConfig({ cleanupPolicy: 'delete' }));
  fillKeyed(log, 40, 150); // few duplicates: the clean section stays large
  fillKeyed(plain, 40, 8);
  const cleaner = newCleaner(dataDir, clock);
  const logs = [
    { topic: 'plain', partition: 0, log: plain },
    { topic: 'other', partition: 0, log: other },
    { topic: 'compacted', partition: 0, log },
  ];
  assert.equal(cleaner.cleanableState(logs[2]!).dirtyRatio, 1, 'a never-cleaned log is all dirty');
  const first = await cleaner.maybeClean(logs);
  assert.equal(first?.topic, 'compacted');
  assert.equal(await cleaner.maybeClean(logs), null, 'one pass at a time');
  assert.equal((await first.done).outcome, 'swapped');
  assert.equal(cleaner.cleanableState(logs[2]!).dirtyRatio, 0);

  // A little new data: below the ratio.
  fillKeyed(log, 6, 8);
  log.roll();
  const state = cleaner.cleanableState(logs[2]!);
  assert.ok(state.dirtyRatio > 0 && state.dirtyRatio < 0.5, `ratio ${state.dirtyRatio}`);
  assert.equal(state.dirtyRatio, state.dirtyBytes / state.totalBytes);
  assert.equal(await cleaner.maybeClean(logs), null);

  // The other log gets much dirtier than this one: it goes first.
  fillKeyed(other, 30, 8);
  fillKeyed(log, 40, 8);
  const otherState = cleaner.cleanableState(logs[1]!);
  const thisState = cleaner.cleanableState(logs[2]!);
  assert.ok(thisState.dirtyRatio >= 0.5 && otherState.dirtyRatio > thisState.dirtyRatio);
  const second = await cleaner.maybeClean(logs);
  assert.equal(second?.topic, 'other');
  await second.done;
  const third = await cleaner.maybeClean(logs);
  assert.equal(third?.topic, 'compacted');
  await third.done;
  assert.equal(await cleaner.maybeClean(logs), null);
  for (const entry of logs) await entry.log.close();
  await cleaner.close();
});

test('the cleaner checkpoint is written atomically in the data dir and survives a restart', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig());
  fillKeyed(log, 40, 8);
  const cleaner = newCleaner(dataDir, clock);
  const result = await cleaner.cleanNow({ topic: 'compacted', partition: 0, log });
  const end = log.closedSegments().at(-1)!.nextOffset;
  assert.equal(result.firstDirtyOffset, end);
  assert.equal(readFileSync(join(dataDir, CLEANER_OFFSET_CHECKPOINT), 'utf8'), `0\n1\ncompacted 0 ${end}\n`);
  assert.ok(!readdirSync(dataDir).some((name) => name.endsWith('.tmp')));
  await cleaner.close();
  await log.close();

  const reopened = openLog(directory, clock, compactConfig());
  const restarted = newCleaner(dataDir, clock);
  assert.equal(restarted.checkpointedDirtyOffset('compacted', 0), end);
  const state = restarted.cleanableState({ topic: 'compacted', partition: 0, log: reopened });
  assert.equal(state.firstDirtyOffset, end);
  assert.equal(state.dirtyBytes, 0);
  // A checkpoint past the log end (the log was truncated) falls back to the log start.
  // Truncating into a compacted gap: the log end offset is still the truncation offset.
  await reopened.truncateTo(2);
  assert.equal(reopened.logEndOffset, 2);
  assert.equal(reopened.appendAsLeader(keyedBatch([{ key: 'k', value: 'v' }]), 0).baseOffset, 2);
  assert.equal(restarted.cleanableState({ topic: 'compacted', partition: 0, log: reopened }).firstDirtyOffset, 0);
  await reopened.close();
  await restarted.close();
});

/** A cleaner whose job runs, then `meanwhile` runs on the node's side before the job "returns". */
function cleanerWithInterference(dataDir: string, clock: ManualClock, meanwhile: () => Promise<void>) {
  return newCleaner(dataDir, clock, false, {
    runJob: async (input: CompactionJobInput) => {
      const result = runCompactionJob(input);
      await meanwhile();
      return result;
    },
  });
}

for (const [name, interfere] of [
  ['retention deleted a segment', (log: PartitionLog) => log.deleteRecordsBefore(log.closedSegments()[1]!.baseOffset).then(() => {})],
  ['the log was truncated', (log: PartitionLog) => log.truncateTo(log.closedSegments()[1]!.baseOffset + 1)],
] as const) {
  test(`a swap is discarded when ${name} while the job ran`, async () => {
    const { dataDir, directory } = partitionDirectory();
    const clock = new ManualClock(BASE_TIME_MS);
    const log = openLog(directory, clock, compactConfig());
    fillKeyed(log, 40, 8);
    const cleaner = cleanerWithInterference(dataDir, clock, () => interfere(log));
    const result = await cleaner.cleanNow({ topic: 'compacted', partition: 0, log });
    assert.equal(result.outcome, 'discarded');
    assert.ok(!readdirSync(directory).some((entry) => entry.includes('.cleaned') || entry.includes('.swap')));
    assert.equal(cleaner.checkpointedDirtyOffset('compacted', 0), undefined, 'nothing counts as clean');
    const records = readAllRecords(log);
    assert.ok(records.length > 0);
    assert.equal(records[0]!.offset, log.logStartOffset);
    await log.close();
    await cleaner.close();
  });
}

test('appends and rolls while the job runs are kept; the swap splices only the cleaned segments', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig());
  fillKeyed(log, 40, 8);
  const before = readAllRecords(log);
  const cleanEnd = log.closedSegments().at(-1)!.nextOffset;
  const cleaner = cleanerWithInterference(dataDir, clock, async () => {
    fillKeyed(log, 20, 8);
    await log.flush();
  });
  assert.equal((await cleaner.cleanNow({ topic: 'compacted', partition: 0, log })).outcome, 'swapped');
  const after = readAllRecords(log);
  const appended = after.filter((record) => record.offset > before[before.length - 1]!.offset);
  assert.equal(appended.length, 80);
  assert.deepEqual(after.filter((record) => record.offset <= before[before.length - 1]!.offset), expectedAfterCompaction(before, cleanEnd));
  await log.close();
  await cleaner.close();
});

test('the cleaner never cleans past uncleanableFromOffset (the high watermark)', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig());
  fillKeyed(log, 40, 8);
  const closed = log.closedSegments();
  const highWatermark = closed[2]!.nextOffset + 1;
  const cleaner = newCleaner(dataDir, clock);
  const before = readAllRecords(log);
  const result = await cleaner.cleanNow({ topic: 'compacted', partition: 0, log, uncleanableFromOffset: highWatermark });
  assert.equal(result.firstDirtyOffset, closed[2]!.nextOffset);
  const after = readAllRecords(log);
  assert.deepEqual(after, expectedAfterCompaction(before, closed[2]!.nextOffset));
  await log.close();
  await cleaner.close();
});

test('cleanup.policy=compact,delete: retention and compaction both apply', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const config = compactConfig({ cleanupPolicy: 'compact,delete', retentionMs: 10_000 });
  const log = openLog(directory, clock, config);
  fillKeyed(log, 20, 8);
  clock.advance(20_000);
  log.roll();
  const cleaner = newCleaner(dataDir, clock);
  for (let round = 0; round < 10; round++) {
    log.appendAsLeader(keyedBatch([{ key: `n${round % 3}`, value: `v${round}` }, { key: `n${round % 3}`, value: `w${round}` }], { timestampMs: clock.nowMs() }), 0);
  }
  log.roll();
  log.appendAsLeader(keyedBatch([{ key: 'active', value: 'a' }], { timestampMs: clock.nowMs() }), 0);
  assert.ok((await log.applyRetention()) > 0, 'old segments expire');
  const afterRetention = readAllRecords(log);
  assert.equal((await cleaner.cleanNow({ topic: 'compacted', partition: 0, log })).outcome, 'swapped');
  const after = readAllRecords(log);
  assert.deepEqual(latestValues(after), latestValues(afterRetention));
  assert.deepEqual(after.map((record) => record.value), ['w7', 'w8', 'w9', 'a']);
  await log.close();
  await cleaner.close();
});

test('a batch the cleaner cannot read keeps later tombstones past their horizon (it may hide an older value)', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig({ segmentBytes: 1 << 20, deleteRetentionMs: 1000 }));
  log.appendAsLeader(snappyLookalike('t'), 0);
  log.appendAsLeader(keyedBatch([{ key: 't', value: null }]), 0);
  log.roll();
  log.appendAsLeader(keyedBatch([{ key: 'x', value: 'active' }]), 0);
  const cleaner = newCleaner(dataDir, clock);
  await cleaner.cleanNow(log);
  clock.advance(5000);
  await cleaner.cleanNow(log);
  const tail = readAllRecordsFrom(log, 3);
  assert.deepEqual(tail.map((record) => [record.key, record.value]), [['t', null], ['x', 'active']]);
  await log.close();
  await cleaner.close();
});

function readAllRecordsFrom(log: PartitionLog, offset: number): Array<{ key: string | null; value: string | null }> {
  const records: Array<{ key: string | null; value: string | null }> = [];
  for (const segmentOffset of [offset, log.segmentBaseOffsets().at(-1)!]) {
    for (const record of readAllRecords(logView(log, segmentOffset))) records.push({ key: record.key, value: record.value });
  }
  return records;
}

/** A view of the log starting at `startOffset` and stopping at the end of the segment holding it. */
function logView(log: PartitionLog, startOffset: number): PartitionLog {
  const bases = log.segmentBaseOffsets();
  const next = bases.find((base) => base > startOffset) ?? log.logEndOffset;
  return { logStartOffset: startOffset, logEndOffset: next, read: (offset: number, maxBytes: number) => log.read(offset, maxBytes, next) } as unknown as PartitionLog;
}

test('a consumer reading in a loop while the piscina job and the swap run sees increasing offsets, every latest value and no error', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig({ segmentBytes: 8192 }));
  fillKeyed(log, 1500, 50, 4, 60);
  const expectedLatest = latestValues(readAllRecords(log));
  const segmentsBefore = log.segmentCount;
  const cleaner = newCleaner(dataDir, clock, true);
  let finished = false;
  const pass = cleaner.cleanNow(log).finally(() => {
    finished = true;
  });
  let sweeps = 0;
  let sweepsAcrossSwap = 0;
  while (!finished || sweeps < 3) {
    const shapeBefore = log.segmentCount;
    const seen = new Map<string, string | null>();
    let fetchOffset = log.logStartOffset;
    let lastOffset = -1;
    while (fetchOffset < log.logEndOffset) {
      const { records } = log.read(fetchOffset, 16 * 1024);
      assert.ok(records.length > 0, `empty read at ${fetchOffset}`);
      for (const batch of decodeRecordBatches(records)) {
        for (const record of batch.records) {
          if (record.offset < fetchOffset) continue;
          assert.ok(record.offset > lastOffset, `offset ${record.offset} after ${lastOffset}`);
          lastOffset = record.offset;
          seen.set(record.key!.toString(), record.value === null ? null : record.value.toString());
        }
        fetchOffset = batch.baseOffset + batch.lastOffsetDelta + 1;
      }
      await nextTurn();
    }
    assert.deepEqual(seen, expectedLatest, `sweep ${sweeps}`);
    if (log.segmentCount !== shapeBefore) sweepsAcrossSwap++;
    sweeps++;
  }
  const result = await pass;
  assert.equal(result.outcome, 'swapped');
  assert.ok(log.segmentCount < segmentsBefore);
  assert.ok(sweepsAcrossSwap >= 1, 'a sweep was running when the segments were swapped');
  assert.deepEqual(latestValues(readAllRecords(log)), expectedLatest);
  await cleaner.close();
  await log.close();
});

test('truncateCheckpoint lowers the first dirty offset and persists it', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig());
  fillKeyed(log, 40, 8);
  const cleaner = newCleaner(dataDir, clock);
  await cleaner.cleanNow(log);
  const end = cleaner.checkpointedDirtyOffset('compacted', 0)!;
  cleaner.truncateCheckpoint('compacted', 0, end + 10);
  assert.equal(cleaner.checkpointedDirtyOffset('compacted', 0), end, 'never raised');
  await log.truncateTo(30);
  cleaner.truncateCheckpoint('compacted', 0, 30);
  assert.equal(newCleaner(dataDir, clock).checkpointedDirtyOffset('compacted', 0), 30);
  await log.close();
  await cleaner.close();
});

test('corrupt data makes the job write nothing and the log uncleanable until restart', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig());
  fillKeyed(log, 40, 8);
  const second = log.closedSegments()[1]!;
  const basesBefore = log.segmentBaseOffsets();
  const sizeBefore = log.sizeBytes;
  const { openSync, writeSync, closeSync } = await import('node:fs');
  const fd = openSync(join(directory, `${String(second.baseOffset).padStart(20, '0')}.log`), 'r+');
  writeSync(fd, Buffer.from([0x7f]), 0, 1, 100); // inside the first batch's records: the CRC no longer matches
  closeSync(fd);
  const messages: string[] = [];
  const cleaner = newCleaner(dataDir, clock, false, { log: (message) => messages.push(message) });
  const logs = [{ topic: 'compacted', partition: 0, log }];
  const result = await cleaner.cleanNow(logs[0]!);
  assert.equal(result.outcome, 'failed');
  assert.match(result.error!, /CRC/);
  assert.ok(messages.some((message) => message.includes('uncleanable')));
  assert.ok(!readdirSync(directory).some((name) => name.endsWith('.cleaned')));
  assert.deepEqual(log.segmentBaseOffsets(), basesBefore, 'segments untouched');
  assert.equal(log.sizeBytes, sizeBefore);
  assert.equal(await cleaner.maybeClean(logs), null);
  await log.close();
  await cleaner.close();
});

/**
 * Resolves as soon as the pooled job has begun writing `.cleaned` output: it is then running
 * in the worker with most of its rewrite ahead of it. The caller continues in the same turn
 * (before the job's result message can be handled), so a close() there aborts a live job.
 */
function cleanedOutputAppears(directory: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(directory, () => {
      if (!readdirSync(directory).some((name) => name.endsWith(CLEANED_SUFFIX))) return;
      watcher.close();
      resolve();
    });
  });
}

test('close() during a pooled job aborts it, leaves the log as it was and no .cleaned file', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig({ segmentBytes: 64 * 1024 }));
  fillKeyed(log, 3000, 500, 4, 100);
  const before = readAllRecords(log);
  const cleaner = newCleaner(dataDir, clock, true);
  const running = cleanedOutputAppears(directory);
  const pass = cleaner.cleanNow(log);
  await Promise.race([running, pass.then((early) => assert.fail(`the pass ended (${early.outcome}) before it wrote any output`))]);
  const closed = cleaner.close();
  const result = await pass;
  await closed;
  assert.equal(result.outcome, 'failed', `close() must abort the running job; the pass ended ${result.outcome}`);
  assert.match(result.error!, /compaction job failed/);
  assert.ok(!readdirSync(directory).some((name) => name.endsWith(CLEANED_SUFFIX) || name.endsWith('.swap')));
  assert.deepEqual(readAllRecords(log), before, 'the log is as it was');
  await assert.rejects(cleaner.cleanNow(log), /closed/);
  await log.close();
});
