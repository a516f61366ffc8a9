import type { ApiSchema } from './types.js';

/** CreatePartitions (key 37). We serve 0-1. First flexible version in Kafka: 2. */
export const createPartitionsSchema = {
  apiKey: 37,
  name: 'CreatePartitions',
  request: {
    apiKey: 37,
    type: 'request',
    name: 'CreatePartitionsRequest',
    validVersions: '0-1',
    flexibleVersions: '2+',
    fields: [
      {
        name: 'topics',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'name', type: 'string', versions: '0+' },
          // The new TOTAL partition count, not the number to add.
          { name: 'count', type: 'int32', versions: '0+' },
          {
            name: 'assignments',
            type: '[]',
            versions: '0+',
            nullableVersions: '0+',
            fields: [{ name: 'brokerIds', type: '[]int32', versions: '0+' }],
          },
        ],
      },
      { name: 'timeoutMs', type: 'int32', versions: '0+' },
      { name: 'validateOnly', type: 'bool', versions: '0+' },
    ],
  },
  response: {
    apiKey: 37,
    type: 'response',
    name: 'CreatePartitionsResponse',
    validVersions: '0-1',
    flexibleVersions: '2+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      {
        name: 'results',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          {
            name: 'errorMessage',
            type: 'string',
            versions: '0+',
            nullableVersions: '0+',
            default: null,
          },
        ],
      },
    ],
  },
} as const satisfies ApiSchema;
