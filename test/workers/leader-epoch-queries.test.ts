/**
 * The node side of OffsetForLeaderEpoch against stand-in replicas: Kafka's order of checks
 * (not hosted, offline log, current leader epoch, leadership) and the cache's answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { LeaderEpochCache } from '../../src/replication/leader-epoch-cache.js';
import { currentLeaderEpochError } from '../../src/replication/leader-epoch-fencing.js';
import { offsetForLeaderEpoch, offsetsForLeaderEpoch } from '../../src/workers/leader-epoch-queries.js';
import type { PartitionReplica } from '../../src/workers/partition-replica.js';

interface ReplicaShape {
  isLeader: boolean;
  leaderEpoch: number;
  isOffline?: boolean;
  logEndOffset: number;
  epochs: Array<[number, number]>;
}

/** Only what the queries read of a PartitionReplica. */
function replicaOf(shape: ReplicaShape): PartitionReplica {
  const leaderEpochs = new LeaderEpochCache(shape.epochs.map(([epoch, startOffset]) => ({ epoch, startOffset })));
  const log = { isOffline: shape.isOffline ?? false, logEndOffset: shape.logEndOffset, leaderEpochs };
  return { topic: 't', partition: 0, isLeader: shape.isLeader, leaderEpoch: shape.leaderEpoch, log } as unknown as PartitionReplica;
}

// Epoch 0 wrote offsets 0-9, epoch 2 wrote 10-24, epoch 5 (current) from 25 up to the log end 30.
const leader = replicaOf({ isLeader: true, leaderEpoch: 5, logEndOffset: 30, epochs: [[0, 0], [2, 10], [5, 25]] });
const follower = replicaOf({ isLeader: false, leaderEpoch: 5, logEndOffset: 30, epochs: [[0, 0], [2, 10], [5, 25]] });

function ask(replica: PartitionReplica | undefined, leaderEpoch: number, currentLeaderEpoch = -1): [number, number, number] {
  const result = offsetForLeaderEpoch(replica, { topic: 't', partition: 0, currentLeaderEpoch, leaderEpoch });
  return [result.errorCode, result.leaderEpoch, result.endOffset];
}

test('the current epoch ends at the log end offset; an older one where the next epoch starts', () => {
  assert.deepEqual(ask(leader, 5), [ErrorCode.NONE, 5, 30]);
  assert.deepEqual(ask(leader, 5, 5), [ErrorCode.NONE, 5, 30]);
  assert.deepEqual(ask(leader, 2, 5), [ErrorCode.NONE, 2, 25]);
  assert.deepEqual(ask(leader, 0), [ErrorCode.NONE, 0, 10]);
});

test('an epoch the log never had answers the largest epoch below it, or the first start below every epoch', () => {
  assert.deepEqual(ask(leader, 3), [ErrorCode.NONE, 2, 25]);
  assert.deepEqual(ask(leader, 1), [ErrorCode.NONE, 0, 10]);
  const truncatedAtStart = replicaOf({ isLeader: true, leaderEpoch: 5, logEndOffset: 30, epochs: [[2, 12], [5, 25]] });
  assert.deepEqual(ask(truncatedAtStart, 1), [ErrorCode.NONE, 1, 12]);
});

test('epoch -1 and an epoch above every known one answer NONE with -1 / -1 (Kafka\'s undefined answer)', () => {
  assert.deepEqual(ask(leader, -1), [ErrorCode.NONE, -1, -1]);
  assert.deepEqual(ask(leader, 9), [ErrorCode.NONE, -1, -1]);
});

test('current leader epoch: older is fenced, newer is unknown, checked before leadership as Kafka does', () => {
  assert.deepEqual(ask(leader, 2, 4), [ErrorCode.FENCED_LEADER_EPOCH, -1, -1]);
  assert.deepEqual(ask(leader, 2, 6), [ErrorCode.UNKNOWN_LEADER_EPOCH, -1, -1]);
  assert.deepEqual(ask(follower, 2, 4), [ErrorCode.FENCED_LEADER_EPOCH, -1, -1]);
  assert.deepEqual(ask(follower, 2, 5), [ErrorCode.NOT_LEADER_OR_FOLLOWER, -1, -1]);
  assert.deepEqual(ask(follower, 2), [ErrorCode.NOT_LEADER_OR_FOLLOWER, -1, -1]);
});

test('a partition not hosted here is NOT_LEADER_OR_FOLLOWER; an offline log is KAFKA_STORAGE_ERROR before any epoch check', () => {
  assert.deepEqual(ask(undefined, 2, 4), [ErrorCode.NOT_LEADER_OR_FOLLOWER, -1, -1]);
  const offline = replicaOf({ isLeader: true, leaderEpoch: 5, isOffline: true, logEndOffset: 30, epochs: [[5, 0]] });
  assert.deepEqual(ask(offline, 5, 4), [ErrorCode.KAFKA_STORAGE_ERROR, -1, -1]);
});

test('a batch of partitions answers in request order, looking each replica up by topic and partition', () => {
  const hosted = new Map([['t/0', leader], ['t/1', follower]]);
  const results = offsetsForLeaderEpoch(
    [
      { topic: 't', partition: 1, currentLeaderEpoch: -1, leaderEpoch: 2 },
      { topic: 't', partition: 0, currentLeaderEpoch: 5, leaderEpoch: 2 },
      { topic: 'u', partition: 0, currentLeaderEpoch: -1, leaderEpoch: 2 },
    ],
    (topic, partition) => hosted.get(`${topic}/${partition}`),
  );
  assert.deepEqual(results.map((result) => result.errorCode), [ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NONE, ErrorCode.NOT_LEADER_OR_FOLLOWER]);
  assert.deepEqual(results[1], { errorCode: ErrorCode.NONE, leaderEpoch: 2, endOffset: 25 });
});

test('currentLeaderEpochError: only -1 skips the check (another negative epoch is fenced, as in Kafka)', () => {
  assert.equal(currentLeaderEpochError(-1, 3), ErrorCode.NONE);
  assert.equal(currentLeaderEpochError(3, 3), ErrorCode.NONE);
  assert.equal(currentLeaderEpochError(2, 3), ErrorCode.FENCED_LEADER_EPOCH);
  assert.equal(currentLeaderEpochError(-2, 3), ErrorCode.FENCED_LEADER_EPOCH);
  assert.equal(currentLeaderEpochError(4, 3), ErrorCode.UNKNOWN_LEADER_EPOCH);
});
