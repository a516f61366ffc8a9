import type { ApiSchema } from './types.js';

/** SaslAuthenticate (key 36). We serve 0-1. First flexible version in Kafka: 2. */
export const saslAuthenticateSchema = {
  apiKey: 36,
  name: 'SaslAuthenticate',
  request: {
    apiKey: 36,
    type: 'request',
    name: 'SaslAuthenticateRequest',
    validVersions: '0-1',
    flexibleVersions: '2+',
    fields: [{ name: 'authBytes', type: 'bytes', versions: '0+' }],
  },
  response: {
    apiKey: 36,
    type: 'response',
    name: 'SaslAuthenticateResponse',
    validVersions: '0-1',
    flexibleVersions: '2+',
    fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
      { name: 'authBytes', type: 'bytes', versions: '0+' },
      // 0 = the session does not expire (KIP-368).
      { name: 'sessionLifetimeMs', type: 'int64', versions: '1+', default: 0n },
    ],
  },
} as const satisfies ApiSchema;
