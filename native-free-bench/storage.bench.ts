/**
 * Storage benchmarks (issue: foundation): CRC-32C throughput, partition-log append beside a
 * raw write+fdatasync loop of the same bytes in the same run, read throughput, index lookups.
 *
 *   node dist/native-free-bench/storage.bench.js [--runs 5] [--mib 256]
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { crc32c } from '../src/protocol/records/crc32c.js';
import { encodeRecordBatch } from '../src/protocol/records/records.js';
import { systemClock } from '../src/runtime/clock.js';
import { defaultLogConfig, type LogConfig } from '../src/storage/log-config.js';
import { PartitionLog } from '../src/storage/partition-log.js';
import { offsetIndexCodec, SparseIndex } from '../src/storage/sparse-index.js';
import { formatRate, machineNote, median, printTable, scratchDirectory } from './bench-util.js';

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const runs = argument('runs', 5);
const totalMiB = argument('mib', 256);
const batchBytes = 16 * 1024;
const flushEveryBytes = 1024 * 1024;

/** One 16 KiB batch of 100-byte records, CRC-valid, reused for every append. */
function sixteenKiBBatch(): Buffer {
  const records = [];
  let size = 61;
  while (size + 120 < batchBytes) {
    records.push({ value: Buffer.alloc(100, records.length & 0xff) });
    size += 108;
  }
  return encodeRecordBatch({ records, timestampMs: Date.now() });
}

async function appendRun(batch: Buffer): Promise<{ seconds: number; batches: number }> {
  const scratch = scratchDirectory('mk-bench-append-');
  const config: LogConfig = { ...defaultLogConfig };
  const log = PartitionLog.open({ directory: join(scratch.path, 'bench-0'), config, clock: systemClock });
  const batches = Math.floor((totalMiB * 1024 * 1024) / batch.length);
  const perFlush = Math.max(1, Math.floor(flushEveryBytes / batch.length));
  // As a broker under produce load does: request a flush per MiB and keep appending while it
  // runs (group commit), waiting only for the flush before it. At most one fsync runs and one
  // is queued, so appends never run more than ~2 MiB ahead of durability.
  let previousFlush: Promise<number> = Promise.resolve(0);
  const started = process.hrtime.bigint();
  for (let index = 0; index < batches; index++) {
    log.appendAsLeader(batch, 0);
    if (index % perFlush === perFlush - 1) {
      const flush = log.flush();
      await previousFlush;
      previousFlush = flush;
    }
  }
  await log.flush();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await log.close();
  scratch.remove();
  return { seconds, batches };
}

function rawRun(batch: Buffer): { seconds: number; batches: number } {
  const scratch = scratchDirectory('mk-bench-raw-');
  const fd = openSync(join(scratch.path, 'raw.log'), 'w');
  const batches = Math.floor((totalMiB * 1024 * 1024) / batch.length);
  const perFlush = Math.max(1, Math.floor(flushEveryBytes / batch.length));
  let position = 0;
  const started = process.hrtime.bigint();
  for (let index = 0; index < batches; index++) {
    position += writeSync(fd, batch, 0, batch.length, position);
    if (index % perFlush === perFlush - 1) fdatasyncSync(fd);
  }
  fdatasyncSync(fd);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  closeSync(fd);
  scratch.remove();
  return { seconds, batches };
}

async function readRun(batch: Buffer): Promise<{ appendSeconds: number; readMiBps: number; lookupMicros: number }> {
  const scratch = scratchDirectory('mk-bench-read-');
  const config: LogConfig = { ...defaultLogConfig, flushPolicy: 'never' };
  const log = PartitionLog.open({ directory: join(scratch.path, 'bench-0'), config, clock: systemClock });
  const batches = Math.floor((totalMiB * 1024 * 1024) / batch.length);
  const appendStarted = process.hrtime.bigint();
  for (let index = 0; index < batches; index++) log.appendAsLeader(batch, 0);
  const appendSeconds = Number(process.hrtime.bigint() - appendStarted) / 1e9;
  let offset = 0;
  let bytes = 0;
  const started = process.hrtime.bigint();
  while (offset < log.logEndOffset) {
    const { records } = log.read(offset, 1024 * 1024);
    bytes += records.length;
    offset = records.readInt32BE(records.length - batch.length + 23) + Number(records.readBigInt64BE(records.length - batch.length)) + 1;
  }
  const readSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const lookups = 20_000;
  const lookupStarted = process.hrtime.bigint();
  let seed = 12345;
  for (let index = 0; index < lookups; index++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    log.read(seed % log.logEndOffset, 1);
  }
  const lookupMicros = Number(process.hrtime.bigint() - lookupStarted) / 1e3 / lookups;
  await log.close();
  scratch.remove();
  return { appendSeconds, readMiBps: bytes / 1024 / 1024 / readSeconds, lookupMicros };
}

/** Nanoseconds per floor lookup in a full 10 MiB offset index (1.3 M entries). */
async function indexLookupNanos(): Promise<number> {
  const entries = (10 * 1024 * 1024) / 8;
  const index = new SparseIndex('/nonexistent-bench-index', offsetIndexCodec, entries);
  for (let entry = 0; entry < entries; entry++) index.append(entry * 3, entry * 4096);
  let seed = 1;
  const bench = new Bench({ time: 500 });
  bench.add('index floor lookup', () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    index.floorIndex(seed % (entries * 3));
  });
  await bench.run();
  const task = bench.tasks[0]!;
  return task.result && 'latency' in task.result ? task.result.latency.mean * 1e6 : NaN;
}

async function crcThroughput(): Promise<number> {
  const data = Buffer.alloc(1024 * 1024, 7);
  const bench = new Bench({ time: 1000 });
  bench.add('crc32c 1 MiB', () => {
    crc32c(data);
  });
  await bench.run();
  const task = bench.tasks[0]!;
  const meanMs = task.result && 'latency' in task.result ? task.result.latency.mean : NaN;
  return 1000 / meanMs; // MiB per second
}

const batch = sixteenKiBBatch();
console.log(`storage bench: ${machineNote()}; ${totalMiB} MiB per run, ${runs} runs, batch ${batch.length} B, flush every 1 MiB`);
const crcMiBps = await crcThroughput();
const lookupNanos = await indexLookupNanos();
const appendMiBps: number[] = [];
const rawMiBps: number[] = [];
const ratios: number[] = [];
const batchesPerSecond: number[] = [];
for (let run = 0; run < runs; run++) {
  // Alternate the order so neither side always runs on a warmer page cache.
  const ours = run % 2 === 0 ? await appendRun(batch) : undefined;
  const raw = rawRun(batch);
  const ours2 = ours ?? (await appendRun(batch));
  const oursMiBps = (ours2.batches * batch.length) / 1024 / 1024 / ours2.seconds;
  const rawRate = (raw.batches * batch.length) / 1024 / 1024 / raw.seconds;
  appendMiBps.push(oursMiBps);
  rawMiBps.push(rawRate);
  ratios.push(oursMiBps / rawRate);
  batchesPerSecond.push(ours2.batches / ours2.seconds);
}
const reads = [];
for (let run = 0; run < Math.min(runs, 3); run++) reads.push(await readRun(batch));
printTable([
  { measure: 'CRC-32C', median: `${crcMiBps.toFixed(0)} MiB/s` },
  { measure: 'append 16 KiB batches, flush/1 MiB', median: `${median(appendMiBps).toFixed(0)} MiB/s` },
  { measure: 'append batches/s', median: formatRate(median(batchesPerSecond), 'batches/s') },
  { measure: 'raw writeSync+fdatasync/1 MiB', median: `${median(rawMiBps).toFixed(0)} MiB/s` },
  { measure: 'append / raw ratio', median: median(ratios).toFixed(2) },
  { measure: 'read (1 MiB fetches)', median: `${median(reads.map((read) => read.readMiBps)).toFixed(0)} MiB/s` },
  { measure: 'offset index floor lookup (1.3 M entries)', median: `${lookupNanos.toFixed(0)} ns` },
  { measure: 'random offset lookup + 1-batch read', median: `${median(reads.map((read) => read.lookupMicros)).toFixed(1)} µs` },
]);
console.log(`append/raw ratios per run: ${ratios.map((ratio) => ratio.toFixed(2)).join(' ')}`);
