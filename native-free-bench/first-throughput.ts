/**
 * A first produce and consume throughput figure for 100-byte messages, over TCP with our own
 * protocol codec: one connection, pipelined Produce requests (acks=1) carrying batches of
 * `--batch` records, then Fetch from the beginning. The full load generator (`minikafka perf`)
 * supersedes this; it stays as a quick smoke figure.
 *
 *   node dist/native-free-bench/first-throughput.js [--messages 1000000] [--batch 1000] [--nodes 1] [--in-flight 8]
 */
import { connect, type Socket } from 'node:net';
import { concatChunks, decodeResponse, encodeRequest } from '../src/protocol/codec/index.js';
import { encodeRecordBatch } from '../src/protocol/records/records.js';
import { readLastOffset, readRecordsCount, batchSizeBytes } from '../src/protocol/records/batch.js';
import { startBroker } from '../src/index.js';
import { machineNote, printTable } from './bench-util.js';

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const totalMessages = argument('messages', 1_000_000);
const batchSize = argument('batch', 1000);
const nodes = argument('nodes', 1);
const inFlight = argument('in-flight', 8);

class Pipe {
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private readonly waiting: Array<(frame: Buffer) => void> = [];
  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.bufferedBytes += chunk.length;
      this.drain();
    });
  }
  /** Joins chunks only once a whole frame is buffered (no quadratic re-copying). */
  private drain(): void {
    while (this.bufferedBytes >= 4) {
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks)];
      const size = this.chunks[0]!.readInt32BE(0);
      if (this.bufferedBytes < 4 + size) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.bufferedBytes = rest.length;
      this.waiting.shift()!(frame);
    }
  }
  send(bytes: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(bytes);
    });
  }
}

const broker = await startBroker({ nodes, logLevel: 'error', broker: { 'num.partitions': 1 } });
const [host, port] = broker.bootstrapServers.split(',')[0]!.split(':');
const socket = await new Promise<Socket>((resolve) => {
  const s = connect({ host: host!, port: Number(port) }, () => resolve(s));
});
const pipe = new Pipe(socket);
let correlationId = 1;
const metadata = concatChunks(encodeRequest(3, 8, correlationId++, 'bench', { topics: [{ name: 'bench' }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }));
await pipe.send(metadata);

const value = Buffer.alloc(100, 0x61);
const batch = encodeRecordBatch({ records: Array.from({ length: batchSize }, () => ({ value })) });
const batches = Math.ceil(totalMessages / batchSize);
const produceStarted = performance.now();
const pending = new Set<Promise<unknown>>();
for (let index = 0; index < batches; index++) {
  // The broker patches offsets in place in its own copy (the ring), so one batch can be resent.
  const request = concatChunks(encodeRequest(0, 7, correlationId++, 'bench', { transactionalId: null, acks: 1, timeoutMs: 30000, topics: [{ name: 'bench', partitions: [{ partitionIndex: 0, records: batch }] }] }));
  const sent = pipe.send(request).then((frame) => {
    const body = decodeResponse(0, 7, frame).body as { responses: Array<{ partitions: Array<{ errorCode: number }> }> };
    if (body.responses[0]!.partitions[0]!.errorCode !== 0) throw new Error(`produce error ${body.responses[0]!.partitions[0]!.errorCode}`);
  });
  pending.add(sent);
  sent.finally(() => pending.delete(sent));
  if (pending.size >= inFlight) await Promise.race(pending);
}
await Promise.all(pending);
const produceSeconds = (performance.now() - produceStarted) / 1000;

const consumeStarted = performance.now();
let consumed = 0;
let offset = 0n;
while (consumed < batches * batchSize) {
  const request = concatChunks(encodeRequest(1, 11, correlationId++, 'bench', {
    replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 8 * 1024 * 1024, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic: 'bench', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1n, partitionMaxBytes: 8 * 1024 * 1024 }] }],
    forgottenTopicsData: [], rackId: '',
  }));
  const frame = await pipe.send(request);
  const body = decodeResponse(1, 11, frame).body as { responses: Array<{ partitions: Array<{ records: Buffer | null }> }> };
  const records = body.responses[0]!.partitions[0]!.records;
  if (records === null || records.length === 0) break;
  // Count from batch headers: this measures the broker, not a record decoder.
  for (let position = 0; position + 61 <= records.length; ) {
    const size = batchSizeBytes(records, position);
    if (position + size > records.length) break;
    consumed += readRecordsCount(records, position);
    offset = BigInt(readLastOffset(records, position) + 1);
    position += size;
  }
}
const consumeSeconds = (performance.now() - consumeStarted) / 1000;
socket.destroy();
await broker.stop();
console.log(`first throughput: ${machineNote()}; ${nodes} node(s), 1 partition, 100-byte values, batches of ${batchSize}, ${inFlight} in flight, acks=1, flush policy always`);
printTable([
  { direction: 'produce', messages: batches * batchSize, 'msgs/s': Math.round((batches * batchSize) / produceSeconds), 'MB/s': ((batches * batch.length) / produceSeconds / 1e6).toFixed(1) },
  { direction: 'consume (batch headers only)', messages: consumed, 'msgs/s': Math.round(consumed / consumeSeconds), 'MB/s': ((consumed / batchSize) * batch.length / consumeSeconds / 1e6).toFixed(1) },
]);
