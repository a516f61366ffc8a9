/**
 * Worker for ring-set.test: one writer of one ring into a RingSet, ringing the reader's
 * doorbell. Each time the main thread bumps its GO cell it writes a burst of messages
 * (writer index, burst, sequence number), parking for space when the ring is full, then bumps
 * its DONE cell. A GO value of -1 ends it.
 */
import { workerData } from 'node:worker_threads';
import { Doorbell } from '../../src/runtime/doorbell.js';
import { RingWait, RingWriter } from '../../src/runtime/shared-ring.js';

const { ring, doorbell, control, writerIndex, messagesPerBurst, wakeTimeoutMs } = workerData as {
  ring: SharedArrayBuffer;
  doorbell: SharedArrayBuffer;
  control: SharedArrayBuffer;
  writerIndex: number;
  messagesPerBurst: number;
  wakeTimeoutMs: number;
};
const cells = new Int32Array(control);
const goCell = writerIndex * 2;
const doneCell = writerIndex * 2 + 1;
const writer = new RingWriter(ring, { doorbell: new Doorbell(doorbell) });
const message = Buffer.alloc(96);

async function writeBurst(burst: number): Promise<void> {
  for (let sequence = 0; sequence < messagesPerBurst; sequence++) {
    message.writeInt32LE(writerIndex, 0);
    message.writeInt32LE(burst, 4);
    message.writeInt32LE(sequence, 8);
    for (;;) {
      const readPositionBefore = writer.readPosition();
      if (writer.tryWrite(message)) break;
      // Space waits stay on the ring: the reader's drain must notify this one.
      if ((await writer.waitForSpace(readPositionBefore, wakeTimeoutMs)) === RingWait.TIMED_OUT) throw new Error('doorbell-writer-worker: a release was never notified');
    }
  }
}

// Atomics.waitAsync holds no handle: without one the worker's event loop would end.
const keepAlive = setInterval(() => {}, 1000);
let seenGo = 0;
for (;;) {
  const wait = Atomics.waitAsync(cells, goCell, seenGo);
  if (wait.async) await wait.value;
  const go = Atomics.load(cells, goCell);
  if (go === -1) break;
  if (go === seenGo) continue;
  seenGo = go;
  await writeBurst(go);
  Atomics.add(cells, doneCell, 1);
  Atomics.notify(cells, doneCell);
}
clearInterval(keepAlive);
