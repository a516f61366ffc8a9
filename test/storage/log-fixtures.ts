import { decodeRecordBatches, encodeRecordBatch } from '../../src/protocol/records/records.js';
import { defaultLogConfig, type LogConfig } from '../../src/storage/log-config.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import type { Clock } from '../../src/runtime/clock.js';

export function testConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...defaultLogConfig, segmentBytes: 4096, indexIntervalBytes: 256, ...overrides };
}

/** A client-style batch of `count` records, `valueBytes` each, values naming their index. */
export function clientBatch(count: number, valueBytes = 40, timestampMs = 1_700_000_000_000, label = 'r'): Buffer {
  return encodeRecordBatch({
    timestampMs,
    records: Array.from({ length: count }, (_, index) => ({
      key: `key-${index}`,
      value: `${label}${index}:`.padEnd(valueBytes, '.'),
      timestampMs: timestampMs + index,
    })),
  });
}

/** A scheduler that runs group-commit rounds immediately on the microtask queue. */
export const runSoon = (task: () => void): void => queueMicrotask(task);

export function openLog(directory: string, clock: Clock, config: LogConfig, extra: Partial<Parameters<typeof PartitionLog.open>[0]> = {}): PartitionLog {
  return PartitionLog.open({ directory, clock, config, scheduler: runSoon, ...extra });
}

/** Every offset in the log from `from`, reading segment by segment as a consumer would. */
export function readAllOffsets(log: PartitionLog, from = log.logStartOffset): number[] {
  const offsets: number[] = [];
  let fetchOffset = from;
  while (fetchOffset < log.logEndOffset) {
    const { records } = log.read(fetchOffset, 1 << 20);
    if (records.length === 0) break;
    for (const batch of decodeRecordBatches(records)) {
      for (const record of batch.records) if (record.offset >= fetchOffset) offsets.push(record.offset);
      fetchOffset = batch.baseOffset + batch.lastOffsetDelta + 1;
    }
  }
  return offsets;
}
