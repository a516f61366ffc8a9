import type { ApiSchema } from './types.js';

/**
 * Produce (key 0). We serve 3-7: v3 is the first version that carries v2 record batches
 * (magic 2) and a transactional id. First flexible version in Kafka: 9.
 */
export const produceSchema = {
  apiKey: 0,
  name: 'Produce',
  request: {
    apiKey: 0,
    type: 'request',
    name: 'ProduceRequest',
    validVersions: '3-7',
    flexibleVersions: '9+',
    fields: [
      // Kafka declares nullableVersions "0+" although the field only exists from v3.
      { name: 'transactionalId', type: 'string', versions: '3+', nullableVersions: '0+' },
      { name: 'acks', type: 'int16', versions: '0+' },
      { name: 'timeoutMs', type: 'int32', versions: '0+' },
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
              { name: 'records', type: 'records', versions: '0+', nullableVersions: '0+' },
            ],
          },
        ],
      },
    ],
  },
  response: {
    apiKey: 0,
    type: 'response',
    name: 'ProduceResponse',
    validVersions: '3-7',
    flexibleVersions: '9+',
    fields: [
      {
        name: 'responses',
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
              { name: 'baseOffset', type: 'int64', versions: '0+' },
              { name: 'logAppendTimeMs', type: 'int64', versions: '2+', default: -1n },
              { name: 'logStartOffset', type: 'int64', versions: '5+', default: -1n },
            ],
          },
        ],
      },
      // ThrottleTimeMs comes after the topics in Produce, unlike most responses.
      { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    ],
  },
} as const satisfies ApiSchema;
