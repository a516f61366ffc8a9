/**
 * Where a partition's requests must go: its leader's node, and only through that node's own
 * listener, as with a real cluster (clients route by Metadata).
 */
import { ErrorCode } from '../protocol/errors.js';
import { currentLeaderEpochError } from '../replication/leader-epoch-fencing.js';
import type { NodeHandle } from '../workers/node-handle.js';
import type { BrokerServices } from './services.js';

export type Route = { errorCode: 0; node: NodeHandle; leaderEpoch: number } | { errorCode: number; node: null; leaderEpoch: -1 };

export function routePartition(services: BrokerServices, listenerNodeId: number, topic: string, partition: number): Route {
  const image = services.image.partition(topic, partition);
  if (image === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, node: null, leaderEpoch: -1 };
  const node = services.nodes[image.leader];
  if (node === undefined) return { errorCode: ErrorCode.LEADER_NOT_AVAILABLE, node: null, leaderEpoch: -1 };
  if (image.leader !== listenerNodeId) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, node: null, leaderEpoch: -1 };
  return { errorCode: ErrorCode.NONE, node, leaderEpoch: image.leaderEpoch };
}

/**
 * routePartition for a request that carries a current leader epoch (KIP-320: Fetch v9+,
 * OffsetForLeaderEpoch v2+), with the checks in Kafka's order (ReplicaManager, then
 * Partition.getLocalLog): an unknown partition; a listener whose node holds no replica of it
 * (NOT_LEADER_OR_FOLLOWER); the epoch against the image (FENCED_LEADER_EPOCH or
 * UNKNOWN_LEADER_EPOCH, on a follower too); then leadership. -1 skips the epoch check.
 */
export function routePartitionAtEpoch(services: BrokerServices, listenerNodeId: number, topic: string, partition: number, currentLeaderEpoch: number): Route {
  const image = services.image.partition(topic, partition);
  if (image !== undefined && image.replicas.includes(listenerNodeId)) {
    const epochError = currentLeaderEpochError(currentLeaderEpoch, image.leaderEpoch);
    if (epochError !== ErrorCode.NONE) return { errorCode: epochError, node: null, leaderEpoch: -1 };
  }
  return routePartition(services, listenerNodeId, topic, partition);
}

/** Groups items by the node that must serve them, preserving order within each group. */
export function groupByNode<T>(items: readonly T[], nodeOf: (item: T) => NodeHandle | null): Map<NodeHandle, T[]> {
  const groups = new Map<NodeHandle, T[]>();
  for (const item of items) {
    const node = nodeOf(item);
    if (node === null) continue;
    let group = groups.get(node);
    if (group === undefined) groups.set(node, (group = []));
    group.push(item);
  }
  return groups;
}
