/**
 * Which channel should carry node-to-node messages (the Raft issue: "SharedArrayBuffer rings or
 * MessagePorts: measure")? Round trips of a small message (~120 bytes, a Raft append or
 * heartbeat) between the main thread and a worker, one at a time, over:
 *   - a MessagePort (structured clone, the worker's own channel),
 *   - the worker's parent port relayed once more (what the front thread's relay adds), and
 *   - a pair of SharedArrayBuffer rings woken through a doorbell (what replication uses).
 * Medians and p99 of --messages round trips (default 20,000) after a warm-up.
 *
 *   node dist/native-free-bench/channels.bench.js [--messages 20000]
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { createDoorbell, Doorbell } from '../src/runtime/doorbell.js';
import { RingSet } from '../src/runtime/ring-set.js';
import { createRingBuffer, RingWriter } from '../src/runtime/shared-ring.js';
import { machineNote } from './bench-util.js';

const workerUrl = new URL('./channels-worker.js', import.meta.url);
const message = { type: 'raft', from: 0, to: 1, term: 7, kind: 'append', index: 1234, logTerm: 7, commit: 1230, entries: [{ index: 1235, term: 7, data: new Uint8Array(24) }] };
const messageBytes = Buffer.from(JSON.stringify(message));

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

function summary(label: string, roundTripsMs: number[]): string {
  const sorted = [...roundTripsMs].sort((a, b) => a - b);
  return `${label.padEnd(40)} median ${(percentile(sorted, 0.5) * 1000).toFixed(1)} µs, p99 ${(percentile(sorted, 0.99) * 1000).toFixed(1)} µs, ${(roundTripsMs.length / (roundTripsMs.reduce((a, b) => a + b, 0) / 1000)).toFixed(0)} round trips/s`;
}

async function portRoundTrips(count: number, relay: boolean): Promise<number[]> {
  const channel = new MessageChannel();
  const worker = relay
    ? new Worker(workerUrl, { workerData: { mode: 'relay', messages: count } })
    : new Worker(workerUrl, { workerData: { mode: 'port', port: channel.port2, messages: count }, transferList: [channel.port2] });
  const times: number[] = [];
  try {
    if (relay) {
      // The relay: the reply comes to the main thread, which passes it on once more (as the front
      // thread passes a Raft message from one node to another) before it counts as arrived.
      const loopback = new MessageChannel();
      let resolveNext: (() => void) | null = null;
      worker.on('message', (reply) => loopback.port1.postMessage(reply));
      loopback.port2.on('message', () => resolveNext?.());
      for (let index = 0; index < count; index++) {
        const started = performance.now();
        await new Promise<void>((resolve) => {
          resolveNext = resolve;
          worker.postMessage(message);
        });
        times.push(performance.now() - started);
      }
      loopback.port1.close();
      loopback.port2.close();
    } else {
      let resolveNext: (() => void) | null = null;
      channel.port1.on('message', () => resolveNext?.());
      for (let index = 0; index < count; index++) {
        const started = performance.now();
        await new Promise<void>((resolve) => {
          resolveNext = resolve;
          channel.port1.postMessage(message);
        });
        times.push(performance.now() - started);
      }
      channel.port1.close();
    }
  } finally {
    await worker.terminate();
  }
  return times;
}

async function ringRoundTrips(count: number): Promise<number[]> {
  const toWorker = createRingBuffer(1 << 20);
  const fromWorker = createRingBuffer(1 << 20);
  const mainDoorbell = createDoorbell();
  const workerDoorbell = createDoorbell();
  const worker = new Worker(workerUrl, { workerData: { mode: 'ring', inbound: toWorker, outbound: fromWorker, ownDoorbell: workerDoorbell, peerDoorbell: mainDoorbell, messages: count } });
  const writer = new RingWriter(toWorker, { doorbell: new Doorbell(workerDoorbell) });
  const inbound = new RingSet(mainDoorbell);
  inbound.add(0, fromWorker);
  const times: number[] = [];
  // Atomics.waitAsync holds no handle: a timer keeps this thread's event loop alive meanwhile.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    for (let index = 0; index < count; index++) {
      const started = performance.now();
      writer.tryWrite(messageBytes);
      let got = 0;
      for (let wait = 0; got === 0 && wait < 1000; wait++) {
        got = inbound.drain(() => {});
        if (got === 0) await inbound.waitForAny(1000);
      }
      times.push(performance.now() - started);
    }
  } finally {
    clearInterval(keepAlive);
    await worker.terminate();
  }
  return times;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { messages: { type: 'string', default: '20000' } } });
  const count = Number(values.messages);
  console.log(`machine: ${machineNote()}; ${count} round trips each of a ${messageBytes.length}-byte message`);
  await portRoundTrips(2000, false);
  await ringRoundTrips(2000);
  console.log(summary('MessagePort (structured clone)', await portRoundTrips(count, false)));
  console.log(summary('parent port, relayed once more', await portRoundTrips(count, true)));
  console.log(summary('SharedArrayBuffer rings + doorbell', await ringRoundTrips(count)));
}

await main();
