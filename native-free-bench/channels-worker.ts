/**
 * The far end of channels.bench.ts: answers every message it gets, over the channel it was
 * given (a MessagePort, its parent port for the relay, or a SharedArrayBuffer ring pair).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { Doorbell } from '../src/runtime/doorbell.js';
import { RingSet } from '../src/runtime/ring-set.js';
import { RingWriter } from '../src/runtime/shared-ring.js';

interface Data {
  mode: 'port' | 'relay' | 'ring';
  port?: MessagePort;
  inbound?: SharedArrayBuffer;
  outbound?: SharedArrayBuffer;
  ownDoorbell?: SharedArrayBuffer;
  peerDoorbell?: SharedArrayBuffer;
  messages: number;
}

const data = workerData as Data;
if (data.mode === 'port') data.port!.on('message', (message) => data.port!.postMessage(message));
else if (data.mode === 'relay') parentPort!.on('message', (message) => parentPort!.postMessage(message));
else {
  const inbound = new RingSet(data.ownDoorbell!);
  inbound.add(0, data.inbound!);
  const outbound = new RingWriter(data.outbound!, { doorbell: new Doorbell(data.peerDoorbell!) });
  let answered = 0;
  // Atomics.waitAsync holds no handle: without a timer the thread would exit while it waits.
  const keepAlive = setInterval(() => {}, 1000);
  const serve = async () => {
    while (answered < data.messages) {
      inbound.drain((_source, bytes, offset, length) => {
        outbound.tryWrite(bytes.subarray(offset, offset + length));
        answered++;
      });
      if (answered < data.messages && inbound.isEmpty) await inbound.waitForAny(1000);
    }
  };
  void serve().then(() => {
    clearInterval(keepAlive);
    parentPort!.postMessage('done');
  });
}
