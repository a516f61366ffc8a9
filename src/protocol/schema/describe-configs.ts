import type { ApiSchema } from './types.js';

/** DescribeConfigs (key 32). We serve 0-2. First flexible version in Kafka: 4. */
export const describeConfigsSchema = {
  apiKey: 32,
  name: 'DescribeConfigs',
  request: {
    apiKey: 32,
    type: 'request',
    name: 'DescribeConfigsRequest',
    validVersions: '0-2',
    flexibleVersions: '4+',
    fields: [
      {
        name: 'resources',
        type: '[]',
        versions: '0+',
        fields: [
          // 2 = topic, 4 = broker, 8 = broker logger.
          { name: 'resourceType', type: 'int8', versions: '0+' },
          { name: 'resourceName', type: 'string', versions: '0+' },
          // null = all keys.
          {
            name: 'configurationKeys',
            type: '[]string',
            versions: '0+',
            nullableVersions: '0+',
          },
        ],
      },
      // Kafka's JSON spelled this "IncludeSynoyms" until it was renamed; same wire position.
      { name: 'includeSynonyms', type: 'bool', versions: '1+', default: false },
    ],
  },
  response: {
    apiKey: 32,
    type: 'response',
    name: 'DescribeConfigsResponse',
    validVersions: '0-2',
    flexibleVersions: '4+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      {
        name: 'results',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
          { name: 'resourceType', type: 'int8', versions: '0+' },
          { name: 'resourceName', type: 'string', versions: '0+' },
          {
            name: 'configs',
            type: '[]',
            versions: '0+',
            fields: [
              { name: 'name', type: 'string', versions: '0+' },
              { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+' },
              { name: 'readOnly', type: 'bool', versions: '0+' },
              // v0 only; replaced by configSource from v1.
              { name: 'isDefault', type: 'bool', versions: '0' },
              // The v0 meaning depends on the resource (broker: 4); -1 is a placeholder.
              { name: 'configSource', type: 'int8', versions: '1+', default: -1 },
              { name: 'isSensitive', type: 'bool', versions: '0+' },
              {
                name: 'synonyms',
                type: '[]',
                versions: '1+',
                fields: [
                  { name: 'name', type: 'string', versions: '1+' },
                  { name: 'value', type: 'string', versions: '1+', nullableVersions: '0+' },
                  { name: 'source', type: 'int8', versions: '1+' },
                ],
              },
            ],
          },
        ],
      },
    ],
  },
} as const satisfies ApiSchema;
