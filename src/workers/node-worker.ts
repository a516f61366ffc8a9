/**
 * Entry point of a node worker thread. Opens the node's data dir (recovering its logs),
 * reports ready, serves its rings until told to shut down, then exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock, systemMonotonicClock } from '../runtime/clock.js';
import { Limits } from '../runtime/limits.js';
import { Logger, type LogLevel } from '../runtime/logger.js';
import { cryptoRandom } from '../runtime/random.js';
import { BrokerNode, type AlterPartitionRequest, type BrokerNodeOptions } from './broker-node.js';
import type { PeerLink } from './node-links.js';
import { MetadataPublisher } from './metadata-publisher.js';
import { MetadataQuorumMember } from './metadata-quorum.js';
import { defaultBrokerSettings, type BrokerSettings } from '../config/broker-config.js';
import { blockWhilePaused } from './node-pause.js';
import type { NodeWorkerSpawnData } from './node-spawn.js';
import type { QuorumCommand, QuorumEvent, QuorumSettings } from './quorum-protocol.js';

export type NodeWorkerData = Omit<BrokerNodeOptions, 'clock' | 'monotonicClock' | 'logger' | 'files' | 'onLogDirOffline' | 'onAlterPartition'> & {
  logLevel: LogLevel;
  /** The node's seat in the metadata quorum (null: the node is not a voter). */
  quorum?: QuorumSettings | null;
  /** Broker settings: topic configs in metadata records resolve against them (default: the defaults). */
  brokerSettings?: BrokerSettings;
};

/** The configuration a worker gets after it is spawned (the rings came with the spawn). */
export type NodeWorkerInit = Omit<NodeWorkerData, 'requestRing' | 'completionRing' | 'doorbell'>;

export type NodeWorkerCommand =
  | { type: 'init'; data: NodeWorkerInit }
  /** A peer restarted: swap in the new rings to and from it. */
  | { type: 'replaceLink'; link: PeerLink }
  /** The controller's answer to this node's AlterPartition. */
  | { type: 'alterPartitionAnswer'; topic: string; partition: number; partitionEpoch: number; errorCode: number }
  | QuorumCommand;

export type NodeWorkerMessage =
  | { type: 'ready'; nodeId: number; partitions: number; cleanShutdown: boolean; openMs: number }
  | { type: 'stopped'; nodeId: number }
  /** The node's data dir went offline after an I/O error (see BrokerNode.onLogDirOffline). */
  | { type: 'logDirOffline'; nodeId: number; reason: string }
  /** A partition leader proposes an ISR change to the controller. */
  | { type: 'alterPartition'; nodeId: number; request: AlterPartitionRequest }
  | QuorumEvent;

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
  const data: NodeWorkerData = { ...(await nextInit()), requestRing: spawn.requestRing, completionRing: spawn.completionRing, doorbell: spawn.doorbell };
  const logger = new Logger(`node-${data.nodeId}`, data.logLevel);
  const started = performance.now();
  const onLogDirOffline = (reason: string): void => {
    const message: NodeWorkerMessage = { type: 'logDirOffline', nodeId: data.nodeId, reason };
    parentPort!.postMessage(message);
  };
  const onAlterPartition = (request: AlterPartitionRequest): void => {
    const message: NodeWorkerMessage = { type: 'alterPartition', nodeId: data.nodeId, request };
    parentPort!.postMessage(message);
  };
  const node = new BrokerNode({ ...data, clock: systemClock, monotonicClock: systemMonotonicClock, logger, onLogDirOffline, onAlterPartition });
  parentPort!.on('message', (command: NodeWorkerCommand) => {
    if (command.type === 'replaceLink') node.replacePeerLink(command.link);
    else if (command.type === 'alterPartitionAnswer') node.onAlterPartitionAnswer(command.topic, command.partition, command.partitionEpoch, command.errorCode);
  });
  await node.recoverFromJournal();
  const quorum = startQuorumMember(data, node, logger);
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
  quorum?.close();
  const stopped: NodeWorkerMessage = { type: 'stopped', nodeId: node.nodeId };
  parentPort!.postMessage(stopped);
}

/** The node's seat in the metadata quorum; its roles follow what the member applies. */
function startQuorumMember(data: NodeWorkerData, node: BrokerNode, logger: Logger): MetadataQuorumMember | null {
  if (data.quorum === undefined || data.quorum === null) return null;
  const post = (event: QuorumEvent) => parentPort!.postMessage(event);
  const publisher = new MetadataPublisher(node, data.brokerSettings ?? defaultBrokerSettings(), (index) => post({ type: 'metadataPublished', nodeId: data.nodeId, index }), logger);
  const member = new MetadataQuorumMember(data.nodeId, data.dataDir, data.quorum, post, logger, cryptoRandom, publisher);
  parentPort!.on('message', (command: NodeWorkerCommand) => {
    if (command.type === 'raft' || command.type === 'propose') member.handle(command);
    else if (command.type === 'strayCheck') publisher.checkStrayLogsAfter(command.index, member.image);
  });
  return member;
}

main().catch((error: unknown) => {
  process.stderr.write(`node worker failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
