/**
 * Microbenchmarks (tinybench) of each hot piece of the produce and fetch paths, one thread,
 * no I/O except the partition-log append (page cache; flush policy never):
 *
 *   CRC-32C of 16 KiB | FrameReader over 64 KiB socket chunks of Produce-sized frames |
 *   Produce v7 request decode (16 KiB batch) | Fetch v11 response encode (10 x 64 KiB) |
 *   ring push+pop (16 KiB and 256 B messages) | sparse index floor lookup (1.3 M entries) |
 *   partition-log append of a 16 KiB batch | BatchBuilder append+seal of 100 records
 *   (beside encodeRecordBatch of the same records)
 *
 *   node dist/native-free-bench/micro.bench.js [--time-ms 500] [--quick]
 */
import { join } from 'node:path';
import { Bench, type Task } from 'tinybench';
import {
  concatChunks,
  decodeRequestBody,
  decodeRequestHeader,
  encodeRequest,
  encodeResponse,
} from '../src/protocol/codec/index.js';
import { BatchBuilder } from '../src/protocol/records/batch-builder.js';
import { crc32c } from '../src/protocol/records/crc32c.js';
import { encodeRecordBatch } from '../src/protocol/records/records.js';
import { ApiKey } from '../src/protocol/schema/index.js';
import { systemClock } from '../src/runtime/clock.js';
import { createRingBuffer, RingReader, RingWriter } from '../src/runtime/shared-ring.js';
import { FrameReader } from '../src/server/frame-reader.js';
import { defaultLogConfig } from '../src/storage/log-config.js';
import { PartitionLog } from '../src/storage/partition-log.js';
import { offsetIndexCodec, SparseIndex } from '../src/storage/sparse-index.js';
import { formatBytesRate, formatRate, machineNote, printTable, scratchDirectory } from './bench-util.js';

const argument = (name: string): string | undefined => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const quick = process.argv.includes('--quick');
const timeMs = Number(argument('time-ms') ?? (quick ? 100 : 500));

const kib16 = 16 * 1024;
const socketChunkBytes = 64 * 1024;
const frameStreamBytes = 1024 * 1024;
const fetchPartitions = 10;
const fetchRecordsBytes = 64 * 1024;
const builderRecords = 100;
const recordValueBytes = 100;
const indexEntries = (10 * 1024 * 1024) / 8;

/** What one operation moves, for the rate columns. */
interface Work {
  readonly bytes: number;
  readonly items: number;
  readonly itemName: string;
}

const work = new Map<string, Work>();
let sink = 0;

function sixteenKiBBatch(): Buffer {
  const records = [];
  let sizeBytes = 61;
  while (sizeBytes + 120 < kib16) {
    records.push({ value: Buffer.alloc(recordValueBytes, records.length & 0xff) });
    sizeBytes += 108;
  }
  return encodeRecordBatch({ records, timestampMs: Date.now() });
}

/** A Produce v7 request frame body (after the size prefix) carrying one batch. */
function produceFrame(batch: Buffer): Buffer {
  const encoded = encodeRequest(ApiKey.Produce, 7, 1, 'bench-client', {
    transactionalId: null,
    acks: 1,
    timeoutMs: 30_000,
    topics: [{ name: 'bench-topic', partitions: [{ partitionIndex: 0, records: batch }] }],
  });
  return concatChunks(encoded).subarray(4);
}

/** 1 MiB of back-to-back Produce frames, cut into 64 KiB socket reads (frames span chunks). */
function socketChunks(frame: Buffer): { chunks: Buffer[]; frames: number } {
  const sized = Buffer.alloc(4 + frame.length);
  sized.writeInt32BE(frame.length, 0);
  frame.copy(sized, 4);
  const frames = Math.floor(frameStreamBytes / sized.length);
  const stream = Buffer.concat(Array.from({ length: frames }, () => sized));
  const chunks: Buffer[] = [];
  for (let start = 0; start < stream.length; start += socketChunkBytes) chunks.push(stream.subarray(start, start + socketChunkBytes));
  return { chunks, frames };
}

function addCodecTasks(bench: Bench, batch: Buffer): void {
  const data = Buffer.alloc(kib16, 7);
  add(bench, 'CRC-32C, 16 KiB', { bytes: kib16, items: 1, itemName: 'checksums' }, () => {
    sink ^= crc32c(data);
  });

  const frame = produceFrame(batch);
  const { chunks, frames } = socketChunks(frame);
  add(bench, `FrameReader, ${frames} frames of ${frame.length} B in 64 KiB chunks`, { bytes: chunks.reduce((sum, chunk) => sum + chunk.length, 0), items: frames, itemName: 'frames' }, () => {
    const reader = new FrameReader(100 * 1024 * 1024);
    for (const chunk of chunks) {
      reader.push(chunk);
      for (let next = reader.next(); next !== null; next = reader.next()) sink += next.length;
    }
  });

  add(bench, 'decode Produce v7 request (16 KiB batch)', { bytes: frame.length, items: 1, itemName: 'requests' }, () => {
    const header = decodeRequestHeader(frame);
    const body = decodeRequestBody(ApiKey.Produce, header.apiVersion, frame, header.headerSizeBytes);
    sink += body.topics[0]!.partitions[0]!.records!.length;
  });

  const fetchRecords = Array.from({ length: fetchPartitions }, (_, index) => Buffer.alloc(fetchRecordsBytes, index));
  const fetchBody = () => ({
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: 'bench-topic',
        partitions: fetchRecords.map((records, partitionIndex) => ({
          partitionIndex,
          errorCode: 0,
          highWatermark: 1000n,
          lastStableOffset: 1000n,
          logStartOffset: 0n,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records,
        })),
      },
    ],
  });
  add(bench, 'encode Fetch v11 response (10 x 64 KiB, by reference)', { bytes: fetchPartitions * fetchRecordsBytes, items: 1, itemName: 'responses' }, () => {
    sink += encodeResponse(ApiKey.Fetch, 11, 7, fetchBody()).chunks.length;
  });
}

function addRingTasks(bench: Bench): void {
  const shared = createRingBuffer(4 * 1024 * 1024);
  const writer = new RingWriter(shared);
  const reader = new RingReader(shared);
  const handle = (bytes: Buffer, offset: number, length: number): void => {
    sink += bytes[offset]! + length;
  };
  for (const sizeBytes of [kib16, 256]) {
    const payload = Buffer.alloc(sizeBytes, 3);
    add(bench, `ring push+pop, ${sizeBytes} B message`, { bytes: sizeBytes, items: 1, itemName: 'messages' }, () => {
      if (!writer.tryWrite(payload)) throw new Error('ring full');
      reader.drain(handle);
    });
  }
}

function addStorageTasks(bench: Bench): void {
  const index = new SparseIndex('/nonexistent-bench-index', offsetIndexCodec, indexEntries);
  for (let entry = 0; entry < indexEntries; entry++) index.append(entry * 3, entry * 4096);
  let seed = 1;
  add(bench, 'sparse index floor lookup (1.3 M entries)', { bytes: 0, items: 1, itemName: 'lookups' }, () => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    sink += index.floorIndex(seed % (indexEntries * 3));
  });
}

function addBuilderTasks(bench: Bench): void {
  const value = Buffer.alloc(recordValueBytes, 9);
  const builder = new BatchBuilder(kib16);
  const timestampMs = Date.now();
  const inputs = Array.from({ length: builderRecords }, () => ({ value, timestampMs }));
  const batchBytes = encodeRecordBatch({ records: inputs }).length;
  add(bench, `BatchBuilder append+seal, ${builderRecords} x ${recordValueBytes} B`, { bytes: batchBytes, items: builderRecords, itemName: 'records' }, () => {
    builder.reset();
    for (let record = 0; record < builderRecords; record++) builder.append(timestampMs, null, value);
    sink += builder.seal().length;
  });
  add(bench, `encodeRecordBatch (for comparison), ${builderRecords} x ${recordValueBytes} B`, { bytes: batchBytes, items: builderRecords, itemName: 'records' }, () => {
    sink += encodeRecordBatch({ records: inputs, timestampMs }).length;
  });
}

/** Appends go to the page cache; a short time budget bounds the file size (and the disk used). */
async function logAppendRow(batch: Buffer): Promise<Record<string, string>> {
  const scratch = scratchDirectory('mk-bench-micro-log-');
  const log = PartitionLog.open({ directory: join(scratch.path, 'bench-0'), config: { ...defaultLogConfig, flushPolicy: 'never' }, clock: systemClock });
  try {
    const bench = new Bench({ time: Math.min(timeMs, 250), warmupTime: 50 });
    add(bench, 'partition-log append, 16 KiB batch (flush never)', { bytes: batch.length, items: 1, itemName: 'batches' }, () => {
      sink += log.appendAsLeader(batch, 0).lastOffset;
    });
    await bench.run();
    return rowOf(bench.tasks[0]!);
  } finally {
    await log.close();
    scratch.remove();
  }
}

function add(bench: Bench, name: string, what: Work, fn: () => void): void {
  work.set(name, what);
  bench.add(name, fn);
}

function rowOf(task: Task): Record<string, string> {
  const result = task.result;
  if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}${'error' in result ? `: ${String(result.error)}` : ''}`);
  const what = work.get(task.name)!;
  // From the median time: robust to the preemptions and GC pauses a shared machine adds (they
  // show in the mean and p99 columns).
  const opsPerSecond = 1000 / result.latency.p50;
  return {
    task: task.name,
    'ops/s (1/median)': formatRate(opsPerSecond, 'ops/s'),
    'mean µs': (result.latency.mean * 1000).toFixed(2),
    'p50 µs': (result.latency.p50 * 1000).toFixed(2),
    'p99 µs': (result.latency.p99 * 1000).toFixed(2),
    'bytes/s': what.bytes === 0 ? '-' : formatBytesRate(opsPerSecond * what.bytes),
    'items/s': formatRate(opsPerSecond * what.items, `${what.itemName}/s`),
  };
}

async function main(): Promise<void> {
  const batch = sixteenKiBBatch();
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(250, timeMs) });
  addCodecTasks(bench, batch);
  addRingTasks(bench);
  addStorageTasks(bench);
  addBuilderTasks(bench);
  await bench.run();
  const rows = bench.tasks.map(rowOf);
  rows.splice(rows.length - 2, 0, await logAppendRow(batch));
  console.log(`microbenchmarks (${machineNote()}), ${timeMs} ms per task`);
  printTable(rows);
  const builder = rows.find((row) => row.task!.startsWith('BatchBuilder'));
  const reference = rows.find((row) => row.task!.startsWith('encodeRecordBatch'));
  if (builder !== undefined && reference !== undefined) {
    const ratio = Number(reference['p50 µs']) / Number(builder['p50 µs']);
    console.log(`BatchBuilder is ${ratio.toFixed(1)}x faster than encodeRecordBatch for the same batch (medians)`);
  }
  if (sink === 0.5) console.log('(unreachable)');
}

await main();
