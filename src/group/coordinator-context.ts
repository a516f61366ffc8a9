/**
 * The state and plumbing every room of the group coordinator shares: the groups of one
 * `__consumer_offsets` partition, the injected clock, the earliest timer, and the effect queue.
 *
 * Effects: every public call of the coordinator runs inside `run()`, which first updates state,
 * then runs the effects the call queued, in order: replies and appends (`persist`). So replies
 * never observe half-updated state, and a `persist` that calls `done` synchronously (or a reply
 * that calls back in) is safe. Nothing here does I/O or reads a wall clock.
 */
import { ErrorCode } from '../protocol/errors.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import type { GroupCoordinatorConfig } from './config.js';
import { coordinatorPartitionFor } from './coordinator-partition.js';
import { ClassicGroup, type GroupMember, type JoinTimer } from './group-metadata.js';
import type { OffsetsTopicRecord } from './offsets-records.js';
import { joinError } from './responses.js';
import type { JoinGroupReply, JoinGroupResponse, OffsetCommitResponse, SyncGroupReply, SyncGroupResponse } from './types.js';

export type PersistDone = (error: Error | null) => void;

/** What the coordinator needs from its host: member ids and durable appends. */
export interface CoordinatorHost {
  newMemberId(clientId: string, groupInstanceId: string | null): string;
  persist(records: readonly OffsetsTopicRecord[], done: PersistDone): void;
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
export const emptyBuffer: Buffer = Buffer.alloc(0);

export class CoordinatorContext {
  readonly groups = new Map<string, ClassicGroup>();
  phase: CoordinatorPhaseName = CoordinatorPhase.Loading;
  readonly effects: Array<() => void> = [];
  private flushing = false;
  /** No timer of any group is due before this; lets `tick()` return at once most of the time. */
  nextWakeMs = Number.POSITIVE_INFINITY;
  nextOffsetExpiryCheckMs = Number.POSITIVE_INFINITY;
  /** Numbers offset appends, so a late-completing older append never overwrites a newer one. */
  appendSequence = 0;

  constructor(
    readonly partition: number,
    readonly partitionCount: number,
    readonly config: GroupCoordinatorConfig,
    private readonly clock: Clock,
    readonly options: CoordinatorHost,
    readonly logger: Logger | null,
  ) {}

  /** Runs `body`, then (outermost call only) the effects it queued, in order. */
  run(body: () => void): void {
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

  nowMs(): number {
    return this.clock.nowMs();
  }

  wakeAt(deadlineMs: number): void {
    if (deadlineMs < this.nextWakeMs) this.nextWakeMs = deadlineMs;
  }

  resetHeartbeat(member: GroupMember): void {
    this.setHeartbeatDeadline(member, member.sessionTimeoutMs);
  }

  setHeartbeatDeadline(member: GroupMember, timeoutMs: number): void {
    member.heartbeatDeadlineMs = this.nowMs() + timeoutMs;
    this.wakeAt(member.heartbeatDeadlineMs);
  }

  setJoinTimer(group: ClassicGroup, timer: JoinTimer): void {
    group.joinTimer = timer;
    this.wakeAt(timer.deadlineMs);
  }

  /** Kafka's validateGroupStatus. OffsetCommit/Fetch, Describe and Delete accept the empty id. */
  groupStatus(groupId: string, allowEmptyId: boolean): number {
    if (!allowEmptyId && groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (this.phase === CoordinatorPhase.Unloaded || !this.ownsGroup(groupId)) return ErrorCode.NOT_COORDINATOR;
    if (this.phase === CoordinatorPhase.Loading) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /** Whether `groupId` belongs to this instance's partition. */
  ownsGroup(groupId: string): boolean {
    return coordinatorPartitionFor(groupId, this.partitionCount) === this.partition;
  }

  createGroup(groupId: string): ClassicGroup {
    const group = new ClassicGroup(groupId, this.nowMs());
    this.groups.set(groupId, group);
    return group;
  }

  /** Queues the append; `done` runs as a public entry point when the log calls back. */
  persistRecords(records: readonly OffsetsTopicRecord[], done: (error: Error | null) => void): void {
    let called = false;
    const callback: PersistDone = (error) => {
      if (called) throw new Error('persist done() called twice');
      called = true;
      this.run(() => done(error));
    };
    this.effects.push(() => this.options.persist(records, callback));
  }

  /** A member going away or being fenced: its parked requests still need an answer. */
  answerParked(member: GroupMember, errorCode: number): void {
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
  supersedeParkedJoin(member: GroupMember): void {
    const earlier = member.awaitingJoin;
    if (earlier === null) return;
    member.awaitingJoin = null;
    this.replyJoin(earlier, joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
  }

  supersedeParkedSync(member: GroupMember): void {
    const earlier = member.awaitingSync;
    if (earlier === null) return;
    member.awaitingSync = null;
    this.replySync(earlier, ErrorCode.REBALANCE_IN_PROGRESS);
  }

  replyJoin(reply: JoinGroupReply, response: JoinGroupResponse): void {
    this.effects.push(() => reply(response));
  }

  replySync(reply: SyncGroupReply, errorCode: number, assignment: Buffer = emptyBuffer): void {
    const response: SyncGroupResponse = { throttleTimeMs: 0, errorCode, assignment };
    this.effects.push(() => reply(response));
  }

  replyCommit(reply: (response: OffsetCommitResponse) => void, response: OffsetCommitResponse): void {
    this.effects.push(() => reply(response));
  }

  /** Kafka's validateCurrentMember: instance id first (fencing), then the member id. */
  validateCurrentMember(group: ClassicGroup, memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const currentMemberId = group.staticMemberId(groupInstanceId);
      if (currentMemberId === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      return currentMemberId === memberId ? ErrorCode.NONE : ErrorCode.FENCED_INSTANCE_ID;
    }
    return group.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }
}
