import type { ApiSchema } from './types.js';

/**
 * SaslHandshake (key 17). We serve 0-1; never flexible. v0 sends the SASL tokens afterwards as
 * raw size-prefixed frames, v1 wraps them in SaslAuthenticate requests.
 */
export const saslHandshakeSchema = {
  apiKey: 17,
  name: 'SaslHandshake',
  request: {
    apiKey: 17,
    type: 'request',
    name: 'SaslHandshakeRequest',
    validVersions: '0-1',
    flexibleVersions: 'none',
    fields: [{ name: 'mechanism', type: 'string', versions: '0+' }],
  },
  response: {
    apiKey: 17,
    type: 'response',
    name: 'SaslHandshakeResponse',
    validVersions: '0-1',
    flexibleVersions: 'none',
    fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'mechanisms', type: '[]string', versions: '0+' },
    ],
  },
} as const satisfies ApiSchema;
