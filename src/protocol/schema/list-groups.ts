import type { ApiSchema } from './types.js';

/** ListGroups (key 16). We serve 0-2; the request has no fields there. Flexible from 3. */
export const listGroupsSchema = {
  apiKey: 16,
  name: 'ListGroups',
  request: {
    apiKey: 16,
    type: 'request',
    name: 'ListGroupsRequest',
    validVersions: '0-2',
    flexibleVersions: '3+',
    fields: [],
  },
  response: {
    apiKey: 16,
    type: 'response',
    name: 'ListGroupsResponse',
    validVersions: '0-2',
    flexibleVersions: '3+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      {
        name: 'groups',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'groupId', type: 'string', versions: '0+' },
          { name: 'protocolType', type: 'string', versions: '0+' },
        ],
      },
    ],
  },
} as const satisfies ApiSchema;
