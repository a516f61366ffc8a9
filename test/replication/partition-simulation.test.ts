/**
 * Seeded simulation of one partition on three nodes: each node has a PartitionState, a log (one
 * leader epoch per offset), a durable end offset and a LeaderEpochCache. Steps: appends with
 * acks=-1 on whichever node believes it leads, fsyncs, follower fetches (divergence check,
 * truncation, copy, leader high watermark), ticks, AlterPartition requests accepted late or
 * refused, leader elections from the ISR, and partition records delivered to each node late and
 * in order (so stale leaders keep acting for a while). After every step:
 * - no node's high watermark moves back;
 * - a leader's high watermark is within every other maximal-ISR member's durable end (its own
 *   too, except for what it started its epoch with: a follower learns the HW before its fsync);
 * - an ack completes NONE only when the high watermark covers it, and completes once;
 * - what any leader's high watermark covered is never lost: the leader of the latest epoch starts
 *   its epoch with it, and every leader's covered records agree with it.
 * A failing seed replays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { LeaderEpochCache } from '../../src/replication/leader-epoch-cache.js';
import { PartitionState, type AlterPartitionProposal, type PartitionRecordState } from '../../src/replication/partition-state.js';
import { SeededRandom } from '../helpers/random.js';

const nodeIds = [0, 1, 2] as const;
const lagMs = 1000;
const minInsyncReplicas = 2;

class SimNode {
  readonly records: number[] = [];
  readonly cache = new LeaderEpochCache();
  durableEndOffset = 0;
  readonly state: PartitionState;
  readonly inbox: PartitionRecordState[] = [];
  previousHighWatermark = 0;
  /** The high watermark this node took over when its leader epoch began (see the header). */
  highWatermarkAtLeadStart = 0;

  constructor(readonly id: number) {
    this.state = new PartitionState({ topic: 't', partition: 0, localNodeId: id, replicaLagTimeMaxMs: lagMs, maxPendingAcks: 50 });
  }

  get logEndOffset(): number {
    return this.records.length;
  }

  truncateTo(offset: number): void {
    this.records.length = Math.min(this.records.length, offset);
    this.cache.truncateFromEnd(offset);
    this.durableEndOffset = Math.min(this.durableEndOffset, offset);
    this.state.onTruncated(this.logEndOffset);
  }
}

interface AckRecord {
  readonly requiredOffset: number;
  completed: boolean;
}

const tallies = new Map<string, number>();
function tally(name: string): void {
  tallies.set(name, (tallies.get(name) ?? 0) + 1);
}

class Simulation {
  readonly random: SeededRandom;
  readonly nodes = nodeIds.map((id) => new SimNode(id));
  nowMs = 0;
  current: PartitionRecordState = { leader: 0, leaderEpoch: 0, partitionEpoch: 0, replicas: [...nodeIds], isr: [...nodeIds] };
  readonly alterRequests: Array<{ from: number; proposal: AlterPartitionProposal }> = [];
  readonly acks = new Map<number, AckRecord>();
  nextAckId = 1;
  /** The records some leader's high watermark covered: every later leader's log starts with them. */
  committed: number[] = [];

  constructor(seed: number) {
    this.random = new SeededRandom(seed);
    this.broadcast(this.current);
    for (const node of this.nodes) this.deliver(node);
  }

  /** What happened, for the message of a failing seed. */
  readonly trace: string[] = [];

  step(): void {
    const roll = this.random.next();
    if (roll < 0.22) this.produce();
    else if (roll < 0.37) this.fsync(this.pick());
    else if (roll < 0.65) this.fetch(this.pick());
    else if (roll < 0.75) this.tick();
    else if (roll < 0.83) this.handleAlterPartition();
    else if (roll < 0.97) this.deliverSome();
    else this.elect();
    this.collectAndCheck();
    this.trace.push(this.nodes.map((node) => `${node.id}:${node.state.role[0]}e${node.state.leaderEpoch} isr${node.state.isr.join('')} hw${node.state.highWatermark} leo${node.logEndOffset} d${node.durableEndOffset}`).join(' | '));
  }

  private pick(): SimNode {
    return this.nodes[this.random.int(0, this.nodes.length - 1)]!;
  }

  private broadcast(record: PartitionRecordState): void {
    for (const node of this.nodes) node.inbox.push(record);
  }

  private deliverSome(): void {
    const node = this.pick();
    if (node.inbox.length > 0) this.deliver(node);
  }

  private deliver(node: SimNode): void {
    const record = node.inbox.shift()!;
    const local = { logEndOffset: node.logEndOffset, durableEndOffset: node.durableEndOffset, highWatermark: node.state.highWatermark };
    const change = node.state.applyPartitionRecord(record, this.nowMs, local);
    if (change === 'becameLeader') {
      node.cache.assign(record.leaderEpoch, node.logEndOffset);
      node.highWatermarkAtLeadStart = node.state.highWatermark;
      // A record delivered this late may make a stale leader (a zombie): only the latest epoch's
      // leader must hold everything committed so far.
      if (record.leaderEpoch === this.current.leaderEpoch) {
        assert.deepEqual(node.records.slice(0, this.committed.length), this.committed, `new leader ${node.id} lacks committed records`);
      }
      tally('becameLeader');
    }
  }

  private produce(): void {
    const node = this.nodes.find((candidate) => candidate.state.role === 'leader' && this.random.next() < 0.8);
    if (node === undefined) return;
    if (node.state.appendProblem(-1, minInsyncReplicas) !== null) {
      tally('refusedNotEnoughReplicas');
      return;
    }
    const count = this.random.int(1, 3);
    for (let index = 0; index < count; index++) node.records.push(node.state.leaderEpoch);
    node.cache.assign(node.state.leaderEpoch, node.logEndOffset - count);
    const ackId = this.nextAckId++;
    this.acks.set(ackId, { requiredOffset: node.logEndOffset, completed: false });
    node.state.onLocalLogChanged(node.logEndOffset, node.durableEndOffset);
    node.state.addPendingAck(ackId, node.logEndOffset, this.nowMs + this.random.int(200, 3000), minInsyncReplicas);
  }

  private fsync(node: SimNode): void {
    node.durableEndOffset = node.logEndOffset;
    node.state.onLocalLogChanged(node.logEndOffset, node.durableEndOffset);
  }

  /** One fetch of `follower` from the leader it knows, if that node leads the same epoch. */
  private fetch(follower: SimNode): void {
    if (follower.state.role !== 'follower' || follower.state.leaderId < 0) return;
    const leader = this.nodes[follower.state.leaderId]!;
    if (leader.state.role !== 'leader' || leader.state.leaderEpoch !== follower.state.leaderEpoch) return;
    // A follower fetches again only after its fsync: the fetch offset is its durable end.
    this.fsync(follower);
    const fetchOffset = follower.logEndOffset;
    const diverging = leader.cache.divergence(fetchOffset, follower.cache.latestEpoch, leader.logEndOffset);
    if (diverging !== null) {
      follower.truncateTo(follower.cache.followerTruncationOffset(diverging, follower.logEndOffset));
      tally('truncated');
      return;
    }
    leader.state.onFollowerFetch(follower.id, fetchOffset, this.nowMs, leader.logEndOffset);
    const end = Math.min(leader.logEndOffset, fetchOffset + this.random.int(1, 6));
    for (let offset = fetchOffset; offset < end; offset++) {
      const epoch = leader.records[offset]!;
      assert.ok(epoch >= follower.cache.latestEpoch, `follower ${follower.id} copies epoch ${epoch} after ${follower.cache.latestEpoch}`);
      if (epoch > follower.cache.latestEpoch) follower.cache.assign(epoch, offset);
      follower.records.push(epoch);
    }
    follower.state.onLeaderHighWatermark(leader.state.highWatermark, follower.logEndOffset);
  }

  private tick(): void {
    this.nowMs += this.random.int(0, lagMs / 2);
    for (const node of this.nodes) node.state.tick(this.nowMs);
  }

  /** The controller answers the oldest AlterPartition: committed (a record for all) or refused. */
  private handleAlterPartition(): void {
    const request = this.alterRequests.shift();
    if (request === undefined) return;
    const { proposal } = request;
    const current = this.current;
    const valid = request.from === current.leader && proposal.leaderEpoch === current.leaderEpoch && proposal.partitionEpoch === current.partitionEpoch;
    if (!valid || this.random.next() < 0.2) {
      this.nodes[request.from]!.state.onAlterPartitionFailed(valid ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.INVALID_UPDATE_VERSION);
      tally('alterFailed');
      return;
    }
    this.current = { ...current, partitionEpoch: current.partitionEpoch + 1, isr: [...proposal.newIsr] };
    this.broadcast(this.current);
    tally(proposal.newIsr.length > current.isr.length ? 'isrExpanded' : 'isrShrunk');
  }

  /** A new leader from the ISR (the old one fenced out of the ISR sometimes), a new epoch. */
  private elect(): void {
    const current = this.current;
    const isr = current.isr.length > 1 && this.random.next() < 0.5 ? current.isr.filter((id) => id !== current.leader) : [...current.isr];
    const leader = isr[this.random.int(0, isr.length - 1)]!;
    this.current = { ...current, leader, leaderEpoch: current.leaderEpoch + 1, partitionEpoch: current.partitionEpoch + 1, isr };
    this.broadcast(this.current);
    tally('elections');
  }

  private collectAndCheck(): void {
    for (const node of this.nodes) {
      const ready = node.state.takeReady();
      if (ready.alterPartition !== null) this.alterRequests.push({ from: node.id, proposal: ready.alterPartition });
      for (const completion of ready.completedAcks) this.checkCompletion(node, completion.ackId, completion.errorCode);
      this.checkHighWatermark(node);
    }
  }

  private checkCompletion(node: SimNode, ackId: number, errorCode: number): void {
    const ack = this.acks.get(ackId);
    assert.ok(ack !== undefined && !ack.completed, `ack ${ackId} completed twice (or never added)`);
    ack.completed = true;
    tally(`ack:${errorCode}`);
    if (errorCode === ErrorCode.NONE) {
      assert.ok(node.state.highWatermark >= ack.requiredOffset, `ack ${ackId} NONE at high watermark ${node.state.highWatermark} < ${ack.requiredOffset}`);
    }
  }

  private checkHighWatermark(node: SimNode): void {
    const hw = node.state.highWatermark;
    assert.ok(hw >= node.previousHighWatermark, `node ${node.id}: high watermark moved back from ${node.previousHighWatermark} to ${hw}`);
    node.previousHighWatermark = hw;
    if (node.state.role !== 'leader') return;
    for (const member of node.state.maximalIsr) {
      const durable = this.nodes[member]!.durableEndOffset;
      const allowed = member === node.id ? Math.max(durable, node.highWatermarkAtLeadStart) : durable;
      assert.ok(hw <= allowed, `leader ${node.id}: high watermark ${hw} past member ${member}'s durable end ${durable}`);
    }
    const covered = node.records.slice(0, hw);
    const common = Math.min(covered.length, this.committed.length);
    assert.deepEqual(covered.slice(0, common), this.committed.slice(0, common), `leader ${node.id} disagrees with committed records`);
    if (covered.length > this.committed.length) this.committed = covered;
  }
}

test('simulated replicas: high watermarks, ISR changes and acks keep their invariants under delays and elections', (context) => {
  // The core is pure: any use of wall-clock time or ambient randomness fails the run.
  context.mock.method(Date, 'now', () => assert.fail('Date.now() called by the replica core'));
  context.mock.method(Math, 'random', () => assert.fail('Math.random() called by the replica core'));
  context.mock.method(globalThis, 'setTimeout', () => assert.fail('setTimeout() called by the replica core'));
  const seeds = 60;
  const stepsPerSeed = 600;
  let committedRecords = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const simulation = new Simulation(seed);
    try {
      for (let step = 0; step < stepsPerSeed; step++) simulation.step();
    } catch (error) {
      throw new Error(`seed ${seed}: ${(error as Error).message}\n${simulation.trace.slice(-12).join('\n')}`, { cause: error });
    }
    committedRecords += simulation.committed.length;
  }
  assert.ok(committedRecords > seeds * 20, `records were committed (${committedRecords} over all seeds)`);
  const seen = JSON.stringify([...tallies]);
  for (const name of ['becameLeader', 'truncated', 'isrExpanded', 'isrShrunk', 'alterFailed', 'elections', 'refusedNotEnoughReplicas',
    `ack:${ErrorCode.NONE}`, `ack:${ErrorCode.REQUEST_TIMED_OUT}`, `ack:${ErrorCode.NOT_LEADER_OR_FOLLOWER}`, `ack:${ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND}`]) {
    assert.ok((tallies.get(name) ?? 0) > 0, `${name} never happened: ${seen}`);
  }
});
