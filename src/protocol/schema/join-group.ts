import type { ApiSchema } from './types.js';

/** JoinGroup (key 11). We serve 0-5. First flexible version in Kafka: 6. */
export const joinGroupSchema = {
  apiKey: 11,
  name: 'JoinGroup',
  request: {
    apiKey: 11,
    type: 'request',
    name: 'JoinGroupRequest',
    validVersions: '0-5',
    flexibleVersions: '6+',
    fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'sessionTimeoutMs', type: 'int32', versions: '0+' },
      // v0 has no rebalance timeout: the session timeout is used instead (-1 is a placeholder).
      { name: 'rebalanceTimeoutMs', type: 'int32', versions: '1+', default: -1 },
      // v4+: an empty member id gets MEMBER_ID_REQUIRED (79) and a generated id to retry with.
      { name: 'memberId', type: 'string', versions: '0+' },
      {
        name: 'groupInstanceId',
        type: 'string',
        versions: '5+',
        nullableVersions: '5+',
        default: null,
      },
      { name: 'protocolType', type: 'string', versions: '0+' },
      {
        name: 'protocols',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'name', type: 'string', versions: '0+' },
          { name: 'metadata', type: 'bytes', versions: '0+' },
        ],
      },
    ],
  },
  response: {
    apiKey: 11,
    type: 'response',
    name: 'JoinGroupResponse',
    validVersions: '0-5',
    flexibleVersions: '6+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '2+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'generationId', type: 'int32', versions: '0+', default: -1 },
      // Nullable only from v7, so in our range it is a plain string.
      { name: 'protocolName', type: 'string', versions: '0+' },
      { name: 'leader', type: 'string', versions: '0+' },
      { name: 'memberId', type: 'string', versions: '0+' },
      {
        name: 'members',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'memberId', type: 'string', versions: '0+' },
          {
            name: 'groupInstanceId',
            type: 'string',
            versions: '5+',
            nullableVersions: '5+',
            default: null,
          },
          { name: 'metadata', type: 'bytes', versions: '0+' },
        ],
      },
    ],
  },
} as const satisfies ApiSchema;
