import type { ApiSchema } from './types.js';

/** EndTxn (key 26). We serve 0-1. First flexible version in Kafka: 3. */
export const endTxnSchema = {
  apiKey: 26,
  name: 'EndTxn',
  request: {
    apiKey: 26,
    type: 'request',
    name: 'EndTxnRequest',
    validVersions: '0-1',
    flexibleVersions: '3+',
    fields: [
      { name: 'transactionalId', type: 'string', versions: '0+' },
      { name: 'producerId', type: 'int64', versions: '0+' },
      { name: 'producerEpoch', type: 'int16', versions: '0+' },
      // true = commit, false = abort.
      { name: 'committed', type: 'bool', versions: '0+' },
    ],
  },
  response: {
    apiKey: 26,
    type: 'response',
    name: 'EndTxnResponse',
    validVersions: '0-1',
    flexibleVersions: '3+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
    ],
  },
} as const satisfies ApiSchema;
