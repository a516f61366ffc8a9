import type { ApiSchema } from './types.js';

/**
 * ListOffsets (key 2). We serve 1-3 (v0's MaxNumOffsets / OldStyleOffsets are left out).
 * First flexible version in Kafka: 6.
 */
export const listOffsetsSchema = {
  apiKey: 2,
  name: 'ListOffsets',
  request: {
    apiKey: 2,
    type: 'request',
    name: 'ListOffsetsRequest',
    validVersions: '1-3',
    flexibleVersions: '6+',
    fields: [
      { name: 'replicaId', type: 'int32', versions: '0+' },
      { name: 'isolationLevel', type: 'int8', versions: '2+' },
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
              // -1 = latest (the LSO under READ_COMMITTED), -2 = earliest.
              { name: 'timestamp', type: 'int64', versions: '0+' },
            ],
          },
        ],
      },
    ],
  },
  response: {
    apiKey: 2,
    type: 'response',
    name: 'ListOffsetsResponse',
    validVersions: '1-3',
    flexibleVersions: '6+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '2+' },
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
              { name: 'timestamp', type: 'int64', versions: '1+', default: -1n },
              { name: 'offset', type: 'int64', versions: '1+', default: -1n },
            ],
          },
        ],
      },
    ],
  },
} as const satisfies ApiSchema;
