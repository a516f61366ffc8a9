/**
 * Log compaction throughput: a 64 MiB compacted log of 100-byte values over 10k keys (so
 * nearly every record is superseded), cleaned once from scratch. Reports input MiB/s of
 * - the job alone, on this thread (offset map + rewrite + fsync of the output), and
 * - a full pass through the cleaner: piscina worker + swap on this thread,
 * as medians over `--runs` fresh logs. Uncompressed batches of 100 records (~13 KiB), as a
 * client's linger would make them; `--gzip` compresses them instead.
 *
 *   node dist/native-free-bench/compaction.bench.js [--runs 3] [--mib 64] [--gzip]
 */
import { join } from 'node:path';
import { Compression } from '../src/protocol/records/layout.js';
import { encodeRecordBatch } from '../src/protocol/records/records.js';
import { ManualClock } from '../src/runtime/clock.js';
import { runCompactionJob } from '../src/storage/cleaner/compaction-job.js';
import { LogCleaner } from '../src/storage/cleaner/log-cleaner.js';
import { defaultLogConfig, type LogConfig } from '../src/storage/log-config.js';
import { PartitionLog } from '../src/storage/partition-log.js';
import { machineNote, median, printTable, scratchDirectory } from './bench-util.js';

const argument = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const runs = argument('runs', 3);
const totalMiB = argument('mib', 64);
const gzip = process.argv.includes('--gzip');
const keyCount = 10_000;
const valueBytes = 100;
const recordsPerBatch = 100;

const config: LogConfig = { ...defaultLogConfig, cleanupPolicy: 'compact', segmentBytes: 16 * 1024 * 1024, flushPolicy: 'never' };

/** Fills a fresh log with `totalMiB` of closed segments (plus a small active one). */
function buildLog(directory: string, clock: ManualClock): { log: PartitionLog; inputBytes: number; records: number } {
  const log = PartitionLog.open({ directory, config, clock });
  const value = Buffer.alloc(valueBytes, 0x61);
  let sequence = 0;
  while (log.sizeBytes < totalMiB * 1024 * 1024) {
    const records = [];
    for (let index = 0; index < recordsPerBatch; index++, sequence++) {
      records.push({ key: `key-${String(sequence % keyCount).padStart(5, '0')}`, value });
    }
    log.appendAsLeader(encodeRecordBatch({ records, timestampMs: clock.nowMs(), compression: gzip ? Compression.GZIP : Compression.NONE }), 0);
  }
  log.roll();
  log.appendAsLeader(encodeRecordBatch({ records: [{ key: 'active', value }], timestampMs: clock.nowMs() }), 0);
  const inputBytes = log.closedSegments().reduce((sum, segment) => sum + segment.sizeBytes, 0);
  return { log, inputBytes, records: sequence };
}

async function jobRun(): Promise<{ mibPerSecond: number; outputBytes: number; inputBytes: number }> {
  const scratch = scratchDirectory('mk-bench-compact-');
  const clock = new ManualClock();
  const { log, inputBytes } = buildLog(join(scratch.path, 'bench-0'), clock);
  await log.flush();
  const started = process.hrtime.bigint();
  const result = runCompactionJob({
    directory: log.directory,
    segments: log.closedSegments().map(({ baseOffset, nextOffset, sizeBytes }) => ({ baseOffset, nextOffset, sizeBytes })),
    firstDirtyOffset: 0,
    nowMs: clock.nowMs(),
    deleteRetentionMs: config.deleteRetentionMs,
    segmentBytes: config.segmentBytes,
    indexIntervalBytes: config.indexIntervalBytes,
    maxIndexEntries: log.segmentFileOptions.maxIndexEntries,
    maxBatchSizeBytes: log.maxBatchSizeBytes,
    maxOffsetMapEntries: 1_000_000,
    maxOffsetMapKeyBytes: 64 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await log.close();
  scratch.remove();
  return { mibPerSecond: inputBytes / 1024 / 1024 / seconds, outputBytes: result.stats.bytesWritten, inputBytes };
}

async function poolRun(): Promise<{ mibPerSecond: number; swapMs: number }> {
  const scratch = scratchDirectory('mk-bench-cleaner-');
  const clock = new ManualClock();
  const { log, inputBytes } = buildLog(join(scratch.path, 'bench-0'), clock);
  await log.flush();
  const cleaner = new LogCleaner({ dataDir: scratch.path, clock });
  const started = process.hrtime.bigint();
  const original = log.replaceSegments.bind(log);
  let swapNanos = 0n;
  log.replaceSegments = async (cleaned, originals) => {
    const swapStarted = process.hrtime.bigint();
    const swapped = await original(cleaned, originals);
    swapNanos = process.hrtime.bigint() - swapStarted;
    return swapped;
  };
  const result = await cleaner.cleanNow({ topic: 'bench', partition: 0, log });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.outcome !== 'swapped') throw new Error(`cleaning failed: ${result.error}`);
  await cleaner.close();
  await log.close();
  scratch.remove();
  return { mibPerSecond: inputBytes / 1024 / 1024 / seconds, swapMs: Number(swapNanos) / 1e6 };
}

const jobRuns = [];
const poolRuns = [];
for (let run = 0; run < runs; run++) {
  jobRuns.push(await jobRun());
  poolRuns.push(await poolRun());
}
const first = jobRuns[0]!;
console.log(machineNote());
console.log(`input ${(first.inputBytes / 1024 / 1024).toFixed(1)} MiB of ${gzip ? 'gzip' : 'uncompressed'} batches, ${keyCount} keys, ${valueBytes}-byte values; output ${(first.outputBytes / 1024).toFixed(0)} KiB`);
printTable([
  { measure: 'compaction job (this thread)', median: `${median(jobRuns.map((run) => run.mibPerSecond)).toFixed(0)} MiB/s`, runs: jobRuns.map((run) => run.mibPerSecond.toFixed(0)).join(' ') },
  { measure: 'cleaner pass (piscina + swap)', median: `${median(poolRuns.map((run) => run.mibPerSecond)).toFixed(0)} MiB/s`, runs: poolRuns.map((run) => run.mibPerSecond.toFixed(0)).join(' ') },
  { measure: 'swap on the node thread', median: `${median(poolRuns.map((run) => run.swapMs)).toFixed(2)} ms`, runs: poolRuns.map((run) => run.swapMs.toFixed(2)).join(' ') },
]);
