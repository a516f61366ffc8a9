import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/protocol/records/records.js';
import { RawConnection } from '../helpers/raw-client.js';
import type { BrokerHandle } from '../../src/index.js';

export interface MetadataPartition {
  partitionIndex: number;
  leaderId: number;
  errorCode: number;
}

export async function createTopic(broker: BrokerHandle, name: string, numPartitions: number, configs: Array<{ name: string; value: string }> = []): Promise<number> {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  try {
    const response = await connection.request<{ topics: Array<{ errorCode: number; errorMessage: string | null }> }>(ApiKey.CreateTopics, 4, {
      topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    return response.topics[0]!.errorCode;
  } finally {
    connection.close();
  }
}

export async function partitionsOf(broker: BrokerHandle, topic: string): Promise<MetadataPartition[]> {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  try {
    const response = await connection.request<{ topics: Array<{ errorCode: number; partitions: MetadataPartition[] }> }>(ApiKey.Metadata, 8, {
      topics: [{ name: topic }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    return response.topics[0]!.partitions;
  } finally {
    connection.close();
  }
}

/** A connection to the listener of the node that leads `topic`-`partition`. */
export async function leaderConnection(broker: BrokerHandle, topic: string, partition: number): Promise<RawConnection> {
  const leader = (await partitionsOf(broker, topic)).find((entry) => entry.partitionIndex === partition)!.leaderId;
  const node = broker.nodes.find((entry) => entry.nodeId === leader)!;
  return RawConnection.open(node.host, node.port);
}

export function keyedBatch(count: number, label = 'v', timestampMs = Date.now()): Buffer {
  return encodeRecordBatch({
    timestampMs,
    records: Array.from({ length: count }, (_, index) => ({ key: `key-${index % 5}`, value: `${label}-${index}` })),
  });
}

export interface ProducePartitionResponse {
  partitionIndex: number;
  errorCode: number;
  baseOffset: bigint;
  logStartOffset: bigint;
}

export async function produce(connection: RawConnection, topic: string, partition: number, records: Buffer | null, acks = -1, version = 7): Promise<ProducePartitionResponse> {
  const response = await connection.request<{ responses: Array<{ partitions: ProducePartitionResponse[] }> }>(ApiKey.Produce, version, {
    transactionalId: null,
    acks,
    timeoutMs: 5000,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, records }] }],
  });
  return response.responses[0]!.partitions[0]!;
}

export interface FetchPartitionResponse {
  partitionIndex: number;
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  records: Buffer | null;
}

export function fetchBody(topic: string, partition: number, fetchOffset: bigint, options: { maxWaitMs?: number; minBytes?: number; maxBytes?: number; partitionMaxBytes?: number } = {}): unknown {
  return {
    replicaId: -1,
    maxWaitMs: options.maxWaitMs ?? 0,
    minBytes: options.minBytes ?? 1,
    maxBytes: options.maxBytes ?? 50 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset, logStartOffset: -1n, partitionMaxBytes: options.partitionMaxBytes ?? 1024 * 1024 }] }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

export async function fetchPartition(connection: RawConnection, topic: string, partition: number, fetchOffset: bigint, options: Parameters<typeof fetchBody>[3] = {}): Promise<FetchPartitionResponse> {
  const response = await connection.request<{ responses: Array<{ partitions: FetchPartitionResponse[] }> }>(ApiKey.Fetch, 11, fetchBody(topic, partition, fetchOffset, options), 40_000);
  return response.responses[0]!.partitions[0]!;
}

/** Every record of `topic`-0 from offset 0 up to the high watermark, as the leader serves them. */
export async function readAll(connection: RawConnection, topic: string, fromOffset = 0n): Promise<Array<{ offset: number; key: string; value: string | null }>> {
  const records: Array<{ offset: number; key: string; value: string | null }> = [];
  let offset = fromOffset;
  for (let round = 0; round < 1000; round++) {
    const fetched = await fetchPartition(connection, topic, 0, offset);
    assert.equal(fetched.errorCode, ErrorCode.NONE);
    if (fetched.records === null || fetched.records.length === 0) break;
    for (const batch of decodeRecordBatches(fetched.records)) {
      for (const record of batch.records) {
        if (record.offset >= Number(offset)) records.push({ offset: record.offset, key: record.key!.toString(), value: record.value?.toString() ?? null });
      }
      offset = BigInt(batch.baseOffset + batch.lastOffsetDelta + 1);
    }
  }
  return records;
}

/** Polls `probe` every 20 ms until it answers non-null (bounded in count and time). */
export async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A connection to node `nodeId`'s listener. */
export function openNode(broker: BrokerHandle, nodeId: number): Promise<RawConnection> {
  const node = broker.nodes.find((entry) => entry.nodeId === nodeId)!;
  return RawConnection.open(node.host, node.port);
}

/** A connection to the first node that accepts one (a killed node refuses). */
export async function anyNode(broker: BrokerHandle): Promise<RawConnection> {
  for (const node of broker.nodes) {
    try {
      return await RawConnection.open(node.host, node.port);
    } catch {
      // killed: try the next
    }
  }
  throw new Error('no node accepts connections');
}

export interface ReplicatedPartition {
  partitionIndex: number;
  leaderId: number;
  leaderEpoch: number;
  replicaNodes: number[];
  isrNodes: number[];
  errorCode: number;
}

/** Metadata v8 of `topic`'s partition 0 (leader, epoch, replicas, ISR), from any live node. */
export async function replicatedPartition(broker: BrokerHandle, topic: string): Promise<ReplicatedPartition> {
  const connection = await anyNode(broker);
  try {
    const response = await connection.request<{ topics: Array<{ partitions: ReplicatedPartition[] }> }>(ApiKey.Metadata, 8, {
      topics: [{ name: topic }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    return response.topics[0]!.partitions[0]!;
  } finally {
    connection.close();
  }
}

/** Creates a 1-partition topic at replication factor 3 with this min.insync.replicas. */
export async function createReplicatedTopic(broker: BrokerHandle, topic: string, minInsyncReplicas: number): Promise<void> {
  const connection = await anyNode(broker);
  try {
    const response = await connection.request<{ topics: Array<{ errorCode: number; errorMessage: string | null }> }>(ApiKey.CreateTopics, 4, {
      topics: [{ name: topic, numPartitions: 1, replicationFactor: 3, assignments: [], configs: [{ name: 'min.insync.replicas', value: String(minInsyncReplicas) }] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.equal(response.topics[0]!.errorCode, ErrorCode.NONE, response.topics[0]!.errorMessage ?? '');
  } finally {
    connection.close();
  }
}
