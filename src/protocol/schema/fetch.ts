import type { ApiSchema } from './types.js';

/**
 * Fetch (key 1). We serve 4-11: v4 adds the isolation level, last stable offset and aborted
 * transactions that READ_COMMITTED consumers need. First flexible version in Kafka: 12.
 */
export const fetchSchema = {
  apiKey: 1,
  name: 'Fetch',
  request: {
    apiKey: 1,
    type: 'request',
    name: 'FetchRequest',
    validVersions: '4-11',
    flexibleVersions: '12+',
    fields: [
      { name: 'replicaId', type: 'int32', versions: '0+' },
      { name: 'maxWaitMs', type: 'int32', versions: '0+' },
      { name: 'minBytes', type: 'int32', versions: '0+' },
      { name: 'maxBytes', type: 'int32', versions: '3+', default: 0x7fffffff },
      { name: 'isolationLevel', type: 'int8', versions: '4+', default: 0 },
      // Fetch sessions (KIP-227): session 0 with epoch -1 means "no session".
      { name: 'sessionId', type: 'int32', versions: '7+', default: 0 },
      { name: 'sessionEpoch', type: 'int32', versions: '7+', default: -1 },
      {
        name: 'topics',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'topic', type: 'string', versions: '0-12' },
          {
            name: 'partitions',
            type: '[]',
            versions: '0+',
            fields: [
              { name: 'partition', type: 'int32', versions: '0+' },
              { name: 'currentLeaderEpoch', type: 'int32', versions: '9+', default: -1 },
              { name: 'fetchOffset', type: 'int64', versions: '0+' },
              { name: 'logStartOffset', type: 'int64', versions: '5+', default: -1n },
              { name: 'partitionMaxBytes', type: 'int32', versions: '0+' },
            ],
          },
        ],
      },
      {
        name: 'forgottenTopicsData',
        type: '[]',
        versions: '7+',
        fields: [
          { name: 'topic', type: 'string', versions: '0-12' },
          { name: 'partitions', type: '[]int32', versions: '7+' },
        ],
      },
      { name: 'rackId', type: 'string', versions: '11+', default: '' },
    ],
  },
  response: {
    apiKey: 1,
    type: 'response',
    name: 'FetchResponse',
    validVersions: '4-11',
    flexibleVersions: '12+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
      { name: 'errorCode', type: 'int16', versions: '7+' },
      { name: 'sessionId', type: 'int32', versions: '7+', default: 0 },
      {
        name: 'responses',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'topic', type: 'string', versions: '0-12' },
          {
            name: 'partitions',
            type: '[]',
            versions: '0+',
            fields: [
              { name: 'partitionIndex', type: 'int32', versions: '0+' },
              { name: 'errorCode', type: 'int16', versions: '0+' },
              { name: 'highWatermark', type: 'int64', versions: '0+' },
              { name: 'lastStableOffset', type: 'int64', versions: '4+', default: -1n },
              { name: 'logStartOffset', type: 'int64', versions: '5+', default: -1n },
              {
                name: 'abortedTransactions',
                type: '[]',
                versions: '4+',
                nullableVersions: '4+',
                fields: [
                  { name: 'producerId', type: 'int64', versions: '4+' },
                  { name: 'firstOffset', type: 'int64', versions: '4+' },
                ],
              },
              { name: 'preferredReadReplica', type: 'int32', versions: '11+', default: -1 },
              { name: 'records', type: 'records', versions: '0+', nullableVersions: '0+' },
            ],
          },
        ],
      },
    ],
  },
} as const satisfies ApiSchema;
