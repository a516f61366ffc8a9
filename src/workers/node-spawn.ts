/**
 * Starting a node worker thread, apart from talking to it: this module loads almost nothing,
 * so `minikafka start` can spawn the workers first and let them load their code while the main
 * thread loads its own (start-up is mostly module loading, four threads on two cores).
 */
import { Worker } from 'node:worker_threads';
import { Limits } from '../runtime/limits.js';
import { createDoorbell } from '../runtime/doorbell.js';
import { createRingBuffer } from '../runtime/shared-ring.js';
import { createPauseCell } from './node-pause.js';

export interface SpawnedNodeWorker {
  readonly worker: Worker;
  readonly requestRing: SharedArrayBuffer;
  readonly completionRing: SharedArrayBuffer;
  readonly ringCapacityBytes: number;
  /** The node's wake-up cell for all its inbound rings (see doorbell.ts). */
  readonly doorbell: SharedArrayBuffer;
  /** Fault injection's pause switch (see node-pause.ts). */
  readonly pauseCell: SharedArrayBuffer;
  /** An error the worker raised before anyone listened, if any. */
  earlyError: Error | null;
}

/** What a worker gets at spawn; the rest of its configuration comes in the init message. */
export interface NodeWorkerSpawnData {
  requestRing: SharedArrayBuffer;
  completionRing: SharedArrayBuffer;
  doorbell: SharedArrayBuffer;
  pauseCell: SharedArrayBuffer;
}

export function spawnNodeWorker(ringCapacityBytes: number = Limits.ringCapacityBytes): SpawnedNodeWorker {
  const requestRing = createRingBuffer(ringCapacityBytes);
  const completionRing = createRingBuffer(ringCapacityBytes);
  const pauseCell = createPauseCell();
  const doorbell = createDoorbell();
  const worker = new Worker(new URL('./node-worker.js', import.meta.url), {
    workerData: { requestRing, completionRing, doorbell, pauseCell } satisfies NodeWorkerSpawnData,
  });
  const spawned: SpawnedNodeWorker = { worker, requestRing, completionRing, ringCapacityBytes, doorbell, pauseCell, earlyError: null };
  worker.once('error', (error) => {
    spawned.earlyError ??= error;
  });
  return spawned;
}
