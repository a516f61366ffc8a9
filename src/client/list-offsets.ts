/**
 * ListOffsets: the earliest offset, the latest (log end or, under READ_COMMITTED, the last
 * stable offset), or the first offset at or after a timestamp, per partition, asked of leaders.
 */
import { ApiKey } from '../protocol/schema/index.js';
import type { ResponseBody } from '../protocol/codec/index.js';
import { ErrorCode, KafkaError, errorInfo } from '../protocol/errors.js';
import { groupByLeader, type ClusterClient } from './cluster-client.js';
import { groupByTopic, partitionKey, settleAll } from './grouping.js';

export type OffsetQuery = 'earliest' | 'latest' | { readonly timestampMs: number };

export interface OffsetRequest {
  readonly topic: string;
  readonly partition: number;
  readonly query: OffsetQuery;
}

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  /** -1n when a timestamp query finds no record at or after the timestamp. */
  readonly offset: bigint;
  /** The record's timestamp for timestamp queries; -1n otherwise. */
  readonly timestampMs: bigint;
}

export const IsolationLevel = {
  READ_UNCOMMITTED: 0,
  READ_COMMITTED: 1,
} as const;
export type IsolationLevelValue = (typeof IsolationLevel)[keyof typeof IsolationLevel];

const latestTimestamp = -1n;
const earliestTimestamp = -2n;

function queryTimestamp(query: OffsetQuery): bigint {
  if (query === 'earliest') return earliestTimestamp;
  if (query === 'latest') return latestTimestamp;
  if (!Number.isSafeInteger(query.timestampMs) || query.timestampMs < 0) {
    throw new RangeError(`timestampMs must be a non-negative integer, got ${query.timestampMs}`);
  }
  return BigInt(query.timestampMs);
}

/**
 * Resolves every request, in request order; retries leader moves within the cluster's policy.
 * Each partition may appear once per call.
 */
export async function listOffsets(
  cluster: ClusterClient,
  requests: readonly OffsetRequest[],
  isolationLevel: IsolationLevelValue = IsolationLevel.READ_UNCOMMITTED,
): Promise<PartitionOffset[]> {
  const seen = new Set<string>();
  for (const request of requests) {
    queryTimestamp(request.query);
    const key = partitionKey(request.topic, request.partition);
    // Kafka refuses a partition named twice in one ListOffsets request.
    if (seen.has(key)) throw new Error(`listOffsets: ${request.topic}-${request.partition} is asked for twice`);
    seen.add(key);
  }
  const results = new Map<string, PartitionOffset>();
  let remaining = requests;
  await cluster.retry('ListOffsets', async () => {
    const byLeader = await groupByLeader(cluster, remaining);
    const failures: KafkaError[] = [];
    await settleAll(
      [...byLeader].map(async ([leaderId, group]) => {
        const connection = await cluster.connectionTo(leaderId);
        const response = await connection.requestNegotiated(ApiKey.ListOffsets, {
          replicaId: -1,
          isolationLevel,
          topics: [...groupByTopic(group)].map(([name, partitions]) => ({
            name,
            partitions: partitions.map((request) => ({
              partitionIndex: request.partition,
              timestamp: queryTimestamp(request.query),
            })),
          })),
        });
        collectOffsets(response, results, failures);
      }),
    );
    remaining = remaining.filter((request) => !results.has(partitionKey(request.topic, request.partition)));
    const fatal = failures.find((failure) => !errorInfo(failure.code).retriable);
    if (fatal !== undefined) throw fatal;
    if (remaining.length > 0) {
      throw failures[0] ?? new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'ListOffsets response left partitions out');
    }
  });
  return requests.map((request) => results.get(partitionKey(request.topic, request.partition))!);
}

function collectOffsets(
  response: ResponseBody<typeof ApiKey.ListOffsets>,
  results: Map<string, PartitionOffset>,
  failures: KafkaError[],
): void {
  for (const topic of response.topics) {
    for (const partition of topic.partitions) {
      if (partition.errorCode !== ErrorCode.NONE) {
        failures.push(new KafkaError(partition.errorCode, `ListOffsets of ${topic.name}-${partition.partitionIndex}`));
        continue;
      }
      results.set(partitionKey(topic.name, partition.partitionIndex), {
        topic: topic.name,
        partition: partition.partitionIndex,
        offset: partition.offset,
        timestampMs: partition.timestamp,
      });
    }
  }
}
