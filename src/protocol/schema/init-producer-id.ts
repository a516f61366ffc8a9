import type { ApiSchema } from './types.js';

/**
 * InitProducerId (key 22). We serve 0-4. First flexible version in Kafka: 2. v3 adds the
 * producer's current id and epoch (KIP-360, to resume after INVALID_PRODUCER_EPOCH); v4 only
 * allows the PRODUCER_FENCED error. The response is the same in every version.
 */
export const initProducerIdSchema = {
  apiKey: 22,
  name: 'InitProducerId',
  request: {
    apiKey: 22,
    type: 'request',
    name: 'InitProducerIdRequest',
    validVersions: '0-4',
    flexibleVersions: '2+',
    fields: [
      // null = idempotent-only producer.
      { name: 'transactionalId', type: 'string', versions: '0+', nullableVersions: '0+' },
      { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
      // -1 / -1: no current producer (and what versions before 3 mean).
      { name: 'producerId', type: 'int64', versions: '3+', default: -1n },
      { name: 'producerEpoch', type: 'int16', versions: '3+', default: -1 },
    ],
  },
  response: {
    apiKey: 22,
    type: 'response',
    name: 'InitProducerIdResponse',
    validVersions: '0-4',
    flexibleVersions: '2+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'producerId', type: 'int64', versions: '0+', default: -1n },
      { name: 'producerEpoch', type: 'int16', versions: '0+' },
    ],
  },
} as const satisfies ApiSchema;
