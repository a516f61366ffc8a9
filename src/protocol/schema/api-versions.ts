import type { ApiSchema } from './types.js';

/**
 * ApiVersions (key 18). We serve 0-3; v3 is flexible. Surprise: the RESPONSE always uses
 * response header v0 (no tagged fields), even for v3, so that a client can parse it whatever
 * version it sent; the request uses header v2 from v3.
 */
export const apiVersionsSchema = {
  apiKey: 18,
  name: 'ApiVersions',
  request: {
    apiKey: 18,
    type: 'request',
    name: 'ApiVersionsRequest',
    validVersions: '0-3',
    flexibleVersions: '3+',
    fields: [
      { name: 'clientSoftwareName', type: 'string', versions: '3+' },
      { name: 'clientSoftwareVersion', type: 'string', versions: '3+' },
    ],
  },
  response: {
    apiKey: 18,
    type: 'response',
    name: 'ApiVersionsResponse',
    validVersions: '0-3',
    flexibleVersions: '3+',
    fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      {
        name: 'apiKeys',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'apiKey', type: 'int16', versions: '0+' },
          { name: 'minVersion', type: 'int16', versions: '0+' },
          { name: 'maxVersion', type: 'int16', versions: '0+' },
        ],
      },
      { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
      {
        name: 'supportedFeatures',
        type: '[]',
        versions: '3+',
        taggedVersions: '3+',
        tag: 0,
        fields: [
          { name: 'name', type: 'string', versions: '3+' },
          { name: 'minVersion', type: 'int16', versions: '3+' },
          { name: 'maxVersion', type: 'int16', versions: '3+' },
        ],
      },
      {
        name: 'finalizedFeaturesEpoch',
        type: 'int64',
        versions: '3+',
        taggedVersions: '3+',
        tag: 1,
        default: -1n,
      },
      {
        name: 'finalizedFeatures',
        type: '[]',
        versions: '3+',
        taggedVersions: '3+',
        tag: 2,
        fields: [
          { name: 'name', type: 'string', versions: '3+' },
          // Surprise: max comes before min here, unlike SupportedFeatures.
          { name: 'maxVersionLevel', type: 'int16', versions: '3+' },
          { name: 'minVersionLevel', type: 'int16', versions: '3+' },
        ],
      },
      {
        name: 'zkMigrationReady',
        type: 'bool',
        versions: '3+',
        taggedVersions: '3+',
        tag: 3,
        default: false,
      },
    ],
  },
} as const satisfies ApiSchema;
