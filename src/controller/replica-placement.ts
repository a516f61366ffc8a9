/**
 * Where the replicas of new partitions go, and the checks of an explicit assignment. Kafka's
 * rack-unaware assignment: preferred leaders (each partition's first replica) round-robin over
 * the usable nodes from a start node; a partition's followers sit on the nodes after its leader,
 * shifted by one more every round of `nodes` partitions, so the followers of one node's
 * partitions spread over the other nodes instead of all landing on its neighbour. Kafka picks
 * the start node and the first shift at random; here the start node is the one leading the
 * fewest partitions (ties: the lowest id) and the shift starts at 0, so placement is a function
 * of the image. Pure.
 */
import { assert } from '../runtime/assert.js';

/**
 * Replica lists for `partitionCount` new partitions over `nodes` (ascending ids), counting each
 * new preferred leader in `leaderCounts` (node id -> partitions led) for the next call.
 */
export function placeReplicas(nodes: readonly number[], leaderCounts: number[], partitionCount: number, replicationFactor: number): number[][] {
  assert(replicationFactor >= 1 && replicationFactor <= nodes.length, () => `placement: replication factor ${replicationFactor} over ${nodes.length} nodes`);
  let start = 0;
  for (let index = 1; index < nodes.length; index++) {
    if (leaderCounts[nodes[index]!]! < leaderCounts[nodes[start]!]!) start = index;
  }
  const lists: number[][] = [];
  let shift = 0;
  for (let partition = 0; partition < partitionCount; partition++) {
    if (partition > 0 && partition % nodes.length === 0) shift++;
    const leaderIndex = (start + partition) % nodes.length;
    const replicas = [nodes[leaderIndex]!];
    for (let follower = 0; follower < replicationFactor - 1; follower++) replicas.push(nodes[followerIndex(leaderIndex, shift, follower, nodes.length)]!);
    leaderCounts[nodes[leaderIndex]!]!++;
    lists.push(replicas);
  }
  return lists;
}

/** Never the leader's own index: the offset runs 1..nodeCount-1. */
function followerIndex(leaderIndex: number, shift: number, follower: number, nodeCount: number): number {
  return (leaderIndex + 1 + ((shift + follower) % (nodeCount - 1))) % nodeCount;
}

/** Why `replicationFactor` replicas cannot be placed on the usable nodes (Kafka's words), or null. */
export function replicationFactorProblem(replicationFactor: number, usableNodes: number, fencedNodes: number): string | null {
  if (replicationFactor <= usableNodes) return null;
  const fenced = fencedNodes > 0 ? ` and unfenced (${fencedNodes} fenced)` : '';
  return `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ${replicationFactor} cannot be reached because only ${usableNodes} broker(s) are registered${fenced}.`;
}

/**
 * Why an explicit assignment (one replica list per new partition) is refused, or null: every
 * list non-empty, of distinct node ids, and as long as `replicationFactor` (the topic's).
 */
export function assignmentProblem(lists: ReadonlyArray<readonly number[]>, nodeCount: number, replicationFactor: number): string | null {
  for (const replicas of lists) {
    if (replicas.length === 0) return 'The manual partition assignment includes an empty replica list.';
    for (const [index, nodeId] of replicas.entries()) {
      if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId >= nodeCount) {
        return `The manual partition assignment includes broker ${nodeId}, but no such broker is registered (node ids are 0..${nodeCount - 1}).`;
      }
      if (replicas.indexOf(nodeId) !== index) return `The manual partition assignment includes the broker ${nodeId} more than once.`;
    }
    if (replicas.length !== replicationFactor) {
      return `The manual partition assignment includes a partition with ${replicas.length} replica(s), but this is not consistent with previous partitions, which have ${replicationFactor} replica(s).`;
    }
  }
  return null;
}
