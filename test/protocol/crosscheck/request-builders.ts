/**
 * Turns one of our request samples into the arguments of a library's request encoder, written
 * from the encoders' own parameter names (kafkajs: one object; @platformatic/kafka: positional).
 *
 * A builder returns the arguments and the message our decoder must produce from the library's
 * bytes: the sample itself, except where the library writes a constant it takes no argument
 * for (each such field is set on `expected`, with the reason).
 */
import { ApiKey, type ApiKeyValue } from '../../../src/protocol/schema/index.js';
import type { RequestBody } from '../../../src/protocol/codec/index.js';
import { sampleRecordBatchKeys, sampleRecordBatchValues } from './samples.js';

export interface BuiltRequest {
  readonly args: unknown;
  readonly expected: Record<string, unknown>;
}

type Builder<K extends ApiKeyValue> = (sample: RequestBody<K>, version: number) => BuiltRequest;
type AnyBuilder = (sample: Record<string, unknown>, version: number) => BuiltRequest;

function builders(entries: { [K in ApiKeyValue]?: Builder<K> }): ReadonlyMap<number, AnyBuilder> {
  return new Map(Object.entries(entries).map(([apiKey, build]) => [Number(apiKey), build as unknown as AnyBuilder]));
}

const same = <T extends object>(sample: T, args: unknown): BuiltRequest => ({ args, expected: sample as Record<string, unknown> });

/** kafkajs takes int64 values as strings (it wraps them in Long), not as bigints. */
const int64 = (value: bigint): string => value.toString();

/** The sample batch's records as producer messages, for encoders that build their own batches. */
function sampleMessages(): { key: string | null; value: string }[] {
  return sampleRecordBatchKeys.map((key, index) => ({ key, value: sampleRecordBatchValues[index]! }));
}

export const kafkajsRequestBuilders = builders({
  [ApiKey.Produce]: (sample) =>
    same(sample, {
      acks: sample.acks,
      timeout: sample.timeoutMs,
      transactionalId: sample.transactionalId,
      topicData: sample.topics.map((topic) => ({
        topic: topic.name,
        partitions: topic.partitions.map((partition) => ({ partition: partition.partitionIndex, messages: sampleMessages() })),
      })),
    }),
  [ApiKey.Fetch]: (sample) =>
    same(sample, {
      replicaId: sample.replicaId,
      maxWaitTime: sample.maxWaitMs,
      minBytes: sample.minBytes,
      maxBytes: sample.maxBytes,
      isolationLevel: sample.isolationLevel,
      sessionId: sample.sessionId,
      sessionEpoch: sample.sessionEpoch,
      topics: sample.topics.map((topic) => ({
        topic: topic.topic,
        partitions: topic.partitions.map((partition) => ({
          partition: partition.partition,
          currentLeaderEpoch: partition.currentLeaderEpoch,
          fetchOffset: int64(partition.fetchOffset),
          logStartOffset: int64(partition.logStartOffset),
          maxBytes: partition.partitionMaxBytes,
        })),
      })),
      forgottenTopics: sample.forgottenTopicsData,
      rackId: sample.rackId,
    }),
  [ApiKey.ListOffsets]: (sample) =>
    same(sample, {
      replicaId: sample.replicaId,
      isolationLevel: sample.isolationLevel,
      topics: sample.topics.map((topic) => ({
        topic: topic.name,
        partitions: topic.partitions.map((partition) => ({
          partition: partition.partitionIndex,
          timestamp: int64(partition.timestamp),
        })),
      })),
    }),
  [ApiKey.Metadata]: (sample) =>
    same(sample, {
      topics: sample.topics!.map((topic) => topic.name),
      allowAutoTopicCreation: sample.allowAutoTopicCreation,
    }),
  [ApiKey.OffsetCommit]: (sample) =>
    same(sample, {
      groupId: sample.groupId,
      groupGenerationId: sample.generationId,
      memberId: sample.memberId,
      retentionTime: int64(sample.retentionTimeMs),
      topics: sample.topics.map((topic) => ({
        topic: topic.name,
        partitions: topic.partitions.map((partition) => ({
          partition: partition.partitionIndex,
          offset: int64(partition.committedOffset),
          metadata: partition.committedMetadata,
        })),
      })),
    }),
  [ApiKey.OffsetFetch]: (sample) =>
    same(sample, {
      groupId: sample.groupId,
      topics: sample.topics!.map((topic) => ({
        topic: topic.name,
        partitions: topic.partitionIndexes.map((partition) => ({ partition })),
      })),
    }),
  [ApiKey.FindCoordinator]: (sample, version) =>
    same(sample, version === 0 ? { groupId: sample.key } : { coordinatorKey: sample.key, coordinatorType: sample.keyType }),
  [ApiKey.JoinGroup]: (sample) =>
    same(sample, {
      groupId: sample.groupId,
      sessionTimeout: sample.sessionTimeoutMs,
      rebalanceTimeout: sample.rebalanceTimeoutMs,
      memberId: sample.memberId,
      groupInstanceId: sample.groupInstanceId,
      protocolType: sample.protocolType,
      groupProtocols: sample.protocols,
    }),
  [ApiKey.Heartbeat]: (sample) =>
    same(sample, {
      groupId: sample.groupId,
      groupGenerationId: sample.generationId,
      memberId: sample.memberId,
      groupInstanceId: sample.groupInstanceId,
    }),
  [ApiKey.LeaveGroup]: (sample) => same(sample, { groupId: sample.groupId, memberId: sample.memberId, members: sample.members }),
  [ApiKey.SyncGroup]: (sample) =>
    same(sample, {
      groupId: sample.groupId,
      generationId: sample.generationId,
      memberId: sample.memberId,
      groupInstanceId: sample.groupInstanceId,
      groupAssignment: sample.assignments.map((assignment) => ({
        memberId: assignment.memberId,
        memberAssignment: assignment.assignment,
      })),
    }),
  [ApiKey.DescribeGroups]: (sample) => same(sample, { groupIds: sample.groups }),
  [ApiKey.ListGroups]: (sample) => same(sample, {}),
  [ApiKey.SaslHandshake]: (sample) => same(sample, { mechanism: sample.mechanism }),
  [ApiKey.ApiVersions]: (sample) => same(sample, {}),
  [ApiKey.CreateTopics]: (sample) =>
    same(sample, {
      topics: sample.topics.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.numPartitions,
        replicationFactor: topic.replicationFactor,
        replicaAssignment: topic.assignments.map((assignment) => ({
          partition: assignment.partitionIndex,
          replicas: assignment.brokerIds,
        })),
        configEntries: topic.configs,
      })),
      timeout: sample.timeoutMs,
      validateOnly: sample.validateOnly,
    }),
  [ApiKey.DeleteTopics]: (sample) => same(sample, { topics: sample.topicNames, timeout: sample.timeoutMs }),
  [ApiKey.DeleteRecords]: (sample) =>
    same(sample, {
      topics: sample.topics.map((topic) => ({
        topic: topic.name,
        partitions: topic.partitions.map((partition) => ({
          partition: partition.partitionIndex,
          offset: int64(partition.offset),
        })),
      })),
      timeout: sample.timeoutMs,
    }),
  [ApiKey.InitProducerId]: (sample) =>
    same(sample, { transactionalId: sample.transactionalId, transactionTimeout: sample.transactionTimeoutMs }),
  [ApiKey.AddPartitionsToTxn]: (sample) =>
    same(sample, {
      transactionalId: sample.transactionalId,
      producerId: int64(sample.producerId),
      producerEpoch: sample.producerEpoch,
      topics: sample.topics.map((topic) => ({ topic: topic.name, partitions: topic.partitions })),
    }),
  [ApiKey.AddOffsetsToTxn]: (sample) =>
    same(sample, {
      transactionalId: sample.transactionalId,
      producerId: int64(sample.producerId),
      producerEpoch: sample.producerEpoch,
      groupId: sample.groupId,
    }),
  [ApiKey.EndTxn]: (sample) =>
    same(sample, {
      transactionalId: sample.transactionalId,
      producerId: int64(sample.producerId),
      producerEpoch: sample.producerEpoch,
      transactionResult: sample.committed,
    }),
  [ApiKey.TxnOffsetCommit]: (sample) =>
    same(sample, {
      transactionalId: sample.transactionalId,
      groupId: sample.groupId,
      producerId: int64(sample.producerId),
      producerEpoch: sample.producerEpoch,
      topics: sample.topics.map((topic) => ({
        topic: topic.name,
        partitions: topic.partitions.map((partition) => ({
          partition: partition.partitionIndex,
          offset: int64(partition.committedOffset),
          metadata: partition.committedMetadata,
        })),
      })),
    }),
  [ApiKey.DescribeConfigs]: (sample) =>
    same(sample, {
      resources: sample.resources.map((resource) => ({
        type: resource.resourceType,
        name: resource.resourceName,
        configNames: resource.configurationKeys,
      })),
      includeSynonyms: sample.includeSynonyms,
    }),
  [ApiKey.AlterConfigs]: (sample) =>
    same(sample, {
      resources: sample.resources.map((resource) => ({
        type: resource.resourceType,
        name: resource.resourceName,
        configEntries: resource.configs,
      })),
      validateOnly: sample.validateOnly,
    }),
  // kafkajs's SASL mechanisms hand over the bytes already length-prefixed; it writes them raw.
  [ApiKey.SaslAuthenticate]: (sample) => {
    const lengthPrefix = Buffer.alloc(4);
    lengthPrefix.writeInt32BE(sample.authBytes.length);
    return same(sample, { authBytes: Buffer.concat([lengthPrefix, sample.authBytes]) });
  },
  [ApiKey.CreatePartitions]: (sample) =>
    same(sample, {
      topicPartitions: sample.topics.map((topic) => ({
        topic: topic.name,
        count: topic.count,
        assignments: topic.assignments!.map((assignment) => assignment.brokerIds),
      })),
      timeout: sample.timeoutMs,
      validateOnly: sample.validateOnly,
    }),
  // kafkajs's DeleteGroups encoder takes the array of group ids itself.
  [ApiKey.DeleteGroups]: (sample) => same(sample, sample.groupsNames),
});

export const platformaticRequestBuilders = builders({
  [ApiKey.Produce]: (sample) => {
    const messages = sample.topics.flatMap((topic) =>
      topic.partitions.flatMap((partition) =>
        sampleMessages().map((message) => ({
          topic: topic.name,
          partition: partition.partitionIndex,
          key: message.key === null ? null : Buffer.from(message.key),
          value: Buffer.from(message.value),
        })),
      ),
    );
    return same(sample, [sample.acks, sample.timeoutMs, messages, { transactionalId: sample.transactionalId }]);
  },
  [ApiKey.Fetch]: (sample, version) => {
    // @platformatic/kafka always fetches as a consumer (replica -1) from log start offset -1.
    const expected = { ...sample, replicaId: -1 };
    expected.topics = sample.topics.map((topic) => ({
      ...topic,
      partitions: topic.partitions.map((partition) => ({ ...partition, logStartOffset: version >= 5 ? -1n : partition.logStartOffset })),
    }));
    const topics = sample.topics.map((topic) => ({
      topicId: topic.topic,
      partitions: topic.partitions.map((partition) => ({
        partition: partition.partition,
        currentLeaderEpoch: partition.currentLeaderEpoch,
        fetchOffset: partition.fetchOffset,
        partitionMaxBytes: partition.partitionMaxBytes,
      })),
    }));
    const args = [
      sample.maxWaitMs,
      sample.minBytes,
      sample.maxBytes,
      sample.isolationLevel,
      sample.sessionId,
      sample.sessionEpoch,
      topics,
      sample.forgottenTopicsData,
      sample.rackId,
    ];
    return { args, expected };
  },
  [ApiKey.ListOffsets]: (sample) => same(sample, [sample.replicaId, sample.isolationLevel, sample.topics]),
  [ApiKey.Metadata]: (sample) =>
    same(sample, [
      sample.topics!.map((topic) => topic.name),
      sample.allowAutoTopicCreation,
      sample.includeTopicAuthorizedOperations,
      sample.includeClusterAuthorizedOperations,
    ]),
  [ApiKey.OffsetCommit]: (sample, version) => {
    // v2-4 carry a retention time that @platformatic/kafka always sends as -1 (broker default).
    const expected = version <= 4 ? { ...sample, retentionTimeMs: -1n } : sample;
    return { args: [sample.groupId, sample.generationId, sample.memberId, sample.groupInstanceId, sample.topics], expected };
  },
  [ApiKey.OffsetFetch]: (sample) => same(sample, [[{ groupId: sample.groupId, topics: sample.topics }], false]),
  [ApiKey.FindCoordinator]: (sample) => same(sample, [sample.keyType, [sample.key]]),
  [ApiKey.JoinGroup]: (sample) =>
    same(sample, [
      sample.groupId,
      sample.sessionTimeoutMs,
      sample.rebalanceTimeoutMs,
      sample.memberId,
      sample.groupInstanceId,
      sample.protocolType,
      sample.protocols,
      null,
    ]),
  [ApiKey.Heartbeat]: (sample) => same(sample, [sample.groupId, sample.generationId, sample.memberId, sample.groupInstanceId]),
  // v0-2 name one member; @platformatic/kafka takes it from the v3 member list.
  [ApiKey.LeaveGroup]: (sample, version) =>
    same(sample, [sample.groupId, version <= 2 ? [{ memberId: sample.memberId }] : sample.members]),
  [ApiKey.SyncGroup]: (sample) =>
    same(sample, [sample.groupId, sample.generationId, sample.memberId, sample.groupInstanceId, null, null, sample.assignments]),
  [ApiKey.DescribeGroups]: (sample) => same(sample, [sample.groups, sample.includeAuthorizedOperations]),
  [ApiKey.ListGroups]: (sample) => same(sample, [[], []]),
  [ApiKey.SaslHandshake]: (sample) => same(sample, [sample.mechanism]),
  [ApiKey.ApiVersions]: (sample) => same(sample, [sample.clientSoftwareName, sample.clientSoftwareVersion]),
  [ApiKey.CreateTopics]: (sample) => same(sample, [sample.topics, sample.timeoutMs, sample.validateOnly]),
  [ApiKey.DeleteTopics]: (sample) => same(sample, [sample.topicNames.map((name) => ({ name })), sample.timeoutMs]),
  [ApiKey.DeleteRecords]: (sample) => same(sample, [sample.topics, sample.timeoutMs]),
  // v3+ take the producer's current id and epoch as two more arguments.
  [ApiKey.InitProducerId]: (sample, version) =>
    same(sample, version >= 3 ? [sample.transactionalId, sample.transactionTimeoutMs, sample.producerId, sample.producerEpoch] : [sample.transactionalId, sample.transactionTimeoutMs]),
  // @platformatic/kafka names the request's topic `name` and partition `partitionIndex`.
  [ApiKey.OffsetForLeaderEpoch]: (sample) =>
    same(sample, [
      sample.replicaId,
      sample.topics.map((topic) => ({
        name: topic.topic,
        partitions: topic.partitions.map((partition) => ({
          partitionIndex: partition.partition,
          currentLeaderEpoch: partition.currentLeaderEpoch,
          leaderEpoch: partition.leaderEpoch,
        })),
      })),
    ]),
  [ApiKey.AddPartitionsToTxn]: (sample) =>
    same(sample, [
      [
        {
          transactionalId: sample.transactionalId,
          producerId: sample.producerId,
          producerEpoch: sample.producerEpoch,
          topics: sample.topics,
        },
      ],
    ]),
  [ApiKey.AddOffsetsToTxn]: (sample) =>
    same(sample, [sample.transactionalId, sample.producerId, sample.producerEpoch, sample.groupId]),
  [ApiKey.EndTxn]: (sample) => same(sample, [sample.transactionalId, sample.producerId, sample.producerEpoch, sample.committed]),
  [ApiKey.TxnOffsetCommit]: (sample) =>
    same(sample, [sample.transactionalId, sample.groupId, sample.producerId, sample.producerEpoch, -1, '', null, sample.topics]),
  [ApiKey.DescribeConfigs]: (sample) => same(sample, [sample.resources, sample.includeSynonyms, false]),
  [ApiKey.AlterConfigs]: (sample) => same(sample, [sample.resources, sample.validateOnly]),
  [ApiKey.SaslAuthenticate]: (sample) => same(sample, [sample.authBytes]),
  [ApiKey.CreatePartitions]: (sample) => same(sample, [sample.topics, sample.timeoutMs, sample.validateOnly]),
  [ApiKey.DeleteGroups]: (sample) => same(sample, [sample.groupsNames]),
  [ApiKey.OffsetDelete]: (sample) => same(sample, [sample.groupId, sample.topics]),
});
