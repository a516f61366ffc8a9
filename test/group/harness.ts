/**
 * Test harness for the group coordinator: a ManualClock, a scripted `persist` (immediately
 * durable, failing, or held until the test completes it), a counting member-id generator, and
 * request builders that fill every field the decoder would.
 */
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/runtime/clock.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { GroupCoordinator, type PersistDone } from '../../src/group/group-coordinator.js';
import { encodeConsumerSubscription } from '../../src/group/consumer-protocol.js';
import type { GroupCoordinatorConfig } from '../../src/group/config.js';
import type { OffsetsTopicRecord } from '../../src/group/offsets-records.js';
import type {
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  SyncGroupResponse,
} from '../../src/group/types.js';

export const startMs = 1_700_000_000_000;

/** Fast defaults for scripted scenarios: no initial delay. Tests of the delay set it. */
export const testConfig: Partial<GroupCoordinatorConfig> = { groupInitialRebalanceDelayMs: 0 };

export type PersistMode = 'durable' | 'hold';

interface HeldAppend {
  readonly records: readonly OffsetsTopicRecord[];
  readonly done: PersistDone;
}

/** Captures one reply; a request must be answered exactly once. */
export class Reply<T> {
  private values: T[] = [];
  readonly fn = (value: T): void => {
    this.values.push(value);
  };

  get answered(): boolean {
    return this.values.length > 0;
  }

  get value(): T {
    assert.equal(this.values.length, 1, `expected exactly one reply, got ${this.values.length}`);
    return this.values[0]!;
  }
}

export interface JoinOptions {
  readonly groupId?: string;
  readonly memberId?: string;
  readonly version?: number;
  readonly groupInstanceId?: string | null;
  readonly protocolType?: string;
  readonly protocols?: ReadonlyArray<{ name: string; metadata: Buffer }>;
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
  readonly clientId?: string;
}

export class Harness {
  readonly clock = new ManualClock(startMs);
  /** Every persist call, in order. */
  readonly appends: Array<readonly OffsetsTopicRecord[]> = [];
  readonly held: HeldAppend[] = [];
  persistMode: PersistMode = 'durable';
  /** When set, durable-mode appends fail with this error. */
  failWith: Error | null = null;
  readonly coordinator: GroupCoordinator;
  private idCounter = 0;

  constructor(
    options: {
      config?: Partial<GroupCoordinatorConfig>;
      partition?: number;
      partitionCount?: number;
      load?: readonly OffsetsTopicRecord[] | null;
    } = {},
  ) {
    this.coordinator = new GroupCoordinator({
      partition: options.partition ?? 0,
      partitionCount: options.partitionCount ?? 1,
      clock: this.clock,
      newMemberId: (clientId, groupInstanceId) => `${groupInstanceId ?? clientId}-${++this.idCounter}`,
      persist: (records, done) => this.persist(records, done),
      config: { ...testConfig, ...options.config },
    });
    if (options.load !== null) this.coordinator.load(options.load ?? []);
  }

  private persist(records: readonly OffsetsTopicRecord[], done: PersistDone): void {
    this.appends.push(records);
    if (this.persistMode === 'hold') this.held.push({ records, done });
    else done(this.failWith);
  }

  /** Completes held appends, oldest first (or newest first), with `error`. */
  completeHeld(error: Error | null = null, order: 'oldest' | 'newest' = 'oldest'): void {
    const maxAppends = 1000;
    for (let step = 0; step < maxAppends && this.held.length > 0; step++) {
      const append = order === 'oldest' ? this.held.shift()! : this.held.pop()!;
      append.done(error);
    }
    assert.equal(this.held.length, 0);
  }

  /** The log as the partition would hold it: every appended record, in order. */
  log(): OffsetsTopicRecord[] {
    return this.appends.flat();
  }

  advance(deltaMs: number): void {
    this.clock.advance(deltaMs);
    this.coordinator.tick();
  }

  join(options: JoinOptions = {}): Reply<JoinGroupResponse> {
    const reply = new Reply<JoinGroupResponse>();
    const version = options.version ?? 5;
    this.coordinator.joinGroup(version, joinRequest(options), options.clientId ?? 'client', '/127.0.0.1', reply.fn);
    return reply;
  }

  /** JoinGroup v5 the way kafkajs/librdkafka do it: empty id, MEMBER_ID_REQUIRED, rejoin. */
  joinWithRequiredId(options: JoinOptions = {}): { memberId: string; reply: Reply<JoinGroupResponse> } {
    const first = this.join({ ...options, memberId: '' });
    assert.equal(first.value.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    const memberId = first.value.memberId;
    return { memberId, reply: this.join({ ...options, memberId }) };
  }

  sync(
    memberId: string,
    generationId: number,
    assignments: ReadonlyArray<{ memberId: string; assignment: Buffer }> = [],
    options: { groupId?: string; groupInstanceId?: string | null } = {},
  ): Reply<SyncGroupResponse> {
    const reply = new Reply<SyncGroupResponse>();
    this.coordinator.syncGroup(
      3,
      {
        groupId: options.groupId ?? 'group',
        generationId,
        memberId,
        groupInstanceId: options.groupInstanceId ?? null,
        assignments: assignments.map((each) => ({ ...each })),
      },
      reply.fn,
    );
    return reply;
  }

  heartbeat(
    memberId: string,
    generationId: number,
    options: { groupId?: string; groupInstanceId?: string | null } = {},
  ): number {
    const reply = new Reply<HeartbeatResponse>();
    this.coordinator.heartbeat(
      3,
      { groupId: options.groupId ?? 'group', generationId, memberId, groupInstanceId: options.groupInstanceId ?? null },
      reply.fn,
    );
    return reply.value.errorCode;
  }

  leave(memberId: string, groupId = 'group'): LeaveGroupResponse {
    const reply = new Reply<LeaveGroupResponse>();
    this.coordinator.leaveGroup(1, { groupId, memberId, members: [] }, reply.fn);
    return reply.value;
  }

  leaveBatch(
    members: ReadonlyArray<{ memberId: string; groupInstanceId: string | null }>,
    groupId = 'group',
  ): LeaveGroupResponse {
    const reply = new Reply<LeaveGroupResponse>();
    this.coordinator.leaveGroup(3, { groupId, memberId: '', members: members.map((each) => ({ ...each })) }, reply.fn);
    return reply.value;
  }

  commit(request: Partial<OffsetCommitRequest> & { topics: OffsetCommitRequest['topics'] }, version = 7): Reply<OffsetCommitResponse> {
    const reply = new Reply<OffsetCommitResponse>();
    this.coordinator.offsetCommit(version, commitRequest(request), reply.fn);
    return reply;
  }

  /** The committed offset of one partition (-1n when none), via OffsetFetch v5. */
  fetchOffset(topic: string, partition: number, groupId = 'group'): bigint {
    const response = this.coordinator.offsetFetch(5, { groupId, topics: [{ name: topic, partitionIndexes: [partition] }] });
    assert.equal(response.errorCode, ErrorCode.NONE);
    return response.topics[0]!.partitions[0]!.committedOffset;
  }

  state(groupId = 'group'): string {
    return this.coordinator.groupSnapshot(groupId)?.state ?? 'none';
  }
}

export function joinRequest(options: JoinOptions = {}): JoinGroupRequest {
  return {
    groupId: options.groupId ?? 'group',
    sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 30_000,
    memberId: options.memberId ?? '',
    groupInstanceId: options.groupInstanceId ?? null,
    protocolType: options.protocolType ?? 'consumer',
    protocols: (options.protocols ?? [{ name: 'range', metadata: subscription(['topic']) }]).map((each) => ({ ...each })),
  };
}

export function commitRequest(
  request: Partial<OffsetCommitRequest> & { topics: OffsetCommitRequest['topics'] },
): OffsetCommitRequest {
  return {
    groupId: request.groupId ?? 'group',
    generationId: request.generationId ?? -1,
    memberId: request.memberId ?? '',
    groupInstanceId: request.groupInstanceId ?? null,
    retentionTimeMs: request.retentionTimeMs ?? -1n,
    topics: request.topics,
  };
}

/** One topic's commit entries: [partition, offset] pairs. */
export function commitTopic(
  name: string,
  entries: ReadonlyArray<[number, bigint]>,
  options: { metadata?: string | null; leaderEpoch?: number } = {},
): OffsetCommitRequest['topics'][number] {
  return {
    name,
    partitions: entries.map(([partitionIndex, committedOffset]) => ({
      partitionIndex,
      committedOffset,
      committedLeaderEpoch: options.leaderEpoch ?? -1,
      committedMetadata: options.metadata === undefined ? '' : options.metadata,
    })),
  };
}

/** A ConsumerProtocolSubscription: version 0, or version 1 owning `owned` of the first topic. */
export function subscription(topics: readonly string[], owned: readonly number[] = []): Buffer {
  if (owned.length === 0) return encodeConsumerSubscription(0, { topics });
  return encodeConsumerSubscription(1, { topics, ownedPartitions: [{ topic: topics[0]!, partitions: owned }] });
}

/** A recognisable assignment blob. */
export function assignment(text: string): Buffer {
  return Buffer.from(`assignment:${text}`);
}

export interface MemberSpec {
  readonly clientId: string;
  readonly groupInstanceId?: string;
  readonly protocols?: ReadonlyArray<{ name: string; metadata: Buffer }>;
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
}

export interface FormedGroup {
  /** In the order of `specs`. */
  readonly memberIds: string[];
  readonly generationId: number;
  readonly leaderId: string;
}

/**
 * Forms a Stable group from scratch the way real clients do: every member joins (dynamic ones
 * through MEMBER_ID_REQUIRED), the initial delay lets them land in one generation, followers
 * sync, the leader syncs `assignment(memberId)` for everyone. Needs an initial delay > 0.
 */
export function formGroup(h: Harness, specs: readonly MemberSpec[], groupId = 'group'): FormedGroup {
  const delayMs = h.coordinator.config.groupInitialRebalanceDelayMs;
  assert.ok(delayMs > 0, 'formGroup needs groupInitialRebalanceDelayMs > 0');
  const joins = specs.map((spec) => {
    const options: JoinOptions = { ...spec, groupId, groupInstanceId: spec.groupInstanceId ?? null };
    return spec.groupInstanceId === undefined ? h.joinWithRequiredId(options).reply : h.join(options);
  });
  const maxSteps = 100;
  for (let step = 0; step < maxSteps && !joins.every((join) => join.answered); step++) h.advance(delayMs);
  const responses = joins.map((join) => join.value);
  for (const response of responses) assert.equal(response.errorCode, ErrorCode.NONE);
  const generationId = responses[0]!.generationId;
  const leaderId = responses[0]!.leader;
  const memberIds = responses.map((response) => response.memberId);
  const syncs = memberIds.map((memberId) =>
    memberId === leaderId ? null : h.sync(memberId, generationId, [], { groupId, groupInstanceId: instanceOf(specs, memberIds, memberId) }),
  );
  const leaderSync = h.sync(
    leaderId,
    generationId,
    memberIds.map((memberId) => ({ memberId, assignment: assignment(memberId) })),
    { groupId, groupInstanceId: instanceOf(specs, memberIds, leaderId) },
  );
  h.completeHeld();
  memberIds.forEach((memberId, index) => {
    const reply = syncs[index] ?? leaderSync;
    assert.equal(reply.value.errorCode, ErrorCode.NONE);
    assert.deepEqual(reply.value.assignment, assignment(memberId));
  });
  return { memberIds, generationId, leaderId };
}

function instanceOf(specs: readonly MemberSpec[], memberIds: readonly string[], memberId: string): string | null {
  return specs[memberIds.indexOf(memberId)]?.groupInstanceId ?? null;
}
