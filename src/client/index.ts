/**
 * A small Kafka client on our own codec: used by the console tools and the load generator.
 * `ClusterClient` holds connections and metadata; `Admin`, `GroupsAdmin`, `Producer`, `Consumer`
 * and `GroupMember` (consumer-group membership) use it.
 */
export { BrokerConnection, formatAddress, type ConnectionOptions } from './connection.js';
export {
  ClusterClient,
  groupByLeader,
  type BrokerNode,
  type ClusterClientOptions,
  type ClusterMetadata,
  type PartitionMetadata,
  type TopicMetadata,
} from './cluster-client.js';
export {
  Admin,
  ConfigResourceType,
  ConfigSource,
  type ConfigEntry,
  type ConfigResource,
  type ConfigResourceTypeValue,
  type CreateTopicsOptions,
  type DeleteRecordsResult,
  type NewTopic,
  type PartitionDescription,
  type ResourceConfigs,
  type TopicDescription,
} from './admin.js';
export {
  Producer,
  type Acks,
  type CompressionName,
  type ProducerOptions,
  type ProducerRecord,
  type RecordMetadata,
} from './producer.js';
export {
  Consumer,
  type ConsumerOptions,
  type ConsumerRecord,
  type OffsetResetPolicy,
  type PartitionAssignment,
  type PartitionPosition,
  type StartOffset,
} from './consumer.js';
export {
  GroupsAdmin,
  ConsumerGroupState,
  parseConsumerAssignment,
  resolveResetOffset,
  type CommittedOffset,
  type ConsumerAssignment,
  type DeletedGroupResult,
  type GroupCoordinatorNode,
  type GroupDescription,
  type GroupMemberDescription,
  type ListedGroup,
  type OffsetResetEntry,
  type OffsetResetTarget,
  type OffsetToCommit,
  type PartitionLag,
  type TopicPartition,
  type TopicSelection,
} from './groups-admin.js';
export {
  GroupMember,
  GroupMemberDefaults,
  type GroupMemberOptions,
  type MemberAssignment,
  type OffsetAndMetadata,
} from './group-member.js';
export {
  rangeAssignor,
  roundRobinAssignor,
  type AssignedTopicPartitions,
  type AssignorMember,
  type GroupAssignmentPlan,
  type PartitionAssignor,
} from './assignors.js';
export {
  IsolationLevel,
  listOffsets,
  type IsolationLevelValue,
  type OffsetQuery,
  type OffsetRequest,
  type PartitionOffset,
} from './list-offsets.js';
export { ConnectionError, FinalKafkaError, OffsetOutOfRangeError, RequestTimeoutError, isRetriable } from './errors.js';
export { FrameReader, FrameSizeError } from './frame-reader.js';
export { NegotiatedVersions, pickVersion, type AdvertisedVersionRange } from './versions.js';
export { murmur2, partitionForKey } from './murmur2.js';
export { parseBootstrapServers, parseHostAndPort, type HostAndPort } from './broker-address.js';
export { ClientDefaults, defaultRetryPolicy, type RetryPolicy } from './defaults.js';
