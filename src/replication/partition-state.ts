/**
 * The replication state of one partition on one node (Kafka's Partition.scala, the ISR and
 * high-watermark half), as a pure state machine: no I/O, no clock, no timers. The node feeds it
 * committed partition records, its own log's progress, follower fetches and ticks; effects
 * (completed acks, an AlterPartition to send, a moved high watermark) are collected and handed
 * out by `takeReady` only, as etcd raft's Ready.
 *
 * Rules, as Kafka's:
 * - Role comes from the committed partition record. The leader epoch never moves back
 *   (asserted); a record of the same leader epoch only changes the ISR, replicas and partition
 *   epoch (a stale or repeated one is ignored).
 * - The leader's high watermark is the minimum durable log end offset over itself, the maximal
 *   ISR (the committed ISR plus a pending expansion; a pending shrink still counts the member
 *   leaving) and any other follower caught up within replicaLagTimeMaxMs (Kafka waits for a
 *   follower about to join, so a steady stream of appends cannot keep it out). A follower's
 *   durable end offset is its fetch offset: it fetches again only after its fsync. A new leader
 *   epoch knows no follower's position until its first fetch, so the high watermark waits for
 *   them. It starts from the local checkpointed value capped by the log end and never moves
 *   back, on a follower either (follower HW = min(leader HW, local log end), only forward).
 * - ISR expansion: a follower outside the ISR whose fetch offset reached the high watermark and
 *   the start of the leader's epoch. Shrink (at `tick`): an ISR follower not caught up for
 *   replicaLagTimeMaxMs. At most one AlterPartition in flight: it ends when a record of a newer
 *   partition epoch arrives (its ISR is then the committed one) or when the controller says it
 *   was not applied (INELIGIBLE_REPLICA, OPERATION_NOT_ATTEMPTED); the next fetch or tick may
 *   propose again. Refused as stale (FENCED_LEADER_EPOCH, INVALID_UPDATE_VERSION, ...) it may
 *   have been applied after all (a retry of a committed change is refused so): the maximal ISR
 *   holds until the newer record comes, as Kafka's. Any other error sends it again.
 * - acks=-1: see pending-acks.ts. Every pending ack completes with NOT_LEADER_OR_FOLLOWER when
 *   the replica stops leading; a leader re-elected in a new epoch keeps them.
 *
 * Time: calls that carry `nowMs` move this state's clock; `onLocalLogChanged` uses the last one.
 */
import { assert, InvariantError } from '../runtime/assert.js';
import { ErrorCode } from '../protocol/errors.js';
import { FollowerReplica } from './follower-replica.js';
import { PendingAcks, type CompletedAck } from './pending-acks.js';

export type { CompletedAck } from './pending-acks.js';

/** acks=-1 produce requests one partition leader keeps waiting for replication (see PendingAcks.add). */
export const MAX_PENDING_ACKS_PER_PARTITION = 10_000;

/** AlterPartition errors saying the change was not applied and the partition epoch is current. */
const ALTER_PARTITION_NOT_APPLIED: readonly number[] = [ErrorCode.INELIGIBLE_REPLICA, ErrorCode.OPERATION_NOT_ATTEMPTED];

/** AlterPartition errors saying this state is stale: the change waits for the newer record. */
const ALTER_PARTITION_STALE: readonly number[] = [
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.INVALID_UPDATE_VERSION,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.NEW_LEADER_ELECTED,
];

/** The leader id of a partition record with no leader. */
export const NO_LEADER = -1;

export const ReplicaRole = { LEADER: 'leader', FOLLOWER: 'follower', NONE: 'none' } as const;
export type ReplicaRoleName = (typeof ReplicaRole)[keyof typeof ReplicaRole];

/**
 * What a partition record did here. `becameLeader` / `becameFollower`: a new leader epoch with
 * this node leading / following (also when it had the same role in the previous epoch: the node
 * then starts the epoch in its log, or restarts fetching). `stopped`: this node is no longer a
 * replica. `updated`: same leader epoch, newer partition epoch. `unchanged`: stale or repeated.
 */
export type PartitionChange = 'becameLeader' | 'becameFollower' | 'stopped' | 'updated' | 'unchanged';

/** The fields of a committed partition record this state uses. */
export interface PartitionRecordState {
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

/** The local log's position when a record arrives; `highWatermark` is the checkpointed one. */
export interface LocalLogPosition {
  readonly logEndOffset: number;
  readonly durableEndOffset: number;
  readonly highWatermark: number;
}

export interface AlterPartitionProposal {
  readonly newIsr: readonly number[];
  readonly leaderEpoch: number;
  /** The partition epoch the proposal builds on; the controller refuses it if that moved on. */
  readonly partitionEpoch: number;
}

export interface PartitionReady {
  readonly completedAcks: CompletedAck[];
  /** An AlterPartition to send now (it is in flight until a record or a failure ends it). */
  readonly alterPartition: AlterPartitionProposal | null;
  /** The high watermark moved forward since the last takeReady. */
  readonly highWatermarkMoved: boolean;
}

export interface PartitionStateOptions {
  readonly topic: string;
  readonly partition: number;
  readonly localNodeId: number;
  readonly replicaLagTimeMaxMs: number;
  /** Default MAX_PENDING_ACKS_PER_PARTITION. */
  readonly maxPendingAcks?: number;
}

interface PendingIsrChange extends AlterPartitionProposal {
  /** The follower a pending expansion adds, or null for a shrink. */
  readonly addedReplica: number | null;
}

const NOTHING_READY: PartitionReady = Object.freeze({ completedAcks: Object.freeze([]) as unknown as CompletedAck[], alterPartition: null, highWatermarkMoved: false });

export class PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly localNodeId: number;
  private readonly replicaLagTimeMaxMs: number;
  private currentRole: ReplicaRoleName = ReplicaRole.NONE;
  private currentLeaderId = NO_LEADER;
  private currentLeaderEpoch = -1;
  private currentPartitionEpoch = -1;
  private currentReplicas: readonly number[] = [];
  private committedIsr: readonly number[] = [];
  private hw = 0;
  /** The leader's log end offset when its epoch began (ISR expansion needs a follower past it). */
  private epochStartOffset = -1;
  private localLogEndOffset = 0;
  private localDurableEndOffset = 0;
  private nowMs = 0;
  private readonly followers = new Map<number, FollowerReplica>();
  private pendingIsr: PendingIsrChange | null = null;
  private alterToSend: AlterPartitionProposal | null = null;
  private readonly acks: PendingAcks;
  private completed: CompletedAck[] = [];
  private highWatermarkMoved = false;
  /** Nodes the controller has fenced (from the metadata log): never counted as caught up. */
  private fencedNodes: ReadonlySet<number> = new Set();

  constructor(options: PartitionStateOptions) {
    assert(Number.isSafeInteger(options.localNodeId) && options.localNodeId >= 0, () => `partition state: node id ${options.localNodeId}`);
    assert(options.replicaLagTimeMaxMs > 0, () => `partition state: replicaLagTimeMaxMs ${options.replicaLagTimeMaxMs}`);
    this.topic = options.topic;
    this.partition = options.partition;
    this.localNodeId = options.localNodeId;
    this.replicaLagTimeMaxMs = options.replicaLagTimeMaxMs;
    this.acks = new PendingAcks(options.maxPendingAcks ?? MAX_PENDING_ACKS_PER_PARTITION);
  }

  get role(): ReplicaRoleName {
    return this.currentRole;
  }

  get leaderId(): number {
    return this.currentLeaderId;
  }

  get leaderEpoch(): number {
    return this.currentLeaderEpoch;
  }

  get partitionEpoch(): number {
    return this.currentPartitionEpoch;
  }

  get replicas(): readonly number[] {
    return this.currentReplicas;
  }

  /** The committed ISR. */
  get isr(): readonly number[] {
    return this.committedIsr;
  }

  /** The committed ISR plus a pending expansion (a pending shrink still counts its member). */
  get maximalIsr(): readonly number[] {
    const added = this.pendingIsr?.addedReplica ?? null;
    return added === null ? this.committedIsr : [...this.committedIsr, added];
  }

  get highWatermark(): number {
    return this.hw;
  }

  /** The high watermark until transactions come. */
  get lastStableOffset(): number {
    return this.hw;
  }

  /** The leader's log end offset when this leader epoch began; -1 unless leading. */
  get leaderEpochStartOffset(): number {
    return this.epochStartOffset;
  }

  get isAlterPartitionInFlight(): boolean {
    return this.pendingIsr !== null;
  }

  get pendingAckCount(): number {
    return this.acks.size;
  }

  /** What the leader knows of a follower's durable log end offset (-1: unknown or not a follower). */
  followerLogEndOffset(nodeId: number): number {
    return this.followers.get(nodeId)?.logEndOffset ?? -1;
  }

  // ---- partition records --------------------------------------------------------------

  applyPartitionRecord(record: PartitionRecordState, nowMs: number, local: LocalLogPosition): PartitionChange {
    assert(record.leaderEpoch >= this.currentLeaderEpoch, () =>
      `${this.name}: leader epoch moves back from ${this.currentLeaderEpoch} to ${record.leaderEpoch}`);
    this.observeTime(nowMs);
    let change: PartitionChange;
    if (record.leaderEpoch === this.currentLeaderEpoch) {
      assert(record.leader === this.currentLeaderId, () =>
        `${this.name}: leader epoch ${record.leaderEpoch} has two leaders, ${this.currentLeaderId} and ${record.leader}`);
      if (record.partitionEpoch <= this.currentPartitionEpoch) return 'unchanged';
      // A node added back to the replicas within the epoch takes its role as in a new epoch.
      change = this.currentRole === ReplicaRole.NONE ? this.applyLeaderEpoch(record, local) : this.applyPartitionEpoch(record);
    } else {
      change = this.applyLeaderEpoch(record, local);
    }
    this.checkInvariants();
    return change;
  }

  /** Same leader epoch, newer partition epoch: the ISR (maybe our AlterPartition) and replicas change. */
  private applyPartitionEpoch(record: PartitionRecordState): PartitionChange {
    this.adoptRecord(record);
    if (!record.replicas.includes(this.localNodeId)) return this.stopReplica();
    if (this.currentRole === ReplicaRole.LEADER) {
      this.syncFollowers(false);
      this.maybeIncrementLeaderHighWatermark();
      this.completeCoveredAcks();
    }
    return 'updated';
  }

  private applyLeaderEpoch(record: PartitionRecordState, local: LocalLogPosition): PartitionChange {
    const wasLeader = this.currentRole === ReplicaRole.LEADER;
    this.adoptRecord(record);
    if (!record.replicas.includes(this.localNodeId)) return this.stopReplica();
    assert(local.durableEndOffset <= local.logEndOffset && this.hw <= local.logEndOffset, () =>
      `${this.name}: local log end ${local.logEndOffset} (durable ${local.durableEndOffset}) is below the high watermark ${this.hw}`);
    this.localLogEndOffset = local.logEndOffset;
    this.localDurableEndOffset = local.durableEndOffset;
    this.advanceHighWatermark(Math.min(local.highWatermark, local.logEndOffset));
    if (record.leader === this.localNodeId) {
      this.currentRole = ReplicaRole.LEADER;
      this.epochStartOffset = local.logEndOffset;
      this.syncFollowers(true);
      this.maybeIncrementLeaderHighWatermark();
      this.completeCoveredAcks();
      return 'becameLeader';
    }
    this.currentRole = ReplicaRole.FOLLOWER;
    this.epochStartOffset = -1;
    this.followers.clear();
    if (wasLeader) this.acks.failAll(ErrorCode.NOT_LEADER_OR_FOLLOWER, this.completed);
    return 'becameFollower';
  }

  /** Takes the record's epochs and membership; any ISR change in flight is over. */
  private adoptRecord(record: PartitionRecordState): void {
    this.currentLeaderId = record.leader;
    this.currentLeaderEpoch = record.leaderEpoch;
    this.currentPartitionEpoch = record.partitionEpoch;
    this.currentReplicas = [...record.replicas];
    this.committedIsr = [...record.isr];
    this.pendingIsr = null;
    this.alterToSend = null;
  }

  /**
   * This node no longer hosts the partition (removed from its replicas, or the node stops it:
   * topic deletion, an offline log dir). Pending acks fail with NOT_LEADER_OR_FOLLOWER.
   */
  stop(): void {
    this.stopReplica();
  }

  private stopReplica(): PartitionChange {
    this.acks.failAll(ErrorCode.NOT_LEADER_OR_FOLLOWER, this.completed);
    this.currentRole = ReplicaRole.NONE;
    this.epochStartOffset = -1;
    this.followers.clear();
    this.pendingIsr = null;
    this.alterToSend = null;
    return 'stopped';
  }

  /** Leader: one FollowerReplica per other replica; a new epoch resets them all (Kafka's makeLeader). */
  private syncFollowers(newLeaderEpoch: boolean): void {
    for (const nodeId of [...this.followers.keys()]) {
      if (!this.currentReplicas.includes(nodeId)) this.followers.delete(nodeId);
    }
    for (const nodeId of this.currentReplicas) {
      if (nodeId === this.localNodeId) continue;
      let follower = this.followers.get(nodeId);
      if (follower === undefined) {
        follower = new FollowerReplica(nodeId);
        this.followers.set(nodeId, follower);
      } else if (!newLeaderEpoch) {
        continue;
      }
      follower.resetForLeaderEpoch(this.nowMs, this.committedIsr.includes(nodeId));
    }
  }

  // ---- leader side --------------------------------------------------------------------

  /** The local log grew (appends) or became more durable (fsyncs), or both. */
  onLocalLogChanged(logEndOffset: number, durableEndOffset: number): void {
    if (!(durableEndOffset <= logEndOffset && logEndOffset >= this.hw)) {
      throw new InvariantError(`${this.name}: local log end ${logEndOffset} (durable ${durableEndOffset}) with high watermark ${this.hw}`);
    }
    this.localLogEndOffset = logEndOffset;
    this.localDurableEndOffset = durableEndOffset;
    if (this.currentRole !== ReplicaRole.LEADER) return;
    this.maybeIncrementLeaderHighWatermark();
    this.completeCoveredAcks();
    this.checkInvariants();
  }

  /**
   * A follower fetched from `fetchOffset` (its durable log end) while the leader's log ended at
   * `leaderLogEndOffset` (before the read). Only fetches that were served: not a diverging one,
   * not one out of range. Ignored unless leading, and for a node that is not a replica.
   */
  onFollowerFetch(followerId: number, fetchOffset: number, nowMs: number, leaderLogEndOffset: number): void {
    this.observeTime(nowMs);
    const follower = this.followers.get(followerId);
    if (this.currentRole !== ReplicaRole.LEADER || follower === undefined || fetchOffset > leaderLogEndOffset) return;
    follower.recordFetch(fetchOffset, nowMs, leaderLogEndOffset);
    this.maybeExpandIsr(follower);
    this.maybeIncrementLeaderHighWatermark();
    this.completeCoveredAcks();
    this.checkInvariants();
  }

  /** Time passes: ISR shrink, caught-up windows closing (the HW may move), ack deadlines. */
  tick(nowMs: number): void {
    this.observeTime(nowMs);
    if (this.currentRole !== ReplicaRole.LEADER) return;
    this.maybeShrinkIsr();
    this.maybeIncrementLeaderHighWatermark();
    this.completeCoveredAcks();
    this.acks.expire(nowMs, this.completed);
    this.checkInvariants();
  }

  /** The controller's fenced nodes changed (a nodeFence record): the high watermark may move. */
  setFencedNodes(fenced: ReadonlySet<number>): void {
    this.fencedNodes = new Set(fenced);
    if (this.currentRole !== ReplicaRole.LEADER) return;
    this.maybeIncrementLeaderHighWatermark();
    this.completeCoveredAcks();
    this.checkInvariants();
  }

  /** The error to refuse an append with before it is written, or null (Kafka's appendRecordsToLeader). */
  appendProblem(acks: number, minInsyncReplicas: number): number | null {
    if (this.currentRole !== ReplicaRole.LEADER) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    if (acks === -1 && this.committedIsr.length < minInsyncReplicas) return ErrorCode.NOT_ENOUGH_REPLICAS;
    return null;
  }

  /**
   * An acks=-1 append ending at `requiredOffset` - 1 waits for the high watermark to reach
   * `requiredOffset`, until `deadlineMs`. Not leading: completes at once, NOT_LEADER_OR_FOLLOWER.
   */
  addPendingAck(ackId: number, requiredOffset: number, deadlineMs: number, minInsyncReplicas: number): void {
    if (this.currentRole !== ReplicaRole.LEADER) {
      this.completed.push({ ackId, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER });
      return;
    }
    this.acks.add(ackId, requiredOffset, deadlineMs, minInsyncReplicas, this.completed);
    this.completeCoveredAcks();
  }

  /**
   * The AlterPartition in flight failed (Kafka's handleAlterPartitionError). Not applied: dropped
   * (a dropped expansion may let the HW move). Stale: it stays in flight, so the maximal ISR
   * holds, until a newer partition record ends it. Otherwise: handed out again by takeReady.
   * Only the answer to the latest send counts: a transport that sends a proposal again after a
   * timeout drops the answers of earlier sends (Kafka's request correlation), else an early
   * "not applied" could end a proposal a later send got applied.
   */
  onAlterPartitionFailed(errorCode: number): void {
    assert(errorCode !== ErrorCode.NONE, `${this.name}: an AlterPartition failure needs an error code`);
    const pending = this.pendingIsr;
    if (pending === null) return;
    if (ALTER_PARTITION_STALE.includes(errorCode)) return;
    if (!ALTER_PARTITION_NOT_APPLIED.includes(errorCode)) {
      this.alterToSend = { newIsr: pending.newIsr, leaderEpoch: pending.leaderEpoch, partitionEpoch: pending.partitionEpoch };
      return;
    }
    this.pendingIsr = null;
    this.alterToSend = null;
    this.maybeIncrementLeaderHighWatermark();
    this.completeCoveredAcks();
    this.checkInvariants();
  }

  private maybeExpandIsr(follower: FollowerReplica): void {
    if (this.pendingIsr !== null || this.committedIsr.includes(follower.nodeId) || this.fencedNodes.has(follower.nodeId)) return;
    if (follower.logEndOffset < this.hw || follower.logEndOffset < this.epochStartOffset) return;
    this.proposeIsr([...this.committedIsr, follower.nodeId], follower.nodeId);
  }

  private maybeShrinkIsr(): void {
    if (this.pendingIsr !== null) return;
    const outOfSync = this.committedIsr.filter((nodeId) => {
      if (nodeId === this.localNodeId) return false;
      const follower = this.followers.get(nodeId);
      return follower === undefined || !follower.isCaughtUp(this.localLogEndOffset, this.nowMs, this.replicaLagTimeMaxMs);
    });
    if (outOfSync.length === 0) return;
    this.proposeIsr(this.committedIsr.filter((nodeId) => !outOfSync.includes(nodeId)), null);
  }

  private proposeIsr(newIsr: number[], addedReplica: number | null): void {
    const proposal = { newIsr, leaderEpoch: this.currentLeaderEpoch, partitionEpoch: this.currentPartitionEpoch };
    this.pendingIsr = { ...proposal, addedReplica };
    this.alterToSend = proposal;
  }

  /** Kafka's maybeIncrementLeaderHW over durable end offsets. */
  private maybeIncrementLeaderHighWatermark(): void {
    if (this.currentRole !== ReplicaRole.LEADER) return;
    const maximalIsr = this.maximalIsr;
    let candidate = this.localDurableEndOffset;
    for (const follower of this.followers.values()) {
      if (follower.logEndOffset >= candidate) continue;
      // A fenced node (killed, cut off, shutting down) holds nothing back unless it is in the
      // ISR: its last catch-up would otherwise stall acks=all for replicaLagTimeMaxMs (as KIP-841).
      const caughtUp = !this.fencedNodes.has(follower.nodeId) && follower.isCaughtUp(this.localLogEndOffset, this.nowMs, this.replicaLagTimeMaxMs);
      const holds = maximalIsr.includes(follower.nodeId) || caughtUp;
      if (holds) candidate = follower.logEndOffset;
    }
    this.advanceHighWatermark(candidate);
  }

  private completeCoveredAcks(): void {
    if (this.currentRole === ReplicaRole.LEADER) this.acks.completeCovered(this.hw, this.committedIsr.length, this.completed);
  }

  // ---- follower side ------------------------------------------------------------------

  /** A fetch answer carried the leader's high watermark: follower HW = min(it, local log end), forward only. */
  onLeaderHighWatermark(leaderHighWatermark: number, localLogEndOffset: number): void {
    if (this.currentRole !== ReplicaRole.FOLLOWER) return;
    if (localLogEndOffset < this.hw) throw new InvariantError(`${this.name}: local log end ${localLogEndOffset} is below the high watermark ${this.hw}`);
    this.localLogEndOffset = localLogEndOffset;
    this.advanceHighWatermark(Math.min(leaderHighWatermark, localLogEndOffset));
  }

  /** The node truncated the local log to `logEndOffset` (a diverged follower). Never below the HW. */
  onTruncated(logEndOffset: number): void {
    assert(this.currentRole !== ReplicaRole.LEADER, `${this.name}: a leader does not truncate its log`);
    assert(logEndOffset >= this.hw, () => `${this.name}: truncation to ${logEndOffset} would remove records below the high watermark ${this.hw}`);
    this.localLogEndOffset = logEndOffset;
    this.localDurableEndOffset = Math.min(this.localDurableEndOffset, logEndOffset);
  }

  // ---- effects ------------------------------------------------------------------------

  takeReady(): PartitionReady {
    // The common case on the append path (nothing happened): no allocation.
    if (this.completed.length === 0 && this.alterToSend === null && !this.highWatermarkMoved) return NOTHING_READY;
    const ready: PartitionReady = { completedAcks: this.completed, alterPartition: this.alterToSend, highWatermarkMoved: this.highWatermarkMoved };
    this.completed = [];
    this.alterToSend = null;
    this.highWatermarkMoved = false;
    return ready;
  }

  // ---- helpers ------------------------------------------------------------------------

  private get name(): string {
    return `${this.topic}-${this.partition} on node ${this.localNodeId}`;
  }

  /** Moves the high watermark forward to `offset`; never back. */
  private advanceHighWatermark(offset: number): void {
    if (offset <= this.hw) return;
    this.hw = offset;
    this.highWatermarkMoved = true;
  }

  /** The clock a state sees never goes back, whatever order calls carry their times in. */
  private observeTime(nowMs: number): void {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
  }

  /** After every change; on the fetch and flush paths, so plain ifs (no message closure per call). */
  private checkInvariants(): void {
    if (this.hw < 0 || (this.currentRole !== ReplicaRole.NONE && this.hw > this.localLogEndOffset)) {
      throw new InvariantError(`${this.name}: high watermark ${this.hw} past the local log end ${this.localLogEndOffset}`);
    }
    if (this.pendingIsr !== null && this.currentRole !== ReplicaRole.LEADER) throw new InvariantError(`${this.name}: an ISR change in flight while not leading`);
    if (this.acks.size > 0 && this.currentRole !== ReplicaRole.LEADER) throw new InvariantError(`${this.name}: ${this.acks.size} acks wait while not leading`);
  }
}
