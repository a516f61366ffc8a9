/**
 * The two KIP-101 scenarios, scripted on the replication simulation (the same cluster, nodes,
 * controller and invariants the random runs use, with faults off). Before KIP-101 a restarted
 * follower truncated its log to its checkpointed high watermark, which lags the leader's; with
 * leader epochs it keeps its log and truncates only where it and the leader diverge.
 *
 * (a) A follower restarts before learning the high watermark that covers an acknowledged write;
 *     the leader dies; the follower becomes leader: the write is kept, and the old leader's
 *     unreplicated tail is truncated when it returns.
 * (b) Back-to-back leader failures: the leader dies, the new leader dies shortly after (losing
 *     what it had not fsynced), the first returns: its log and the second's agree afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationCluster } from '../sim/replication-cluster.js';
import { sameBatch, type SimBatch } from '../sim/replication-log.js';
import { ReplicaRole } from '../../src/replication/partition-state.js';

const PARTITION = 0;
const STEP_LIMIT_MS = 2000;

function scriptedCluster(seed: number, truncateToHighWatermarkOnRestart = false): ReplicationCluster {
  // One partition on nodes [0, 1, 2], led by 0 in epoch 0.
  const cluster = new ReplicationCluster({ seed, nodeCount: 3, partitionCount: 1, faults: false, clusterRestart: false, truncateToHighWatermarkOnRestart });
  reach(cluster, 'the cluster settles', () => cluster.isSettled());
  return cluster;
}

/** Runs until `done`; fails with the cluster's state otherwise. */
function reach(cluster: ReplicationCluster, what: string, done: () => boolean): void {
  const reached = cluster.runUntil(done, STEP_LIMIT_MS);
  assert.deepEqual(cluster.checker.violations, [], what);
  assert.ok(reached, `${what}: not within ${STEP_LIMIT_MS} ms (${cluster.summary()})`);
}

function stateOf(cluster: ReplicationCluster, nodeId: number) {
  return cluster.nodes[nodeId]!.replicas[PARTITION]!.state;
}

function logOf(cluster: ReplicationCluster, nodeId: number) {
  return cluster.nodes[nodeId]!.logs[PARTITION]!;
}

function controllerState(cluster: ReplicationCluster) {
  return cluster.controller.image.partition('sim', PARTITION)!;
}

function holds(cluster: ReplicationCluster, nodeId: number, batch: SimBatch): boolean {
  return sameBatch(logOf(cluster, nodeId).batchAtOffset(batch.baseOffset), batch);
}

function isAcknowledged(cluster: ReplicationCluster, batch: SimBatch): boolean {
  return cluster.checker.acknowledged.some((write) => write.batch === batch);
}

/** Node 2 goes away, so the ISR is the leader 0 and the follower 1. */
function shrinkToTwo(cluster: ReplicationCluster): void {
  cluster.crash(2, false);
  reach(cluster, 'the ISR shrinks to [0, 1]', () => controllerState(cluster).isr.join() === '0,1' && stateOf(cluster, 0).isr.join() === '0,1');
}

function finish(cluster: ReplicationCluster): void {
  cluster.finish(5000);
  assert.deepEqual(cluster.checker.violations, []);
}

/** Scenario (a) up to the moment the restarted follower leads; returns the acknowledged write. */
function followerRestartsThenLeads(cluster: ReplicationCluster): { acknowledged: SimBatch; tail: SimBatch } {
  shrinkToTwo(cluster);
  const acknowledged = cluster.produce(PARTITION, 0)!;
  assert.ok(acknowledged !== null);
  const end = acknowledged.lastOffset + 1;
  reach(cluster, 'the write is acknowledged while follower 1 has not learned the high watermark', () =>
    isAcknowledged(cluster, acknowledged) && stateOf(cluster, 0).highWatermark >= end && stateOf(cluster, 1).highWatermark < end);
  assert.ok(logOf(cluster, 1).durableEndOffset >= end, 'follower 1 holds the write durably (its fetch offset said so)');

  // Follower 1 crashes silently (its session is still valid); the leader writes an unreplicated tail.
  cluster.crash(1, true);
  const tail = cluster.produce(PARTITION, 0)!;
  assert.ok(tail !== null, 'the ISR is still [0, 1]: the produce is accepted');
  reach(cluster, 'the leader fsyncs its tail', () => logOf(cluster, 0).durableEndOffset > tail.lastOffset);
  assert.ok(logOf(cluster, 1).checkpointedHighWatermark < end, 'follower 1 checkpointed a high watermark below the write');

  // The leader dies: the controller elects follower 1, still in the ISR; its session then times out.
  cluster.crash(0, false);
  reach(cluster, 'the controller elects follower 1 (its session is still valid)', () => controllerState(cluster).leader === 1);
  reach(cluster, 'its session times out: fenced, the partition offline', () => cluster.controller.isFenced(1) && controllerState(cluster).leader === -1);
  cluster.restart(1);
  cluster.runUntil(() => stateOf(cluster, 1).role === ReplicaRole.LEADER, STEP_LIMIT_MS);
  return { acknowledged, tail };
}

test('KIP-101 (a): a follower restarted before learning the high watermark becomes leader without losing an acknowledged write', () => {
  const cluster = scriptedCluster(101);
  const { acknowledged, tail } = followerRestartsThenLeads(cluster);
  assert.deepEqual(cluster.checker.violations, []);
  assert.equal(stateOf(cluster, 1).role, ReplicaRole.LEADER, 'node 1 returns and leads');
  assert.ok(holds(cluster, 1, acknowledged), 'the new leader kept the acknowledged write (no truncation to its high watermark)');

  // The old leader returns: its unreplicated tail of epoch 0 diverges and goes.
  cluster.restart(0);
  reach(cluster, 'node 0 truncates its diverged tail', () => cluster.nodes[0]!.truncations > 0 && !holds(cluster, 0, tail));
  cluster.restart(2);
  finish(cluster);
  for (const nodeId of [0, 1, 2]) assert.ok(holds(cluster, nodeId, acknowledged), `node ${nodeId} holds the acknowledged write`);
  assert.equal(logOf(cluster, 0).logEndOffset, logOf(cluster, 1).logEndOffset);
});

test('KIP-101 (a) catches the old rule: truncating to the checkpointed high watermark on restart loses the acknowledged write', () => {
  const cluster = scriptedCluster(101, true);
  followerRestartsThenLeads(cluster);
  assert.equal(cluster.checker.violations.length, 1, cluster.checker.violations.join('; '));
  assert.match(cluster.checker.violations[0]!, /acknowledged .* is lost on n1, new leader of epoch/);
});

test('KIP-101 (b): back-to-back leader failures leave no divergence when the first leader returns', () => {
  const cluster = scriptedCluster(202);
  shrinkToTwo(cluster);
  const acknowledged = cluster.produce(PARTITION, 0)!;
  reach(cluster, 'the first write is acknowledged', () => isAcknowledged(cluster, acknowledged));

  // Follower 1 fetches the next write but never fsyncs it.
  cluster.holdFsync(1, true);
  const unsynced = cluster.produce(PARTITION, 0)!;
  reach(cluster, 'node 1 fetched the second write (unsynced); node 0 fsynced it', () =>
    logOf(cluster, 1).logEndOffset > unsynced.lastOffset && logOf(cluster, 0).durableEndOffset > unsynced.lastOffset);
  assert.ok(logOf(cluster, 1).durableEndOffset <= unsynced.baseOffset);

  // The leader dies; node 1 leads epoch 1, then dies shortly after and loses the unsynced write.
  cluster.crash(0, false);
  reach(cluster, 'node 1 leads', () => stateOf(cluster, 1).role === ReplicaRole.LEADER);
  const firstEpochOfNode1 = stateOf(cluster, 1).leaderEpoch;
  cluster.crash(1, false);
  cluster.holdFsync(1, false);
  assert.ok(!holds(cluster, 1, unsynced), 'the crash took back the unsynced write');

  // Node 0 returns first (not in the ISR: the partition stays offline), then node 1 leads again.
  cluster.restart(0);
  reach(cluster, 'node 0 is back and unfenced', () => !cluster.controller.isFenced(0) && cluster.nodes[0]!.published);
  assert.equal(controllerState(cluster).leader, -1, 'no unclean election: node 0 is not in the ISR');
  cluster.restart(1);
  reach(cluster, 'node 1 leads a newer epoch', () => stateOf(cluster, 1).role === ReplicaRole.LEADER && stateOf(cluster, 1).leaderEpoch > firstEpochOfNode1);
  // It writes at the offset node 0 holds the lost write at (acks=1: the ISR is node 1 alone).
  const overwrite = cluster.produce(PARTITION, 1, 1)!;
  assert.equal(overwrite.baseOffset, unsynced.baseOffset);
  reach(cluster, 'node 0 truncates the write node 1 lost and copies the new one', () => holds(cluster, 0, overwrite));
  assert.ok(cluster.nodes[0]!.truncations > 0);
  cluster.restart(2);
  finish(cluster);
  for (const nodeId of [0, 1, 2]) {
    assert.ok(holds(cluster, nodeId, acknowledged), `node ${nodeId} holds the acknowledged write`);
    assert.ok(holds(cluster, nodeId, overwrite) && !holds(cluster, nodeId, unsynced), `node ${nodeId} agrees with the leader`);
  }
});
