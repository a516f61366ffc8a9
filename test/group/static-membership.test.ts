import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { OffsetsAppendError } from '../../src/group/persist-errors.js';
import { decodeGroupMetadataValue } from '../../src/group/offsets-records.js';
import { assignment, formGroup, Harness, subscription } from './harness.js';

const delayed = { config: { groupInitialRebalanceDelayMs: 100 } };

function staticGroup(h: Harness) {
  return formGroup(h, [
    { clientId: 'a', groupInstanceId: 'instance-a' },
    { clientId: 'b', groupInstanceId: 'instance-b' },
  ]);
}

test('static members join without MEMBER_ID_REQUIRED', () => {
  const h = new Harness();
  const join = h.join({ memberId: '', groupInstanceId: 'instance-a', clientId: 'a' });
  assert.equal(join.value.errorCode, ErrorCode.NONE);
  assert.equal(join.value.memberId, 'instance-a-1');
  assert.deepEqual(join.value.members, [
    { memberId: 'instance-a-1', groupInstanceId: 'instance-a', metadata: subscription(['topic']) },
  ]);
});

test('a static member restarts while Stable: no rebalance, same assignment, old id fenced', () => {
  const h = new Harness(delayed);
  const { memberIds, leaderId } = staticGroup(h);
  const [oldA, b] = memberIds as [string, string];
  assert.equal(leaderId, oldA);
  const appendsBefore = h.appends.length;

  h.persistMode = 'hold';
  const restart = h.join({ memberId: '', groupInstanceId: 'instance-a', clientId: 'a' });
  assert.equal(restart.answered, false, 'answered once the new member id is durable');
  assert.equal(h.appends.length, appendsBefore + 1);
  const stored = decodeGroupMetadataValue(h.appends.at(-1)![0]!.value!);
  h.completeHeld();

  const newA = restart.value.memberId;
  assert.notEqual(newA, oldA);
  assert.deepEqual(restart.value, {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    generationId: 1,
    protocolName: 'range',
    // The old leader id: the restarted leader must not compute an assignment nobody would get.
    leader: oldA,
    memberId: newA,
    members: [],
  });
  assert.equal(h.state(), 'Stable');
  assert.deepEqual(
    stored.members.map((member) => [member.memberId, member.groupInstanceId, member.assignment.toString()]).sort(),
    [
      [b, 'instance-b', assignment(b).toString()],
      [newA, 'instance-a', assignment(oldA).toString()],
    ].sort(),
  );

  const sync = h.sync(newA, 1, [], { groupInstanceId: 'instance-a' });
  assert.deepEqual(sync.value.assignment, assignment(oldA), 'the previous assignment, unchanged');
  assert.equal(h.heartbeat(newA, 1, { groupInstanceId: 'instance-a' }), ErrorCode.NONE);
  assert.equal(h.heartbeat(oldA, 1, { groupInstanceId: 'instance-a' }), ErrorCode.FENCED_INSTANCE_ID);
  assert.equal(h.sync(oldA, 1, [], { groupInstanceId: 'instance-a' }).value.errorCode, ErrorCode.FENCED_INSTANCE_ID);
  const zombieJoin = h.join({ memberId: oldA, groupInstanceId: 'instance-a', clientId: 'a' });
  assert.equal(zombieJoin.value.errorCode, ErrorCode.FENCED_INSTANCE_ID);
  assert.equal(h.heartbeat(b, 1, { groupInstanceId: 'instance-b' }), ErrorCode.NONE);
  assert.equal(h.state(), 'Stable');
});

test('a static restart whose metadata write fails is undone and the joiner gets the error', () => {
  const h = new Harness(delayed);
  const [oldA] = staticGroup(h).memberIds as [string, string];
  h.failWith = new OffsetsAppendError('lost leadership', ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const restart = h.join({ memberId: '', groupInstanceId: 'instance-a', clientId: 'a' });
  assert.equal(restart.value.errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(restart.value.memberId, '');
  h.failWith = null;
  assert.equal(h.heartbeat(oldA, 1, { groupInstanceId: 'instance-a' }), ErrorCode.NONE, 'the old id is back');
});

test('a static member restarting during a rebalance replaces its parked old self', () => {
  const h = new Harness(delayed);
  const [oldA, b] = staticGroup(h).memberIds as [string, string];
  h.joinWithRequiredId({ clientId: 'c' });
  const parkedOld = h.join({ memberId: oldA, groupInstanceId: 'instance-a', clientId: 'a' });
  const restarted = h.join({ memberId: '', groupInstanceId: 'instance-a', clientId: 'a' });
  assert.equal(parkedOld.value.errorCode, ErrorCode.FENCED_INSTANCE_ID);
  assert.equal(restarted.answered, false);
  h.join({ memberId: b, groupInstanceId: 'instance-b', clientId: 'b' });
  assert.equal(restarted.value.generationId, 2);
  assert.equal(restarted.value.leader, restarted.value.memberId, 'leadership moved with the instance');
});

test('a static member that misses a rebalance keeps its place (it may be restarting)', () => {
  const h = new Harness(delayed);
  const [a, b] = staticGroup(h).memberIds as [string, string];
  const c = h.joinWithRequiredId({ clientId: 'c', rebalanceTimeoutMs: 30_000 });
  const rejoinA = h.join({ memberId: a, groupInstanceId: 'instance-a', clientId: 'a' });
  // b keeps its session alive but does not rejoin before the rebalance timeout.
  const maxSteps = 20;
  for (let step = 0; step < maxSteps && !rejoinA.answered; step++) {
    h.advance(3000);
    if (!rejoinA.answered) assert.equal(h.heartbeat(b, 1, { groupInstanceId: 'instance-b' }), ErrorCode.REBALANCE_IN_PROGRESS);
  }
  assert.equal(rejoinA.value.generationId, 2);
  assert.deepEqual(rejoinA.value.members.map((member) => member.memberId).sort(), [a, b, c.memberId].sort());
  assert.equal(h.heartbeat(b, 2, { groupInstanceId: 'instance-b' }), ErrorCode.NONE);
});

test('a static restart that changes the selected protocol triggers a rebalance', () => {
  const h = new Harness();
  const first = h.join({
    groupInstanceId: 'solo',
    protocols: [
      { name: 'range', metadata: subscription(['t']) },
      { name: 'roundrobin', metadata: subscription(['t']) },
    ],
  });
  const id = first.value.memberId;
  h.sync(id, 1, [{ memberId: id, assignment: assignment('x') }], { groupInstanceId: 'solo' });
  const restart = h.join({
    groupInstanceId: 'solo',
    protocols: [
      { name: 'roundrobin', metadata: subscription(['t']) },
      { name: 'range', metadata: subscription(['t']) },
    ],
  });
  assert.equal(restart.value.generationId, 2);
  assert.equal(restart.value.protocolName, 'roundrobin');
});
