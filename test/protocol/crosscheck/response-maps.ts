/**
 * Where each library's response decoder puts our fields (see compare.ts for the map format).
 * An API missing here decodes into our own field names.
 */
import type { FieldMap } from './compare.js';

/**
 * kafkajs reports the broker's throttle time as `clientSideThrottleTime` from the versions
 * where the client applies it (KIP-219) and sets `throttleTime` to 0 there.
 */
const kafkajsThrottle = ['clientSideThrottleTime', 'throttleTime'] as const;

export const kafkajsResponseMaps: Readonly<Record<string, FieldMap>> = {
  Produce: {
    throttleTimeMs: kafkajsThrottle,
    responses: 'topics',
    'responses.name': 'topicName',
    'responses.partitions.partitionIndex': 'partition',
    'responses.partitions.logAppendTimeMs': 'logAppendTime',
  },
  Fetch: {
    throttleTimeMs: kafkajsThrottle,
    'responses.topic': 'topicName',
    'responses.partitions.partitionIndex': 'partition',
    // Sic: kafkajs spells it lastStartOffset.
    'responses.partitions.logStartOffset': 'lastStartOffset',
    'responses.partitions.records': 'messages',
  },
  ListOffsets: {
    throttleTimeMs: kafkajsThrottle,
    topics: 'responses',
    'topics.name': 'topic',
    'topics.partitions.partitionIndex': 'partition',
  },
  Metadata: {
    throttleTimeMs: kafkajsThrottle,
    topics: 'topicMetadata',
    'topics.errorCode': 'topicErrorCode',
    'topics.name': 'topic',
    'topics.partitions': 'partitionMetadata',
    'topics.partitions.errorCode': 'partitionErrorCode',
    'topics.partitions.partitionIndex': 'partitionId',
    'topics.partitions.leaderId': 'leader',
    'topics.partitions.replicaNodes': 'replicas',
    'topics.partitions.isrNodes': 'isr',
  },
  OffsetCommit: {
    throttleTimeMs: kafkajsThrottle,
    topics: 'responses',
    'topics.name': 'topic',
    'topics.partitions.partitionIndex': 'partition',
  },
  OffsetFetch: {
    throttleTimeMs: kafkajsThrottle,
    topics: 'responses',
    'topics.name': 'topic',
    'topics.partitions.partitionIndex': 'partition',
    'topics.partitions.committedOffset': 'offset',
  },
  FindCoordinator: {
    throttleTimeMs: kafkajsThrottle,
    nodeId: 'coordinator.nodeId',
    host: 'coordinator.host',
    port: 'coordinator.port',
  },
  JoinGroup: {
    throttleTimeMs: kafkajsThrottle,
    protocolName: 'groupProtocol',
    leader: 'leaderId',
    'members.metadata': 'memberMetadata',
  },
  Heartbeat: { throttleTimeMs: kafkajsThrottle },
  LeaveGroup: { throttleTimeMs: kafkajsThrottle },
  SyncGroup: { throttleTimeMs: kafkajsThrottle, assignment: 'memberAssignment' },
  DescribeGroups: {
    throttleTimeMs: kafkajsThrottle,
    'groups.groupState': 'state',
    'groups.protocolData': 'protocol',
  },
  ListGroups: { throttleTimeMs: kafkajsThrottle },
  SaslHandshake: { mechanisms: 'enabledMechanisms' },
  ApiVersions: { throttleTimeMs: kafkajsThrottle, apiKeys: 'apiVersions' },
  CreateTopics: { throttleTimeMs: kafkajsThrottle, topics: 'topicErrors', 'topics.name': 'topic' },
  DeleteTopics: { throttleTimeMs: kafkajsThrottle, responses: 'topicErrors', 'responses.name': 'topic' },
  DeleteRecords: {
    throttleTimeMs: kafkajsThrottle,
    'topics.name': 'topic',
    'topics.partitions.partitionIndex': 'partition',
  },
  InitProducerId: { throttleTimeMs: kafkajsThrottle },
  AddPartitionsToTxn: {
    throttleTimeMs: kafkajsThrottle,
    results: 'errors',
    'results.name': 'topic',
    'results.results': 'partitionErrors',
    'results.results.partitionIndex': 'partition',
  },
  AddOffsetsToTxn: { throttleTimeMs: kafkajsThrottle },
  EndTxn: { throttleTimeMs: kafkajsThrottle },
  TxnOffsetCommit: {
    throttleTimeMs: kafkajsThrottle,
    'topics.name': 'topic',
    'topics.partitions.partitionIndex': 'partition',
  },
  DescribeConfigs: {
    throttleTimeMs: kafkajsThrottle,
    results: 'resources',
    'results.configs': 'configEntries',
    'results.configs.name': 'configName',
    'results.configs.value': 'configValue',
    'results.configs.synonyms': 'configSynonyms',
    'results.configs.synonyms.name': 'configName',
    'results.configs.synonyms.value': 'configValue',
    'results.configs.synonyms.source': 'configSource',
  },
  AlterConfigs: { throttleTimeMs: kafkajsThrottle, responses: 'resources' },
  SaslAuthenticate: {
    // kafkajs hands the SASL mechanism the bytes with their int32 length prefix put back.
    authBytes: { property: 'authBytes', read: (theirs) => (theirs as Buffer).subarray(4) },
  },
  CreatePartitions: { throttleTimeMs: kafkajsThrottle, results: 'topicErrors', 'results.name': 'topic' },
  // DeleteGroups keeps our name: kafkajs's v1 decoder looks for throttleTime and finds nothing.
};

export const platformaticResponseMaps: Readonly<Record<string, FieldMap>> = {
  Produce: {
    'responses.partitions': 'partitionResponses',
    'responses.partitions.partitionIndex': 'index',
  },
  // @platformatic/kafka names the topic field topicId in every version (a uuid from v13).
  Fetch: { 'responses.topic': 'topicId' },
  // @platformatic/kafka presents the pre-v4 single coordinator as a one-element list.
  FindCoordinator: {
    errorCode: 'coordinators.0.errorCode',
    errorMessage: 'coordinators.0.errorMessage',
    nodeId: 'coordinators.0.nodeId',
    host: 'coordinators.0.host',
    port: 'coordinators.0.port',
  },
  // v0-3 carry one transaction's topics; @platformatic/kafka files them under the v4 layout.
  AddPartitionsToTxn: {
    results: 'resultsByTransaction.0.topicResults',
    'results.results': 'resultsByPartition',
    'results.results.errorCode': 'partitionErrorCode',
  },
  DescribeConfigs: {
    'results.configs.isDefault': { notDecoded: '@platformatic/kafka reads v0 is_default and drops it' },
  },
};
