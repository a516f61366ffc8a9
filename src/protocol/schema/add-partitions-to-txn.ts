import type { ApiSchema } from './types.js';

/**
 * AddPartitionsToTxn (key 24). We serve 0-1. First flexible version in Kafka: 3.
 * Kafka 3.6 renamed the v0-3 fields (V3AndBelowTransactionalId, ResultsByTopicV3AndBelow, ...)
 * when v4 added broker-to-broker batching; inside our range we keep the original names.
 */
export const addPartitionsToTxnSchema = {
  apiKey: 24,
  name: 'AddPartitionsToTxn',
  request: {
    apiKey: 24,
    type: 'request',
    name: 'AddPartitionsToTxnRequest',
    validVersions: '0-1',
    flexibleVersions: '3+',
    fields: [
      { name: 'transactionalId', type: 'string', versions: '0-3' },
      { name: 'producerId', type: 'int64', versions: '0-3' },
      { name: 'producerEpoch', type: 'int16', versions: '0-3' },
      {
        name: 'topics',
        type: '[]',
        versions: '0-3',
        fields: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'partitions', type: '[]int32', versions: '0+' },
        ],
      },
    ],
  },
  response: {
    apiKey: 24,
    type: 'response',
    name: 'AddPartitionsToTxnResponse',
    validVersions: '0-1',
    flexibleVersions: '3+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      {
        name: 'results',
        type: '[]',
        versions: '0-3',
        fields: [
          { name: 'name', type: 'string', versions: '0+' },
          {
            name: 'results',
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
