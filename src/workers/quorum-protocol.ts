/**
 * Messages between a node worker's metadata quorum member and the front thread (over the
 * worker's MessagePort: Raft traffic is small; the front relays node-to-node messages, which is
 * where network partitions are injected).
 */
import type { RaftMessage, RaftRole, RaftSnapshot } from '../raft/types.js';

export interface QuorumSettings {
  /** Node ids of the voters (controller.quorum.voters; every node by default). */
  voters: number[];
  /** The other nodes: they follow the metadata log and never vote (see RaftRole.observer). */
  observers: number[];
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  snapshotIntervalEntries: number;
  /** The one voter (the lowest id) that campaigns at its first tick (see RaftConfig.campaignAtStart). */
  campaignAtStart: boolean;
  /** The front found this node's metadata dir empty while other nodes' were not. */
  rejoining: boolean;
  /** broker.heartbeat.interval.ms */
  heartbeatIntervalMs: number;
  /** The state of a pre-Raft single-voter metadata log, installed into empty storage. */
  bootstrapSnapshot: RaftSnapshot | null;
}

export type QuorumCommand =
  | { type: 'raft'; message: RaftMessage }
  | { type: 'propose'; operationId: string; data: Uint8Array }
  /** Delete logs of unknown topics once applied up to `index` (see MetadataPublisher.checkStrayLogsAfter). */
  | { type: 'strayCheck'; index: number };

export interface QuorumStatus {
  type: 'quorumStatus';
  nodeId: number;
  term: number;
  role: RaftRole;
  leaderId: number;
  commitIndex: number;
  appliedIndex: number;
  abstaining: boolean;
}

export type QuorumEvent =
  | { type: 'raft'; message: RaftMessage }
  | { type: 'metadataApplied'; nodeId: number; index: number; term: number; data: Uint8Array }
  | { type: 'metadataSnapshot'; nodeId: number; index: number; term: number; data: Uint8Array }
  | QuorumStatus
  | { type: 'proposeRejected'; nodeId: number; operationId: string; leaderId: number }
  | { type: 'proposeAccepted'; nodeId: number; operationId: string; index: number; term: number }
  | { type: 'quorumFailed'; nodeId: number; error: string }
  | { type: 'nodeHeartbeat'; nodeId: number }
  /** The node finished the work (roles, configs, deletions) of every entry up to `index`. */
  | { type: 'metadataPublished'; nodeId: number; index: number };

export function isQuorumEvent(message: { type: string }): message is QuorumEvent {
  return message.type === 'raft' || message.type === 'metadataApplied' || message.type === 'metadataSnapshot' || message.type === 'quorumStatus' || message.type === 'proposeRejected' || message.type === 'proposeAccepted' || message.type === 'quorumFailed' || message.type === 'nodeHeartbeat' || message.type === 'metadataPublished';
}
