/**
 * Produce: checks acks, routes each partition (unknown topic, wrong listener), and hands the
 * record bytes of the partitions this node leads to the node worker through its ring. The
 * node validates, assigns offsets, appends, and answers once the covering fsync is done.
 * acks=0 gets no response at all.
 */
import type { RequestBody } from '../../protocol/codec/index.js';
import { ErrorCode, errorName } from '../../protocol/errors.js';
import type { ApiKey } from '../../protocol/schema/index.js';
import type { ProducePartition, ProducePartitionResult } from '../../workers/node-protocol.js';
import { produceRequestSize } from '../../workers/node-protocol.js';
import { routePartition } from '../routing.js';
import type { RequestContext } from '../services.js';

type ProduceRequest = RequestBody<typeof ApiKey.Produce>;

interface PartitionResponse {
  partitionIndex: number;
  errorCode: number;
  baseOffset: bigint;
  logAppendTimeMs: bigint;
  logStartOffset: bigint;
}

function errorResponse(partitionIndex: number, errorCode: number): PartitionResponse {
  return { partitionIndex, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n };
}

export async function handleProduce(context: RequestContext, request: ProduceRequest): Promise<unknown> {
  const acks = request.acks;
  const responses = request.topics.map((topic) => ({ name: topic.name, partitions: [] as PartitionResponse[] }));
  const local: Array<{ target: PartitionResponse; partition: ProducePartition }> = [];
  let node = null;
  for (const [topicIndex, topic] of request.topics.entries()) {
    for (const partition of topic.partitions) {
      const target = errorResponse(partition.partitionIndex, ErrorCode.NONE);
      responses[topicIndex]!.partitions.push(target);
      if (acks !== 0 && acks !== 1 && acks !== -1) {
        target.errorCode = ErrorCode.INVALID_REQUIRED_ACKS;
        continue;
      }
      const route = routePartition(context.services, context.nodeId, topic.name, partition.partitionIndex);
      if (route.node === null) {
        target.errorCode = route.errorCode;
      } else if (partition.records === null || partition.records.length === 0) {
        target.errorCode = ErrorCode.INVALID_RECORD;
      } else {
        node = route.node;
        local.push({ target, partition: { topic: topic.name, partition: partition.partitionIndex, records: partition.records } });
      }
    }
  }
  if (node !== null) await sendToNode(context, node, acks, request.timeoutMs, local);
  if (acks === 0) return null;
  return { responses, throttleTimeMs: 0 };
}

type Node = NonNullable<ReturnType<typeof routePartition>['node']>;

/**
 * One ring message for the request, or one per partition when the whole would not fit a ring
 * message; a single partition larger than that is refused as too large.
 */
async function sendToNode(context: RequestContext, node: Node, acks: number, timeoutMs: number, local: Array<{ target: PartitionResponse; partition: ProducePartition }>): Promise<void> {
  const groups = produceRequestSize(local.map((entry) => entry.partition)) <= node.maxMessageBytes ? [local] : local.map((entry) => [entry]);
  const waits: Array<Promise<void>> = [];
  for (const group of groups) {
    if (produceRequestSize(group.map((entry) => entry.partition)) > node.maxMessageBytes) {
      for (const entry of group) entry.target.errorCode = ErrorCode.MESSAGE_TOO_LARGE;
      continue;
    }
    const partitions = group.map((entry) => entry.partition);
    if (acks === 0) {
      node.produceWithoutAck({ acks, timeoutMs, partitions });
      continue;
    }
    waits.push(node.produce({ acks, timeoutMs, partitions }).then((results) => applyResults(context, group, results)));
  }
  await Promise.all(waits);
}

function applyResults(context: RequestContext, group: Array<{ target: PartitionResponse; partition: ProducePartition }>, results: ProducePartitionResult[]): void {
  group.forEach((entry, index) => {
    const result = results[index]!;
    entry.target.errorCode = result.errorCode;
    entry.target.baseOffset = BigInt(result.baseOffset);
    entry.target.logAppendTimeMs = BigInt(result.logAppendTimeMs);
    entry.target.logStartOffset = BigInt(result.logStartOffset);
    if (result.errorCode !== ErrorCode.NONE && context.services.logger.enabled('debug')) {
      context.services.logger.debug('produce partition failed', {
        topic: entry.partition.topic,
        partition: entry.partition.partition,
        error: errorName(result.errorCode),
        detail: result.errorMessage,
      });
    }
  });
}
