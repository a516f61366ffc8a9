import type { ApiSchema } from './types.js';

/** FindCoordinator (key 10). We serve 0-2. First flexible version in Kafka: 3. */
export const findCoordinatorSchema = {
  apiKey: 10,
  name: 'FindCoordinator',
  request: {
    apiKey: 10,
    type: 'request',
    name: 'FindCoordinatorRequest',
    validVersions: '0-2',
    flexibleVersions: '3+',
    fields: [
      { name: 'key', type: 'string', versions: '0-3' },
      // 0 = group, 1 = transaction (v1+).
      { name: 'keyType', type: 'int8', versions: '1+', default: 0 },
    ],
  },
  response: {
    apiKey: 10,
    type: 'response',
    name: 'FindCoordinatorResponse',
    validVersions: '0-2',
    flexibleVersions: '3+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
      { name: 'errorCode', type: 'int16', versions: '0-3' },
      { name: 'errorMessage', type: 'string', versions: '1-3', nullableVersions: '1-3' },
      { name: 'nodeId', type: 'int32', versions: '0-3' },
      { name: 'host', type: 'string', versions: '0-3' },
      { name: 'port', type: 'int32', versions: '0-3' },
    ],
  },
} as const satisfies ApiSchema;
