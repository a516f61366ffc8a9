import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvariantError } from '../../src/runtime/assert.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { PartitionState, type LocalLogPosition, type PartitionRecordState } from '../../src/replication/partition-state.js';

const lagMs = 1000;

function record(leader: number, leaderEpoch: number, partitionEpoch: number, isr: number[], replicas: number[] = [0, 1, 2]): PartitionRecordState {
  return { leader, leaderEpoch, partitionEpoch, replicas, isr };
}

function position(logEndOffset: number, durableEndOffset = logEndOffset, highWatermark = 0): LocalLogPosition {
  return { logEndOffset, durableEndOffset, highWatermark };
}

function stateOn(nodeId: number, maxPendingAcks?: number): PartitionState {
  return new PartitionState({ topic: 'orders', partition: 0, localNodeId: nodeId, replicaLagTimeMaxMs: lagMs, ...(maxPendingAcks === undefined ? {} : { maxPendingAcks }) });
}

/** Node 0 leading epoch 1 over replicas 0-2 with `isr`, its log at `logEndOffset` (all durable). */
function leaderOf(isr: number[], logEndOffset = 10, highWatermark = 0): PartitionState {
  const state = stateOn(0);
  assert.equal(state.applyPartitionRecord(record(0, 1, 1, isr), 0, position(logEndOffset, logEndOffset, highWatermark)), 'becameLeader');
  state.takeReady();
  return state;
}

test('roles come from the partition record; a stale or repeated record changes nothing', () => {
  const leader = stateOn(0);
  assert.equal(leader.role, 'none');
  assert.equal(leader.applyPartitionRecord(record(0, 3, 7, [0, 1]), 0, position(20, 20, 15)), 'becameLeader');
  assert.deepEqual([leader.role, leader.leaderId, leader.leaderEpoch, leader.partitionEpoch], ['leader', 0, 3, 7]);
  assert.deepEqual(leader.isr, [0, 1]);
  assert.deepEqual(leader.replicas, [0, 1, 2]);
  assert.equal(leader.leaderEpochStartOffset, 20);
  assert.equal(leader.highWatermark, 15, 'a new leader starts from its checkpointed high watermark');
  assert.equal(leader.applyPartitionRecord(record(0, 3, 7, [0, 1]), 0, position(20)), 'unchanged');
  assert.equal(leader.applyPartitionRecord(record(0, 3, 6, [0]), 0, position(20)), 'unchanged');
  assert.deepEqual(leader.isr, [0, 1]);
  const follower = stateOn(1);
  assert.equal(follower.applyPartitionRecord(record(0, 3, 7, [0, 1]), 0, position(12, 12, 30)), 'becameFollower');
  assert.deepEqual([follower.role, follower.leaderId, follower.leaderEpochStartOffset], ['follower', 0, -1]);
  assert.equal(follower.highWatermark, 12, 'the checkpointed high watermark is capped by the log end');
  assert.equal(follower.applyPartitionRecord(record(1, 4, 8, [1], [1, 2]), 0, position(12)), 'becameLeader');
  assert.equal(leader.applyPartitionRecord(record(1, 4, 8, [1], [1, 2]), 0, position(20)), 'stopped');
  assert.equal(leader.role, 'none');
});

test('the leader epoch never moves back, and one epoch has one leader (always-on assertions)', () => {
  const state = leaderOf([0, 1, 2]);
  state.applyPartitionRecord(record(1, 2, 2, [0, 1, 2]), 0, position(10));
  assert.throws(() => state.applyPartitionRecord(record(0, 1, 3, [0, 1, 2]), 0, position(10)), InvariantError);
  assert.throws(() => state.applyPartitionRecord(record(2, 2, 3, [0, 1, 2]), 0, position(10)), InvariantError);
});

test('a new leader knows no follower position: the high watermark waits for every ISR member\'s first fetch', () => {
  const state = leaderOf([0, 1, 2], 10, 4);
  state.onLocalLogChanged(12, 12);
  assert.equal(state.highWatermark, 4);
  state.onFollowerFetch(1, 12, 1, 12);
  assert.equal(state.highWatermark, 4, 'follower 2 has not fetched in this epoch');
  state.onFollowerFetch(2, 9, 2, 12);
  assert.equal(state.highWatermark, 9);
  assert.equal(state.takeReady().highWatermarkMoved, true);
  assert.equal(state.takeReady().highWatermarkMoved, false, 'effects are handed out once');
});

test('the high watermark is the minimum durable end over the leader and the ISR', () => {
  const state = leaderOf([0, 1, 2]);
  state.onFollowerFetch(1, 10, 1, 10);
  state.onFollowerFetch(2, 10, 1, 10);
  assert.equal(state.highWatermark, 10);
  state.onLocalLogChanged(15, 10); // appended, not yet fsynced here
  state.onFollowerFetch(1, 15, 2, 15);
  state.onFollowerFetch(2, 15, 2, 15);
  assert.equal(state.highWatermark, 10, 'the leader\'s own fsync is still missing');
  state.onLocalLogChanged(15, 15);
  assert.equal(state.highWatermark, 15);
  state.onLocalLogChanged(20, 20);
  state.onFollowerFetch(1, 18, 3, 20);
  assert.equal(state.highWatermark, 15, 'follower 2 is still at 15');
  state.onFollowerFetch(2, 20, 3, 20);
  assert.equal(state.highWatermark, 18);
  state.onFollowerFetch(1, 17, 4, 20); // a position reported lower does not move the high watermark back
  assert.equal(state.highWatermark, 18);
});

test('ISR expansion: a follower at the high watermark and past the epoch start is proposed; one change in flight', () => {
  const state = leaderOf([0], 10);
  state.onLocalLogChanged(10, 10);
  assert.equal(state.highWatermark, 10);
  state.onFollowerFetch(1, 8, 1, 10);
  assert.equal(state.takeReady().alterPartition, null, 'below the high watermark');
  state.onFollowerFetch(1, 10, 2, 10);
  assert.deepEqual(state.takeReady().alterPartition, { newIsr: [0, 1], leaderEpoch: 1, partitionEpoch: 1 });
  assert.equal(state.isAlterPartitionInFlight, true);
  assert.deepEqual(state.maximalIsr, [0, 1]);
  state.onFollowerFetch(2, 10, 2, 10);
  assert.equal(state.takeReady().alterPartition, null, 'at most one AlterPartition in flight');
  // The pending member already holds the high watermark back.
  state.onLocalLogChanged(14, 14);
  assert.equal(state.highWatermark, 10);
  assert.equal(state.applyPartitionRecord(record(0, 1, 2, [0, 1]), 3, position(14)), 'updated');
  assert.deepEqual(state.isr, [0, 1]);
  assert.equal(state.isAlterPartitionInFlight, false);
  state.onFollowerFetch(2, 10, 4, 14);
  assert.deepEqual(state.takeReady().alterPartition, { newIsr: [0, 1, 2], leaderEpoch: 1, partitionEpoch: 2 });
});

test('ISR expansion waits until the follower reached the start of the leader\'s epoch', () => {
  const state = stateOn(0);
  state.applyPartitionRecord(record(0, 1, 1, [0]), 0, position(10, 6, 6)); // offsets 6-9 not yet fsynced here
  assert.deepEqual([state.highWatermark, state.leaderEpochStartOffset], [6, 10]);
  state.onFollowerFetch(1, 8, 1, 10);
  assert.equal(state.takeReady().alterPartition, null);
  state.onFollowerFetch(1, 10, 2, 10);
  assert.deepEqual(state.takeReady().alterPartition?.newIsr, [0, 1]);
});

test('ISR shrink: a follower not caught up for replicaLagTimeMaxMs is proposed out at tick; it holds the HW until committed', () => {
  const state = leaderOf([0, 1, 2]);
  state.onFollowerFetch(1, 10, 0, 10);
  state.onFollowerFetch(2, 10, 0, 10);
  state.onLocalLogChanged(20, 20);
  state.onFollowerFetch(1, 20, 500, 20);
  state.tick(lagMs);
  assert.equal(state.takeReady().alterPartition, null, 'follower 2 was caught up at 0: within the lag');
  state.tick(lagMs + 1);
  assert.deepEqual(state.takeReady().alterPartition, { newIsr: [0, 1], leaderEpoch: 1, partitionEpoch: 1 });
  assert.deepEqual(state.maximalIsr, [0, 1, 2], 'a pending shrink still counts the member leaving');
  assert.equal(state.highWatermark, 10);
  state.applyPartitionRecord(record(0, 1, 2, [0, 1]), lagMs + 2, position(20));
  assert.equal(state.highWatermark, 20);
});

test('a follower always slightly behind stays in the ISR while it reaches the previous fetch\'s log end', () => {
  const state = leaderOf([0, 1]);
  let leaderEnd = 10;
  for (let nowMs = 0; nowMs <= 5 * lagMs; nowMs += lagMs / 2) {
    state.onFollowerFetch(1, leaderEnd, nowMs, leaderEnd + 3); // it has what the last fetch saw, 3 appended since
    leaderEnd += 3;
    state.onLocalLogChanged(leaderEnd, leaderEnd);
    state.tick(nowMs);
  }
  assert.equal(state.takeReady().alterPartition, null);
  assert.deepEqual(state.isr, [0, 1]);
});

test('an AlterPartition the controller did not apply is dropped and proposed again at a later tick', () => {
  const state = leaderOf([0, 1]);
  state.tick(lagMs + 1);
  assert.deepEqual(state.takeReady().alterPartition?.newIsr, [0]);
  state.onAlterPartitionFailed(ErrorCode.INELIGIBLE_REPLICA);
  assert.equal(state.isAlterPartitionInFlight, false);
  state.tick(lagMs + 2);
  assert.deepEqual(state.takeReady().alterPartition?.newIsr, [0]);
  assert.throws(() => state.onAlterPartitionFailed(ErrorCode.NONE), InvariantError);
});

test('an AlterPartition refused for a retriable error is sent again, still in flight', () => {
  const state = leaderOf([0, 1]);
  state.tick(lagMs + 1);
  const proposal = state.takeReady().alterPartition;
  assert.deepEqual(proposal?.newIsr, [0]);
  state.onAlterPartitionFailed(ErrorCode.REQUEST_TIMED_OUT);
  assert.equal(state.isAlterPartitionInFlight, true);
  assert.deepEqual(state.takeReady().alterPartition, proposal);
});

test('an expansion refused as stale keeps holding the high watermark until the newer record arrives', () => {
  // Found by the replication simulation (REGRESSION_SEEDS of test/sim/replication-sim.test.ts):
  // the leader's expansion to [0, 1, 2] was committed but its answer lost; the leader's retry
  // was refused with INVALID_UPDATE_VERSION (the partition epoch had moved, by that very
  // expansion). Dropping the pending member then let the high watermark pass follower 2, which
  // the controller had in the ISR and could elect.
  const state = leaderOf([0, 1]);
  state.onFollowerFetch(1, 10, 1, 10);
  state.onFollowerFetch(2, 10, 1, 10);
  const expansion = state.takeReady().alterPartition;
  assert.deepEqual(expansion?.newIsr, [0, 1, 2]);
  state.onLocalLogChanged(20, 20);
  state.onFollowerFetch(1, 20, 2, 20);
  assert.equal(state.highWatermark, 10, 'the member being added holds it');
  for (const errorCode of [ErrorCode.INVALID_UPDATE_VERSION, ErrorCode.FENCED_LEADER_EPOCH]) {
    state.onAlterPartitionFailed(errorCode);
    state.tick(2 + lagMs + 1); // follower 2 is no longer caught up
    assert.equal(state.isAlterPartitionInFlight, true, 'it waits for the newer record');
    assert.equal(state.highWatermark, 10, 'follower 2 may be in the committed ISR: it still holds the high watermark');
    assert.equal(state.takeReady().alterPartition, null, 'nothing is proposed on a stale partition epoch');
  }
  assert.equal(state.applyPartitionRecord(record(0, 1, 2, [0, 1, 2]), 3 + lagMs, position(20)), 'updated');
  assert.equal(state.isAlterPartitionInFlight, false);
  assert.equal(state.highWatermark, 10);
});

test('a dropped expansion no longer holds the high watermark', () => {
  const state = leaderOf([0]);
  state.onLocalLogChanged(10, 10);
  state.onFollowerFetch(1, 10, 1, 10);
  state.takeReady();
  state.onLocalLogChanged(30, 30);
  state.tick(lagMs + 5); // follower 1 is no longer caught up
  assert.equal(state.highWatermark, 10, 'the pending member holds it');
  state.onAlterPartitionFailed(ErrorCode.INELIGIBLE_REPLICA);
  assert.equal(state.highWatermark, 30);
});

test('a caught-up follower outside the ISR holds the high watermark back until its lag expires', () => {
  const state = leaderOf([0]);
  state.onLocalLogChanged(10, 10);
  state.onFollowerFetch(1, 10, 100, 10);
  state.onAlterPartitionFailed(ErrorCode.INELIGIBLE_REPLICA);
  state.onLocalLogChanged(16, 16);
  assert.equal(state.highWatermark, 10, 'follower 1 was caught up 0 ms ago');
  state.tick(100 + lagMs + 1);
  assert.equal(state.highWatermark, 16);
});

test('acks complete NONE once the high watermark covers them with enough ISR members', () => {
  const state = leaderOf([0, 1]);
  state.onLocalLogChanged(15, 15);
  state.addPendingAck(7, 15, 5000, 2);
  state.onFollowerFetch(1, 12, 1, 15);
  assert.deepEqual(state.takeReady().completedAcks, []);
  state.onFollowerFetch(1, 15, 2, 15);
  assert.deepEqual(state.takeReady().completedAcks, [{ ackId: 7, errorCode: ErrorCode.NONE }]);
  assert.equal(state.pendingAckCount, 0);
  state.addPendingAck(8, 15, 5000, 2);
  assert.deepEqual(state.takeReady().completedAcks, [{ ackId: 8, errorCode: ErrorCode.NONE }], 'already covered: at once');
});

test('acks covered after the ISR shrank below min.insync.replicas complete NOT_ENOUGH_REPLICAS_AFTER_APPEND', () => {
  const state = leaderOf([0, 1]);
  state.onFollowerFetch(1, 10, 0, 10);
  state.onLocalLogChanged(15, 15);
  state.addPendingAck(1, 15, 50_000, 2);
  state.tick(lagMs + 1);
  assert.deepEqual(state.takeReady(), { completedAcks: [], alterPartition: { newIsr: [0], leaderEpoch: 1, partitionEpoch: 1 }, highWatermarkMoved: true });
  assert.equal(state.highWatermark, 10, 'follower 1 stopped at 10');
  state.applyPartitionRecord(record(0, 1, 2, [0]), lagMs + 2, position(15));
  assert.deepEqual(state.takeReady().completedAcks, [{ ackId: 1, errorCode: ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND }]);
});

test('acks time out at their deadline, fail when leadership goes, and are kept across a re-election', () => {
  const state = leaderOf([0, 1]);
  state.onLocalLogChanged(15, 15);
  state.addPendingAck(1, 15, 300, 1);
  state.addPendingAck(2, 15, 900, 1);
  state.tick(299);
  assert.deepEqual(state.takeReady().completedAcks, []);
  state.tick(300);
  assert.deepEqual(state.takeReady().completedAcks, [{ ackId: 1, errorCode: ErrorCode.REQUEST_TIMED_OUT }]);
  assert.equal(state.applyPartitionRecord(record(0, 2, 2, [0, 1]), 400, position(15)), 'becameLeader');
  assert.equal(state.pendingAckCount, 1, 'still leading: the ack waits on');
  assert.equal(state.applyPartitionRecord(record(1, 3, 3, [0, 1]), 500, position(15)), 'becameFollower');
  assert.deepEqual(state.takeReady().completedAcks, [{ ackId: 2, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }]);
  state.addPendingAck(3, 15, 900, 1);
  assert.deepEqual(state.takeReady().completedAcks, [{ ackId: 3, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }], 'not leading: at once');
});

test('stop fails the pending acks; a full pending-ack queue answers REQUEST_TIMED_OUT at once', () => {
  const state = stateOn(0, 2);
  state.applyPartitionRecord(record(0, 1, 1, [0, 1]), 0, position(10));
  state.addPendingAck(1, 11, 1000, 1);
  state.addPendingAck(2, 11, 1000, 1);
  state.addPendingAck(3, 11, 1000, 1);
  assert.deepEqual(state.takeReady().completedAcks, [{ ackId: 3, errorCode: ErrorCode.REQUEST_TIMED_OUT }]);
  assert.throws(() => state.addPendingAck(2, 11, 1000, 1), InvariantError, 'an ack id waits once');
  state.stop();
  assert.equal(state.role, 'none');
  assert.deepEqual(state.takeReady().completedAcks.map((ack) => [ack.ackId, ack.errorCode]), [[1, ErrorCode.NOT_LEADER_OR_FOLLOWER], [2, ErrorCode.NOT_LEADER_OR_FOLLOWER]]);
});

test('appendProblem: not leading, or acks=-1 with a committed ISR below min.insync.replicas', () => {
  const state = leaderOf([0, 1]);
  assert.equal(state.appendProblem(-1, 2), null);
  assert.equal(state.appendProblem(-1, 3), ErrorCode.NOT_ENOUGH_REPLICAS);
  assert.equal(state.appendProblem(1, 3), null);
  assert.equal(stateOn(1).appendProblem(1, 1), ErrorCode.NOT_LEADER_OR_FOLLOWER);
});

test('a follower\'s high watermark is min(leader HW, local log end) and never moves back', () => {
  const state = stateOn(1);
  state.applyPartitionRecord(record(0, 1, 1, [0, 1]), 0, position(5));
  state.onLeaderHighWatermark(8, 6);
  assert.equal(state.highWatermark, 6);
  state.onLeaderHighWatermark(8, 10);
  assert.equal(state.highWatermark, 8);
  state.onLeaderHighWatermark(3, 10); // a new leader may announce an older value first
  assert.equal(state.highWatermark, 8);
  state.onTruncated(9);
  assert.throws(() => state.onTruncated(7), InvariantError, 'truncation below the high watermark');
});

test('a fenced node outside the ISR never holds the high watermark back, however recently it caught up', () => {
  // Node 2 caught up at time 100, then died; the controller fenced it and took it out of the ISR.
  const state = leaderOf([0, 1, 2], 10);
  state.onFollowerFetch(1, 10, 100, 10);
  state.onFollowerFetch(2, 10, 100, 10);
  assert.equal(state.highWatermark, 10);
  state.applyPartitionRecord(record(0, 1, 2, [0, 1]), 150, position(10));
  state.onLocalLogChanged(20, 20);
  state.onFollowerFetch(1, 20, 200, 20);
  assert.equal(state.highWatermark, 10, 'node 2 caught up within replicaLagTimeMaxMs: Kafka waits for a follower about to rejoin');
  state.setFencedNodes(new Set([2]));
  assert.equal(state.highWatermark, 20, 'fenced, it no longer counts');
  state.onFollowerFetch(2, 20, 210, 20);
  assert.equal(state.takeReady().alterPartition, null, 'and a fenced node is not proposed back into the ISR');
  state.setFencedNodes(new Set());
  state.onFollowerFetch(2, 20, 220, 20);
  assert.deepEqual(state.takeReady().alterPartition?.newIsr, [0, 1, 2], 'unfenced and caught up, it rejoins');
});
