import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeRecordBatches, encodeRecordBatch, type RecordInput } from '../../../src/protocol/records/records.js';
import type { CompressionCode } from '../../../src/protocol/records/layout.js';
import type { Clock } from '../../../src/runtime/clock.js';
import { LogCleaner, type LogCleanerOptions } from '../../../src/storage/cleaner/log-cleaner.js';
import { runCompactionJob } from '../../../src/storage/cleaner/compaction-job.js';
import type { LogConfig } from '../../../src/storage/log-config.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { testConfig } from '../log-fixtures.js';
import { temporaryDirectory } from '../../helpers/temp-dir.js';

export const BASE_TIME_MS = 1_700_000_000_000;

export function compactConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return testConfig({ cleanupPolicy: 'compact', segmentBytes: 2048, indexIntervalBytes: 256, deleteRetentionMs: 60_000, ...overrides });
}

/** One client batch of keyed records; a null value is a tombstone. */
export function keyedBatch(
  records: ReadonlyArray<{ key: string; value: string | null }>,
  options: { timestampMs?: number; compression?: CompressionCode } = {},
): Buffer {
  const timestampMs = options.timestampMs ?? BASE_TIME_MS;
  return encodeRecordBatch({
    timestampMs,
    ...(options.compression === undefined ? {} : { compression: options.compression }),
    records: records.map((record, index): RecordInput => ({ key: record.key, value: record.value, timestampMs: timestampMs + index })),
  });
}

export interface ReadRecord {
  offset: number;
  key: string | null;
  value: string | null;
  timestampMs: number;
}

/** Every record from the log start, as a consumer reads it; asserts offsets strictly increase. */
export function readAllRecords(log: PartitionLog): ReadRecord[] {
  const records: ReadRecord[] = [];
  let fetchOffset = log.logStartOffset;
  while (fetchOffset < log.logEndOffset) {
    const bytes = log.read(fetchOffset, 64 * 1024).records;
    assert.ok(bytes.length > 0, `empty read at ${fetchOffset} below the log end ${log.logEndOffset}`);
    for (const batch of decodeRecordBatches(bytes)) {
      for (const record of batch.records) {
        if (record.offset < fetchOffset) continue;
        const previous = records[records.length - 1];
        assert.ok(previous === undefined || record.offset > previous.offset, `offset ${record.offset} after ${previous?.offset}`);
        records.push({
          offset: record.offset,
          key: record.key === null ? null : record.key.toString(),
          value: record.value === null ? null : record.value.toString(),
          timestampMs: record.timestampMs,
        });
      }
      fetchOffset = batch.baseOffset + batch.lastOffsetDelta + 1;
    }
  }
  return records;
}

/** key -> value of the last record of each key (null for a tombstone). */
export function latestValues(records: readonly ReadRecord[]): Map<string, string | null> {
  const latest = new Map<string, string | null>();
  for (const record of records) if (record.key !== null) latest.set(record.key, record.value);
  return latest;
}

/** The records compaction keeps when every offset below `cleanEnd` is cleaned and no tombstone expires. */
export function expectedAfterCompaction(records: readonly ReadRecord[], cleanEnd: number): ReadRecord[] {
  const latestOffset = new Map<string, number>();
  for (const record of records) {
    if (record.key !== null && record.offset < cleanEnd) latestOffset.set(record.key, record.offset);
  }
  return records.filter((record) => record.offset >= cleanEnd || record.key === null || latestOffset.get(record.key) === record.offset);
}

/** A cleaner whose jobs run on this thread (deterministic); `pooled` uses the real piscina pool. */
export function newCleaner(dataDir: string, clock: Clock, pooled = false, extra: Partial<LogCleanerOptions> = {}): LogCleaner {
  return new LogCleaner({
    dataDir,
    clock,
    ...(pooled ? {} : { runJob: async (input) => runCompactionJob(input) }),
    ...extra,
  });
}

/** Appends `rounds` batches cycling over `keyCount` keys, values naming key and round. */
export function fillKeyed(log: PartitionLog, rounds: number, keyCount: number, recordsPerBatch = 4, valueBytes = 40): void {
  let sequence = 0;
  for (let round = 0; round < rounds; round++) {
    const records = [];
    for (let index = 0; index < recordsPerBatch; index++) {
      const key = `k${sequence % keyCount}`;
      records.push({ key, value: `${key}@${sequence}:`.padEnd(valueBytes, '.') });
      sequence++;
    }
    log.appendAsLeader(keyedBatch(records), 0);
  }
}

/** A data dir (removed after the test file) holding partition directory `compacted-0`. */
export function partitionDirectory(): { dataDir: string; directory: string; topic: string; partition: number } {
  const dataDir = temporaryDirectory();
  return { dataDir, directory: join(dataDir, 'compacted-0'), topic: 'compacted', partition: 0 };
}
