import type { ApiSchema } from './types.js';

/** AddOffsetsToTxn (key 25). We serve 0-1. First flexible version in Kafka: 3. */
export const addOffsetsToTxnSchema = {
  apiKey: 25,
  name: 'AddOffsetsToTxn',
  request: {
    apiKey: 25,
    type: 'request',
    name: 'AddOffsetsToTxnRequest',
    validVersions: '0-1',
    flexibleVersions: '3+',
    fields: [
      { name: 'transactionalId', type: 'string', versions: '0+' },
      { name: 'producerId', type: 'int64', versions: '0+' },
      { name: 'producerEpoch', type: 'int16', versions: '0+' },
      { name: 'groupId', type: 'string', versions: '0+' },
    ],
  },
  response: {
    apiKey: 25,
    type: 'response',
    name: 'AddOffsetsToTxnResponse',
    validVersions: '0-1',
    flexibleVersions: '3+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
    ],
  },
} as const satisfies ApiSchema;
