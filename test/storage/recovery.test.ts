import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../src/runtime/clock.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';
import { clientBatch, openLog, readAllOffsets, testConfig } from './log-fixtures.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';

const config = testConfig({ segmentBytes: 2000, indexIntervalBytes: 200 });

function fill(log: PartitionLog, batches: number): void {
  for (let round = 0; round < batches; round++) log.appendAsLeader(clientBatch(3, 50), 0);
}

function segmentFiles(directory: string, suffix: string): string[] {
  return readdirSync(directory).filter((name) => name.endsWith(suffix)).sort();
}

test('reopen after a clean shutdown trusts the files and keeps every record', async () => {
  const directory = temporaryDirectory();
  const clock = new ManualClock();
  const log = openLog(directory, clock, config);
  fill(log, 30);
  await log.close();
  const reopened = openLog(directory, clock, config, { cleanShutdown: true, recoveryPoint: log.recoveryPoint });
  assert.equal(reopened.recovery.segmentsRecovered, 0);
  assert.equal(reopened.recovery.segmentsWithRebuiltIndexes, 0);
  assert.equal(reopened.logEndOffset, 90);
  assert.deepEqual(readAllOffsets(reopened), Array.from({ length: 90 }, (_, index) => index));
  assert.equal(reopened.appendAsLeader(clientBatch(1), 0).baseOffset, 90);
  await reopened.close();
});

test('reopen after an unclean shutdown scans from the recovery point and keeps every record', async () => {
  const directory = temporaryDirectory();
  const clock = new ManualClock();
  const log = openLog(directory, clock, config);
  fill(log, 20);
  await log.flush();
  const recoveryPoint = log.recoveryPoint;
  fill(log, 10); // appended, never flushed, never closed
  const reopened = openLog(directory, clock, config, { recoveryPoint });
  assert.ok(reopened.recovery.segmentsRecovered >= 1);
  assert.ok(reopened.recovery.segmentsRecovered < reopened.segmentCount, 'segments below the recovery point are not rescanned');
  assert.equal(reopened.logEndOffset, 90);
  assert.deepEqual(readAllOffsets(reopened), Array.from({ length: 90 }, (_, index) => index));
  await reopened.close();
});

test('a file cut mid-batch is truncated to the last whole batch', async () => {
  const directory = temporaryDirectory();
  const clock = new ManualClock();
  const log = openLog(directory, clock, config);
  fill(log, 30);
  await log.close();
  const lastLog = segmentFiles(directory, '.log').at(-1)!;
  const path = join(directory, lastLog);
  const size = statSync(path).size;
  truncateSync(path, size - 17);
  const reopened = openLog(directory, clock, config, { recoveryPoint: 0 });
  assert.equal(reopened.logEndOffset, 87, 'the torn last batch is gone');
  assert.ok(reopened.recovery.truncatedBytes > 0);
  assert.deepEqual(readAllOffsets(reopened), Array.from({ length: 87 }, (_, index) => index));
  assert.equal(reopened.appendAsLeader(clientBatch(2), 0).baseOffset, 87);
  assert.deepEqual(readAllOffsets(reopened).slice(-3), [86, 87, 88]);
  await reopened.close();
});

test('a flipped byte truncates at the corrupt batch and drops every later segment', async () => {
  const directory = temporaryDirectory();
  const clock = new ManualClock();
  const log = openLog(directory, clock, config);
  fill(log, 30);
  await log.close();
  const logs = segmentFiles(directory, '.log');
  assert.ok(logs.length >= 3);
  const victim = join(directory, logs[1]!);
  const bytes = readFileSync(victim);
  const batchSize = clientBatch(3, 50).length;
  bytes[batchSize + 70]! ^= 0x40; // inside the records of the second batch of segment 1
  writeFileSync(victim, bytes);
  const reopened = openLog(directory, clock, config, { recoveryPoint: 0 });
  const secondSegmentBase = Number(logs[1]!.slice(0, 20));
  assert.equal(reopened.logEndOffset, secondSegmentBase + 3);
  assert.equal(reopened.segmentCount, 2);
  assert.equal(segmentFiles(directory, '.log').length, 2, 'later segment files deleted');
  assert.deepEqual(readAllOffsets(reopened), Array.from({ length: secondSegmentBase + 3 }, (_, index) => index));
  await reopened.close();
});

test('missing or garbage index files are rebuilt and lookups stay exact', async () => {
  const directory = temporaryDirectory();
  const clock = new ManualClock();
  const log = openLog(directory, clock, config);
  fill(log, 30);
  await log.close();
  const indexes = segmentFiles(directory, '.index');
  rmSync(join(directory, indexes[0]!));
  writeFileSync(join(directory, indexes[1]!), Buffer.from('not an index at all!!'));
  writeFileSync(join(directory, segmentFiles(directory, '.timeindex')[2]!), Buffer.alloc(24, 0xff));
  const reopened = openLog(directory, clock, config, { cleanShutdown: true });
  assert.ok(reopened.recovery.segmentsWithRebuiltIndexes >= 3);
  for (let offset = 0; offset < 90; offset += 7) {
    const { records } = reopened.read(offset, 1);
    const base = Number(records.readBigInt64BE(0));
    assert.ok(base <= offset && offset < base + 3, `offset ${offset} found in batch at ${base}`);
  }
  assert.equal(reopened.offsetForTimestamp(1_700_000_000_000)!.offset, 0);
  await reopened.close();
  assert.ok(statSync(join(directory, indexes[0]!)).size > 0, 'index file written again');
});

test('stray temporary and orphan index files are cleaned up on open', async () => {
  const directory = temporaryDirectory();
  const clock = new ManualClock();
  const log = openLog(directory, clock, config);
  fill(log, 3);
  await log.close();
  writeFileSync(join(directory, '00000000000000009999.index'), Buffer.alloc(8));
  writeFileSync(join(directory, 'something.tmp'), 'x');
  const reopened = openLog(directory, clock, config, { cleanShutdown: true });
  const names = readdirSync(directory);
  assert.ok(!names.includes('00000000000000009999.index'));
  assert.ok(!names.includes('something.tmp'));
  assert.equal(reopened.logEndOffset, 9);
  await reopened.close();
});

test('preallocated segments: zeros past the data are trimmed on close and cut quietly after a crash', async () => {
  const directory = temporaryDirectory();
  const clock = new ManualClock();
  const preallocated = testConfig({ segmentBytes: 1 << 20, preallocate: true });
  const log = openLog(directory, clock, preallocated);
  log.appendAsLeader(clientBatch(3, 100 * 1024), 0); // preallocation starts past 256 KiB of data
  fill(log, 9);
  const logFile = join(directory, segmentFiles(directory, '.log')[0]!);
  const dataBytes = log.sizeBytes;
  assert.ok(statSync(logFile).size > dataBytes, 'the file is zero-filled ahead of the data');
  assert.deepEqual(readAllOffsets(log), Array.from({ length: 30 }, (_, index) => index));
  const small = openLog(temporaryDirectory(), clock, preallocated);
  fill(small, 3);
  assert.equal(small.sizeBytes, statSync(join(small.directory, segmentFiles(small.directory, '.log')[0]!)).size, 'a small log is not zero-filled');
  await small.close();
  // crash: never closed; the zeros are still there
  const reopened = openLog(directory, clock, preallocated, { recoveryPoint: 0 });
  assert.equal(reopened.recovery.truncatedBytes, 0, 'zeros are not counted as a torn tail');
  assert.equal(reopened.logEndOffset, 30);
  assert.equal(statSync(logFile).size, dataBytes);
  fill(reopened, 2);
  assert.equal(reopened.appendAsLeader(clientBatch(1), 0).baseOffset, 36);
  await reopened.close();
  assert.equal(statSync(logFile).size, reopened.sizeBytes, 'close trims the preallocation');
  const again = openLog(directory, clock, preallocated, { cleanShutdown: true });
  assert.equal(again.logEndOffset, 37);
  await again.close();
});

test('preallocation stays ahead of the data: appends always land in zero-filled space', async () => {
  const directory = temporaryDirectory();
  const log = openLog(directory, new ManualClock(), testConfig({ segmentBytes: 64 << 20, preallocate: true }));
  const logFile = join(directory, segmentFiles(directory, '.log')[0]!);
  for (let round = 0; round < 1200; round++) {
    log.appendAsLeader(clientBatch(4, 250), 0);
    if (log.sizeBytes < 256 * 1024) continue; // preallocation starts there
    assert.ok(statSync(logFile).size > log.sizeBytes, `round ${round}: the data reached the end of the file (${log.sizeBytes} bytes)`);
  }
  assert.ok(log.sizeBytes > 1024 * 1024);
  // Bounded: at most a chunk and a half (a quarter of the data, at least 64 KiB) ahead.
  assert.ok(statSync(logFile).size - log.sizeBytes <= Math.max(96 * 1024, (log.sizeBytes >>> 2) * 1.5 + 1));
  await log.close();
  assert.equal(statSync(logFile).size, log.sizeBytes);
});

test('a zero-filled tail on a closed segment does not drop the segments after it', async () => {
  const directory = temporaryDirectory();
  const clock = new ManualClock();
  const log = openLog(directory, clock, config);
  fill(log, 30);
  await log.close();
  const logs = segmentFiles(directory, '.log');
  const first = join(directory, logs[0]!);
  writeFileSync(first, Buffer.concat([readFileSync(first), Buffer.alloc(4096)]));
  const reopened = openLog(directory, clock, config, { recoveryPoint: 0 });
  assert.equal(reopened.segmentCount, logs.length, 'no segment deleted');
  assert.equal(reopened.logEndOffset, 90);
  assert.deepEqual(readAllOffsets(reopened), Array.from({ length: 90 }, (_, index) => index));
  await reopened.close();
});
