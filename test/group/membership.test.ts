import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { decodeGroupMetadataValue, decodeOffsetsRecordKey } from '../../src/group/offsets-records.js';
import { assignment, formGroup, Harness, subscription } from './harness.js';

const delayed = { config: { groupInitialRebalanceDelayMs: 100 } };

test('single member: MEMBER_ID_REQUIRED, join, heartbeat, sync, heartbeat', () => {
  const h = new Harness();
  const first = h.join({ memberId: '', clientId: 'app' });
  assert.deepEqual(first.value, {
    throttleTimeMs: 0,
    errorCode: ErrorCode.MEMBER_ID_REQUIRED,
    generationId: -1,
    protocolName: '',
    leader: '',
    memberId: 'app-1',
    members: [],
  });
  assert.equal(h.state(), 'Empty', 'a pending member does not start a rebalance');

  const metadata = subscription(['topic']);
  const join = h.join({ memberId: 'app-1', clientId: 'app' });
  assert.deepEqual(join.value, {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    generationId: 1,
    protocolName: 'range',
    leader: 'app-1',
    memberId: 'app-1',
    members: [{ memberId: 'app-1', groupInstanceId: null, metadata }],
  });
  assert.equal(h.state(), 'CompletingRebalance');
  assert.equal(h.heartbeat('app-1', 1), ErrorCode.NONE, 'heartbeats between join and sync are fine');

  const sync = h.sync('app-1', 1, [{ memberId: 'app-1', assignment: assignment('a') }]);
  assert.deepEqual(sync.value, { throttleTimeMs: 0, errorCode: ErrorCode.NONE, assignment: assignment('a') });
  assert.equal(h.state(), 'Stable');

  // The completed generation was persisted as group metadata, like Kafka's storeGroup.
  const written = h.log();
  assert.equal(written.length, 1);
  assert.deepEqual(decodeOffsetsRecordKey(written[0]!.key), { kind: 'groupMetadata', group: 'group' });
  const value = decodeGroupMetadataValue(written[0]!.value!);
  assert.equal(value.generationId, 1);
  assert.equal(value.protocolName, 'range');
  assert.equal(value.leaderId, 'app-1');
  assert.deepEqual(value.members.map((member) => [member.memberId, member.assignment]), [['app-1', assignment('a')]]);

  assert.equal(h.heartbeat('app-1', 1), ErrorCode.NONE);
  assert.equal(h.heartbeat('app-1', 0), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(h.heartbeat('stranger', 1), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(h.heartbeat('app-1', 1, { groupId: 'other' }), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(h.sync('app-1', 1).value.assignment.toString(), assignment('a').toString(), 'Stable: current assignment');
});

test('JoinGroup v3 gets a member id at once (no MEMBER_ID_REQUIRED before v4)', () => {
  const h = new Harness();
  const join = h.join({ version: 3, memberId: '', clientId: 'old' });
  assert.equal(join.value.errorCode, ErrorCode.NONE);
  assert.equal(join.value.memberId, 'old-1');
  assert.equal(join.value.leader, 'old-1');
  assert.equal(join.value.generationId, 1);
});

test('JoinGroup v0 uses the session timeout as the rebalance timeout', () => {
  const h = new Harness();
  const join = h.join({ version: 0, sessionTimeoutMs: 7000, rebalanceTimeoutMs: -1 });
  assert.equal(join.value.errorCode, ErrorCode.NONE);
  assert.equal(h.coordinator.groupSnapshot('group')!.members[0]!.rebalanceTimeoutMs, 7000);
});

test('a pending member id lapses after the session timeout', () => {
  const h = new Harness();
  const first = h.join({ memberId: '', sessionTimeoutMs: 6000 });
  assert.equal(first.value.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.deepEqual(h.coordinator.groupSnapshot('group')!.pendingMemberIds, [first.value.memberId]);
  h.advance(5999);
  assert.deepEqual(h.coordinator.groupSnapshot('group')!.pendingMemberIds, [first.value.memberId]);
  h.advance(1);
  // The group had nothing else: it is gone at the next expiry check, not before.
  assert.deepEqual(h.coordinator.groupSnapshot('group')?.pendingMemberIds ?? [], []);
  const late = h.join({ memberId: first.value.memberId });
  assert.equal(late.value.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('two members in one generation: the leader sees both, followers wait for its assignment', () => {
  const h = new Harness(delayed);
  const a = h.joinWithRequiredId({ clientId: 'a', protocols: [{ name: 'range', metadata: subscription(['t1']) }] });
  const b = h.joinWithRequiredId({ clientId: 'b', protocols: [{ name: 'range', metadata: subscription(['t2']) }] });
  h.advance(99);
  assert.equal(a.reply.answered, false, 'the initial delay holds the first rebalance');
  h.advance(1);
  assert.equal(a.reply.answered, false, 'b joined during the delay: it was extended');
  h.advance(100);
  const leader = a.reply.value;
  const follower = b.reply.value;
  assert.equal(leader.generationId, 1);
  assert.equal(follower.generationId, 1);
  assert.equal(leader.leader, a.memberId);
  assert.equal(follower.leader, a.memberId);
  assert.deepEqual(leader.members, [
    { memberId: a.memberId, groupInstanceId: null, metadata: subscription(['t1']) },
    { memberId: b.memberId, groupInstanceId: null, metadata: subscription(['t2']) },
  ]);
  assert.deepEqual(follower.members, []);

  const followerSync = h.sync(b.memberId, 1);
  assert.equal(followerSync.answered, false, 'the follower waits for the leader');
  h.persistMode = 'hold';
  const leaderSync = h.sync(a.memberId, 1, [
    { memberId: a.memberId, assignment: assignment('a') },
    { memberId: b.memberId, assignment: assignment('b') },
  ]);
  assert.equal(leaderSync.answered, false, 'assignments go out after the group metadata is durable');
  assert.equal(h.state(), 'CompletingRebalance');
  h.completeHeld();
  assert.deepEqual(leaderSync.value.assignment, assignment('a'));
  assert.deepEqual(followerSync.value.assignment, assignment('b'));
  assert.equal(h.state(), 'Stable');
});

test('a third member: others see REBALANCE_IN_PROGRESS, rejoin, and a new generation starts', () => {
  const h = new Harness(delayed);
  const formed = formGroup(h, [{ clientId: 'a' }, { clientId: 'b' }]);
  const [a, b] = formed.memberIds as [string, string];
  const c = h.joinWithRequiredId({ clientId: 'c' });
  assert.equal(c.reply.answered, false);
  assert.equal(h.state(), 'PreparingRebalance');
  assert.equal(h.heartbeat(a, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(h.heartbeat(b, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(h.sync(a, 1).value.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);

  const rejoinA = h.join({ memberId: a, clientId: 'a' });
  assert.equal(rejoinA.answered, false, 'b has not rejoined yet');
  const rejoinB = h.join({ memberId: b, clientId: 'b' });
  for (const reply of [rejoinA, rejoinB, c.reply]) {
    assert.equal(reply.value.errorCode, ErrorCode.NONE);
    assert.equal(reply.value.generationId, 2);
    assert.equal(reply.value.leader, a);
  }
  assert.deepEqual(rejoinA.value.members.map((member) => member.memberId), [a, b, c.memberId]);
  assert.deepEqual(rejoinB.value.members, []);
  assert.equal(h.heartbeat(a, 1), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(h.heartbeat(a, 2), ErrorCode.NONE);
});

test('session timeout: the silent member is removed and the survivor gets a new assignment', () => {
  const h = new Harness(delayed);
  const [a, b] = formGroup(h, [{ clientId: 'a' }, { clientId: 'b' }]).memberIds as [string, string];
  // Session 10 s. a heartbeats every 3 s; b is silent.
  const maxSteps = 10;
  for (let step = 0; step < maxSteps && h.state() === 'Stable'; step++) {
    h.advance(3000);
    if (h.state() === 'Stable') assert.equal(h.heartbeat(a, 1), ErrorCode.NONE);
  }
  assert.equal(h.state(), 'PreparingRebalance');
  assert.deepEqual(h.coordinator.groupSnapshot('group')!.members.map((member) => member.memberId), [a]);
  assert.equal(h.heartbeat(a, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(h.heartbeat(b, 1), ErrorCode.UNKNOWN_MEMBER_ID);
  const rejoin = h.join({ memberId: a, clientId: 'a' });
  assert.equal(rejoin.value.generationId, 2);
  assert.deepEqual(rejoin.value.members.map((member) => member.memberId), [a]);
  const sync = h.sync(a, 2, [{ memberId: a, assignment: assignment('all') }]);
  assert.deepEqual(sync.value.assignment, assignment('all'));
});

test('a member that does not rejoin within the rebalance timeout is dropped', () => {
  const h = new Harness(delayed);
  const [a, b] = formGroup(h, [
    { clientId: 'a', rebalanceTimeoutMs: 20_000 },
    { clientId: 'b', rebalanceTimeoutMs: 20_000 },
  ]).memberIds as [string, string];
  const c = h.joinWithRequiredId({ clientId: 'c', rebalanceTimeoutMs: 20_000 });
  const rejoinA = h.join({ memberId: a, clientId: 'a', rebalanceTimeoutMs: 20_000 });
  // b keeps heartbeating (so its session stays alive) but never rejoins.
  const maxSteps = 10;
  for (let step = 0; step < maxSteps && !rejoinA.answered; step++) {
    h.advance(3000);
    if (!rejoinA.answered) assert.equal(h.heartbeat(b, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  }
  assert.equal(h.clock.nowMs() - 1_700_000_000_000 >= 20_000, true);
  assert.equal(rejoinA.value.generationId, 2);
  assert.deepEqual(rejoinA.value.members.map((member) => member.memberId), [a, c.memberId]);
  assert.equal(c.reply.value.generationId, 2);
  assert.equal(h.heartbeat(b, 1), ErrorCode.UNKNOWN_MEMBER_ID);
});

test('LeaveGroup v1: the leaver is gone, the other rejoins alone', () => {
  const h = new Harness(delayed);
  const [a, b] = formGroup(h, [{ clientId: 'a' }, { clientId: 'b' }]).memberIds as [string, string];
  assert.deepEqual(h.leave(b), { throttleTimeMs: 0, errorCode: ErrorCode.NONE, members: [] });
  assert.deepEqual(h.leave(b), { throttleTimeMs: 0, errorCode: ErrorCode.UNKNOWN_MEMBER_ID, members: [] });
  assert.equal(h.leave('x', 'nope').errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(h.heartbeat(a, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  const rejoin = h.join({ memberId: a, clientId: 'a' });
  assert.equal(rejoin.value.generationId, 2);
  assert.deepEqual(rejoin.value.members.map((member) => member.memberId), [a]);
});

test('the last member leaving empties the group and persists the empty generation', () => {
  const h = new Harness();
  const { memberId } = h.joinWithRequiredId();
  h.sync(memberId, 1, [{ memberId, assignment: assignment('x') }]);
  const before = h.log().length;
  assert.equal(h.leave(memberId).errorCode, ErrorCode.NONE);
  assert.equal(h.state(), 'Empty');
  const snapshot = h.coordinator.groupSnapshot('group')!;
  assert.equal(snapshot.generationId, 2);
  assert.equal(snapshot.protocolType, 'consumer');
  const written = h.log().slice(before);
  assert.equal(written.length, 1);
  const value = decodeGroupMetadataValue(written[0]!.value!);
  assert.equal(value.generationId, 2);
  assert.equal(value.protocolName, null);
  assert.equal(value.leaderId, null);
  assert.deepEqual(value.members, []);
});

test('LeaveGroup v3 batch: per-member results, removal by group.instance.id, fencing', () => {
  const h = new Harness(delayed);
  const [a, s1, s2, d] = formGroup(h, [
    { clientId: 'a' },
    { clientId: 's1', groupInstanceId: 'instance-1' },
    { clientId: 's2', groupInstanceId: 'instance-2' },
    { clientId: 'd' },
  ]).memberIds as [string, string, string, string];
  const response = h.leaveBatch([
    { memberId: a, groupInstanceId: null },
    { memberId: 'ghost', groupInstanceId: null },
    { memberId: '', groupInstanceId: 'instance-1' },
    { memberId: 'wrong-id', groupInstanceId: 'instance-2' },
    { memberId: '', groupInstanceId: 'no-such-instance' },
  ]);
  assert.deepEqual(response, {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    members: [
      { memberId: a, groupInstanceId: null, errorCode: ErrorCode.NONE },
      { memberId: 'ghost', groupInstanceId: null, errorCode: ErrorCode.UNKNOWN_MEMBER_ID },
      { memberId: '', groupInstanceId: 'instance-1', errorCode: ErrorCode.NONE },
      { memberId: 'wrong-id', groupInstanceId: 'instance-2', errorCode: ErrorCode.FENCED_INSTANCE_ID },
      { memberId: '', groupInstanceId: 'no-such-instance', errorCode: ErrorCode.UNKNOWN_MEMBER_ID },
    ],
  });
  const remaining = h.coordinator.groupSnapshot('group')!.members.map((member) => member.memberId);
  assert.deepEqual(remaining.sort(), [s2, d].sort());
  assert.equal(h.state(), 'PreparingRebalance');
  void s1;
});

test('protocol selection: common protocols only, most votes wins, ties to the earliest voter', () => {
  const rr = { name: 'roundrobin', metadata: subscription(['t']) };
  const range = { name: 'range', metadata: subscription(['t']) };
  const sticky = { name: 'sticky', metadata: subscription(['t']) };

  const h = new Harness(delayed);
  h.joinWithRequiredId({ clientId: 'a', protocols: [rr, range] });
  h.joinWithRequiredId({ clientId: 'b', protocols: [range, rr] });
  const c = h.joinWithRequiredId({ clientId: 'c', protocols: [sticky, range] });
  h.advance(100);
  h.advance(100);
  assert.equal(c.reply.value.protocolName, 'range', 'only range is supported by all three');

  const h2 = new Harness(delayed);
  h2.joinWithRequiredId({ clientId: 'a', protocols: [range, rr] });
  h2.joinWithRequiredId({ clientId: 'b', protocols: [rr, range] });
  const c2 = h2.joinWithRequiredId({ clientId: 'c', protocols: [rr, range] });
  h2.advance(100);
  h2.advance(100);
  assert.equal(c2.reply.value.protocolName, 'roundrobin', 'two votes against one');

  const h3 = new Harness(delayed);
  h3.joinWithRequiredId({ clientId: 'a', protocols: [rr, range] });
  const b3 = h3.joinWithRequiredId({ clientId: 'b', protocols: [range, rr] });
  h3.advance(100);
  h3.advance(100);
  assert.equal(b3.reply.value.protocolName, 'roundrobin', 'a tie goes to the first member');
});

test('INCONSISTENT_GROUP_PROTOCOL: no common protocol, another protocol type, or none at all', () => {
  const h = new Harness();
  const { memberId } = h.joinWithRequiredId({ protocols: [{ name: 'range', metadata: subscription(['t']) }] });
  h.sync(memberId, 1, [{ memberId, assignment: assignment('x') }]);
  const other = h.join({ memberId: '', protocols: [{ name: 'RoundRobinAssigner', metadata: subscription(['t']) }] });
  assert.deepEqual(other.value, {
    throttleTimeMs: 0,
    errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    generationId: -1,
    protocolName: '',
    leader: '',
    memberId: '',
    members: [],
  });
  assert.equal(h.join({ memberId: '', protocolType: 'connect' }).value.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(h.join({ groupId: 'fresh', protocolType: '' }).value.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(h.join({ groupId: 'fresh2', protocols: [] }).value.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(h.state(), 'Stable', 'refused joins do not disturb the group');
});

test('INVALID_SESSION_TIMEOUT, INVALID_GROUP_ID, UNKNOWN_MEMBER_ID for an id in an unknown group', () => {
  const h = new Harness();
  assert.equal(h.join({ sessionTimeoutMs: 5999 }).value.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal(h.join({ sessionTimeoutMs: 1_800_001 }).value.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal(h.join({ groupId: '' }).value.errorCode, ErrorCode.INVALID_GROUP_ID);
  const unknown = h.join({ memberId: 'made-up' });
  assert.equal(unknown.value.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(unknown.value.memberId, 'made-up');
  assert.equal(h.coordinator.groupSnapshot('group'), null);
});

test('group.max.size: the member beyond the limit gets GROUP_MAX_SIZE_REACHED', () => {
  const h = new Harness({ config: { groupMaxSize: 2, groupInitialRebalanceDelayMs: 100 } });
  formGroup(h, [{ clientId: 'a' }, { clientId: 'b' }]);
  const third = h.join({ memberId: '', version: 3, clientId: 'c' });
  assert.equal(third.value.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
  assert.equal(third.value.memberId, '');
  assert.equal(h.state(), 'Stable');
});

test('cooperative rejoin while Stable (librdkafka cooperative-sticky): revoke, rejoin, next generation', () => {
  const h = new Harness(delayed);
  const owning = (owned: number[]) => [{ name: 'cooperative-sticky', metadata: subscription(['t'], owned) }];
  const [a, b] = formGroup(h, [
    { clientId: 'a', protocols: owning([]) },
    { clientId: 'b', protocols: owning([]) },
  ]).memberIds as [string, string];
  // Generation 1 gave a partitions 0,1 and b 2,3 (the assignor's business). c joins.
  const c = h.joinWithRequiredId({ clientId: 'c', protocols: owning([]) });
  assert.equal(h.heartbeat(a, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(h.heartbeat(b, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  // Cooperative members rejoin keeping their partitions, reported as owned.
  const a2 = h.join({ memberId: a, clientId: 'a', protocols: owning([0, 1]) });
  const b2 = h.join({ memberId: b, clientId: 'b', protocols: owning([2, 3]) });
  assert.equal(a2.value.generationId, 2);
  assert.equal(b2.value.generationId, 2);
  // Generation 2: the leader revokes partition 1 from a (given to nobody yet).
  const syncB = h.sync(b, 2);
  const syncC = h.sync(c.memberId, 2);
  const syncA = h.sync(a, 2, [
    { memberId: a, assignment: assignment('0') },
    { memberId: b, assignment: assignment('2,3') },
    { memberId: c.memberId, assignment: assignment('') },
  ]);
  assert.deepEqual([syncA.value.errorCode, syncB.value.errorCode, syncC.value.errorCode], [0, 0, 0]);
  assert.equal(h.state(), 'Stable');

  // A follower rejoining with unchanged metadata gets the current generation, no rebalance.
  const same = h.join({ memberId: b, clientId: 'b', protocols: owning([2, 3]) });
  assert.equal(same.value.generationId, 2);
  assert.equal(same.value.leader, a);
  assert.deepEqual(same.value.members, []);
  assert.equal(h.state(), 'Stable');

  // a revoked partition 1 and rejoins while Stable: its owned partitions changed.
  const a3 = h.join({ memberId: a, clientId: 'a', protocols: owning([0]) });
  assert.equal(a3.answered, false);
  assert.equal(h.state(), 'PreparingRebalance');
  assert.equal(h.heartbeat(b, 2), ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(h.heartbeat(c.memberId, 2), ErrorCode.REBALANCE_IN_PROGRESS);
  const b3 = h.join({ memberId: b, clientId: 'b', protocols: owning([2, 3]) });
  const c3 = h.join({ memberId: c.memberId, clientId: 'c', protocols: owning([]) });
  for (const reply of [a3, b3, c3]) assert.equal(reply.value.generationId, 3);
  assert.equal(a3.value.leader, a);
  assert.deepEqual(
    a3.value.members.find((member) => member.memberId === a)!.metadata,
    subscription(['t'], [0]),
    'the leader sees what each member owns now',
  );
  const syncs = [h.sync(b, 3), h.sync(c.memberId, 3)];
  h.sync(a, 3, [
    { memberId: a, assignment: assignment('0') },
    { memberId: b, assignment: assignment('2,3') },
    { memberId: c.memberId, assignment: assignment('1') },
  ]);
  assert.deepEqual(syncs[1]!.value.assignment, assignment('1'));
  assert.equal(h.state(), 'Stable');
});

test('a member repeating JoinGroup during CompletingRebalance gets the same generation again', () => {
  const h = new Harness(delayed);
  const a = h.joinWithRequiredId({ clientId: 'a' });
  const b = h.joinWithRequiredId({ clientId: 'b' });
  h.advance(100);
  h.advance(100);
  assert.equal(h.state(), 'CompletingRebalance');
  const again = h.join({ memberId: a.memberId, clientId: 'a' });
  assert.deepEqual(again.value, a.reply.value, 'the leader gets the member list again');
  const againB = h.join({ memberId: b.memberId, clientId: 'b' });
  assert.deepEqual(againB.value, b.reply.value);
  assert.equal(h.state(), 'CompletingRebalance');
});

test('SyncGroup errors: unknown member, wrong generation, rebalance in progress, unknown group', () => {
  const h = new Harness(delayed);
  const [a] = formGroup(h, [{ clientId: 'a' }, { clientId: 'b' }]).memberIds as [string, string];
  assert.equal(h.sync('ghost', 1).value.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(h.sync(a, 7).value.errorCode, ErrorCode.ILLEGAL_GENERATION);
  assert.equal(h.sync(a, 1, [], { groupId: 'none' }).value.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  h.joinWithRequiredId({ clientId: 'c' });
  assert.deepEqual(h.sync(a, 1).value, { throttleTimeMs: 0, errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) });
});

test('a leader that never sends SyncGroup: members that did not sync are removed, rebalance', () => {
  const h = new Harness({ config: { groupInitialRebalanceDelayMs: 100 } });
  const a = h.joinWithRequiredId({ clientId: 'a', rebalanceTimeoutMs: 15_000 });
  const b = h.joinWithRequiredId({ clientId: 'b', rebalanceTimeoutMs: 15_000 });
  h.advance(100);
  h.advance(100);
  assert.equal(a.reply.value.leader, a.memberId);
  const followerSync = h.sync(b.memberId, 1);
  // The leader stays alive (heartbeats) but never syncs. The sync deadline is 15 s after join.
  const steps = 4;
  for (let step = 0; step < steps; step++) {
    h.advance(3000);
    assert.equal(h.heartbeat(a.memberId, 1), ErrorCode.NONE);
  }
  h.advance(2999);
  assert.equal(followerSync.answered, false);
  h.advance(1);
  assert.equal(followerSync.value.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(h.state(), 'PreparingRebalance');
  assert.deepEqual(h.coordinator.groupSnapshot('group')!.members.map((member) => member.memberId), [b.memberId]);
  assert.equal(h.heartbeat(a.memberId, 1), ErrorCode.UNKNOWN_MEMBER_ID);
});

test('a repeated JoinGroup supersedes the parked one, which is still answered', () => {
  const h = new Harness(delayed);
  const [a, b] = formGroup(h, [{ clientId: 'a' }, { clientId: 'b' }]).memberIds as [string, string];
  h.joinWithRequiredId({ clientId: 'c' });
  const first = h.join({ memberId: a, clientId: 'a' });
  const second = h.join({ memberId: a, clientId: 'a' });
  assert.equal(first.value.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(second.answered, false);
  h.join({ memberId: b, clientId: 'b' });
  assert.equal(second.value.generationId, 2);
});

test('the initial delay: 300 ms by default, extended per newcomer, bounded by the rebalance timeout', () => {
  const h = new Harness({ config: { groupInitialRebalanceDelayMs: 300 } });
  assert.equal(h.coordinator.config.groupInitialRebalanceDelayMs, 300);
  const a = h.joinWithRequiredId({ clientId: 'a', rebalanceTimeoutMs: 1000 });
  h.advance(299);
  assert.equal(a.reply.answered, false);
  h.advance(1);
  assert.equal(a.reply.value.generationId, 1, 'alone: done after one delay');

  // Newcomers keep extending the delay, but never past the rebalance timeout (1000 ms).
  const h2 = new Harness({ config: { groupInitialRebalanceDelayMs: 300 } });
  const first = h2.joinWithRequiredId({ clientId: 'first', rebalanceTimeoutMs: 1000 });
  let joined = 1;
  const maxSteps = 20;
  let elapsedMs = 0;
  for (let step = 0; step < maxSteps && !first.reply.answered; step++) {
    h2.joinWithRequiredId({ clientId: `m${joined++}`, rebalanceTimeoutMs: 1000 });
    h2.advance(100);
    elapsedMs += 100;
  }
  assert.equal(first.reply.value.members.length, joined);
  assert.ok(elapsedMs >= 900 && elapsedMs <= 1000, `completed after ${elapsedMs} ms`);
});

test('routing and lifecycle: NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, unload answers parked requests', () => {
  // With 2 partitions, "group" (hash 98629247) lives on partition 1.
  const wrong = new Harness({ partition: 0, partitionCount: 2 });
  assert.equal(wrong.join().value.errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(wrong.heartbeat('m', 1), ErrorCode.NOT_COORDINATOR);

  const loading = new Harness({ load: null });
  assert.equal(loading.join().value.errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(loading.heartbeat('m', 1), ErrorCode.NONE, 'Kafka answers heartbeats blindly while loading');
  assert.equal(loading.sync('m', 1).value.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  loading.coordinator.load([]);
  assert.equal(loading.join().value.errorCode, ErrorCode.MEMBER_ID_REQUIRED);

  const h = new Harness(delayed);
  const [a, b] = formGroup(h, [{ clientId: 'a' }, { clientId: 'b' }]).memberIds as [string, string];
  const c = h.joinWithRequiredId({ clientId: 'c' });
  const rejoin = h.join({ memberId: a, clientId: 'a' });
  h.coordinator.unload();
  assert.equal(rejoin.value.errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(c.reply.value.errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(h.heartbeat(b, 1), ErrorCode.NOT_COORDINATOR);
  assert.deepEqual(h.coordinator.snapshot(), []);
});

test('a failed write of the assignment fails the SyncGroups and restarts the rebalance', () => {
  const h = new Harness(delayed);
  const a = h.joinWithRequiredId({ clientId: 'a' });
  const b = h.joinWithRequiredId({ clientId: 'b' });
  h.advance(100);
  h.advance(100);
  const followerSync = h.sync(b.memberId, 1);
  h.failWith = new Error('append failed');
  const leaderSync = h.sync(a.memberId, 1, [
    { memberId: a.memberId, assignment: assignment('a') },
    { memberId: b.memberId, assignment: assignment('b') },
  ]);
  for (const reply of [leaderSync, followerSync]) {
    assert.deepEqual(reply.value, { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, assignment: Buffer.alloc(0) });
  }
  assert.equal(h.state(), 'PreparingRebalance');
  h.failWith = null;
  h.join({ memberId: a.memberId, clientId: 'a' });
  const rejoinB = h.join({ memberId: b.memberId, clientId: 'b' });
  assert.equal(rejoinB.value.generationId, 2);
});

test('a new member whose first JoinGroup stays parked for 5 minutes is dropped', () => {
  const h = new Harness(delayed);
  const [a] = formGroup(h, [
    { clientId: 'a', rebalanceTimeoutMs: 600_000 },
    { clientId: 'b', rebalanceTimeoutMs: 600_000 },
  ]).memberIds as [string, string];
  const c = h.joinWithRequiredId({ clientId: 'c', rebalanceTimeoutMs: 600_000 });
  // Nobody else rejoins; a and b keep their sessions alive.
  const maxSteps = 200;
  for (let step = 0; step < maxSteps && !c.reply.answered; step++) {
    h.advance(5000);
    h.heartbeat(a, 1);
    h.heartbeat(formGroupMember(h, 'b'), 1);
  }
  assert.equal(c.reply.value.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(c.reply.value.memberId, '');
  assert.ok(h.clock.nowMs() - 1_700_000_000_000 >= 300_000);
  assert.equal(h.state(), 'PreparingRebalance');
});

function formGroupMember(h: Harness, clientId: string): string {
  return h.coordinator.groupSnapshot('group')!.members.find((member) => member.clientId === clientId)!.memberId;
}

test('replies may call back into the coordinator (effects run after the state update)', () => {
  const h = new Harness();
  let syncErrorCode = -99;
  h.coordinator.joinGroup(3, { ...joinRequestFor('re-entrant') }, 'client', '/h', (response) => {
    h.coordinator.syncGroup(
      3,
      { groupId: 'group', generationId: response.generationId, memberId: response.memberId, groupInstanceId: null, assignments: [] },
      (sync) => {
        syncErrorCode = sync.errorCode;
      },
    );
  });
  assert.equal(syncErrorCode, ErrorCode.NONE);
  assert.equal(h.state(), 'Stable');
});

function joinRequestFor(clientId: string) {
  return {
    groupId: 'group',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription([clientId]) }],
  };
}

test('nextDeadlineMs tells a sleeping caller when the next timer is due', () => {
  const h = new Harness({ config: { groupInitialRebalanceDelayMs: 300, offsetsRetentionCheckIntervalMs: 600_000 } });
  const now = h.clock.nowMs();
  assert.equal(h.coordinator.nextDeadlineMs(), now + 600_000, 'only the offset expiry check');
  h.joinWithRequiredId({ clientId: 'a', sessionTimeoutMs: 6000 });
  assert.equal(h.coordinator.nextDeadlineMs(), now + 300, 'the initial rebalance delay');
});

test('a rebalance whose members all left still accepts a newcomer (and completes)', () => {
  const h = new Harness(delayed);
  const a = h.joinWithRequiredId({ clientId: 'a' });
  assert.equal(h.leave(a.memberId).errorCode, ErrorCode.NONE);
  assert.equal(a.reply.value.errorCode, ErrorCode.UNKNOWN_MEMBER_ID, 'the parked join is answered');
  assert.equal(h.state(), 'PreparingRebalance');
  const b = h.joinWithRequiredId({ clientId: 'b', protocols: [{ name: 'roundrobin', metadata: subscription(['t']) }] });
  h.advance(100);
  h.advance(100);
  assert.equal(b.reply.value.errorCode, ErrorCode.NONE);
  assert.equal(b.reply.value.protocolName, 'roundrobin');
  assert.equal(b.reply.value.generationId, 1);
});
