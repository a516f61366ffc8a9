import type { ApiSchema } from './types.js';

/** AlterConfigs (key 33). We serve 0-1. First flexible version in Kafka: 2. */
export const alterConfigsSchema = {
  apiKey: 33,
  name: 'AlterConfigs',
  request: {
    apiKey: 33,
    type: 'request',
    name: 'AlterConfigsRequest',
    validVersions: '0-1',
    flexibleVersions: '2+',
    fields: [
      {
        name: 'resources',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'resourceType', type: 'int8', versions: '0+' },
          { name: 'resourceName', type: 'string', versions: '0+' },
          {
            // Surprise: AlterConfigs replaces the whole set; keys left out revert to default.
            name: 'configs',
            type: '[]',
            versions: '0+',
            fields: [
              { name: 'name', type: 'string', versions: '0+' },
              { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+' },
            ],
          },
        ],
      },
      { name: 'validateOnly', type: 'bool', versions: '0+' },
    ],
  },
  response: {
    apiKey: 33,
    type: 'response',
    name: 'AlterConfigsResponse',
    validVersions: '0-1',
    flexibleVersions: '2+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      {
        name: 'responses',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
          { name: 'resourceType', type: 'int8', versions: '0+' },
          { name: 'resourceName', type: 'string', versions: '0+' },
        ],
      },
    ],
  },
} as const satisfies ApiSchema;
