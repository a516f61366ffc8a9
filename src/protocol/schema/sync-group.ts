import type { ApiSchema } from './types.js';

/** SyncGroup (key 14). We serve 0-3. First flexible version in Kafka: 4. */
export const syncGroupSchema = {
  apiKey: 14,
  name: 'SyncGroup',
  request: {
    apiKey: 14,
    type: 'request',
    name: 'SyncGroupRequest',
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
      {
        // Only the group leader sends assignments; followers send an empty array.
        name: 'assignments',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'memberId', type: 'string', versions: '0+' },
          { name: 'assignment', type: 'bytes', versions: '0+' },
        ],
      },
    ],
  },
  response: {
    apiKey: 14,
    type: 'response',
    name: 'SyncGroupResponse',
    validVersions: '0-3',
    flexibleVersions: '4+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'assignment', type: 'bytes', versions: '0+' },
    ],
  },
} as const satisfies ApiSchema;
