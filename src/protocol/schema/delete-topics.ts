import type { ApiSchema } from './types.js';

/** DeleteTopics (key 20). We serve 0-3. First flexible version in Kafka: 4. */
export const deleteTopicsSchema = {
  apiKey: 20,
  name: 'DeleteTopics',
  request: {
    apiKey: 20,
    type: 'request',
    name: 'DeleteTopicsRequest',
    validVersions: '0-3',
    flexibleVersions: '4+',
    fields: [
      { name: 'topicNames', type: '[]string', versions: '0-5' },
      { name: 'timeoutMs', type: 'int32', versions: '0+' },
    ],
  },
  response: {
    apiKey: 20,
    type: 'response',
    name: 'DeleteTopicsResponse',
    validVersions: '0-3',
    flexibleVersions: '4+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
      {
        name: 'responses',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
        ],
      },
    ],
  },
} as const satisfies ApiSchema;
