/**
 * Golden consumer-group requests: frames captured from kafkajs 2.2.4 and @platformatic/kafka
 * 2.12.1 consumers (capture-*.mjs), decoded by our codec. Each body is checked whole against
 * what the consumer was configured with and what the fake broker told it, and must re-encode
 * to the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../../src/protocol/schema/index.js';
import { assertReencodes, captureFacts, decodeCapturedRequest } from '../golden/captured-frame.js';
import { hex } from '../golden/hand-derived.js';
import * as kafkajs from '../golden/kafkajs-frames.js';
import * as platformatic from '../golden/platformatic-frames.js';

const { topic, groupId, groupGenerationId, memberId } = captureFacts;

const libraries = [
  {
    label: 'kafkajs 2.2.4',
    clientId: kafkajs.kafkajsClientId,
    frames: {
      findCoordinator: kafkajs.findCoordinatorV2,
      joinGroup: kafkajs.joinGroupV5,
      syncGroup: kafkajs.syncGroupV3,
      listOffsets: kafkajs.listOffsetsV3,
      fetch: kafkajs.fetchV11,
      leaveGroup: kafkajs.leaveGroupV3,
    },
    assignor: 'RoundRobinAssigner',
    // ConsumerProtocolSubscription v0: version, topics ["golden"], user data (empty bytes).
    subscription: hex('0000  00000001 0006 676f6c64656e  00000000'),
    // ConsumerProtocolAssignment v0: version, [topic "golden" partitions [0]], user data (empty).
    assignment: hex('0000  00000001 0006 676f6c64656e 00000001 00000000  00000000'),
    // kafkajs defaults: 10 MiB per fetch, 1 MiB per partition; no fetch session (epoch -1).
    fetchMaxBytes: 10485760,
    partitionMaxBytes: 1048576,
    sessionEpoch: -1,
  },
  {
    label: '@platformatic/kafka 2.12.1',
    clientId: platformatic.platformaticClientId,
    frames: {
      findCoordinator: platformatic.findCoordinatorV2,
      joinGroup: platformatic.joinGroupV5,
      syncGroup: platformatic.syncGroupV3,
      listOffsets: platformatic.listOffsetsV3,
      fetch: platformatic.fetchV11,
      leaveGroup: platformatic.leaveGroupV3,
    },
    assignor: 'roundrobin',
    // ConsumerProtocolSubscription v1: version, topics ["golden"], user data null, owned partitions [].
    subscription: hex('0001  00000001 0006 676f6c64656e  ffffffff  00000000'),
    // ConsumerProtocolAssignment v0: version, [topic "golden" partitions [0]], user data null.
    assignment: hex('0000  00000001 0006 676f6c64656e 00000001 00000000  ffffffff'),
    // @platformatic/kafka defaults: 50 MiB per fetch and per partition; asks for a new fetch
    // session (id 0, epoch 0), which we decline by answering session id 0.
    fetchMaxBytes: 52428800,
    partitionMaxBytes: 52428800,
    sessionEpoch: 0,
  },
] as const;

for (const library of libraries) {
  const { label, clientId, frames } = library;

  test(`${label}: FindCoordinator v2 for the group`, () => {
    const { body, frame } = decodeCapturedRequest(frames.findCoordinator, ApiKey.FindCoordinator, 2, clientId);
    assert.deepStrictEqual(body, { key: groupId, keyType: 0 });
    assertReencodes(frame);
  });

  test(`${label}: JoinGroup v5, first join without a member id`, () => {
    const { body, frame } = decodeCapturedRequest(frames.joinGroup, ApiKey.JoinGroup, 5, clientId);
    assert.deepStrictEqual(body, {
      groupId,
      sessionTimeoutMs: captureFacts.sessionTimeoutMs,
      rebalanceTimeoutMs: captureFacts.rebalanceTimeoutMs,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: library.assignor, metadata: library.subscription }],
    });
    assertReencodes(frame);
  });

  test(`${label}: SyncGroup v3, the leader's assignment of partition 0 to itself`, () => {
    const { body, frame } = decodeCapturedRequest(frames.syncGroup, ApiKey.SyncGroup, 3, clientId);
    assert.deepStrictEqual(body, {
      groupId,
      generationId: groupGenerationId,
      memberId,
      groupInstanceId: null,
      assignments: [{ memberId, assignment: library.assignment }],
    });
    assertReencodes(frame);
  });

  test(`${label}: ListOffsets v3 for the earliest offset, read committed`, () => {
    const { body, frame } = decodeCapturedRequest(frames.listOffsets, ApiKey.ListOffsets, 3, clientId);
    assert.deepStrictEqual(body, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -2n }] }],
    });
    assertReencodes(frame);
  });

  test(`${label}: Fetch v11 from offset 0`, () => {
    const { body, frame } = decodeCapturedRequest(frames.fetch, ApiKey.Fetch, 11, clientId);
    assert.deepStrictEqual(body, {
      replicaId: -1,
      maxWaitMs: captureFacts.maxWaitMs,
      minBytes: 1,
      maxBytes: library.fetchMaxBytes,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: library.sessionEpoch,
      topics: [
        {
          topic,
          partitions: [
            { partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, logStartOffset: -1n, partitionMaxBytes: library.partitionMaxBytes },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    assertReencodes(frame);
  });

  test(`${label}: LeaveGroup v3 names the member in the members list`, () => {
    const { body, frame } = decodeCapturedRequest(frames.leaveGroup, ApiKey.LeaveGroup, 3, clientId);
    assert.deepStrictEqual(body, {
      groupId,
      memberId: '', // v0-2 field: its default
      members: [{ memberId, groupInstanceId: null }],
    });
    assertReencodes(frame);
  });
}

test('kafkajs 2.2.4: OffsetFetch v4 for the subscribed partition', () => {
  const { body, frame } = decodeCapturedRequest(kafkajs.offsetFetchV4, ApiKey.OffsetFetch, 4, kafkajs.kafkajsClientId);
  assert.deepStrictEqual(body, { groupId, topics: [{ name: topic, partitionIndexes: [0] }] });
  assertReencodes(frame);
});

test('@platformatic/kafka 2.12.1: OffsetFetch v5 for the subscribed partition', () => {
  const { body, frame } = decodeCapturedRequest(platformatic.offsetFetchV5, ApiKey.OffsetFetch, 5, platformatic.platformaticClientId);
  assert.deepStrictEqual(body, { groupId, topics: [{ name: topic, partitionIndexes: [0] }] });
  assertReencodes(frame);
});

test('kafkajs 2.2.4: OffsetCommit v5 commits offset 2 without metadata', () => {
  const { body, frame } = decodeCapturedRequest(kafkajs.offsetCommitV5, ApiKey.OffsetCommit, 5, kafkajs.kafkajsClientId);
  assert.deepStrictEqual(body, {
    groupId,
    generationId: groupGenerationId,
    memberId,
    groupInstanceId: null, // v7+ field: its default
    retentionTimeMs: -1n, // v2-4 field: its default
    topics: [
      { name: topic, partitions: [{ partitionIndex: 0, committedOffset: 2n, committedLeaderEpoch: -1, committedMetadata: null }] },
    ],
  });
  assertReencodes(frame);
});

test('@platformatic/kafka 2.12.1: OffsetCommit v7 commits offset 2 with the leader epoch', () => {
  const { body, frame } = decodeCapturedRequest(platformatic.offsetCommitV7, ApiKey.OffsetCommit, 7, platformatic.platformaticClientId);
  assert.deepStrictEqual(body, {
    groupId,
    generationId: groupGenerationId,
    memberId,
    groupInstanceId: null,
    retentionTimeMs: -1n,
    // The fake broker's Metadata gives partition 0 leader epoch 0.
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 2n, committedLeaderEpoch: 0, committedMetadata: null }] }],
  });
  assertReencodes(frame);
});
