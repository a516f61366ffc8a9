import type { ApiSchema } from './types.js';

/** InitProducerId (key 22). We serve 0-1. First flexible version in Kafka: 2. */
export const initProducerIdSchema = {
  apiKey: 22,
  name: 'InitProducerId',
  request: {
    apiKey: 22,
    type: 'request',
    name: 'InitProducerIdRequest',
    validVersions: '0-1',
    flexibleVersions: '2+',
    fields: [
      // null = idempotent-only producer.
      { name: 'transactionalId', type: 'string', versions: '0+', nullableVersions: '0+' },
      { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
    ],
  },
  response: {
    apiKey: 22,
    type: 'response',
    name: 'InitProducerIdResponse',
    validVersions: '0-1',
    flexibleVersions: '2+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'producerId', type: 'int64', versions: '0+', default: -1n },
      { name: 'producerEpoch', type: 'int16', versions: '0+' },
    ],
  },
} as const satisfies ApiSchema;
