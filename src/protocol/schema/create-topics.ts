import type { ApiSchema } from './types.js';

/** CreateTopics (key 19). We serve 0-4. First flexible version in Kafka: 5. */
export const createTopicsSchema = {
  apiKey: 19,
  name: 'CreateTopics',
  request: {
    apiKey: 19,
    type: 'request',
    name: 'CreateTopicsRequest',
    validVersions: '0-4',
    flexibleVersions: '5+',
    fields: [
      {
        name: 'topics',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'name', type: 'string', versions: '0+' },
          // -1 (v4+) = broker default, or a manual assignment follows.
          { name: 'numPartitions', type: 'int32', versions: '0+' },
          { name: 'replicationFactor', type: 'int16', versions: '0+' },
          {
            name: 'assignments',
            type: '[]',
            versions: '0+',
            fields: [
              { name: 'partitionIndex', type: 'int32', versions: '0+' },
              { name: 'brokerIds', type: '[]int32', versions: '0+' },
            ],
          },
          {
            name: 'configs',
            type: '[]',
            versions: '0+',
            fields: [
              { name: 'name', type: 'string', versions: '0+' },
              { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+' },
            ],
          },
        ],
      },
      { name: 'timeoutMs', type: 'int32', versions: '0+', default: 60000 },
      { name: 'validateOnly', type: 'bool', versions: '1+', default: false },
    ],
  },
  response: {
    apiKey: 19,
    type: 'response',
    name: 'CreateTopicsResponse',
    validVersions: '0-4',
    flexibleVersions: '5+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '2+' },
      {
        name: 'topics',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          // Kafka declares nullableVersions "0+" although the field only exists from v1.
          { name: 'errorMessage', type: 'string', versions: '1+', nullableVersions: '0+' },
        ],
      },
    ],
  },
} as const satisfies ApiSchema;
