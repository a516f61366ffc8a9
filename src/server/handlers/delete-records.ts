/** DeleteRecords: moves each partition's log start offset forward, on the leader's node. */
import type { RequestBody } from '../../protocol/codec/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { ApiKey } from '../../protocol/schema/index.js';
import type { DeleteRecordsResult } from '../../workers/node-protocol.js';
import { groupByNode, routePartition } from '../routing.js';
import type { RequestContext } from '../services.js';

type DeleteRecordsRequest = RequestBody<typeof ApiKey.DeleteRecords>;

interface PartitionResult {
  partitionIndex: number;
  lowWatermark: bigint;
  errorCode: number;
}

export async function handleDeleteRecords(context: RequestContext, request: DeleteRecordsRequest): Promise<unknown> {
  const topics = request.topics.map((topic) => ({ name: topic.name, partitions: [] as PartitionResult[] }));
  const asks: Array<{ target: PartitionResult; node: ReturnType<typeof routePartition>['node']; topic: string; partition: number; offset: number }> = [];
  for (const [topicIndex, topic] of request.topics.entries()) {
    for (const partition of topic.partitions) {
      const target: PartitionResult = { partitionIndex: partition.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.NONE };
      topics[topicIndex]!.partitions.push(target);
      const route = routePartition(context.services, context.nodeId, topic.name, partition.partitionIndex);
      if (route.node === null) target.errorCode = route.errorCode;
      else asks.push({ target, node: route.node, topic: topic.name, partition: partition.partitionIndex, offset: Number(partition.offset) });
    }
  }
  for (const [node, group] of groupByNode(asks, (ask) => ask.node)) {
    const results = await node.control<DeleteRecordsResult[]>({
      op: 'deleteRecords',
      partitions: group.map((ask) => ({ topic: ask.topic, partition: ask.partition, offset: ask.offset })),
    });
    group.forEach((ask, index) => {
      const result = results[index]!;
      Object.assign(ask.target, { errorCode: result.errorCode, lowWatermark: BigInt(result.lowWatermark) });
    });
  }
  return { throttleTimeMs: 0, topics };
}
