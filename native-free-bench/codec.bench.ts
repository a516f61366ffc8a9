/**
 * Protocol codec benchmarks: the broker's hot path.
 * - decode of a Produce v7 request frame carrying one 16 KiB record batch (header + body);
 * - encode of a Fetch v11 response with 10 partitions of 64 KiB records each (chunks only:
 *   the records are emitted by reference, so this measures the framing, not a copy).
 *
 *   node dist/native-free-bench/codec.bench.js [--time-ms 2000]
 */
import { Bench } from 'tinybench';
import { ApiKey } from '../src/protocol/schema/index.js';
import {
  concatChunks,
  decodeRequestBody,
  decodeRequestHeader,
  encodeRequest,
  encodeResponse,
  type EncodedMessage,
} from '../src/protocol/codec/index.js';
import { formatRate, machineNote, printTable } from './bench-util.js';

const timeIndex = process.argv.indexOf('--time-ms');
const timeMs = timeIndex >= 0 ? Number(process.argv[timeIndex + 1]) : 2000;
const produceBatchBytes = 16 * 1024;
const fetchPartitions = 10;
const fetchRecordsBytes = 64 * 1024;

/** A Produce v7 request frame body (after the size prefix), as a client would send it. */
function produceFrame(): Buffer {
  const batch = Buffer.alloc(produceBatchBytes, 0x5a);
  batch.writeInt32BE(produceBatchBytes - 12, 8); // batchLength, so it looks like one batch
  const encoded = encodeRequest(ApiKey.Produce, 7, 1, 'bench-client', {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30000,
    topics: [{ name: 'bench-topic', partitions: [{ partitionIndex: 0, records: batch }] }],
  });
  return concatChunks(encoded).subarray(4);
}

const fetchRecords = Array.from({ length: fetchPartitions }, (_, index) => Buffer.alloc(fetchRecordsBytes, index));

function encodeFetchResponse(): EncodedMessage {
  const partitions = [];
  for (let index = 0; index < fetchPartitions; index++) {
    partitions.push({
      partitionIndex: index,
      errorCode: 0,
      highWatermark: 1000n,
      lastStableOffset: 1000n,
      logStartOffset: 0n,
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: fetchRecords[index]!,
    });
  }
  return encodeResponse(ApiKey.Fetch, 11, 7, {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [{ topic: 'bench-topic', partitions }],
  });
}

async function main(): Promise<void> {
  const frame = produceFrame();
  let sink = 0;
  const bench = new Bench({ time: timeMs, warmup: true });
  bench.add('decode Produce v7 request (1 x 16 KiB batch)', () => {
    const header = decodeRequestHeader(frame);
    const body = decodeRequestBody(ApiKey.Produce, header.apiVersion, frame, header.headerSizeBytes);
    sink += body.topics[0]!.partitions[0]!.records!.length;
  });
  bench.add('encode Fetch v11 response (10 x 64 KiB records)', () => {
    sink += encodeFetchResponse().chunks.length;
  });
  await bench.run();

  const fetchSizeBytes = encodeFetchResponse().sizeBytes;
  const rows = bench.tasks.map((task) => {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`);
    const opsPerSecond = result.throughput.mean;
    const payloadBytes = task.name.startsWith('decode') ? frame.length : fetchSizeBytes;
    return {
      task: task.name,
      'ops/s': formatRate(opsPerSecond, 'ops/s'),
      'mean µs': (result.latency.mean * 1000).toFixed(2),
      'p99 µs': (result.latency.p99 * 1000).toFixed(2),
      'payload rate': formatRate(opsPerSecond * payloadBytes, 'B/s'),
    };
  });
  console.log(`codec benchmarks (${machineNote()}), ${timeMs} ms per task`);
  printTable(rows);
  if (sink === 0) console.log('(unreachable)');
}

await main();
