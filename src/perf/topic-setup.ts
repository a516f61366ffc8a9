/**
 * The topic a run uses: created when missing (with --partitions), then its partitions, their
 * leaders and the leaders' listener addresses.
 */
import { Admin } from '../client/admin.js';
import type { ClusterClient } from '../client/cluster-client.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';

export interface LeaderAddress {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export interface TopicLayout {
  readonly topic: string;
  /** Leader node id by partition index. */
  readonly leaderByPartition: readonly number[];
  /** Every leader of some partition, by node id. */
  readonly leaders: ReadonlyMap<number, LeaderAddress>;
  readonly createdByThisRun: boolean;
  /** Things the run should report, e.g. a --partitions that an existing topic overrides. */
  readonly notes: readonly string[];
}

export async function prepareTopic(cluster: ClusterClient, topic: string, partitions: number | null): Promise<TopicLayout> {
  let metadata = await cluster.retry('Metadata', () => cluster.fetchMetadata([topic]));
  let created = false;
  if (!metadata.topics.has(topic)) {
    try {
      await new Admin(cluster).createTopics([{ name: topic, ...(partitions === null ? {} : { partitions }) }]);
      created = true;
    } catch (error) {
      if (!(error instanceof KafkaError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw error;
    }
    metadata = await cluster.retry('Metadata', () => cluster.fetchMetadata([topic]));
  }
  const description = metadata.topics.get(topic);
  if (description === undefined) {
    const errorCode = metadata.topicErrors.get(topic) ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    throw new KafkaError(errorCode, `topic "${topic}" is not available`);
  }
  const notes: string[] = [];
  if (partitions !== null && !created && description.partitions.length !== partitions) {
    notes.push(`topic "${topic}" exists with ${description.partitions.length} partitions; --partitions ${partitions} is ignored`);
  }
  const leaderByPartition: number[] = [];
  const leaders = new Map<number, LeaderAddress>();
  for (const partition of description.partitions) {
    if (partition.leaderId < 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${topic}-${partition.partition} has no leader`);
    const broker = metadata.brokers.get(partition.leaderId);
    if (broker === undefined) throw new KafkaError(ErrorCode.BROKER_NOT_AVAILABLE, `leader ${partition.leaderId} of ${topic}-${partition.partition} is not in the metadata`);
    leaderByPartition[partition.partition] = partition.leaderId;
    leaders.set(broker.nodeId, { nodeId: broker.nodeId, host: broker.host, port: broker.port });
  }
  return { topic, leaderByPartition, leaders, createdByThisRun: created, notes };
}
