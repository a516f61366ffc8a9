/**
 * Fetch: routes each partition to its leader (this listener's node only), lets the node read
 * or long-poll (max_wait_ms / min_bytes, woken by appends), and returns record bytes as the
 * node read them. Fetch sessions are off (session id 0); the aborted-transactions list is empty
 * until transactions land.
 */
import type { RequestBody } from '../../protocol/codec/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { ApiKey } from '../../protocol/schema/index.js';
import type { FetchPartition } from '../../workers/node-protocol.js';
import { routePartitionAtEpoch } from '../routing.js';
import type { RequestContext } from '../services.js';

type FetchRequest = RequestBody<typeof ApiKey.Fetch>;

interface PartitionData {
  partitionIndex: number;
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  abortedTransactions: never[];
  preferredReadReplica: number;
  records: Buffer | null;
}

function partitionError(partitionIndex: number, errorCode: number): PartitionData {
  return { partitionIndex, errorCode, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n, abortedTransactions: [], preferredReadReplica: -1, records: null };
}

export async function handleFetch(context: RequestContext, request: FetchRequest): Promise<unknown> {
  const responses = request.topics.map((topic) => ({ topic: topic.topic, partitions: [] as PartitionData[] }));
  const local: Array<{ target: PartitionData; partition: FetchPartition }> = [];
  let node = null;
  for (const [topicIndex, topic] of request.topics.entries()) {
    for (const partition of topic.partitions) {
      const target = partitionError(partition.partition, ErrorCode.NONE);
      responses[topicIndex]!.partitions.push(target);
      // currentLeaderEpoch (v9+, -1 below) is checked against the image the route comes from.
      const route = routePartitionAtEpoch(context.services, context.nodeId, topic.topic, partition.partition, partition.currentLeaderEpoch);
      if (route.node === null) {
        target.errorCode = route.errorCode;
        continue;
      }
      node = route.node;
      local.push({
        target,
        partition: { topic: topic.topic, partition: partition.partition, fetchOffset: Number(partition.fetchOffset), partitionMaxBytes: partition.partitionMaxBytes },
      });
    }
  }
  const anyLocalError = local.length < responses.reduce((count, topic) => count + topic.partitions.length, 0);
  if (node !== null) {
    const results = await node.fetch({
      // An error elsewhere in the request answers at once, as Kafka does.
      maxWaitMs: anyLocalError ? 0 : request.maxWaitMs,
      minBytes: request.minBytes,
      maxBytes: request.maxBytes,
      isolationLevel: request.isolationLevel,
      partitions: local.map((entry) => entry.partition),
    });
    local.forEach((entry, index) => {
      const result = results[index]!;
      Object.assign(entry.target, {
        errorCode: result.errorCode,
        highWatermark: BigInt(result.highWatermark),
        lastStableOffset: BigInt(result.lastStableOffset),
        logStartOffset: BigInt(result.logStartOffset),
        records: result.records,
      });
    });
  } else if (request.maxWaitMs > 0 && !anyLocalError && local.length === 0 && responses.length === 0) {
    // An empty fetch (no partitions) waits out max_wait_ms, as Kafka does.
    await new Promise((resolve) => setTimeout(resolve, Math.min(request.maxWaitMs, 1000)));
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses };
}
