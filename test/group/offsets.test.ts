import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { OffsetsAppendError } from '../../src/group/persist-errors.js';
import { decodeOffsetCommitValue, decodeOffsetsRecordKey } from '../../src/group/offsets-records.js';
import type { OffsetDeleteResponse } from '../../src/group/types.js';
import { commitTopic, formGroup, Harness, Reply, startMs, subscription } from './harness.js';

const dayMs = 24 * 60 * 60 * 1000;
const delayed = { config: { groupInitialRebalanceDelayMs: 100 } };

test('a simple consumer (generation -1, no member id) commits to a group that does not exist yet', () => {
  const h = new Harness();
  h.persistMode = 'hold';
  const commit = h.commit({ topics: [commitTopic('orders', [[0, 42n], [1, 7n]], { metadata: 'm', leaderEpoch: 3 })] });
  assert.equal(commit.answered, false, 'answered after the append is durable');
  assert.equal(h.fetchOffset('orders', 0), -1n, 'not visible before it is durable');
  const records = h.appends[0]!;
  assert.equal(records.length, 2);
  assert.deepEqual(decodeOffsetsRecordKey(records[0]!.key), { kind: 'offsetCommit', group: 'group', topic: 'orders', partition: 0 });
  assert.deepEqual(decodeOffsetCommitValue(records[0]!.value!), {
    offset: 42n,
    leaderEpoch: 3,
    metadata: 'm',
    commitTimestampMs: startMs,
    expireTimestampMs: -1,
  });
  h.completeHeld();
  assert.deepEqual(commit.value, {
    throttleTimeMs: 0,
    topics: [
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 0, errorCode: ErrorCode.NONE },
          { partitionIndex: 1, errorCode: ErrorCode.NONE },
        ],
      },
    ],
  });
  const fetched = h.coordinator.offsetFetch(5, { groupId: 'group', topics: [{ name: 'orders', partitionIndexes: [0, 1, 2] }] });
  assert.deepEqual(fetched, {
    throttleTimeMs: 0,
    topics: [
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: 3, metadata: 'm', errorCode: ErrorCode.NONE },
          { partitionIndex: 1, committedOffset: 7n, committedLeaderEpoch: 3, metadata: 'm', errorCode: ErrorCode.NONE },
          { partitionIndex: 2, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE },
        ],
      },
    ],
    errorCode: ErrorCode.NONE,
  });
  assert.equal(h.state(), 'Empty');
  assert.equal(h.coordinator.groupSnapshot('group')!.protocolType, null);
});

test('OffsetFetch: unknown group, all topics (null), v1 errors on partitions', () => {
  const h = new Harness();
  h.commit({ topics: [commitTopic('b', [[1, 5n]]), commitTopic('a', [[3, 9n], [0, 1n]])] });
  assert.equal(h.fetchOffset('a', 0, 'unknown-group'), -1n);
  const all = h.coordinator.offsetFetch(3, { groupId: 'group', topics: null });
  assert.deepEqual(
    all.topics.map((topic) => [topic.name, topic.partitions.map((partition) => [partition.partitionIndex, partition.committedOffset])]),
    [
      ['a', [[0, 1n], [3, 9n]]],
      ['b', [[1, 5n]]],
    ],
  );
  assert.deepEqual(h.coordinator.offsetFetch(3, { groupId: 'nobody', topics: null }).topics, []);

  const loading = new Harness({ load: null });
  assert.deepEqual(loading.coordinator.offsetFetch(2, { groupId: 'group', topics: null }), {
    throttleTimeMs: 0,
    topics: [],
    errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  });
  const v1 = loading.coordinator.offsetFetch(1, { groupId: 'group', topics: [{ name: 't', partitionIndexes: [0] }] });
  assert.equal(v1.topics[0]!.partitions[0]!.errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(v1.topics[0]!.partitions[0]!.committedOffset, -1n);
});

test('OffsetCommit checks member and generation against the group state', () => {
  const h = new Harness(delayed);
  const [a, b] = formGroup(h, [{ clientId: 'a' }, { clientId: 'b' }]).memberIds as [string, string];
  const topics = [commitTopic('t', [[0, 10n]])];
  const code = (request: Parameters<Harness['commit']>[0]) => h.commit(request).value.topics[0]!.partitions[0]!.errorCode;

  assert.equal(code({ generationId: 1, memberId: a, topics }), ErrorCode.NONE);
  assert.equal(h.fetchOffset('t', 0), 10n);
  assert.equal(code({ generationId: 0, memberId: a, topics }), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(code({ generationId: 1, memberId: 'ghost', topics }), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(code({ generationId: -1, memberId: '', topics }), ErrorCode.UNKNOWN_MEMBER_ID, 'members only');
  assert.equal(code({ generationId: 5, memberId: '', groupId: 'absent', topics }), ErrorCode.ILLEGAL_GENERATION);

  // PreparingRebalance: the ending generation may still commit.
  const c = h.joinWithRequiredId({ clientId: 'c' });
  assert.equal(code({ generationId: 1, memberId: b, topics: [commitTopic('t', [[0, 11n]])] }), ErrorCode.NONE);
  assert.equal(h.fetchOffset('t', 0), 11n);

  // CompletingRebalance: a valid member of the new generation is told to finish the rebalance.
  h.join({ memberId: a, clientId: 'a' });
  h.join({ memberId: b, clientId: 'b' });
  assert.equal(h.state(), 'CompletingRebalance');
  assert.equal(code({ generationId: 2, memberId: c.memberId, topics }), ErrorCode.REBALANCE_IN_PROGRESS);
});

test('OFFSET_METADATA_TOO_LARGE refuses only the partitions whose metadata is too long', () => {
  const h = new Harness({ config: { offsetMetadataMaxBytes: 8 } });
  const commit = h.commit({
    topics: [commitTopic('t', [[0, 1n]], { metadata: 'x'.repeat(9) }), commitTopic('u', [[0, 2n]], { metadata: 'ok' })],
  });
  assert.deepEqual(
    commit.value.topics.map((topic) => topic.partitions[0]!.errorCode),
    [ErrorCode.OFFSET_METADATA_TOO_LARGE, ErrorCode.NONE],
  );
  assert.equal(h.fetchOffset('t', 0), -1n);
  assert.equal(h.fetchOffset('u', 0), 2n);
  const allTooLarge = h.commit({ topics: [commitTopic('t', [[0, 1n]], { metadata: 'é'.repeat(5) })] });
  assert.equal(allTooLarge.value.topics[0]!.partitions[0]!.errorCode, ErrorCode.OFFSET_METADATA_TOO_LARGE, 'counted in UTF-8 bytes');
  assert.equal(h.appends.length, 1, 'nothing appended for a fully refused commit');
});

test('a failed append leaves the cache alone and maps the error as Kafka does', () => {
  const h = new Harness();
  h.commit({ topics: [commitTopic('t', [[0, 1n]])] });
  const cases: Array<[Error, number]> = [
    [new Error('disk on fire'), ErrorCode.COORDINATOR_NOT_AVAILABLE],
    [new OffsetsAppendError('moved', ErrorCode.NOT_LEADER_OR_FOLLOWER), ErrorCode.NOT_COORDINATOR],
    [new OffsetsAppendError('fsync', ErrorCode.KAFKA_STORAGE_ERROR), ErrorCode.NOT_COORDINATOR],
    [new OffsetsAppendError('isr', ErrorCode.NOT_ENOUGH_REPLICAS), ErrorCode.COORDINATOR_NOT_AVAILABLE],
    [new OffsetsAppendError('big', ErrorCode.MESSAGE_TOO_LARGE), ErrorCode.INVALID_COMMIT_OFFSET_SIZE],
    [new OffsetsAppendError('slow', ErrorCode.REQUEST_TIMED_OUT), ErrorCode.REQUEST_TIMED_OUT],
  ];
  for (const [error, expected] of cases) {
    h.failWith = error;
    const commit = h.commit({ topics: [commitTopic('t', [[0, 99n]])] });
    assert.equal(commit.value.topics[0]!.partitions[0]!.errorCode, expected, error.message);
    assert.equal(h.fetchOffset('t', 0), 1n);
  }
});

test('appends completing out of order never let an older commit win', () => {
  const h = new Harness();
  h.persistMode = 'hold';
  const older = h.commit({ topics: [commitTopic('t', [[0, 100n]])] });
  const newer = h.commit({ topics: [commitTopic('t', [[0, 200n]])] });
  h.completeHeld(null, 'newest');
  assert.equal(older.value.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  assert.equal(newer.value.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  assert.equal(h.fetchOffset('t', 0), 200n);
});

test('offsets of a simple-consumer group expire retention after their commit', () => {
  const h = new Harness({ config: { offsetsRetentionMs: 7 * dayMs, offsetsRetentionCheckIntervalMs: 60_000 } });
  h.commit({ topics: [commitTopic('t', [[0, 5n]])] });
  h.advance(3 * dayMs);
  h.commit({ topics: [commitTopic('u', [[0, 6n]])] });
  const before = h.appends.length;
  h.advance(4 * dayMs);
  assert.equal(h.fetchOffset('t', 0), -1n, 't expired 7 days after its commit');
  assert.equal(h.fetchOffset('u', 0), 6n, 'u committed later, still there');
  const tombstones = h.appends.slice(before).flat();
  assert.equal(tombstones.length, 1);
  assert.deepEqual(decodeOffsetsRecordKey(tombstones[0]!.key), { kind: 'offsetCommit', group: 'group', topic: 't', partition: 0 });
  assert.equal(tombstones[0]!.value, null);
  h.advance(3 * dayMs);
  assert.equal(h.coordinator.groupSnapshot('group'), null, 'nothing left: the group is gone');
  assert.equal(h.appends.slice(before).flat().length, 2, 'generation 0: no group tombstone');
});

test('offsets of a consumer group expire retention after the group became Empty', () => {
  const h = new Harness({ config: { offsetsRetentionMs: 7 * dayMs, offsetsRetentionCheckIntervalMs: 60_000 } });
  const { memberId } = h.joinWithRequiredId();
  h.sync(memberId, 1, [{ memberId, assignment: Buffer.from('x') }]);
  h.commit({ generationId: 1, memberId, topics: [commitTopic('t', [[0, 5n]])] });
  // The member dies (no heartbeats): the group becomes Empty at the next tick, 5 days later.
  h.advance(5 * dayMs);
  assert.equal(h.heartbeat(memberId, 1), ErrorCode.UNKNOWN_MEMBER_ID, 'session long gone');
  assert.equal(h.state(), 'Empty');
  const emptySinceMs = h.clock.nowMs();
  h.advance(7 * dayMs - 60_001);
  assert.equal(h.fetchOffset('t', 0), 5n, 'less than 7 days since the group became Empty');
  const before = h.appends.length;
  h.advance(120_000);
  assert.ok(h.clock.nowMs() - emptySinceMs >= 7 * dayMs);
  assert.equal(h.fetchOffset('t', 0), -1n);
  const written = h.appends.slice(before).flat();
  assert.deepEqual(
    written.map((record) => [decodeOffsetsRecordKey(record.key).kind, record.value]),
    [
      ['offsetCommit', null],
      ['groupMetadata', null],
    ],
  );
  assert.equal(h.coordinator.groupSnapshot('group'), null);
});

test('a live consumer group keeps offsets of subscribed topics, expires the others', () => {
  const h = new Harness({ config: { offsetsRetentionMs: dayMs, offsetsRetentionCheckIntervalMs: 60_000, groupInitialRebalanceDelayMs: 100 } });
  const [a] = formGroup(h, [
    { clientId: 'a', sessionTimeoutMs: 1_800_000, protocols: [{ name: 'range', metadata: subscription(['live']) }] },
  ]).memberIds as [string];
  h.commit({ generationId: 1, memberId: a, topics: [commitTopic('live', [[0, 1n]]), commitTopic('old', [[0, 2n]])] });
  const heartbeatEveryMs = 10 * 60_000;
  const maxSteps = 200;
  for (let step = 0; step < maxSteps && h.fetchOffset('old', 0) !== -1n; step++) {
    h.advance(heartbeatEveryMs);
    assert.equal(h.heartbeat(a, 1), ErrorCode.NONE);
  }
  assert.equal(h.fetchOffset('old', 0), -1n);
  assert.ok(h.clock.nowMs() - startMs >= dayMs, 'not before the retention passed');
  assert.equal(h.fetchOffset('live', 0), 1n, 'a subscribed topic keeps its offsets');
  assert.equal(h.state(), 'Stable');
});

test('OffsetCommit v2 retentionTimeMs: the offset carries its own expiry (value version 1)', () => {
  const h = new Harness({ config: { offsetsRetentionCheckIntervalMs: 1000 } });
  h.commit({ retentionTimeMs: 10_000n, topics: [commitTopic('t', [[0, 3n]])] }, 2);
  const value = decodeOffsetCommitValue(h.appends[0]![0]!.value!);
  assert.equal(value.expireTimestampMs, startMs + 10_000);
  assert.equal(h.appends[0]![0]!.value!.readInt16BE(0), 1);
  h.advance(9000);
  assert.equal(h.fetchOffset('t', 0), 3n);
  h.advance(1000);
  assert.equal(h.fetchOffset('t', 0), -1n);
});

test('OffsetDelete: any partition of an Empty group; unsubscribed topics of a live consumer group', () => {
  const h = new Harness(delayed);
  h.commit({ groupId: 'idle', topics: [commitTopic('t', [[0, 1n], [1, 2n]])] });
  const deleteOffsets = (groupId: string, topics: Array<[string, number[]]>) => {
    const reply = new Reply<OffsetDeleteResponse>();
    h.coordinator.offsetDelete(
      0,
      { groupId, topics: topics.map(([name, partitions]) => ({ name, partitions: partitions.map((partitionIndex) => ({ partitionIndex })) })) },
      reply.fn,
    );
    return reply.value;
  };
  assert.deepEqual(deleteOffsets('idle', [['t', [0]]]), {
    errorCode: ErrorCode.NONE,
    throttleTimeMs: 0,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NONE }] }],
  });
  assert.equal(h.fetchOffset('t', 0, 'idle'), -1n);
  assert.equal(h.fetchOffset('t', 1, 'idle'), 2n);
  assert.equal(h.appends.at(-1)![0]!.value, null);

  const [a] = formGroup(h, [{ clientId: 'a', protocols: [{ name: 'range', metadata: subscription(['live']) }] }]).memberIds as [string];
  h.commit({ generationId: 1, memberId: a, topics: [commitTopic('live', [[0, 1n]]), commitTopic('gone', [[0, 2n]])] });
  const response = deleteOffsets('group', [['live', [0]], ['gone', [0]]]);
  assert.deepEqual(
    response.topics.map((topic) => [topic.name, topic.partitions[0]!.errorCode]),
    [
      ['live', ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC],
      ['gone', ErrorCode.NONE],
    ],
  );
  assert.equal(h.fetchOffset('live', 0), 1n);
  assert.equal(h.fetchOffset('gone', 0), -1n);

  assert.deepEqual(deleteOffsets('nobody', [['t', [0]]]), { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, throttleTimeMs: 0, topics: [] });

  // A live group of another protocol type (its first rebalance is still in its initial delay).
  h.join({ groupId: 'connect-group', version: 3, protocolType: 'connect', protocols: [{ name: 'v1', metadata: Buffer.from('x') }] });
  assert.equal(h.state('connect-group'), 'PreparingRebalance');
  assert.equal(deleteOffsets('connect-group', [['t', [0]]]).errorCode, ErrorCode.NON_EMPTY_GROUP);

  // Deleting the last offsets of an Empty group that once had members removes the group too.
  const h2 = new Harness();
  const { memberId } = h2.joinWithRequiredId();
  h2.sync(memberId, 1, [{ memberId, assignment: Buffer.from('x') }]);
  h2.commit({ generationId: 1, memberId, topics: [commitTopic('t', [[0, 1n]])] });
  h2.leave(memberId);
  const reply = new Reply<OffsetDeleteResponse>();
  h2.coordinator.offsetDelete(0, { groupId: 'group', topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }] }, reply.fn);
  assert.equal(reply.value.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  assert.deepEqual(h2.appends.at(-1)!.map((record) => [decodeOffsetsRecordKey(record.key).kind, record.value]), [
    ['offsetCommit', null],
    ['groupMetadata', null],
  ]);
  assert.equal(h2.coordinator.groupSnapshot('group'), null);
});
