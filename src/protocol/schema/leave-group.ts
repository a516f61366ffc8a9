import type { ApiSchema } from './types.js';

/**
 * LeaveGroup (key 13). We serve 0-3. First flexible version in Kafka: 4.
 * v3 replaces the single member id with a batch of members (KIP-345).
 */
export const leaveGroupSchema = {
  apiKey: 13,
  name: 'LeaveGroup',
  request: {
    apiKey: 13,
    type: 'request',
    name: 'LeaveGroupRequest',
    validVersions: '0-3',
    flexibleVersions: '4+',
    fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'memberId', type: 'string', versions: '0-2' },
      {
        name: 'members',
        type: '[]',
        versions: '3+',
        fields: [
          { name: 'memberId', type: 'string', versions: '3+' },
          {
            name: 'groupInstanceId',
            type: 'string',
            versions: '3+',
            nullableVersions: '3+',
            default: null,
          },
        ],
      },
    ],
  },
  response: {
    apiKey: 13,
    type: 'response',
    name: 'LeaveGroupResponse',
    validVersions: '0-3',
    flexibleVersions: '4+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      {
        name: 'members',
        type: '[]',
        versions: '3+',
        fields: [
          { name: 'memberId', type: 'string', versions: '3+' },
          { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+' },
          { name: 'errorCode', type: 'int16', versions: '3+' },
        ],
      },
    ],
  },
} as const satisfies ApiSchema;
