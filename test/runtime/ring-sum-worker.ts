/** Worker for shared-ring.test: sums u32 messages until 0xffffffff, replies with the total. */
import { workerData } from 'node:worker_threads';
import { RingReader, RingWait, RingWriter } from '../../src/runtime/shared-ring.js';

// Atomics.waitAsync holds no handle: without one the worker's event loop would end.
const keepAlive = setInterval(() => {}, 1000);
const reader = new RingReader(workerData.request);
const writer = new RingWriter(workerData.reply);
const wakeTimeoutMs: number = workerData.wakeTimeoutMs;
let total = 0;
let done = false;
while (!done) {
  reader.drain((bytes, offset) => {
    const value = bytes.readUInt32LE(offset);
    if (value === 0xffffffff) done = true;
    else total += value;
  });
  // A timeout here means the main thread's commit did not notify this parked reader.
  if (!done && (await reader.waitForData(wakeTimeoutMs)) === RingWait.TIMED_OUT) throw new Error('ring-sum-worker: a write was never notified');
}
const out = Buffer.alloc(8);
out.writeDoubleLE(total, 0);
await writer.writeWhenSpace((ring) => ring.tryWrite(out));
clearInterval(keepAlive);
