/**
 * OffsetForLeaderEpoch (KIP-101, KIP-320): the end offset of a leader epoch in a partition's
 * log, answered by the leader's node from its leader-epoch cache. current_leader_epoch (v2+)
 * is checked against the metadata image here, in Kafka's order (see routePartitionAtEpoch),
 * and again by the node against its replica, which may be a moment behind the image.
 */
import type { RequestBody } from '../../protocol/codec/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { ApiKey } from '../../protocol/schema/index.js';
import type { OffsetForLeaderEpochPartition, OffsetForLeaderEpochResult } from '../../workers/node-protocol.js';
import { groupByNode, routePartitionAtEpoch, type Route } from '../routing.js';
import type { RequestContext } from '../services.js';

type OffsetForLeaderEpochRequest = RequestBody<typeof ApiKey.OffsetForLeaderEpoch>;

interface PartitionEndOffset {
  errorCode: number;
  partition: number;
  leaderEpoch: number;
  endOffset: bigint;
}

interface Ask {
  target: PartitionEndOffset;
  node: Route['node'];
  query: OffsetForLeaderEpochPartition;
}

export async function handleOffsetForLeaderEpoch(context: RequestContext, request: OffsetForLeaderEpochRequest): Promise<unknown> {
  const topics = request.topics.map((topic) => ({ topic: topic.topic, partitions: [] as PartitionEndOffset[] }));
  const asks: Ask[] = [];
  for (const [topicIndex, topic] of request.topics.entries()) {
    for (const partition of topic.partitions) {
      const target: PartitionEndOffset = { errorCode: ErrorCode.NONE, partition: partition.partition, leaderEpoch: -1, endOffset: -1n };
      topics[topicIndex]!.partitions.push(target);
      const route = routePartitionAtEpoch(context.services, context.nodeId, topic.topic, partition.partition, partition.currentLeaderEpoch);
      if (route.node === null) target.errorCode = routeError(route.errorCode);
      else asks.push({ target, node: route.node, query: { topic: topic.topic, partition: partition.partition, currentLeaderEpoch: partition.currentLeaderEpoch, leaderEpoch: partition.leaderEpoch } });
    }
  }
  for (const [node, group] of groupByNode(asks, (ask) => ask.node)) {
    const results = await node.control<OffsetForLeaderEpochResult[]>({ op: 'offsetsForLeaderEpoch', partitions: group.map((ask) => ask.query) });
    group.forEach((ask, index) => {
      const result = results[index]!;
      Object.assign(ask.target, { errorCode: result.errorCode, leaderEpoch: result.leaderEpoch, endOffset: BigInt(result.endOffset) });
    });
  }
  return { throttleTimeMs: 0, topics };
}

/** A partition without a leader: Kafka's replica answers NOT_LEADER_OR_FOLLOWER here, never LEADER_NOT_AVAILABLE. */
function routeError(errorCode: number): number {
  return errorCode === ErrorCode.LEADER_NOT_AVAILABLE ? ErrorCode.NOT_LEADER_OR_FOLLOWER : errorCode;
}
