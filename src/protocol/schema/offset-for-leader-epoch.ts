import type { ApiSchema } from './types.js';

/**
 * OffsetForLeaderEpoch (key 23, KIP-101 / KIP-320): for each partition, the end offset of the
 * largest leader epoch at or below the one asked for, as the leader's log holds it. Followers
 * use it to find where to truncate, consumers to detect a log truncated under them.
 * We serve 0-4: v1 is v0, v2 adds current_leader_epoch (fencing), v3 adds replica_id, v4 is
 * flexible. Kafka 4.0 dropped 0-1; we keep them, they cost nothing in a generic codec.
 * Response: v1 adds leader_epoch, v2 throttle_time_ms, v3 is v2.
 */
export const offsetForLeaderEpochSchema = {
  apiKey: 23,
  name: 'OffsetForLeaderEpoch',
  request: {
    apiKey: 23,
    type: 'request',
    name: 'OffsetForLeaderEpochRequest',
    validVersions: '0-4',
    flexibleVersions: '4+',
    fields: [
      // -1 for a consumer, the broker id of a follower; -2 (a "debug" consumer) when absent.
      { name: 'replicaId', type: 'int32', versions: '3+', default: -2 },
      {
        name: 'topics',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'topic', type: 'string', versions: '0+' },
          {
            name: 'partitions',
            type: '[]',
            versions: '0+',
            fields: [
              { name: 'partition', type: 'int32', versions: '0+' },
              // -1 = not given: no fencing check.
              { name: 'currentLeaderEpoch', type: 'int32', versions: '2+', default: -1 },
              { name: 'leaderEpoch', type: 'int32', versions: '0+' },
            ],
          },
        ],
      },
    ],
  },
  response: {
    apiKey: 23,
    type: 'response',
    name: 'OffsetForLeaderEpochResponse',
    validVersions: '0-4',
    flexibleVersions: '4+',
    fields: [
      { name: 'throttleTimeMs', type: 'int32', versions: '2+' },
      {
        name: 'topics',
        type: '[]',
        versions: '0+',
        fields: [
          { name: 'topic', type: 'string', versions: '0+' },
          {
            name: 'partitions',
            type: '[]',
            versions: '0+',
            fields: [
              // Sic: the error code comes before the partition index in this API.
              { name: 'errorCode', type: 'int16', versions: '0+' },
              { name: 'partition', type: 'int32', versions: '0+' },
              // -1/-1 is Kafka's "undefined" answer (no epoch at or below the one asked for).
              { name: 'leaderEpoch', type: 'int32', versions: '1+', default: -1 },
              { name: 'endOffset', type: 'int64', versions: '0+', default: -1n },
            ],
          },
        ],
      },
    ],
  },
} as const satisfies ApiSchema;
