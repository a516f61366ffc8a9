import type { ApiSchema } from './types.js';

/**
 * OffsetDelete (key 47). We serve 0 only. Recent Kafka adds a flexible v1 (KIP-1313); v0 is
 * not flexible.
 */
export const offsetDeleteSchema = {
  apiKey: 47,
  name: 'OffsetDelete',
  request: {
    apiKey: 47,
    type: 'request',
    name: 'OffsetDeleteRequest',
    validVersions: '0',
    flexibleVersions: '1+',
    fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
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
            fields: [{ name: 'partitionIndex', type: 'int32', versions: '0+' }],
          },
        ],
      },
    ],
  },
  response: {
    apiKey: 47,
    type: 'response',
    name: 'OffsetDeleteResponse',
    validVersions: '0',
    flexibleVersions: '1+',
    fields: [
      // The top-level error code comes BEFORE the throttle time here.
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
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
