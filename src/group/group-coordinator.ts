/**
 * The classic consumer-group coordinator (JoinGroup / SyncGroup / Heartbeat / LeaveGroup and the
 * offset APIs) for the groups of ONE `__consumer_offsets` partition, as a pure state machine.
 * Semantics follow Kafka's GroupCoordinator.scala and GroupMetadataManager.scala (3.x).
 *
 * Purity: no sockets, files, timers, Date.now or Math.random. Time comes from the injected
 * Clock and moves forward through `tick()`; member ids come from `newMemberId`; durable writes go
 * out through `persist`, whose `done` callback brings the outcome back in.
 *
 * Effects: every public call first updates state, then runs the effects it queued, in order:
 * replies (`reply(...)`) and appends (`persist(...)`). So replies never observe half-updated
 * state, and a `persist` that calls `done` synchronously (or a reply that calls back in) is safe.
 * Replies may be immediate (before the call returns) or deferred: JoinGroup waits for the
 * rebalance, SyncGroup of a follower for the leader's assignment, OffsetCommit for its append.
 * Every request gets exactly one reply, also when superseded (see `supersedeParkedJoin`) or when
 * the partition is unloaded (NOT_COORDINATOR).
 *
 * Handlers take the request's API version; most ignore it, because the decoder already fills the
 * fields a version lacks with Kafka's defaults (e.g. groupInstanceId null before JoinGroup v5).
 * Responses carry every field; the encoder drops those the version lacks.
 */
import { ErrorCode } from '../protocol/errors.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import { resolveGroupCoordinatorConfig, type GroupCoordinatorConfig } from './config.js';
import { coordinatorPartitionFor } from './coordinator-partition.js';
import {
  ClassicGroup,
  GroupMember,
  GroupState,
  type CommittedOffset,
  type JoinTimer,
  type MemberProtocol,
  type TopicPartitionRef,
} from './group-metadata.js';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsRecordKey,
  groupMetadataRecord,
  groupTombstone,
  offsetCommitRecord,
  offsetTombstone,
  type GroupMetadataValue,
  type OffsetCommitValue,
  type OffsetsTopicRecord,
} from './offsets-records.js';
import { offsetCommitErrorFor, storeGroupErrorFor } from './persist-errors.js';
import {
  allCommittedTopics,
  authorizedOperationsOmitted,
  compareStrings,
  describedGroup,
  describeGroup,
  groupAuthorizedOperations,
  joinError,
  joinResponse,
  leaveResponse,
  offsetCommitResponse,
  offsetFetchResponse,
  snapshotGroup,
  topicPartitionKey,
  type GroupSnapshot,
} from './responses.js';
import type {
  DeletedGroupResult,
  DescribedGroup,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupReply,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListedGroup,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetDeleteRequest,
  OffsetDeleteResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  SyncGroupReply,
  SyncGroupRequest,
  SyncGroupResponse,
} from './types.js';

export type PersistDone = (error: Error | null) => void;

export interface GroupCoordinatorOptions {
  /** The `__consumer_offsets` partition this instance coordinates. */
  readonly partition: number;
  /** Partition count of `__consumer_offsets`; groups that hash elsewhere get NOT_COORDINATOR. */
  readonly partitionCount: number;
  readonly clock: Clock;
  /**
   * A fresh, unique member id. Kafka uses `${groupInstanceId ?? clientId}-${uuid}`; tests use a
   * counter. Called only when a member without an id joins.
   */
  newMemberId(clientId: string, groupInstanceId: string | null): string;
  /**
   * Appends records to this partition's log, in call order, and calls `done` exactly once:
   * with null after the records are durable (fsynced, replicated as acks=all requires), or with
   * an Error (optionally carrying a Kafka `errorCode`, see persist-errors.ts). Must not throw.
   * `done` normally comes back in append order; offsets tolerate any order (see appendSequence).
   */
  persist(records: readonly OffsetsTopicRecord[], done: PersistDone): void;
  readonly config?: Partial<GroupCoordinatorConfig>;
  readonly logger?: Logger;
}

export const CoordinatorPhase = {
  /** Constructed; waiting for `load()`. Requests get COORDINATOR_LOAD_IN_PROGRESS. */
  Loading: 'loading',
  Active: 'active',
  /** After `unload()` (leadership moved). Requests get NOT_COORDINATOR. */
  Unloaded: 'unloaded',
} as const;

export type CoordinatorPhaseName = (typeof CoordinatorPhase)[keyof typeof CoordinatorPhase];

/** Bound on effects run by one public call; a runaway loop fails loudly instead of hanging. */
const maxEffectsPerCall = 10_000_000;
const emptyBuffer: Buffer = Buffer.alloc(0);

interface JoinParams {
  readonly groupId: string;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly MemberProtocol[];
  /** JoinGroup v4+: an unknown member first gets MEMBER_ID_REQUIRED (KIP-394). */
  readonly requireKnownMemberId: boolean;
  readonly reply: JoinGroupReply;
}

interface LoadedPartitionState {
  readonly groupValues: Map<string, GroupMetadataValue>;
  /** group → topic → partition → value. */
  readonly offsets: Map<string, Map<string, Map<number, OffsetCommitValue>>>;
  skippedRecords: number;
}

export class GroupCoordinator {
  readonly partition: number;
  readonly partitionCount: number;
  readonly config: GroupCoordinatorConfig;
  private readonly clock: Clock;
  private readonly options: GroupCoordinatorOptions;
  private readonly logger: Logger | null;
  private readonly groups = new Map<string, ClassicGroup>();
  private currentPhase: CoordinatorPhaseName = CoordinatorPhase.Loading;
  private readonly effects: Array<() => void> = [];
  private flushing = false;
  /** No timer of any group is due before this; lets `tick()` return at once most of the time. */
  private nextWakeMs = Number.POSITIVE_INFINITY;
  private nextOffsetExpiryCheckMs = Number.POSITIVE_INFINITY;
  /** Numbers offset appends, so a late-completing older append never overwrites a newer one. */
  private appendSequence = 0;

  constructor(options: GroupCoordinatorOptions) {
    if (!Number.isInteger(options.partition) || options.partition < 0) {
      throw new RangeError(`partition must be a non-negative integer, got ${options.partition}`);
    }
    if (!Number.isInteger(options.partitionCount) || options.partition >= options.partitionCount) {
      throw new RangeError(`partition ${options.partition} is outside partitionCount ${options.partitionCount}`);
    }
    this.partition = options.partition;
    this.partitionCount = options.partitionCount;
    this.config = resolveGroupCoordinatorConfig(options.config);
    this.clock = options.clock;
    this.options = options;
    this.logger = options.logger ?? null;
  }

  get phase(): CoordinatorPhaseName {
    return this.currentPhase;
  }

  /** Whether `groupId` belongs to this instance's partition. */
  ownsGroup(groupId: string): boolean {
    return coordinatorPartitionFor(groupId, this.partitionCount) === this.partition;
  }

  // =============================================================================================
  // Lifecycle
  // =============================================================================================

  /**
   * Rebuilds groups and offsets from this partition's log, oldest record first: the latest value
   * per key wins, tombstones delete. Call exactly once, before serving; until then requests get
   * COORDINATOR_LOAD_IN_PROGRESS. Records must be committed, non-transactional data (control
   * batches and aborted transactional offset commits filtered out by the caller).
   * Loaded members must heartbeat within their session timeout, as after a Kafka failover.
   */
  load(records: Iterable<OffsetsTopicRecord>): void {
    if (this.currentPhase !== CoordinatorPhase.Loading) throw new Error(`load() in phase ${this.currentPhase}`);
    this.run(() => {
      const loaded: LoadedPartitionState = { groupValues: new Map(), offsets: new Map(), skippedRecords: 0 };
      for (const record of records) this.loadRecord(loaded, record);
      const loadedGroups = this.materializeLoadedGroups(loaded);
      this.currentPhase = CoordinatorPhase.Active;
      this.nextOffsetExpiryCheckMs = this.nowMs() + this.config.offsetsRetentionCheckIntervalMs;
      for (const group of loadedGroups) this.onGroupLoaded(group);
      this.logger?.info('loaded groups and offsets', {
        partition: this.partition,
        groups: this.groups.size,
        skippedRecords: loaded.skippedRecords,
      });
    });
  }

  /**
   * Leadership of the partition moved away: every parked request is answered NOT_COORDINATOR,
   * state is dropped, later requests get NOT_COORDINATOR. Appends still in flight complete into
   * the void (their replies still go out).
   */
  unload(): void {
    this.run(() => {
      for (const group of this.groups.values()) {
        for (const member of group.members.values()) this.answerParked(member, ErrorCode.NOT_COORDINATOR);
        group.joinTimer = null;
        group.syncTimer = null;
        group.transitionTo(GroupState.Dead, this.nowMs());
      }
      this.groups.clear();
      this.currentPhase = CoordinatorPhase.Unloaded;
      this.nextWakeMs = Number.POSITIVE_INFINITY;
      this.nextOffsetExpiryCheckMs = Number.POSITIVE_INFINITY;
    });
  }

  /**
   * Advances time: session expiry, pending-member expiry, the end of rebalances (timeout or
   * initial delay), SyncGroup deadlines, offset expiry. Cheap when nothing is due.
   */
  tick(): void {
    if (this.currentPhase !== CoordinatorPhase.Active) return;
    this.run(() => {
      const nowMs = this.nowMs();
      if (nowMs >= this.nextOffsetExpiryCheckMs) {
        this.nextOffsetExpiryCheckMs = nowMs + this.config.offsetsRetentionCheckIntervalMs;
        this.expireOffsets(nowMs);
      }
      if (nowMs < this.nextWakeMs) return;
      this.nextWakeMs = Number.POSITIVE_INFINITY;
      for (const group of [...this.groups.values()]) this.tickGroup(group, nowMs);
    });
  }

  /** The earliest time at which `tick()` has work, for callers that sleep between ticks. */
  nextDeadlineMs(): number {
    if (this.currentPhase !== CoordinatorPhase.Active) return Number.POSITIVE_INFINITY;
    return Math.min(this.nextWakeMs, this.nextOffsetExpiryCheckMs);
  }

  // =============================================================================================
  // JoinGroup
  // =============================================================================================

  joinGroup(
    version: number,
    request: JoinGroupRequest,
    clientId: string,
    clientHost: string,
    reply: JoinGroupReply,
  ): void {
    this.run(() => this.handleJoinGroup(version, request, clientId, clientHost, reply));
  }

  private handleJoinGroup(
    version: number,
    request: JoinGroupRequest,
    clientId: string,
    clientHost: string,
    reply: JoinGroupReply,
  ): void {
    const status = this.groupStatus(request.groupId, false);
    if (status !== ErrorCode.NONE) return this.replyJoin(reply, joinError(request.memberId, status));
    const { sessionTimeoutMs } = request;
    if (sessionTimeoutMs < this.config.groupMinSessionTimeoutMs || sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs) {
      return this.replyJoin(reply, joinError(request.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    const join = joinParams(version, request, clientId, clientHost, reply);
    const isUnknownMember = join.memberId === '';
    let group = this.groups.get(join.groupId);
    if (group === undefined) {
      // Only a member without an id may create a group.
      if (!isUnknownMember) return this.replyJoin(reply, joinError(join.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = this.createGroup(join.groupId);
    }
    if (!this.acceptJoiningMember(group, join.memberId)) {
      group.remove(join.memberId);
      this.replyJoin(reply, joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
    } else if (isUnknownMember) {
      this.joinNewMember(group, join);
    } else {
      this.joinCurrentMember(group, join);
    }
    if (group.is(GroupState.PreparingRebalance)) this.maybeCompleteJoin(group);
  }

  /** Kafka's acceptJoiningMember: group.max.size, counted so that a shrunk limit sheds members. */
  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const maxSize = this.config.groupMaxSize;
    switch (group.state) {
      case GroupState.Empty:
      case GroupState.Dead:
        return true;
      case GroupState.PreparingRebalance:
        return (group.members.get(memberId)?.awaitingJoin ?? null) !== null || group.numAwaitingJoin() < maxSize;
      default:
        return group.has(memberId) || group.size < maxSize;
    }
  }

  private joinNewMember(group: ClassicGroup, join: JoinParams): void {
    if (group.is(GroupState.Dead)) return this.replyJoin(join.reply, joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(join.protocolType, join.protocols.map((protocol) => protocol.name))) {
      return this.replyJoin(join.reply, joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const newMemberId = this.generateMemberId(group, join);
    if (join.groupInstanceId !== null) {
      const oldMemberId = group.staticMemberId(join.groupInstanceId);
      if (oldMemberId !== undefined) {
        this.replaceStaticMember(group, join.groupInstanceId, oldMemberId, newMemberId, join);
      } else {
        this.addMemberAndRebalance(group, newMemberId, join);
      }
    } else if (join.requireKnownMemberId) {
      // The member must come back with this id; until then it holds up a rebalance in progress.
      const deadlineMs = this.nowMs() + join.sessionTimeoutMs;
      group.pendingMembers.set(newMemberId, deadlineMs);
      this.wakeAt(deadlineMs);
      this.replyJoin(join.reply, joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    } else {
      this.addMemberAndRebalance(group, newMemberId, join);
    }
  }

  private joinCurrentMember(group: ClassicGroup, join: JoinParams): void {
    const { memberId } = join;
    if (group.is(GroupState.Dead)) return this.replyJoin(join.reply, joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(join.protocolType, join.protocols.map((protocol) => protocol.name))) {
      return this.replyJoin(join.reply, joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (group.pendingMembers.has(memberId)) {
      // Ids from MEMBER_ID_REQUIRED are dynamic; Kafka throws on a static one, we refuse it.
      if (join.groupInstanceId !== null) return this.replyJoin(join.reply, joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      return this.addMemberAndRebalance(group, memberId, join);
    }
    const error = this.validateCurrentMember(group, memberId, join.groupInstanceId);
    if (error !== ErrorCode.NONE) return this.replyJoin(join.reply, joinError(memberId, error));
    const member = group.get(memberId);
    switch (group.state) {
      case GroupState.PreparingRebalance:
        return this.updateMemberAndRebalance(group, member, join);
      case GroupState.CompletingRebalance:
        // Same metadata: the member probably lost our JoinGroup response; send it again.
        if (!member.matches(join.protocols)) return this.updateMemberAndRebalance(group, member, join);
        return this.replyJoin(
          join.reply,
          joinResponse(group, memberId, group.isLeader(memberId) ? group.currentMemberMetadata() : []),
        );
      case GroupState.Stable:
        // The leader rejoining forces a rebalance (e.g. topic metadata changed); so does a
        // follower with new metadata (new subscription, or cooperative owned partitions).
        if (group.isLeader(memberId) || !member.matches(join.protocols)) {
          return this.updateMemberAndRebalance(group, member, join);
        }
        return this.replyJoin(join.reply, joinResponse(group, memberId, []));
      default:
        return this.replyJoin(join.reply, joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private generateMemberId(group: ClassicGroup, join: JoinParams): string {
    const memberId = this.options.newMemberId(join.clientId, join.groupInstanceId);
    if (typeof memberId !== 'string' || memberId === '' || group.has(memberId) || group.pendingMembers.has(memberId)) {
      throw new Error(`newMemberId returned an empty or duplicate member id: ${String(memberId)}`);
    }
    return memberId;
  }

  private addMemberAndRebalance(group: ClassicGroup, memberId: string, join: JoinParams): void {
    const member = new GroupMember({
      memberId,
      groupInstanceId: join.groupInstanceId,
      clientId: join.clientId,
      clientHost: join.clientHost,
      protocolType: join.protocolType,
      rebalanceTimeoutMs: join.rebalanceTimeoutMs,
      sessionTimeoutMs: join.sessionTimeoutMs,
      protocols: join.protocols,
    });
    member.isNew = true;
    // Lets the initial delay of a brand-new group stretch while members keep arriving.
    if (group.is(GroupState.PreparingRebalance) && group.generationId === 0) group.newMemberAdded = true;
    group.add(member, join.reply);
    // A new member cannot heartbeat until it has an id; its parked JoinGroup has its own limit.
    this.setHeartbeatDeadline(member, this.config.newMemberJoinTimeoutMs);
    this.maybePrepareRebalance(group, `member ${memberId} joined`);
  }

  private updateMemberAndRebalance(group: ClassicGroup, member: GroupMember, join: JoinParams): void {
    this.supersedeParkedJoin(member);
    group.updateMember(member, join.protocols, join.rebalanceTimeoutMs, join.sessionTimeoutMs, join.reply);
    this.maybePrepareRebalance(group, `member ${member.memberId} rejoined`);
  }

  /**
   * A static member (known group.instance.id) restarted and joined without a member id: it takes
   * over the old member's place under a new id, and the old id is fenced. While Stable this
   * needs no rebalance (KIP-345): the member gets the current generation and, through SyncGroup,
   * its current assignment.
   */
  private replaceStaticMember(
    group: ClassicGroup,
    groupInstanceId: string,
    oldMemberId: string,
    newMemberId: string,
    join: JoinParams,
  ): void {
    const currentLeader = group.leaderId;
    const member = group.get(oldMemberId);
    this.answerParked(member, ErrorCode.FENCED_INSTANCE_ID);
    group.replaceStaticMember(groupInstanceId, oldMemberId, newMemberId);
    this.resetHeartbeat(member);
    const previous = {
      protocols: member.protocols,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
    };
    group.updateMember(member, join.protocols, join.rebalanceTimeoutMs, join.sessionTimeoutMs, join.reply);
    switch (group.state) {
      case GroupState.Stable:
        if (group.selectProtocol() === group.protocolName) {
          this.persistReplacedStaticMember(group, member, oldMemberId, currentLeader, previous, join);
        } else {
          this.maybePrepareRebalance(group, `static member ${groupInstanceId} rejoined with other protocols`);
        }
        return;
      case GroupState.CompletingRebalance:
        // The leader may be assigning to the old id; start over so the new id gets an assignment.
        return this.prepareRebalance(group, `static member ${groupInstanceId} rejoined during CompletingRebalance`);
      case GroupState.PreparingRebalance:
        return; // counted as joined; the rebalance completes as usual
      default:
        throw new Error(`group ${group.groupId} has static members in state ${group.state}`);
    }
  }

  private persistReplacedStaticMember(
    group: ClassicGroup,
    member: GroupMember,
    oldMemberId: string,
    currentLeader: string | null,
    previous: { protocols: readonly MemberProtocol[]; rebalanceTimeoutMs: number; sessionTimeoutMs: number },
    join: JoinParams,
  ): void {
    const newMemberId = member.memberId;
    const assignments = new Map<string, Buffer>();
    for (const [memberId, each] of group.members) assignments.set(memberId, each.assignment);
    this.storeGroup(group, assignments, (errorCode) => {
      if (member.awaitingJoin !== join.reply) return; // already answered (unload, fencing)
      member.awaitingJoin = null;
      this.wakeAt(member.heartbeatDeadlineMs);
      if (errorCode !== ErrorCode.NONE) {
        if (!group.is(GroupState.Dead) && group.members.get(newMemberId) === member && join.groupInstanceId !== null) {
          group.updateMember(member, previous.protocols, previous.rebalanceTimeoutMs, previous.sessionTimeoutMs, null);
          group.replaceStaticMember(join.groupInstanceId, newMemberId, oldMemberId);
          this.resetHeartbeat(member);
        }
        return this.replyJoin(join.reply, { ...joinResponse(group, '', [], currentLeader ?? ''), errorCode });
      }
      // The previous leader id, so that a restarted leader does not compute an assignment that
      // a Stable group would never hand out; it simply syncs like a follower.
      this.replyJoin(join.reply, joinResponse(group, newMemberId, [], currentLeader ?? ''));
    });
  }

  // =============================================================================================
  // Rebalance
  // =============================================================================================

  private maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    // Members parked in SyncGroup learn that this generation will not complete.
    if (group.is(GroupState.CompletingRebalance)) this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    group.pendingSyncMembers.clear();
    group.syncTimer = null;
    const nowMs = this.nowMs();
    const delayMs = this.config.groupInitialRebalanceDelayMs;
    const timer: JoinTimer =
      group.is(GroupState.Empty) && delayMs > 0
        ? { deadlineMs: nowMs + delayMs, initialDelay: true, remainingMs: Math.max(group.rebalanceTimeoutMs() - delayMs, 0) }
        : { deadlineMs: nowMs + group.rebalanceTimeoutMs(), initialDelay: false, remainingMs: 0 };
    group.transitionTo(GroupState.PreparingRebalance, nowMs);
    this.setJoinTimer(group, timer);
    this.logger?.info('preparing to rebalance', {
      group: group.groupId,
      generation: group.generationId,
      reason,
    });
    this.maybeCompleteJoin(group);
  }

  /** Kafka's DelayedJoin.tryComplete: done once every known member has rejoined. */
  private maybeCompleteJoin(group: ClassicGroup): void {
    const timer = group.joinTimer;
    if (group.is(GroupState.PreparingRebalance) && timer !== null && !timer.initialDelay && group.hasAllMembersJoined()) {
      this.completeJoin(group);
    }
  }

  private onJoinTimerExpired(group: ClassicGroup, timer: JoinTimer): void {
    if (timer.initialDelay && group.newMemberAdded && timer.remainingMs > 0) {
      // Someone joined during the delay: wait once more, within the rebalance timeout.
      group.newMemberAdded = false;
      const delayMs = Math.min(this.config.groupInitialRebalanceDelayMs, timer.remainingMs);
      this.setJoinTimer(group, {
        deadlineMs: this.nowMs() + delayMs,
        initialDelay: true,
        remainingMs: timer.remainingMs - delayMs,
      });
      return;
    }
    this.completeJoin(group);
  }

  /** Kafka's onCompleteJoin: drop who did not rejoin, start the next generation, answer joins. */
  private completeJoin(group: ClassicGroup): void {
    group.joinTimer = null;
    for (const member of [...group.members.values()]) {
      // Static members keep their place: they may be restarting (KIP-345).
      if (member.awaitingJoin === null && !member.isStatic) {
        group.remove(member.memberId);
        this.logger?.info('removed member that did not rejoin in time', { group: group.groupId, member: member.memberId });
      }
    }
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only non-rejoined static members are left: wait another rebalance timeout.
      this.setJoinTimer(group, { deadlineMs: this.nowMs() + group.rebalanceTimeoutMs(), initialDelay: false, remainingMs: 0 });
      return;
    }
    group.initNextGeneration(this.nowMs());
    if (group.is(GroupState.Empty)) {
      this.logger?.info('group is empty', { group: group.groupId, generation: group.generationId });
      this.storeGroup(group, new Map(), (errorCode) => {
        // Harmless: the previous generation in the log has no live members either.
        if (errorCode !== ErrorCode.NONE) this.logger?.warn('failed to write empty group metadata', { group: group.groupId, errorCode });
      });
      return;
    }
    this.startGeneration(group);
  }

  private startGeneration(group: ClassicGroup): void {
    this.logger?.info('stabilized group', { group: group.groupId, generation: group.generationId, members: group.size });
    const leaderView = group.currentMemberMetadata();
    for (const member of group.members.values()) {
      const reply = member.awaitingJoin;
      if (reply !== null) {
        member.awaitingJoin = null;
        this.replyJoin(reply, joinResponse(group, member.memberId, group.isLeader(member.memberId) ? leaderView : []));
      }
      this.resetHeartbeat(member);
      member.isNew = false;
      group.pendingSyncMembers.add(member.memberId);
    }
    const deadlineMs = this.nowMs() + group.rebalanceTimeoutMs();
    group.syncTimer = { deadlineMs, generationId: group.generationId };
    this.wakeAt(deadlineMs);
  }

  // =============================================================================================
  // SyncGroup
  // =============================================================================================

  syncGroup(version: number, request: SyncGroupRequest, reply: SyncGroupReply): void {
    void version; // v0-3 differ only in fields the decoder already defaulted
    this.run(() => this.handleSyncGroup(request, reply));
  }

  private handleSyncGroup(request: SyncGroupRequest, reply: SyncGroupReply): void {
    const status = this.groupStatus(request.groupId, false);
    // While loading, the rebalance state is lost: send the member back to JoinGroup.
    if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return this.replySync(reply, ErrorCode.REBALANCE_IN_PROGRESS);
    if (status !== ErrorCode.NONE) return this.replySync(reply, status);
    const group = this.groups.get(request.groupId);
    if (group === undefined) return this.replySync(reply, ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is(GroupState.Dead)) return this.replySync(reply, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const error = this.validateCurrentMember(group, request.memberId, request.groupInstanceId);
    if (error !== ErrorCode.NONE) return this.replySync(reply, error);
    if (request.generationId !== group.generationId) return this.replySync(reply, ErrorCode.ILLEGAL_GENERATION);
    const member = group.get(request.memberId);
    switch (group.state) {
      case GroupState.Empty:
        return this.replySync(reply, ErrorCode.UNKNOWN_MEMBER_ID);
      case GroupState.PreparingRebalance:
        return this.replySync(reply, ErrorCode.REBALANCE_IN_PROGRESS);
      case GroupState.CompletingRebalance:
        return this.parkSync(group, member, request, reply);
      default:
        // Stable: hand out the current assignment (also to a restarted static member).
        this.removePendingSync(group, member.memberId);
        this.replySync(reply, ErrorCode.NONE, member.assignment);
        this.resetHeartbeat(member);
    }
  }

  private parkSync(group: ClassicGroup, member: GroupMember, request: SyncGroupRequest, reply: SyncGroupReply): void {
    this.supersedeParkedSync(member);
    member.awaitingSync = reply;
    this.removePendingSync(group, member.memberId);
    if (!group.isLeader(member.memberId)) return;
    const assignment = new Map<string, Buffer>();
    for (const entry of request.assignments) {
      if (group.has(entry.memberId)) assignment.set(entry.memberId, Buffer.from(entry.assignment));
    }
    for (const memberId of group.members.keys()) {
      if (!assignment.has(memberId)) {
        assignment.set(memberId, emptyBuffer);
        this.logger?.warn('leader sent no assignment for a member', { group: group.groupId, member: memberId });
      }
    }
    const generationId = group.generationId;
    this.storeGroup(group, assignment, (errorCode) => {
      // A join or leave may have restarted the rebalance while the append was in flight.
      if (!group.is(GroupState.CompletingRebalance) || group.generationId !== generationId) return;
      if (errorCode !== ErrorCode.NONE) {
        this.resetAndPropagateAssignmentError(group, errorCode);
        this.maybePrepareRebalance(group, `failed to store the assignment (error ${errorCode})`);
        return;
      }
      for (const each of group.members.values()) each.assignment = assignment.get(each.memberId) ?? emptyBuffer;
      this.propagateAssignment(group, ErrorCode.NONE);
      group.transitionTo(GroupState.Stable, this.nowMs());
    });
  }

  private removePendingSync(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) group.syncTimer = null;
  }

  /** Kafka's DelayedSync expiry: members that never sent SyncGroup are removed. */
  private onSyncTimerExpired(group: ClassicGroup, generationId: number): void {
    group.syncTimer = null;
    if (generationId !== group.generationId || group.pendingSyncMembers.size === 0) return;
    if (!group.is(GroupState.CompletingRebalance) && !group.is(GroupState.Stable)) return;
    const missing = [...group.pendingSyncMembers];
    for (const memberId of missing) {
      const member = group.remove(memberId);
      if (member !== undefined) this.answerParked(member, ErrorCode.UNKNOWN_MEMBER_ID);
    }
    this.prepareRebalance(group, `members ${missing.join(',')} sent no SyncGroup in time`);
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    for (const member of group.members.values()) member.assignment = emptyBuffer;
    this.propagateAssignment(group, errorCode);
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    for (const member of group.members.values()) {
      const reply = member.awaitingSync;
      if (reply === null) continue;
      member.awaitingSync = null;
      this.replySync(reply, errorCode, errorCode === ErrorCode.NONE ? member.assignment : emptyBuffer);
      // Its session did not run while it was parked; start it now.
      this.resetHeartbeat(member);
    }
  }

  // =============================================================================================
  // Heartbeat and LeaveGroup
  // =============================================================================================

  heartbeat(version: number, request: HeartbeatRequest, reply: (response: HeartbeatResponse) => void): void {
    void version;
    this.run(() => {
      const errorCode = this.handleHeartbeat(request);
      this.effects.push(() => reply({ throttleTimeMs: 0, errorCode }));
    });
  }

  private handleHeartbeat(request: HeartbeatRequest): number {
    const status = this.groupStatus(request.groupId, false);
    // Kafka answers blindly while loading: the member keeps its session.
    if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return ErrorCode.NONE;
    if (status !== ErrorCode.NONE) return status;
    const group = this.groups.get(request.groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const error = this.validateCurrentMember(group, request.memberId, request.groupInstanceId);
    if (error !== ErrorCode.NONE) return error;
    if (request.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case GroupState.Empty:
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case GroupState.PreparingRebalance:
        this.resetHeartbeat(group.get(request.memberId));
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        // Stable, and CompletingRebalance: clients may heartbeat between JoinGroup and SyncGroup.
        this.resetHeartbeat(group.get(request.memberId));
        return ErrorCode.NONE;
    }
  }

  /** v0-2 name one member; v3 a batch with group.instance.ids and per-member errors (KIP-345). */
  leaveGroup(version: number, request: LeaveGroupRequest, reply: (response: LeaveGroupResponse) => void): void {
    this.run(() => {
      const response = this.handleLeaveGroup(version, request);
      this.effects.push(() => reply(response));
    });
  }

  private handleLeaveGroup(version: number, request: LeaveGroupRequest): LeaveGroupResponse {
    const leaving =
      version >= 3
        ? request.members.map((member) => ({ memberId: member.memberId, groupInstanceId: member.groupInstanceId }))
        : [{ memberId: request.memberId, groupInstanceId: null }];
    const status = this.groupStatus(request.groupId, false);
    if (status !== ErrorCode.NONE) return leaveResponse(version, status, []);
    const group = this.groups.get(request.groupId);
    if (group === undefined) {
      return leaveResponse(version, ErrorCode.NONE, leaving.map((each) => ({ ...each, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })));
    }
    if (group.is(GroupState.Dead)) return leaveResponse(version, ErrorCode.COORDINATOR_NOT_AVAILABLE, []);
    const results = leaving.map((each) => ({ ...each, errorCode: this.leaveOne(group, each.memberId, each.groupInstanceId) }));
    return leaveResponse(version, ErrorCode.NONE, results);
  }

  private leaveOne(group: ClassicGroup, memberId: string, groupInstanceId: string | null): number {
    if (memberId === '') {
      // Administrative removal by group.instance.id alone.
      const currentMemberId = groupInstanceId === null ? undefined : group.staticMemberId(groupInstanceId);
      if (currentMemberId === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      this.removeMemberAndUpdateGroup(group, group.get(currentMemberId), 'removed by group.instance.id');
      return ErrorCode.NONE;
    }
    if (group.pendingMembers.has(memberId)) {
      this.removePendingMemberAndUpdateGroup(group, memberId);
      return ErrorCode.NONE;
    }
    const error = this.validateCurrentMember(group, memberId, groupInstanceId);
    if (error !== ErrorCode.NONE) return error;
    this.removeMemberAndUpdateGroup(group, group.get(memberId), 'left the group');
    return ErrorCode.NONE;
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember, reason: string): void {
    // A parked JoinGroup of a member that is going away must still be answered.
    this.answerParked(member, ErrorCode.UNKNOWN_MEMBER_ID);
    group.remove(member.memberId);
    this.logger?.info('removed member', { group: group.groupId, member: member.memberId, reason });
    switch (group.state) {
      case GroupState.Stable:
      case GroupState.CompletingRebalance:
        return this.maybePrepareRebalance(group, `member ${member.memberId} ${reason}`);
      case GroupState.PreparingRebalance:
        return this.maybeCompleteJoin(group);
      default:
        return;
    }
  }

  private removePendingMemberAndUpdateGroup(group: ClassicGroup, memberId: string): void {
    group.remove(memberId);
    if (group.is(GroupState.PreparingRebalance)) this.maybeCompleteJoin(group);
  }

  /** Kafka's validateCurrentMember: instance id first (fencing), then the member id. */
  private validateCurrentMember(group: ClassicGroup, memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const currentMemberId = group.staticMemberId(groupInstanceId);
      if (currentMemberId === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      return currentMemberId === memberId ? ErrorCode.NONE : ErrorCode.FENCED_INSTANCE_ID;
    }
    return group.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  // =============================================================================================
  // OffsetCommit and OffsetFetch
  // =============================================================================================

  offsetCommit(version: number, request: OffsetCommitRequest, reply: (response: OffsetCommitResponse) => void): void {
    void version;
    this.run(() => this.handleOffsetCommit(request, reply));
  }

  private handleOffsetCommit(request: OffsetCommitRequest, reply: (response: OffsetCommitResponse) => void): void {
    const status = this.groupStatus(request.groupId, true);
    if (status !== ErrorCode.NONE) return this.replyCommit(reply, offsetCommitResponse(request, () => status));
    let group = this.groups.get(request.groupId);
    if (group === undefined) {
      // No group yet: only a consumer outside group management (generation -1) may commit.
      if (request.generationId >= 0) return this.replyCommit(reply, offsetCommitResponse(request, () => ErrorCode.ILLEGAL_GENERATION));
      group = this.createGroup(request.groupId);
    }
    const error = this.validateOffsetCommit(group, request);
    if (error !== ErrorCode.NONE) return this.replyCommit(reply, offsetCommitResponse(request, () => error));
    switch (group.state) {
      case GroupState.Empty:
        return this.storeOffsets(group, request, reply);
      case GroupState.CompletingRebalance:
        // Valid member of the new generation that has not synced: let it finish the rebalance.
        return this.replyCommit(reply, offsetCommitResponse(request, () => ErrorCode.REBALANCE_IN_PROGRESS));
      default:
        // Stable, or PreparingRebalance (commits of the ending generation are still welcome).
        this.resetHeartbeat(group.get(request.memberId));
        return this.storeOffsets(group, request, reply);
    }
  }

  private validateOffsetCommit(group: ClassicGroup, request: OffsetCommitRequest): number {
    const { generationId, memberId, groupInstanceId } = request;
    if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Admin clients and consumers without group management commit to an Empty group.
    if (generationId < 0 && group.is(GroupState.Empty)) return ErrorCode.NONE;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const error = this.validateCurrentMember(group, memberId, groupInstanceId);
      if (error !== ErrorCode.NONE) return error;
      return generationId === group.generationId ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
    }
    // A group with members accepts commits only from them.
    return group.is(GroupState.Empty) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /** Appends the offsets; the cache and the reply follow the append's outcome. */
  private storeOffsets(group: ClassicGroup, request: OffsetCommitRequest, reply: (response: OffsetCommitResponse) => void): void {
    const nowMs = this.nowMs();
    const appendSequence = ++this.appendSequence;
    // v2-4 may ask for a per-commit retention; -1 means the broker's.
    const expireTimestampMs = request.retentionTimeMs >= 0n ? nowMs + Number(request.retentionTimeMs) : -1;
    const records: OffsetsTopicRecord[] = [];
    const accepted: Array<{ topic: string; partition: number; offset: CommittedOffset }> = [];
    const tooLarge = new Set<string>();
    for (const topic of request.topics) {
      for (const partition of topic.partitions) {
        const metadata = partition.committedMetadata ?? '';
        if (Buffer.byteLength(metadata, 'utf8') > this.config.offsetMetadataMaxBytes) {
          tooLarge.add(topicPartitionKey(topic.name, partition.partitionIndex));
          continue;
        }
        const offset: CommittedOffset = {
          offset: partition.committedOffset,
          leaderEpoch: partition.committedLeaderEpoch,
          metadata,
          commitTimestampMs: nowMs,
          expireTimestampMs,
          appendSequence,
        };
        records.push(offsetCommitRecord(group.groupId, topic.name, partition.partitionIndex, offset));
        accepted.push({ topic: topic.name, partition: partition.partitionIndex, offset });
      }
    }
    const codeFor = (appendCode: number) => (topic: string, partition: number) =>
      tooLarge.has(topicPartitionKey(topic, partition)) ? ErrorCode.OFFSET_METADATA_TOO_LARGE : appendCode;
    if (accepted.length === 0) return this.replyCommit(reply, offsetCommitResponse(request, codeFor(ErrorCode.NONE)));
    for (const each of accepted) group.prepareOffsetCommit(each.topic, each.partition, appendSequence);
    this.persistRecords(records, (error) => {
      if (!group.is(GroupState.Dead)) {
        for (const each of accepted) {
          if (error === null) group.completeOffsetCommit(each.topic, each.partition, each.offset);
          else group.failOffsetCommit(each.topic, each.partition, appendSequence);
        }
      }
      if (error !== null) this.logger?.warn('offset commit append failed', { group: group.groupId, error: error.message });
      const appendCode = error === null ? ErrorCode.NONE : offsetCommitErrorFor(error);
      this.replyCommit(reply, offsetCommitResponse(request, codeFor(appendCode)));
    });
  }

  /**
   * Committed offsets, -1 for partitions without one. v2+ accept topics = null for every
   * committed partition. Errors: v2+ in the top-level errorCode, v1 on every partition.
   */
  offsetFetch(version: number, request: OffsetFetchRequest): OffsetFetchResponse {
    const status = this.groupStatus(request.groupId, true);
    if (status !== ErrorCode.NONE) {
      if (version >= 2) return { throttleTimeMs: 0, topics: [], errorCode: status };
      return offsetFetchResponse(request.topics ?? [], () => undefined, status);
    }
    const group = this.groups.get(request.groupId);
    const lookup = (topic: string, partition: number) =>
      group === undefined || group.is(GroupState.Dead) ? undefined : group.committedOffset(topic, partition);
    if (request.topics !== null) return offsetFetchResponse(request.topics, lookup, ErrorCode.NONE);
    if (group === undefined || group.is(GroupState.Dead)) return { throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE };
    return offsetFetchResponse(allCommittedTopics(group), lookup, ErrorCode.NONE);
  }

  // =============================================================================================
  // DescribeGroups, ListGroups, DeleteGroups, OffsetDelete
  // =============================================================================================

  /**
   * One DescribeGroups entry per id, in order. The caller splits a request by coordinator
   * partition and merges the entries into `{ throttleTimeMs, groups }`.
   */
  describeGroups(version: number, groupIds: readonly string[], includeAuthorizedOperations = false): DescribedGroup[] {
    void version;
    const authorizedOperations = includeAuthorizedOperations ? groupAuthorizedOperations : authorizedOperationsOmitted;
    return groupIds.map((groupId): DescribedGroup => {
      const status = this.groupStatus(groupId, true);
      if (status !== ErrorCode.NONE) return describedGroup(groupId, status, '', '', '', [], authorizedOperations);
      const group = this.groups.get(groupId);
      if (group === undefined) return describedGroup(groupId, ErrorCode.NONE, GroupState.Dead, '', '', [], authorizedOperations);
      return describeGroup(group, authorizedOperations);
    });
  }

  /** This partition's groups, sorted by id; the caller merges the lists of every partition. */
  listGroups(version: number): { errorCode: number; groups: ListedGroup[] } {
    void version;
    if (this.currentPhase === CoordinatorPhase.Unloaded) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    if (this.currentPhase === CoordinatorPhase.Loading) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groups: [] };
    const groups = [...this.groups.values()]
      .map((group): ListedGroup => ({ groupId: group.groupId, protocolType: group.protocolType ?? '' }))
      .sort((a, b) => compareStrings(a.groupId, b.groupId));
    return { errorCode: ErrorCode.NONE, groups };
  }

  /**
   * Deletes Empty groups with their offsets (tombstones for both); the reply comes after the
   * tombstones are durable. The caller splits by coordinator partition and merges the results.
   */
  deleteGroups(version: number, groupIds: readonly string[], reply: (results: DeletedGroupResult[]) => void): void {
    void version;
    this.run(() => {
      const results: DeletedGroupResult[] = [];
      const records: OffsetsTopicRecord[] = [];
      const deleted: DeletedGroupResult[] = [];
      for (const groupId of groupIds) {
        const result = { groupId, errorCode: this.deleteOne(groupId, records) };
        results.push(result);
        if (result.errorCode === ErrorCode.NONE) deleted.push(result);
      }
      if (records.length === 0) {
        this.effects.push(() => reply(results));
        return;
      }
      this.persistRecords(records, (error) => {
        if (error !== null) for (const result of deleted) result.errorCode = offsetCommitErrorFor(error);
        this.effects.push(() => reply(results));
      });
    });
  }

  private deleteOne(groupId: string, records: OffsetsTopicRecord[]): number {
    const status = this.groupStatus(groupId, true);
    if (status !== ErrorCode.NONE) return status;
    const group = this.groups.get(groupId);
    if (group === undefined || group.is(GroupState.Dead)) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is(GroupState.Empty)) return ErrorCode.NON_EMPTY_GROUP;
    for (const { topic, partition } of group.removeAllOffsets()) records.push(offsetTombstone(groupId, topic, partition));
    records.push(...this.removeDeadGroup(group));
    this.logger?.info('deleted group', { group: groupId });
    return ErrorCode.NONE;
  }

  /**
   * Deletes committed offsets. An Empty group loses any; an active consumer group only those of
   * topics no member subscribes to (GROUP_SUBSCRIBED_TO_TOPIC otherwise); other active groups
   * get NON_EMPTY_GROUP. The reply comes after the tombstones are durable.
   */
  offsetDelete(version: number, request: OffsetDeleteRequest, reply: (response: OffsetDeleteResponse) => void): void {
    void version;
    this.run(() => {
      const status = this.groupStatus(request.groupId, false);
      const group = this.groups.get(request.groupId);
      let groupError = status;
      if (groupError === ErrorCode.NONE && (group === undefined || group.is(GroupState.Dead))) groupError = ErrorCode.GROUP_ID_NOT_FOUND;
      else if (groupError === ErrorCode.NONE && group !== undefined && !group.is(GroupState.Empty) && !group.isConsumerGroup) {
        groupError = ErrorCode.NON_EMPTY_GROUP;
      }
      if (groupError !== ErrorCode.NONE || group === undefined) {
        const response: OffsetDeleteResponse = { errorCode: groupError, throttleTimeMs: 0, topics: [] };
        this.effects.push(() => reply(response));
        return;
      }
      this.deleteOffsets(group, request, reply);
    });
  }

  private deleteOffsets(group: ClassicGroup, request: OffsetDeleteRequest, reply: (response: OffsetDeleteResponse) => void): void {
    // Decided before removing anything: a group emptied of its last offsets turns Dead below.
    const subscribedTopics = new Set(request.topics.filter((topic) => !group.is(GroupState.Empty) && group.isSubscribedToTopic(topic.name)).map((topic) => topic.name));
    const subscribed = (topic: string) => subscribedTopics.has(topic);
    const eligible: TopicPartitionRef[] = [];
    for (const topic of request.topics) {
      if (subscribed(topic.name)) continue;
      for (const partition of topic.partitions) eligible.push({ topic: topic.name, partition: partition.partitionIndex });
    }
    const records = group.removeOffsets(eligible).map(({ topic, partition }) => offsetTombstone(group.groupId, topic, partition));
    if (this.isRemovable(group)) records.push(...this.removeDeadGroup(group));
    const respond = (appendCode: number) => {
      const response: OffsetDeleteResponse = {
        errorCode: ErrorCode.NONE,
        throttleTimeMs: 0,
        topics: request.topics.map((topic) => ({
          name: topic.name,
          partitions: topic.partitions.map((partition) => ({
            partitionIndex: partition.partitionIndex,
            errorCode: subscribed(topic.name) ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : appendCode,
          })),
        })),
      };
      this.effects.push(() => reply(response));
    };
    if (records.length === 0) return respond(ErrorCode.NONE);
    this.persistRecords(records, (error) => respond(error === null ? ErrorCode.NONE : offsetCommitErrorFor(error)));
  }

  // =============================================================================================
  // Snapshot for the CLI and admin
  // =============================================================================================

  /** Every group of this partition, sorted by id. */
  snapshot(): GroupSnapshot[] {
    return [...this.groups.values()]
      .sort((a, b) => compareStrings(a.groupId, b.groupId))
      .map((group) => snapshotGroup(group));
  }

  groupSnapshot(groupId: string): GroupSnapshot | null {
    const group = this.groups.get(groupId);
    return group === undefined ? null : snapshotGroup(group);
  }

  // =============================================================================================
  // Time
  // =============================================================================================

  private tickGroup(group: ClassicGroup, nowMs: number): void {
    if (group.is(GroupState.Dead)) return;
    for (const [memberId, deadlineMs] of [...group.pendingMembers]) {
      if (nowMs < deadlineMs) {
        this.wakeAt(deadlineMs);
        continue;
      }
      this.logger?.info('pending member did not rejoin', { group: group.groupId, member: memberId });
      this.removePendingMemberAndUpdateGroup(group, memberId);
    }
    for (const member of [...group.members.values()]) {
      if (group.members.get(member.memberId) !== member || !member.canExpire()) continue;
      if (nowMs < member.heartbeatDeadlineMs) {
        this.wakeAt(member.heartbeatDeadlineMs);
        continue;
      }
      this.removeMemberAndUpdateGroup(group, member, 'session timed out');
    }
    const joinTimer = group.joinTimer;
    if (joinTimer !== null && group.is(GroupState.PreparingRebalance)) {
      if (nowMs >= joinTimer.deadlineMs) this.onJoinTimerExpired(group, joinTimer);
      else this.wakeAt(joinTimer.deadlineMs);
    }
    const syncTimer = group.syncTimer;
    if (syncTimer !== null) {
      if (nowMs >= syncTimer.deadlineMs) this.onSyncTimerExpired(group, syncTimer.generationId);
      else this.wakeAt(syncTimer.deadlineMs);
    }
  }

  /** Kafka's cleanupGroupMetadata run: expired offsets and groups left with nothing. */
  private expireOffsets(nowMs: number): void {
    const records: OffsetsTopicRecord[] = [];
    let expiredOffsets = 0;
    for (const group of [...this.groups.values()]) {
      const removed = group.removeExpiredOffsets(nowMs, this.config.offsetsRetentionMs);
      expiredOffsets += removed.length;
      for (const { topic, partition } of removed) records.push(offsetTombstone(group.groupId, topic, partition));
      if (this.isRemovable(group)) records.push(...this.removeDeadGroup(group));
    }
    if (records.length === 0) return;
    this.logger?.info('expired offsets', { partition: this.partition, offsets: expiredOffsets });
    this.persistRecords(records, (error) => {
      // Lost tombstones are harmless: the next check after a reload writes them again.
      if (error !== null) this.logger?.warn('failed to append offset expiry tombstones', { error: error.message });
    });
  }

  /** Empty, nothing committed, nobody about to rejoin with a MEMBER_ID_REQUIRED id. */
  private isRemovable(group: ClassicGroup): boolean {
    return group.is(GroupState.Empty) && !group.hasOffsets() && group.pendingMembers.size === 0;
  }

  /** Empty → Dead, out of the cache; a group tombstone if it ever had a generation. */
  private removeDeadGroup(group: ClassicGroup): OffsetsTopicRecord[] {
    group.transitionTo(GroupState.Dead, this.nowMs());
    group.joinTimer = null;
    group.syncTimer = null;
    this.groups.delete(group.groupId);
    // Generation 0 means offsets only: no group metadata was ever written.
    return group.generationId > 0 ? [groupTombstone(group.groupId)] : [];
  }

  private resetHeartbeat(member: GroupMember): void {
    this.setHeartbeatDeadline(member, member.sessionTimeoutMs);
  }

  private setHeartbeatDeadline(member: GroupMember, timeoutMs: number): void {
    member.heartbeatDeadlineMs = this.nowMs() + timeoutMs;
    this.wakeAt(member.heartbeatDeadlineMs);
  }

  private setJoinTimer(group: ClassicGroup, timer: JoinTimer): void {
    group.joinTimer = timer;
    this.wakeAt(timer.deadlineMs);
  }

  private wakeAt(deadlineMs: number): void {
    if (deadlineMs < this.nextWakeMs) this.nextWakeMs = deadlineMs;
  }

  private nowMs(): number {
    return this.clock.nowMs();
  }

  // =============================================================================================
  // Loading
  // =============================================================================================

  private loadRecord(loaded: LoadedPartitionState, record: OffsetsTopicRecord): void {
    try {
      const key = decodeOffsetsRecordKey(record.key);
      if (key.kind === 'unknown' || !this.ownsGroup(key.group)) {
        loaded.skippedRecords++;
        return;
      }
      if (key.kind === 'groupMetadata') {
        if (record.value === null) loaded.groupValues.delete(key.group);
        else loaded.groupValues.set(key.group, decodeGroupMetadataValue(record.value));
        return;
      }
      let topics = loaded.offsets.get(key.group);
      if (topics === undefined) loaded.offsets.set(key.group, (topics = new Map()));
      let partitions = topics.get(key.topic);
      if (partitions === undefined) topics.set(key.topic, (partitions = new Map()));
      if (record.value === null) partitions.delete(key.partition);
      else partitions.set(key.partition, decodeOffsetCommitValue(record.value));
    } catch (error) {
      // A record that passed the log's CRC but does not decode: skip it, loudly.
      loaded.skippedRecords++;
      this.logger?.error('skipped undecodable __consumer_offsets record', {
        partition: this.partition,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private materializeLoadedGroups(loaded: LoadedPartitionState): ClassicGroup[] {
    const nowMs = this.nowMs();
    const result: ClassicGroup[] = [];
    for (const [groupId, value] of loaded.groupValues) {
      const group = this.groupFromValue(groupId, value, nowMs);
      if (group !== null) {
        this.groups.set(groupId, group);
        result.push(group);
      }
    }
    for (const [groupId, topics] of loaded.offsets) {
      let group = this.groups.get(groupId);
      for (const [topic, partitions] of topics) {
        for (const [partition, value] of partitions) {
          if (group === undefined) {
            // Offsets without group metadata: a simple-consumer group, Empty.
            group = new ClassicGroup(groupId, nowMs);
            this.groups.set(groupId, group);
            result.push(group);
          }
          group.restoreOffset(topic, partition, { ...value, appendSequence: 0 });
        }
      }
    }
    return result;
  }

  private groupFromValue(groupId: string, value: GroupMetadataValue, nowMs: number): ClassicGroup | null {
    const protocolName = value.protocolName;
    if (value.members.length > 0 && protocolName === null) {
      this.logger?.error('group metadata has members but no protocol; ignored', { group: groupId });
      return null;
    }
    const group = new ClassicGroup(groupId, nowMs);
    group.generationId = value.generationId;
    group.protocolName = protocolName;
    for (const memberValue of value.members) {
      const member = new GroupMember({
        memberId: memberValue.memberId,
        groupInstanceId: memberValue.groupInstanceId,
        clientId: memberValue.clientId,
        clientHost: memberValue.clientHost,
        protocolType: value.protocolType,
        rebalanceTimeoutMs: memberValue.rebalanceTimeoutMs,
        sessionTimeoutMs: memberValue.sessionTimeoutMs,
        protocols: [{ name: protocolName ?? '', metadata: memberValue.subscription }],
      });
      member.assignment = memberValue.assignment;
      group.add(member, null);
    }
    group.protocolType = value.protocolType === '' ? null : value.protocolType;
    if (value.leaderId !== null && group.has(value.leaderId)) group.leaderId = value.leaderId;
    const timestampMs = value.currentStateTimestampMs >= 0 ? value.currentStateTimestampMs : null;
    group.restoreState(group.size > 0 ? GroupState.Stable : GroupState.Empty, timestampMs);
    group.subscribedTopics = group.computeSubscribedTopics();
    return group;
  }

  private onGroupLoaded(group: ClassicGroup): void {
    for (const member of group.members.values()) this.resetHeartbeat(member);
    if (group.size > this.config.groupMaxSize) {
      this.prepareRebalance(group, `loaded group is over group.max.size ${this.config.groupMaxSize}`);
    }
  }

  // =============================================================================================
  // Plumbing
  // =============================================================================================

  /** Kafka's validateGroupStatus. OffsetCommit/Fetch, Describe and Delete accept the empty id. */
  private groupStatus(groupId: string, allowEmptyId: boolean): number {
    if (!allowEmptyId && groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (this.currentPhase === CoordinatorPhase.Unloaded || !this.ownsGroup(groupId)) return ErrorCode.NOT_COORDINATOR;
    if (this.currentPhase === CoordinatorPhase.Loading) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  private createGroup(groupId: string): ClassicGroup {
    const group = new ClassicGroup(groupId, this.nowMs());
    this.groups.set(groupId, group);
    return group;
  }

  /** Appends the group's metadata with this assignment (Kafka's storeGroup). */
  private storeGroup(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>, done: (errorCode: number) => void): void {
    const protocolName = group.protocolName;
    if (group.size > 0 && protocolName === null) throw new Error(`group ${group.groupId} has members but no protocol`);
    const value: GroupMetadataValue = {
      protocolType: group.protocolType ?? '',
      generationId: group.generationId,
      protocolName,
      leaderId: group.leaderId,
      currentStateTimestampMs: group.currentStateTimestampMs ?? -1,
      members: [...group.members.values()].map((member) => {
        const memberAssignment = assignment.get(member.memberId);
        if (memberAssignment === undefined) throw new Error(`no assignment for member ${member.memberId}`);
        return {
          memberId: member.memberId,
          groupInstanceId: member.groupInstanceId,
          clientId: member.clientId,
          clientHost: member.clientHost,
          rebalanceTimeoutMs: member.rebalanceTimeoutMs,
          sessionTimeoutMs: member.sessionTimeoutMs,
          subscription: member.metadataFor(protocolName ?? ''),
          assignment: memberAssignment,
        };
      }),
    };
    this.persistRecords([groupMetadataRecord(group.groupId, value)], (error) => {
      if (error !== null) this.logger?.warn('group metadata append failed', { group: group.groupId, error: error.message });
      done(error === null ? ErrorCode.NONE : storeGroupErrorFor(error));
    });
  }

  /** Queues the append; `done` runs as a public entry point when the log calls back. */
  private persistRecords(records: readonly OffsetsTopicRecord[], done: (error: Error | null) => void): void {
    let called = false;
    const callback: PersistDone = (error) => {
      if (called) throw new Error('persist done() called twice');
      called = true;
      this.run(() => done(error));
    };
    this.effects.push(() => this.options.persist(records, callback));
  }

  /** A member going away or being fenced: its parked requests still need an answer. */
  private answerParked(member: GroupMember, errorCode: number): void {
    const join = member.awaitingJoin;
    if (join !== null) {
      member.awaitingJoin = null;
      const memberId = errorCode === ErrorCode.FENCED_INSTANCE_ID ? member.memberId : '';
      this.replyJoin(join, joinError(memberId, errorCode));
    }
    const sync = member.awaitingSync;
    if (sync !== null) {
      member.awaitingSync = null;
      this.replySync(sync, errorCode);
    }
  }

  /**
   * A member sent JoinGroup again while an earlier one is parked (a client retry after its
   * request timeout). Kafka drops the earlier callback; we answer it, because the front end
   * answers each connection's requests in order and a never-answered request would stall it.
   */
  private supersedeParkedJoin(member: GroupMember): void {
    const earlier = member.awaitingJoin;
    if (earlier === null) return;
    member.awaitingJoin = null;
    this.replyJoin(earlier, joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
  }

  private supersedeParkedSync(member: GroupMember): void {
    const earlier = member.awaitingSync;
    if (earlier === null) return;
    member.awaitingSync = null;
    this.replySync(earlier, ErrorCode.REBALANCE_IN_PROGRESS);
  }

  private replyJoin(reply: JoinGroupReply, response: JoinGroupResponse): void {
    this.effects.push(() => reply(response));
  }

  private replySync(reply: SyncGroupReply, errorCode: number, assignment: Buffer = emptyBuffer): void {
    const response: SyncGroupResponse = { throttleTimeMs: 0, errorCode, assignment };
    this.effects.push(() => reply(response));
  }

  private replyCommit(reply: (response: OffsetCommitResponse) => void, response: OffsetCommitResponse): void {
    this.effects.push(() => reply(response));
  }

  /** Runs `body`, then (outermost call only) the effects it queued, in order. */
  private run(body: () => void): void {
    body();
    if (this.flushing) return;
    this.flushing = true;
    let failure: { error: unknown } | null = null;
    try {
      for (let index = 0; index < this.effects.length; index++) {
        if (index >= maxEffectsPerCall) throw new Error(`more than ${maxEffectsPerCall} effects in one call`);
        try {
          this.effects[index]!();
        } catch (error) {
          // Keep answering the others; a throwing callback is the caller's bug, surfaced below.
          failure ??= { error };
        }
      }
    } finally {
      this.effects.length = 0;
      this.flushing = false;
    }
    if (failure !== null) throw failure.error;
  }
}

// ===============================================================================================
// Response builders (pure)
// ===============================================================================================

function joinParams(
  version: number,
  request: JoinGroupRequest,
  clientId: string,
  clientHost: string,
  reply: JoinGroupReply,
): JoinParams {
  return {
    groupId: request.groupId,
    memberId: request.memberId,
    groupInstanceId: request.groupInstanceId,
    clientId,
    clientHost,
    // v0 has no rebalance timeout: the session timeout bounds the rebalance too.
    rebalanceTimeoutMs: version === 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
    sessionTimeoutMs: request.sessionTimeoutMs,
    protocolType: request.protocolType,
    // Copies: the decoded buffers may point into a reused frame buffer.
    protocols: request.protocols.map((protocol) => ({ name: protocol.name, metadata: Buffer.from(protocol.metadata) })),
    requireKnownMemberId: version >= 4,
    reply,
  };
}
