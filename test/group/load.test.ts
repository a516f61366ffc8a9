import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  encodeGroupMetadataKey,
  groupMetadataRecord,
  groupTombstone,
  offsetCommitRecord,
  offsetTombstone,
  type OffsetsTopicRecord,
} from '../../src/group/offsets-records.js';
import { assignment, commitTopic, formGroup, Harness, startMs, subscription } from './harness.js';

const delayed = { config: { groupInitialRebalanceDelayMs: 100 } };

test('load() rebuilds groups and offsets written by another coordinator (failover)', () => {
  const before = new Harness(delayed);
  const [a, b] = formGroup(before, [{ clientId: 'a' }, { clientId: 'b' }]).memberIds as [string, string];
  before.commit({ generationId: 1, memberId: a, topics: [commitTopic('t', [[0, 10n], [1, 20n]], { leaderEpoch: 4, metadata: 'x' })] });
  before.commit({ generationId: 1, memberId: b, topics: [commitTopic('t', [[1, 21n]])] });
  before.commit({ groupId: 'simple', topics: [commitTopic('u', [[0, 5n]])] });

  const after = new Harness({ ...delayed, load: before.log() });
  const expected = before.coordinator.snapshot().map((group) => ({
    ...group,
    currentStateTimestampMs: null,
    members: group.members.map((member) => ({ ...member })),
  }));
  const actual = after.coordinator.snapshot().map((group) => ({ ...group, currentStateTimestampMs: null }));
  assert.deepEqual(actual, expected);

  // Members carry on with the loaded generation.
  assert.equal(after.heartbeat(a, 1), ErrorCode.NONE);
  assert.deepEqual(after.sync(b, 1).value.assignment, assignment(b));
  assert.equal(after.fetchOffset('t', 1), 21n);
  assert.equal(after.fetchOffset('u', 0, 'simple'), 5n);

  // b never heartbeats the new coordinator: its session expires, a rebalance follows.
  const maxSteps = 10;
  for (let step = 0; step < maxSteps && after.state() === 'Stable'; step++) {
    after.advance(3000);
    if (after.state() === 'Stable') assert.equal(after.heartbeat(a, 1), ErrorCode.NONE);
  }
  assert.equal(after.state(), 'PreparingRebalance');
  assert.equal(after.heartbeat(b, 1), ErrorCode.UNKNOWN_MEMBER_ID);
});

test('load(): the latest value per key wins and tombstones delete', () => {
  const member = {
    memberId: 'm-1',
    groupInstanceId: null,
    clientId: 'c',
    clientHost: '/h',
    rebalanceTimeoutMs: 30_000,
    sessionTimeoutMs: 10_000,
    subscription: subscription(['t']),
    assignment: assignment('m-1'),
  };
  const offset = (value: bigint) => ({ offset: value, leaderEpoch: -1, metadata: '', commitTimestampMs: startMs, expireTimestampMs: -1 });
  const groupValue = (generationId: number) => ({
    protocolType: 'consumer',
    generationId,
    protocolName: 'range',
    leaderId: 'm-1',
    currentStateTimestampMs: startMs,
    members: [member],
  });
  const records: OffsetsTopicRecord[] = [
    offsetCommitRecord('g1', 't', 0, offset(1n)),
    offsetCommitRecord('g1', 't', 0, offset(2n)),
    offsetCommitRecord('g1', 't', 1, offset(3n)),
    offsetTombstone('g1', 't', 1),
    groupMetadataRecord('g1', groupValue(3)),
    groupMetadataRecord('g1', groupValue(4)),
    // g2: metadata then its tombstone; its offsets survive as a simple group.
    groupMetadataRecord('g2', groupValue(1)),
    offsetCommitRecord('g2', 'x', 0, offset(9n)),
    groupTombstone('g2'),
    // g3: everything deleted.
    offsetCommitRecord('g3', 'x', 0, offset(9n)),
    offsetTombstone('g3', 'x', 0),
    // A KIP-848 record type and an undecodable record are skipped.
    { key: Buffer.from([0, 3, 0, 1, 0x41]), value: Buffer.from([0, 0]) },
    { key: encodeGroupMetadataKey('g4'), value: Buffer.from([0, 9, 1, 2]) },
    // The legacy key version 0 is an offset commit key too.
    { key: Buffer.concat([Buffer.from([0, 0]), offsetCommitRecord('g5', 'y', 2, offset(8n)).key.subarray(2)]), value: offsetCommitRecord('g5', 'y', 2, offset(8n)).value },
  ];
  const h = new Harness({ load: records });
  const groups = h.coordinator.snapshot();
  assert.deepEqual(groups.map((group) => [group.groupId, group.state, group.generationId]), [
    ['g1', 'Stable', 4],
    ['g2', 'Empty', 0],
    ['g5', 'Empty', 0],
  ]);
  assert.equal(h.fetchOffset('t', 0, 'g1'), 2n);
  assert.equal(h.fetchOffset('t', 1, 'g1'), -1n);
  assert.equal(h.fetchOffset('x', 0, 'g2'), 9n);
  assert.equal(h.fetchOffset('y', 2, 'g5'), 8n);
  assert.deepEqual(groups[0]!.members.map((each) => [each.memberId, each.assignment.toString()]), [['m-1', assignment('m-1').toString()]]);
  assert.equal(h.heartbeat('m-1', 4, { groupId: 'g1' }), ErrorCode.NONE);
});

test('load(): an Empty group keeps its protocol type and the time it became empty', () => {
  const records: OffsetsTopicRecord[] = [
    groupMetadataRecord('g', {
      protocolType: 'consumer',
      generationId: 7,
      protocolName: null,
      leaderId: null,
      currentStateTimestampMs: startMs - 1000,
      members: [],
    }),
    offsetCommitRecord('g', 't', 0, { offset: 1n, leaderEpoch: -1, metadata: '', commitTimestampMs: startMs - 5000, expireTimestampMs: -1 }),
  ];
  const h = new Harness({ load: records });
  const [group] = h.coordinator.snapshot();
  assert.equal(group!.state, 'Empty');
  assert.equal(group!.protocolType, 'consumer');
  assert.equal(group!.generationId, 7);
  assert.equal(group!.currentStateTimestampMs, startMs - 1000);
  // A new member starts generation 8.
  const join = h.join({ groupId: 'g', version: 3 });
  assert.equal(join.value.generationId, 8);
});

test('load() may run only once', () => {
  const h = new Harness();
  assert.throws(() => h.coordinator.load([]), /load\(\) in phase active/);
});
