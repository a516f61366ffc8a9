import type { ApiSchema } from './types.js';

/** Metadata (key 3). We serve 0-8. First flexible version in Kafka: 9. */
export const metadataSchema = {
  apiKey: 3,
  name: 'Metadata',
  request: {
    apiKey: 3,
    type: 'request',
    name: 'MetadataRequest',
    validVersions: '0-8',
    flexibleVersions: '9+',
    fields: [
      {
        // Surprise: in v0 an EMPTY array means "all topics"; from v1 null means "all topics"
        // and an empty array means "no topics" (librdkafka uses that to ask for brokers only).
        name: 'topics',
        type: '[]',
        versions: '0+',
        nullableVersions: '1+',
        fields: [{ name: 'name', type: 'string', versions: '0+' }],
      },
      { name: 'allowAutoTopicCreation', type: 'bool', versions: '4+', default: true },
      { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: '8-10' },
      { name: 'includeTopicAuthorizedOperations', type: 'bool', versions: '8+' },
    ],
  },
  response: {
    apiKey: 3,
    type: 'response',
    name: 'MetadataResponse',
    validVersions: '0-8',
    flexibleVersions: '9+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '3+' },
      {
        name: 'brokers',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'nodeId', type: 'int32', versions: '0+' },
          { name: 'host', type: 'string', versions: '0+' },
          { name: 'port', type: 'int32', versions: '0+' },
          { name: 'rack', type: 'string', versions: '1+', nullableVersions: '1+', default: null },
        ],
      },
      { name: 'clusterId', type: 'string', versions: '2+', nullableVersions: '2+', default: null },
      { name: 'controllerId', type: 'int32', versions: '1+', default: -1 },
      {
        name: 'topics',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'isInternal', type: 'bool', versions: '1+', default: false },
          {
            name: 'partitions',
            type: '[]',
            versions: '0+',
            fields: [
              { name: 'errorCode', type: 'int16', versions: '0+' },
              { name: 'partitionIndex', type: 'int32', versions: '0+' },
              { name: 'leaderId', type: 'int32', versions: '0+' },
              { name: 'leaderEpoch', type: 'int32', versions: '7+', default: -1 },
              { name: 'replicaNodes', type: '[]int32', versions: '0+' },
              { name: 'isrNodes', type: '[]int32', versions: '0+' },
              { name: 'offlineReplicas', type: '[]int32', versions: '5+' },
            ],
          },
          {
            name: 'topicAuthorizedOperations',
            type: 'int32',
            versions: '8+',
            default: -2147483648,
          },
        ],
      },
      {
        name: 'clusterAuthorizedOperations',
        type: 'int32',
        versions: '8-10',
        default: -2147483648,
      },
    ],
  },
} as const satisfies ApiSchema;
