/**
 * The classic consumer-group coordinator (JoinGroup / SyncGroup / Heartbeat / LeaveGroup and the
 * offset APIs) for the groups of ONE `__consumer_offsets` partition, as a pure state machine.
 * Semantics follow Kafka's GroupCoordinator.scala and GroupMetadataManager.scala (3.x).
 *
 * Purity: no sockets, files, timers, Date.now or Math.random. Time comes from the injected
 * Clock and moves forward through `tick()`; member ids come from `newMemberId`; durable writes go
 * out through `persist`, whose `done` callback brings the outcome back in.
 *
 * Rooms: this file is the public face and the lifecycle; join-group.ts and membership.ts hold
 * membership and rebalancing (Kafka's GroupCoordinator), group-metadata-manager.ts what goes to
 * `__consumer_offsets` (Kafka's GroupMetadataManager), group-metadata-loader.ts loading it back,
 * coordinator-context.ts the shared state and the effect queue.
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
import { CoordinatorContext, CoordinatorPhase, type CoordinatorPhaseName, type PersistDone } from './coordinator-context.js';
import { GroupState, type ClassicGroup } from './group-metadata.js';
import { loadRecord, materializeLoadedGroups, type LoadedPartitionState } from './group-metadata-loader.js';
import { deleteGroups, expireOffsets, listGroups, offsetDelete, offsetFetch, storeOffsets } from './group-metadata-manager.js';
import { handleJoinGroup } from './join-group.js';
import { handleHeartbeat, handleLeaveGroup, handleSyncGroup, prepareRebalance, tickGroup } from './membership.js';
import type { OffsetsTopicRecord } from './offsets-records.js';
import {
  authorizedOperationsOmitted,
  compareStrings,
  describedGroup,
  describeGroup,
  groupAuthorizedOperations,
  offsetCommitResponse,
  snapshotGroup,
  type GroupSnapshot,
} from './responses.js';
import type {
  DeletedGroupResult,
  DescribedGroup,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupReply,
  JoinGroupRequest,
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
} from './types.js';

export { CoordinatorPhase, type CoordinatorPhaseName, type PersistDone } from './coordinator-context.js';

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

export class GroupCoordinator {
  readonly partition: number;
  readonly partitionCount: number;
  readonly config: GroupCoordinatorConfig;
  private readonly context: CoordinatorContext;

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
    this.context = new CoordinatorContext(
      options.partition,
      options.partitionCount,
      this.config,
      options.clock,
      options,
      options.logger ?? null,
    );
  }

  get phase(): CoordinatorPhaseName {
    return this.context.phase;
  }

  /** Whether `groupId` belongs to this instance's partition. */
  ownsGroup(groupId: string): boolean {
    return this.context.ownsGroup(groupId);
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
    const context = this.context;
    if (context.phase !== CoordinatorPhase.Loading) throw new Error(`load() in phase ${context.phase}`);
    context.run(() => {
      const loaded: LoadedPartitionState = { groupValues: new Map(), offsets: new Map(), skippedRecords: 0 };
      for (const record of records) loadRecord(context, loaded, record);
      const loadedGroups = materializeLoadedGroups(context, loaded);
      context.phase = CoordinatorPhase.Active;
      context.nextOffsetExpiryCheckMs = context.nowMs() + this.config.offsetsRetentionCheckIntervalMs;
      for (const group of loadedGroups) this.onGroupLoaded(group);
      context.logger?.info('loaded groups and offsets', {
        partition: this.partition,
        groups: context.groups.size,
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
    const context = this.context;
    context.run(() => {
      for (const group of context.groups.values()) {
        for (const member of group.members.values()) context.answerParked(member, ErrorCode.NOT_COORDINATOR);
        group.joinTimer = null;
        group.syncTimer = null;
        group.transitionTo(GroupState.Dead, context.nowMs());
      }
      context.groups.clear();
      context.phase = CoordinatorPhase.Unloaded;
      context.nextWakeMs = Number.POSITIVE_INFINITY;
      context.nextOffsetExpiryCheckMs = Number.POSITIVE_INFINITY;
    });
  }

  /**
   * Advances time: session expiry, pending-member expiry, the end of rebalances (timeout or
   * initial delay), SyncGroup deadlines, offset expiry. Cheap when nothing is due.
   */
  tick(): void {
    const context = this.context;
    if (context.phase !== CoordinatorPhase.Active) return;
    context.run(() => {
      const nowMs = context.nowMs();
      if (nowMs >= context.nextOffsetExpiryCheckMs) {
        context.nextOffsetExpiryCheckMs = nowMs + this.config.offsetsRetentionCheckIntervalMs;
        expireOffsets(context, nowMs);
      }
      if (nowMs < context.nextWakeMs) return;
      context.nextWakeMs = Number.POSITIVE_INFINITY;
      for (const group of [...context.groups.values()]) tickGroup(context, group, nowMs);
    });
  }

  /** The earliest time at which `tick()` has work, for callers that sleep between ticks. */
  nextDeadlineMs(): number {
    if (this.context.phase !== CoordinatorPhase.Active) return Number.POSITIVE_INFINITY;
    return Math.min(this.context.nextWakeMs, this.context.nextOffsetExpiryCheckMs);
  }

  private onGroupLoaded(group: ClassicGroup): void {
    for (const member of group.members.values()) this.context.resetHeartbeat(member);
    if (group.size > this.config.groupMaxSize) {
      prepareRebalance(this.context, group, `loaded group is over group.max.size ${this.config.groupMaxSize}`);
    }
  }

  // =============================================================================================
  // Membership: JoinGroup, SyncGroup, Heartbeat, LeaveGroup
  // =============================================================================================

  joinGroup(
    version: number,
    request: JoinGroupRequest,
    clientId: string,
    clientHost: string,
    reply: JoinGroupReply,
  ): void {
    this.context.run(() => handleJoinGroup(this.context, version, request, clientId, clientHost, reply));
  }

  syncGroup(version: number, request: SyncGroupRequest, reply: SyncGroupReply): void {
    void version; // v0-3 differ only in fields the decoder already defaulted
    this.context.run(() => handleSyncGroup(this.context, request, reply));
  }

  heartbeat(version: number, request: HeartbeatRequest, reply: (response: HeartbeatResponse) => void): void {
    void version;
    this.context.run(() => {
      const errorCode = handleHeartbeat(this.context, request);
      this.context.effects.push(() => reply({ throttleTimeMs: 0, errorCode }));
    });
  }

  /** v0-2 name one member; v3 a batch with group.instance.ids and per-member errors (KIP-345). */
  leaveGroup(version: number, request: LeaveGroupRequest, reply: (response: LeaveGroupResponse) => void): void {
    this.context.run(() => {
      const response = handleLeaveGroup(this.context, version, request);
      this.context.effects.push(() => reply(response));
    });
  }

  // =============================================================================================
  // OffsetCommit and OffsetFetch
  // =============================================================================================

  offsetCommit(version: number, request: OffsetCommitRequest, reply: (response: OffsetCommitResponse) => void): void {
    void version;
    this.context.run(() => this.handleOffsetCommit(request, reply));
  }

  private handleOffsetCommit(request: OffsetCommitRequest, reply: (response: OffsetCommitResponse) => void): void {
    const context = this.context;
    const status = context.groupStatus(request.groupId, true);
    if (status !== ErrorCode.NONE) return context.replyCommit(reply, offsetCommitResponse(request, () => status));
    let group = context.groups.get(request.groupId);
    if (group === undefined) {
      // No group yet: only a consumer outside group management (generation -1) may commit.
      if (request.generationId >= 0) return context.replyCommit(reply, offsetCommitResponse(request, () => ErrorCode.ILLEGAL_GENERATION));
      group = context.createGroup(request.groupId);
    }
    const error = this.validateOffsetCommit(group, request);
    if (error !== ErrorCode.NONE) return context.replyCommit(reply, offsetCommitResponse(request, () => error));
    switch (group.state) {
      case GroupState.Empty:
        return storeOffsets(context, group, request, reply);
      case GroupState.CompletingRebalance:
        // Valid member of the new generation that has not synced: let it finish the rebalance.
        return context.replyCommit(reply, offsetCommitResponse(request, () => ErrorCode.REBALANCE_IN_PROGRESS));
      default:
        // Stable, or PreparingRebalance (commits of the ending generation are still welcome).
        context.resetHeartbeat(group.get(request.memberId));
        return storeOffsets(context, group, request, reply);
    }
  }

  private validateOffsetCommit(group: ClassicGroup, request: OffsetCommitRequest): number {
    const { generationId, memberId, groupInstanceId } = request;
    if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Admin clients and consumers without group management commit to an Empty group.
    if (generationId < 0 && group.is(GroupState.Empty)) return ErrorCode.NONE;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const error = this.context.validateCurrentMember(group, memberId, groupInstanceId);
      if (error !== ErrorCode.NONE) return error;
      return generationId === group.generationId ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
    }
    // A group with members accepts commits only from them.
    return group.is(GroupState.Empty) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /**
   * Committed offsets, -1 for partitions without one. v2+ accept topics = null for every
   * committed partition. Errors: v2+ in the top-level errorCode, v1 on every partition.
   */
  offsetFetch(version: number, request: OffsetFetchRequest): OffsetFetchResponse {
    return offsetFetch(this.context, version, request);
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
      const status = this.context.groupStatus(groupId, true);
      if (status !== ErrorCode.NONE) return describedGroup(groupId, status, '', '', '', [], authorizedOperations);
      const group = this.context.groups.get(groupId);
      if (group === undefined) return describedGroup(groupId, ErrorCode.NONE, GroupState.Dead, '', '', [], authorizedOperations);
      return describeGroup(group, authorizedOperations);
    });
  }

  /** This partition's groups, sorted by id; the caller merges the lists of every partition. */
  listGroups(version: number): { errorCode: number; groups: ListedGroup[] } {
    return listGroups(this.context, version);
  }

  /**
   * Deletes Empty groups with their offsets (tombstones for both); the reply comes after the
   * tombstones are durable. The caller splits by coordinator partition and merges the results.
   */
  deleteGroups(version: number, groupIds: readonly string[], reply: (results: DeletedGroupResult[]) => void): void {
    deleteGroups(this.context, version, groupIds, reply);
  }

  /**
   * Deletes committed offsets. An Empty group loses any; an active consumer group only those of
   * topics no member subscribes to (GROUP_SUBSCRIBED_TO_TOPIC otherwise); other active groups
   * get NON_EMPTY_GROUP. The reply comes after the tombstones are durable.
   */
  offsetDelete(version: number, request: OffsetDeleteRequest, reply: (response: OffsetDeleteResponse) => void): void {
    offsetDelete(this.context, version, request, reply);
  }

  // =============================================================================================
  // Snapshot for the CLI and admin
  // =============================================================================================

  /** Every group of this partition, sorted by id. */
  snapshot(): GroupSnapshot[] {
    return [...this.context.groups.values()]
      .sort((a, b) => compareStrings(a.groupId, b.groupId))
      .map((group) => snapshotGroup(group));
  }

  groupSnapshot(groupId: string): GroupSnapshot | null {
    const group = this.context.groups.get(groupId);
    return group === undefined ? null : snapshotGroup(group);
  }
}
