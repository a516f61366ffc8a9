import type { ApiSchema } from './types.js';

/** Heartbeat (key 12). We serve 0-3. First flexible version in Kafka: 4. */
export const heartbeatSchema = {
  apiKey: 12,
  name: 'Heartbeat',
  request: {
    apiKey: 12,
    type: 'request',
    name: 'HeartbeatRequest',
    validVersions: '0-3',
    flexibleVersions: '4+',
    fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'generationId', type: 'int32', versions: '0+' },
      { name: 'memberId', type: 'string', versions: '0+' },
      {
        name: 'groupInstanceId',
        type: 'string',
        versions: '3+',
        nullableVersions: '3+',
        default: null,
      },
    ],
  },
  response: {
    apiKey: 12,
    type: 'response',
    name: 'HeartbeatResponse',
    validVersions: '0-3',
    flexibleVersions: '4+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
    ],
  },
} as const satisfies ApiSchema;
