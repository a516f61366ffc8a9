import type { ApiSchema } from './types.js';

/** DeleteGroups (key 42). We serve 0-1. First flexible version in Kafka: 2. */
export const deleteGroupsSchema = {
  apiKey: 42,
  name: 'DeleteGroups',
  request: {
    apiKey: 42,
    type: 'request',
    name: 'DeleteGroupsRequest',
    validVersions: '0-1',
    flexibleVersions: '2+',
    // Kafka's own spelling: "GroupsNames".
    fields: [{ name: 'groupsNames', type: '[]string', versions: '0+' }],
  },
  response: {
    apiKey: 42,
    type: 'response',
    name: 'DeleteGroupsResponse',
    validVersions: '0-1',
    flexibleVersions: '2+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
      {
        name: 'results',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'groupId', type: 'string', versions: '0+' },
          { name: 'errorCode', type: 'int16', versions: '0+' },
        ],
      },
    ],
  },
} as const satisfies ApiSchema;
