import type { ApiSchema } from './types.js';

/**
 * OffsetFetch (key 9). We serve 1-5 (v0 read offsets from ZooKeeper). First flexible version
 * in Kafka: 6. v8+ batches several groups; those fields are outside our range.
 */
export const offsetFetchSchema = {
  apiKey: 9,
  name: 'OffsetFetch',
  request: {
    apiKey: 9,
    type: 'request',
    name: 'OffsetFetchRequest',
    validVersions: '1-5',
    flexibleVersions: '6+',
    fields: [
      { name: 'groupId', type: 'string', versions: '0-7' },
      {
        // v2+: null asks for the offsets of every topic the group committed.
        name: 'topics',
        type: '[]',
        versions: '0-7',
        nullableVersions: '2-7',
        fields: [
          { name: 'name', type: 'string', versions: '0-7' },
          { name: 'partitionIndexes', type: '[]int32', versions: '0-7' },
        ],
      },
    ],
  },
  response: {
    apiKey: 9,
    type: 'response',
    name: 'OffsetFetchResponse',
    validVersions: '1-5',
    flexibleVersions: '6+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '3+' },
      {
        name: 'topics',
        type: '[]',
        versions: '0-7',
        fields: [
          { name: 'name', type: 'string', versions: '0-7' },
          {
            name: 'partitions',
            type: '[]',
            versions: '0-7',
            fields: [
              { name: 'partitionIndex', type: 'int32', versions: '0-7' },
              { name: 'committedOffset', type: 'int64', versions: '0-7' },
              { name: 'committedLeaderEpoch', type: 'int32', versions: '5-7', default: -1 },
              { name: 'metadata', type: 'string', versions: '0-7', nullableVersions: '0-7' },
              { name: 'errorCode', type: 'int16', versions: '0-7' },
            ],
          },
        ],
      },
      // The top-level error code comes AFTER the topics array.
      { name: 'errorCode', type: 'int16', versions: '2-7', default: 0 },
    ],
  },
} as const satisfies ApiSchema;
