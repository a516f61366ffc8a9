import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { decodeOffsetsRecordKey } from '../../src/group/offsets-records.js';
import type { DeletedGroupResult } from '../../src/group/types.js';
import { assignment, commitTopic, formGroup, Harness, Reply, subscription } from './harness.js';

const delayed = { config: { groupInitialRebalanceDelayMs: 100 } };

test('DescribeGroups: Stable with metadata and assignments, rebalancing without, unknown as Dead', () => {
  const h = new Harness(delayed);
  const [a, b] = formGroup(h, [
    { clientId: 'a', protocols: [{ name: 'range', metadata: subscription(['t1']) }] },
    { clientId: 'b', protocols: [{ name: 'range', metadata: subscription(['t2']) }] },
  ]).memberIds as [string, string];
  const [stable, unknown] = h.coordinator.describeGroups(4, ['group', 'nobody']);
  assert.deepEqual(stable, {
    errorCode: ErrorCode.NONE,
    groupId: 'group',
    groupState: 'Stable',
    protocolType: 'consumer',
    protocolData: 'range',
    members: [
      { memberId: a, groupInstanceId: null, clientId: 'a', clientHost: '/127.0.0.1', memberMetadata: subscription(['t1']), memberAssignment: assignment(a) },
      { memberId: b, groupInstanceId: null, clientId: 'b', clientHost: '/127.0.0.1', memberMetadata: subscription(['t2']), memberAssignment: assignment(b) },
    ],
    authorizedOperations: -2147483648,
  });
  assert.deepEqual(unknown, {
    errorCode: ErrorCode.NONE,
    groupId: 'nobody',
    groupState: 'Dead',
    protocolType: '',
    protocolData: '',
    members: [],
    authorizedOperations: -2147483648,
  });

  h.joinWithRequiredId({ clientId: 'c' });
  const [rebalancing] = h.coordinator.describeGroups(4, ['group'], true);
  assert.equal(rebalancing!.groupState, 'PreparingRebalance');
  assert.equal(rebalancing!.protocolData, '');
  assert.equal(rebalancing!.members.length, 3);
  for (const member of rebalancing!.members) {
    assert.equal(member.memberMetadata.length, 0);
    assert.equal(member.memberAssignment.length, 0);
  }
  assert.equal(rebalancing!.authorizedOperations, (1 << 3) | (1 << 6) | (1 << 8));

  const elsewhere = new Harness({ partition: 0, partitionCount: 2 });
  assert.equal(elsewhere.coordinator.describeGroups(0, ['group'])[0]!.errorCode, ErrorCode.NOT_COORDINATOR);
});

test('ListGroups: every group of the partition, sorted, with its protocol type', () => {
  const h = new Harness();
  h.commit({ groupId: 'simple', topics: [commitTopic('t', [[0, 1n]])] });
  h.join({ groupId: 'consumers', version: 3 });
  assert.deepEqual(h.coordinator.listGroups(2), {
    errorCode: ErrorCode.NONE,
    groups: [
      { groupId: 'consumers', protocolType: 'consumer' },
      { groupId: 'simple', protocolType: '' },
    ],
  });
  assert.deepEqual(new Harness({ load: null }).coordinator.listGroups(2), {
    errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    groups: [],
  });
});

test('DeleteGroups: NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, and tombstones for an Empty group', () => {
  const h = new Harness();
  h.commit({ groupId: 'idle', topics: [commitTopic('t', [[0, 1n], [1, 2n]])] });
  const { memberId } = h.joinWithRequiredId({ groupId: 'busy' });
  h.sync(memberId, 1, [{ memberId, assignment: assignment('x') }], { groupId: 'busy' });
  const { memberId: gone } = h.joinWithRequiredId({ groupId: 'was-busy' });
  h.leave(gone, 'was-busy');
  assert.equal(h.state('was-busy'), 'Empty');

  h.persistMode = 'hold';
  const reply = new Reply<DeletedGroupResult[]>();
  const before = h.appends.length;
  h.coordinator.deleteGroups(1, ['idle', 'busy', 'nobody', 'was-busy'], reply.fn);
  assert.equal(reply.answered, false, 'answered once the tombstones are durable');
  const tombstones = h.appends.slice(before).flat();
  assert.deepEqual(
    tombstones.map((record) => [decodeOffsetsRecordKey(record.key), record.value]),
    [
      [{ kind: 'offsetCommit', group: 'idle', topic: 't', partition: 0 }, null],
      [{ kind: 'offsetCommit', group: 'idle', topic: 't', partition: 1 }, null],
      // 'idle' never had a generation, so no group tombstone; 'was-busy' did.
      [{ kind: 'groupMetadata', group: 'was-busy' }, null],
    ],
  );
  h.completeHeld();
  assert.deepEqual(reply.value, [
    { groupId: 'idle', errorCode: ErrorCode.NONE },
    { groupId: 'busy', errorCode: ErrorCode.NON_EMPTY_GROUP },
    { groupId: 'nobody', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    { groupId: 'was-busy', errorCode: ErrorCode.NONE },
  ]);
  assert.equal(h.fetchOffset('t', 0, 'idle'), -1n);
  assert.deepEqual(h.coordinator.listGroups(1).groups.map((group) => group.groupId), ['busy']);

  h.persistMode = 'durable';
  h.failWith = new Error('append failed');
  h.commit({ groupId: 'again', topics: [commitTopic('t', [[0, 1n]])] });
  h.failWith = null;
  h.commit({ groupId: 'again', topics: [commitTopic('t', [[0, 1n]])] });
  h.failWith = new Error('append failed');
  const failed = new Reply<DeletedGroupResult[]>();
  h.coordinator.deleteGroups(1, ['again'], failed.fn);
  assert.deepEqual(failed.value, [{ groupId: 'again', errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE }]);
});

test('snapshot: groups, members, assignments and offsets for the CLI', () => {
  const h = new Harness();
  const { memberId } = h.joinWithRequiredId({ clientId: 'cli' });
  h.sync(memberId, 1, [{ memberId, assignment: assignment('p0') }]);
  h.commit({ generationId: 1, memberId, topics: [commitTopic('t', [[0, 12n]], { metadata: 'meta' })] });
  const [group] = h.coordinator.snapshot();
  assert.equal(group!.groupId, 'group');
  assert.equal(group!.state, 'Stable');
  assert.equal(group!.generationId, 1);
  assert.equal(group!.leaderId, memberId);
  assert.equal(group!.protocolName, 'range');
  assert.deepEqual(group!.members.map((member) => [member.memberId, member.clientId, member.assignment.toString()]), [
    [memberId, 'cli', assignment('p0').toString()],
  ]);
  assert.deepEqual(group!.offsets.map((offset) => [offset.topic, offset.partition, offset.offset, offset.metadata]), [
    ['t', 0, 12n, 'meta'],
  ]);
});
