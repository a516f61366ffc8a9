/**
 * Entry point of a node worker thread. Opens the node's data dir (recovering its logs),
 * reports ready, serves its rings until told to shut down, then exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../runtime/clock.js';
import { Limits } from '../runtime/limits.js';
import { Logger, type LogLevel } from '../runtime/logger.js';
import { BrokerNode, type BrokerNodeOptions } from './broker-node.js';
import { blockWhilePaused } from './node-pause.js';
import type { NodeWorkerSpawnData } from './node-spawn.js';

export type NodeWorkerData = Omit<BrokerNodeOptions, 'clock' | 'logger'> & { logLevel: LogLevel };

/** The configuration a worker gets after it is spawned (the rings came with the spawn). */
export type NodeWorkerInit = Omit<NodeWorkerData, 'requestRing' | 'completionRing'>;

export type NodeWorkerCommand = { type: 'init'; data: NodeWorkerInit };

export type NodeWorkerMessage =
  | { type: 'ready'; nodeId: number; partitions: number; cleanShutdown: boolean; openMs: number }
  | { type: 'stopped'; nodeId: number };

/** The worker loads its code as soon as it is spawned, then waits here for its configuration. */
function nextInit(): Promise<NodeWorkerInit> {
  return new Promise((resolve) => {
    const listener = (command: NodeWorkerCommand) => {
      if (command.type !== 'init') return;
      parentPort!.off('message', listener);
      resolve(command.data);
    };
    parentPort!.on('message', listener);
  });
}

async function main(): Promise<void> {
  const spawn = workerData as NodeWorkerSpawnData;
  const data: NodeWorkerData = { ...(await nextInit()), requestRing: spawn.requestRing, completionRing: spawn.completionRing };
  const logger = new Logger(`node-${data.nodeId}`, data.logLevel);
  const started = performance.now();
  const node = new BrokerNode({ ...data, clock: systemClock, logger });
  await node.recoverFromJournal();
  // The tick keeps this worker's event loop alive: Atomics.waitAsync holds no handle.
  // It also honours fault injection's pause, blocking this whole thread until resumed.
  const pauseCell = new Int32Array(spawn.pauseCell);
  let ticking = false;
  const ticker = setInterval(() => {
    blockWhilePaused(pauseCell);
    if (ticking) return;
    ticking = true;
    node.tick().then(
      () => (ticking = false),
      (error: unknown) => {
        ticking = false;
        logger.error('tick failed', { error: error instanceof Error ? error.stack ?? error.message : String(error) });
      },
    );
  }, Limits.nodeTickIntervalMs);
  const ready: NodeWorkerMessage = {
    type: 'ready',
    nodeId: node.nodeId,
    partitions: node.partitionCount,
    cleanShutdown: node.openedAfterCleanShutdown,
    openMs: performance.now() - started,
  };
  parentPort!.postMessage(ready);
  await node.serve();
  clearInterval(ticker);
  const stopped: NodeWorkerMessage = { type: 'stopped', nodeId: node.nodeId };
  parentPort!.postMessage(stopped);
}

main().catch((error: unknown) => {
  process.stderr.write(`node worker failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
