import type { ApiSchema } from './types.js';

/** OffsetCommit (key 8). We serve 2-7. First flexible version in Kafka: 8. */
export const offsetCommitSchema = {
  apiKey: 8,
  name: 'OffsetCommit',
  request: {
    apiKey: 8,
    type: 'request',
    name: 'OffsetCommitRequest',
    validVersions: '2-7',
    flexibleVersions: '8+',
    fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      // -1 with an empty member id = a "simple" commit from a consumer outside any group.
      { name: 'generationId', type: 'int32', versions: '1+', default: -1 },
      { name: 'memberId', type: 'string', versions: '1+' },
      {
        name: 'groupInstanceId',
        type: 'string',
        versions: '7+',
        nullableVersions: '7+',
        default: null,
      },
      // Only v2-4; -1 means "use the broker's offsets.retention.minutes".
      { name: 'retentionTimeMs', type: 'int64', versions: '2-4', default: -1n },
      {
        name: 'topics',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'name', type: 'string', versions: '0+' },
          {
            name: 'partitions',
            type: '[]',
            versions: '0+',
            fields: [
              { name: 'partitionIndex', type: 'int32', versions: '0+' },
              { name: 'committedOffset', type: 'int64', versions: '0+' },
              { name: 'committedLeaderEpoch', type: 'int32', versions: '6+', default: -1 },
              {
                name: 'committedMetadata',
                type: 'string',
                versions: '0+',
                nullableVersions: '0+',
              },
            ],
          },
        ],
      },
    ],
  },
  response: {
    apiKey: 8,
    type: 'response',
    name: 'OffsetCommitResponse',
    validVersions: '2-7',
    flexibleVersions: '8+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '3+' },
      {
        name: 'topics',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'name', type: 'string', versions: '0+' },
          {
            name: 'partitions',
            type: '[]',
            versions: '0+',
            fields: [
              { name: 'partitionIndex', type: 'int32', versions: '0+' },
              { name: 'errorCode', type: 'int16', versions: '0+' },
            ],
          },
        ],
      },
    ],
  },
} as const satisfies ApiSchema;
