/**
 * ListOffsets: earliest (-2), latest (-1: the high watermark, or the last stable offset for
 * read_committed) or the first offset at or after a timestamp, answered by the leader's node.
 */
import type { RequestBody } from '../../protocol/codec/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { ApiKey } from '../../protocol/schema/index.js';
import type { ListOffsetsResult } from '../../workers/node-protocol.js';
import { groupByNode, routePartition } from '../routing.js';
import type { RequestContext } from '../services.js';

type ListOffsetsRequest = RequestBody<typeof ApiKey.ListOffsets>;

interface PartitionOffset {
  partitionIndex: number;
  errorCode: number;
  timestamp: bigint;
  offset: bigint;
}

export async function handleListOffsets(context: RequestContext, request: ListOffsetsRequest): Promise<unknown> {
  const topics = request.topics.map((topic) => ({ name: topic.name, partitions: [] as PartitionOffset[] }));
  const asks: Array<{ target: PartitionOffset; node: ReturnType<typeof routePartition>['node']; topic: string; partition: number; timestamp: number }> = [];
  for (const [topicIndex, topic] of request.topics.entries()) {
    for (const partition of topic.partitions) {
      const target: PartitionOffset = { partitionIndex: partition.partitionIndex, errorCode: ErrorCode.NONE, timestamp: -1n, offset: -1n };
      topics[topicIndex]!.partitions.push(target);
      const route = routePartition(context.services, context.nodeId, topic.name, partition.partitionIndex);
      if (route.node === null) target.errorCode = route.errorCode;
      else asks.push({ target, node: route.node, topic: topic.name, partition: partition.partitionIndex, timestamp: Number(partition.timestamp) });
    }
  }
  for (const [node, group] of groupByNode(asks, (ask) => ask.node)) {
    const results = await node.control<ListOffsetsResult[]>({
      op: 'listOffsets',
      isolationLevel: request.isolationLevel,
      partitions: group.map((ask) => ({ topic: ask.topic, partition: ask.partition, timestamp: ask.timestamp })),
    });
    group.forEach((ask, index) => {
      const result = results[index]!;
      Object.assign(ask.target, { errorCode: result.errorCode, timestamp: BigInt(result.timestamp), offset: BigInt(result.offset) });
    });
  }
  return { throttleTimeMs: 0, topics };
}
