/**
 * Crash safety of the compaction swap: each test stops the protocol at one step (as a crash
 * would: files left as they are, the old log object abandoned), reopens the directory and
 * checks the log is consistent: offsets increasing, every key's latest value present, and
 * either the old records, the compacted ones, or (for a crash between two output segments)
 * the compacted form of a prefix followed by the old rest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../src/runtime/clock.js';
import { runCompactionJob, type CompactionJobResult } from '../../../src/storage/cleaner/compaction-job.js';
import { commitCleanedSegments, installSwappedSegments } from '../../../src/storage/cleaner/segment-swap.js';
import { segmentFileName } from '../../../src/storage/segment.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
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
  type ReadRecord,
} from './cleaner-fixtures.js';

interface Scenario {
  directory: string;
  clock: ManualClock;
  before: ReadRecord[];
  compacted: ReadRecord[];
  job: CompactionJobResult;
  bases: number[];
  originals: number[];
}

/** Fills a log and runs the job up to written `.cleaned` files; the cleaner never swaps. */
async function cleanedFilesWritten(): Promise<Scenario> {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig());
  fillKeyed(log, 100, 300);
  const before = readAllRecords(log);
  const cleanEnd = log.closedSegments().at(-1)!.nextOffset;
  let job: CompactionJobResult | null = null;
  const cleaner = newCleaner(dataDir, clock, false, {
    runJob: (input) => {
      job = runCompactionJob(input);
      return new Promise(() => {}); // the node "crashes" before it sees the result
    },
  });
  void cleaner.cleanNow(log);
  while (job === null) await new Promise((resolve) => setImmediate(resolve));
  const result = job as CompactionJobResult;
  assert.ok(result.cleaned.length >= 3, `several output segments: ${result.cleaned.length}`);
  return {
    directory,
    clock,
    before,
    compacted: expectedAfterCompaction(before, cleanEnd),
    job: result,
    bases: result.cleaned.map((segment) => segment.baseOffset),
    originals: result.cleaned.flatMap((segment) => segment.replacedBaseOffsets),
  };
}

function filesWith(directory: string, suffix: string): string[] {
  return readdirSync(directory).filter((name) => name.endsWith(suffix));
}

function path(directory: string, baseOffset: number, suffix: string): string {
  return join(directory, segmentFileName(baseOffset, suffix));
}

/** Reopens like a restart (full recovery, or trusting indexes after a clean shutdown) and checks consistency. */
async function reopenAndCheck(scenario: Scenario, cleanShutdown: boolean): Promise<ReadRecord[]> {
  const log: PartitionLog = openLog(scenario.directory, scenario.clock, compactConfig(), { cleanShutdown });
  const names = readdirSync(scenario.directory);
  assert.ok(!names.some((name) => name.endsWith('.cleaned') || name.endsWith('.swap') || name.endsWith('.deleted')), `leftovers: ${names.join(' ')}`);
  const records = readAllRecords(log);
  assert.deepEqual(latestValues(records), latestValues(scenario.before), 'every key keeps its latest value');
  const beforeByOffset = new Map(scenario.before.map((record) => [record.offset, record]));
  for (const record of records) assert.deepEqual(record, beforeByOffset.get(record.offset), `record ${record.offset} is an original record`);
  const compactedOffsets = new Set(scenario.compacted.map((record) => record.offset));
  for (const offset of compactedOffsets) assert.ok(records.some((record) => record.offset === offset), `survivor ${offset} is there`);
  assert.equal(log.logEndOffset, scenario.before.at(-1)!.offset + 1);
  const endBefore = log.logEndOffset;
  assert.equal(log.appendAsLeader(keyedBatch([{ key: 'after-restart', value: 'v' }]), 0).baseOffset, endBefore);
  await log.close();
  return records;
}

for (const cleanShutdown of [false, true]) {
  const mode = cleanShutdown ? 'after a clean shutdown' : 'with full recovery';

  test(`crash after the .cleaned files are written: the old segments stay (${mode})`, async () => {
    const scenario = await cleanedFilesWritten();
    assert.ok(filesWith(scenario.directory, '.log.cleaned').length > 0);
    const records = await reopenAndCheck(scenario, cleanShutdown);
    assert.deepEqual(records.slice(0, scenario.before.length), scenario.before);
  });

  test(`crash after renaming to .swap: the swap completes (${mode})`, async () => {
    const scenario = await cleanedFilesWritten();
    commitCleanedSegments(scenario.directory, scenario.bases);
    const records = await reopenAndCheck(scenario, cleanShutdown);
    assert.deepEqual(records.slice(0, scenario.compacted.length), scenario.compacted);
  });

  test(`crash in the middle of the commit: committed segments roll forward, the rest rolls back (${mode})`, async () => {
    const scenario = await cleanedFilesWritten();
    commitCleanedSegments(scenario.directory, scenario.bases.slice(0, 2));
    // The third segment was half renamed: its indexes are .swap, its .log still .cleaned.
    const third = scenario.bases[2]!;
    for (const suffix of ['.index', '.timeindex']) renameSync(path(scenario.directory, third, `${suffix}.cleaned`), path(scenario.directory, third, `${suffix}.swap`));
    const records = await reopenAndCheck(scenario, cleanShutdown);
    const boundary = third;
    assert.deepEqual(
      records.filter((record) => record.offset < boundary),
      scenario.compacted.filter((record) => record.offset < boundary),
      'the committed prefix is compacted',
    );
    assert.deepEqual(
      records.filter((record) => record.offset >= boundary && record.offset <= scenario.before.at(-1)!.offset),
      scenario.before.filter((record) => record.offset >= boundary),
      'the rest is as before',
    );
  });

  test(`crash while deleting the replaced segments: the swap completes (${mode})`, async () => {
    const scenario = await cleanedFilesWritten();
    commitCleanedSegments(scenario.directory, scenario.bases);
    // The swap renames each replaced segment's .log, .index, .timeindex to *.deleted, oldest
    // first; the unlinks come later. Stop half way through, one file already unlinked.
    for (const base of scenario.originals.slice(0, 3)) {
      for (const suffix of ['.log', '.index', '.timeindex']) renameSync(path(scenario.directory, base, suffix), path(scenario.directory, base, `${suffix}.deleted`));
    }
    rmSync(path(scenario.directory, scenario.originals[0]!, '.log.deleted'));
    renameSync(path(scenario.directory, scenario.originals[3]!, '.log'), path(scenario.directory, scenario.originals[3]!, '.log.deleted'));
    const records = await reopenAndCheck(scenario, cleanShutdown);
    assert.deepEqual(records.slice(0, scenario.compacted.length), scenario.compacted);
  });

  test(`crash while installing the swapped segments: the swap completes (${mode})`, async () => {
    const scenario = await cleanedFilesWritten();
    commitCleanedSegments(scenario.directory, scenario.bases);
    for (const base of scenario.originals) {
      for (const suffix of ['.log', '.index', '.timeindex']) rmSync(path(scenario.directory, base, suffix), { force: true });
    }
    installSwappedSegments(scenario.directory, scenario.bases.slice(0, 1));
    const second = scenario.bases[1]!;
    renameSync(path(scenario.directory, second, '.index.swap'), path(scenario.directory, second, '.index'));
    const records = await reopenAndCheck(scenario, cleanShutdown);
    assert.deepEqual(records.slice(0, scenario.compacted.length), scenario.compacted);
  });
}

test('inputs after the last output that keep nothing are deleted by the swap; a crash before that leaves them, consistently', async () => {
  for (const crash of [false, true]) {
    const { dataDir, directory } = partitionDirectory();
    const clock = new ManualClock(BASE_TIME_MS);
    const config = compactConfig({ segmentBytes: 200, deleteRetentionMs: 1000 });
    const log = openLog(directory, clock, config);
    log.appendAsLeader(keyedBatch([{ key: 'k', value: 'kept'.padEnd(100, '.') }]), 0);
    log.roll();
    log.appendAsLeader(keyedBatch([{ key: 'a', value: 'old' }]), 0);
    log.roll();
    log.appendAsLeader(keyedBatch([{ key: 'a', value: null }]), 0);
    log.roll();
    log.appendAsLeader(keyedBatch([{ key: 'z', value: 'active' }]), 0);
    const cleaner = newCleaner(dataDir, clock);
    await cleaner.cleanNow(log); // stamps the tombstone's horizon; the old 'a' goes
    assert.deepEqual(readAllRecords(log).map((record) => record.value?.slice(0, 6) ?? null), ['kept..', null, 'active']);
    assert.equal(log.closedSegments().length, 2, 'the tombstone has a segment of its own');
    clock.advance(1000);
    const segmentsBefore = log.closedSegments();
    let job: CompactionJobResult | null = null;
    const second = newCleaner(dataDir, clock, false, {
      runJob: async (input) => {
        job = runCompactionJob(input);
        return crash ? new Promise(() => {}) : job;
      },
    });
    const pass = second.cleanNow(log);
    while (job === null) await new Promise((resolve) => setImmediate(resolve));
    const result = job as CompactionJobResult;
    assert.equal(result.cleaned.length, 1);
    assert.deepEqual(result.emptyTrailingBaseOffsets, [segmentsBefore.at(-1)!.baseOffset], 'the tombstone segment keeps nothing');
    if (!crash) {
      assert.equal((await pass).outcome, 'swapped');
      assert.deepEqual(readAllRecords(log).map((record) => record.value?.slice(0, 6) ?? null), ['kept..', 'active']);
      assert.equal(log.segmentCount, 2);
      await log.close();
      continue;
    }
    commitCleanedSegments(directory, [result.cleaned[0]!.baseOffset]);
    const reopened = openLog(directory, clock, config);
    assert.deepEqual(readAllRecords(reopened).map((record) => record.value?.slice(0, 6) ?? null), ['kept..', null, 'active'], 'the trailing tombstone is still there: a deleted key stays deleted');
    const restarted = newCleaner(dataDir, clock);
    assert.equal((await restarted.cleanNow(reopened)).outcome, 'swapped');
    assert.deepEqual(readAllRecords(reopened).map((record) => record.value?.slice(0, 6) ?? null), ['kept..', 'active']);
    await reopened.close();
  }
});

test('when every cleanable record is superseded or an expired tombstone, nothing is swapped and the log keeps its start', async () => {
  const { dataDir, directory } = partitionDirectory();
  const clock = new ManualClock(BASE_TIME_MS);
  const log = openLog(directory, clock, compactConfig({ deleteRetentionMs: 1000 }));
  log.appendAsLeader(keyedBatch([{ key: 'a', value: 'v' }, { key: 'a', value: null }]), 0);
  log.roll();
  log.appendAsLeader(keyedBatch([{ key: 'z', value: 'active' }]), 0);
  const cleaner = newCleaner(dataDir, clock);
  assert.equal((await cleaner.cleanNow(log)).outcome, 'swapped');
  clock.advance(1000);
  const result = await cleaner.cleanNow(log);
  assert.equal(result.outcome, 'nothing-to-clean');
  assert.equal(log.logStartOffset, 0);
  assert.deepEqual(readAllRecords(log).map((record) => [record.offset, record.value]), [[1, null], [2, 'active']]);
  assert.equal(await cleaner.maybeClean([{ topic: 'compacted', partition: 0, log }]), null, 'backed off');
  await log.close();
  await cleaner.close();
});
