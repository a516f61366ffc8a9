/**
 * A member of a classic consumer group (eager protocol), as Kafka's ConsumerCoordinator runs
 * one: FindCoordinator, JoinGroup (with the MEMBER_ID_REQUIRED round trip of KIP-394), SyncGroup
 * (the leader runs the assignor over every member's subscription), a Heartbeat loop that rejoins
 * when the coordinator starts a rebalance, OffsetCommit / OffsetFetch with the member's
 * generation, and LeaveGroup. Fetching is the caller's (e.g. `Consumer.assign` with the
 * assignment): this class only owns membership.
 */
import {
  consumerProtocolType,
  decodeConsumerAssignment,
  decodeConsumerSubscription,
  encodeConsumerAssignment,
  encodeConsumerSubscription,
} from '../group/consumer-protocol.js';
import type { ResponseBody } from '../protocol/codec/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { ApiKey } from '../protocol/schema/index.js';
import { rangeAssignor, type AssignorMember, type PartitionAssignor } from './assignors.js';
import type { ClusterClient } from './cluster-client.js';
import type { BrokerConnection } from './connection.js';
import { FinalKafkaError } from './errors.js';
import { groupByTopic, partitionKey, type TopicPartition } from './grouping.js';
import { GroupsAdmin, offsetCommitBody } from './groups-admin.js';

/** Defaults (Kafka's consumer defaults where they suit a test suite) and bounds, named once. */
export const GroupMemberDefaults = {
  sessionTimeoutMs: 10_000,
  /** Kafka's max.poll.interval.ms stands in for it; a member here is never stuck in a poll. */
  rebalanceTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  /** JoinGroup + SyncGroup rounds in one join before giving up (each answer may ask for another). */
  maxJoinRounds: 20,
  /** Wait before asking again when the coordinator is moving or loading. */
  coordinatorBackoffMs: 100,
  /** The consumer protocol versions we write: our members own nothing across rebalances (eager). */
  subscriptionVersion: 0,
  assignmentVersion: 0,
} as const;

const noGenerationId = -1;

const coordinatorMovedCodes: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

export interface GroupMemberOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly assignor?: PartitionAssignor;
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** Static membership (KIP-345); null for a dynamic member. */
  readonly groupInstanceId?: string | null;
  /** As leader: the user data to put in every member's assignment (e.g. the member count). */
  readonly assignmentUserData?: (members: readonly AssignorMember[]) => Buffer | null;
  /** After every completed join, with the new assignment. */
  readonly onAssignment?: (assignment: MemberAssignment) => void;
  /** After every Heartbeat response. */
  readonly onHeartbeat?: (errorCode: number, latencyMs: number) => void;
  /** A failure in the background heartbeat loop (or the rejoin it started). */
  readonly onError?: (error: Error) => void;
}

export interface MemberAssignment {
  readonly generationId: number;
  readonly memberId: string;
  readonly leaderId: string;
  /** Sorted by topic, then partition. */
  readonly partitions: readonly TopicPartition[];
  readonly userData: Buffer | null;
}

export interface OffsetAndMetadata extends TopicPartition {
  readonly offset: bigint;
  readonly metadata?: string;
}

type JoinResponse = ResponseBody<typeof ApiKey.JoinGroup>;

export class GroupMember {
  readonly groupId: string;
  /** JoinGroup requests sent (MEMBER_ID_REQUIRED costs one more per join). */
  joinRequests = 0;
  heartbeats = 0;
  private currentMemberId = '';
  private currentGenerationId: number = noGenerationId;
  private readonly cluster: ClusterClient;
  private readonly groupsAdmin: GroupsAdmin;
  private readonly options: GroupMemberOptions;
  private readonly assignor: PartitionAssignor;
  private readonly subscription: Buffer;
  private coordinatorId: number | null = null;
  private current: MemberAssignment | null = null;
  private joining: Promise<MemberAssignment> | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(cluster: ClusterClient, options: GroupMemberOptions) {
    if (options.groupId === '') throw new RangeError('groupId must not be empty');
    if (options.topics.length === 0) throw new RangeError('a group member must subscribe to at least one topic');
    this.cluster = cluster;
    this.groupsAdmin = new GroupsAdmin(cluster);
    this.groupId = options.groupId;
    this.options = options;
    this.assignor = options.assignor ?? rangeAssignor;
    this.subscription = encodeConsumerSubscription(GroupMemberDefaults.subscriptionVersion, { topics: options.topics });
  }

  /** '' until the coordinator hands one out. */
  get memberId(): string {
    return this.currentMemberId;
  }

  /** The generation of the last JoinGroup; -1 before the first. */
  get generationId(): number {
    return this.currentGenerationId;
  }

  /** The assignment of the last completed join; null before the first. */
  get assignment(): MemberAssignment | null {
    return this.current;
  }

  get isLeader(): boolean {
    return this.current !== null && this.current.leaderId === this.memberId;
  }

  /** Joins (or rejoins) the group and starts heartbeats; resolves with the new assignment. */
  join(): Promise<MemberAssignment> {
    if (this.stopped) return Promise.reject(new Error(`member of group "${this.groupId}" has left`));
    if (this.joining === null) {
      this.stopHeartbeats();
      this.joining = this.joinUntilSynced().finally(() => {
        this.joining = null;
      });
      this.joining.then(
        (assignment) => this.onJoined(assignment),
        () => undefined,
      );
    }
    return this.joining;
  }

  /**
   * One Heartbeat now. Resolves true if the coordinator had started a rebalance (or forgot the
   * member) and the member has rejoined, false if the generation holds.
   */
  async heartbeat(): Promise<boolean> {
    if (this.joining !== null) {
      await this.joining;
      return true;
    }
    const startedMs = this.cluster.clock.nowMs();
    const response = await this.onCoordinator((connection) =>
      connection.requestNegotiated(ApiKey.Heartbeat, {
        groupId: this.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.options.groupInstanceId ?? null,
      }),
    );
    this.heartbeats++;
    this.options.onHeartbeat?.(response.errorCode, this.cluster.clock.nowMs() - startedMs);
    switch (response.errorCode) {
      case ErrorCode.NONE:
        return false;
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.currentMemberId = '';
        await this.join();
        return true;
      case ErrorCode.REBALANCE_IN_PROGRESS:
      case ErrorCode.ILLEGAL_GENERATION:
        await this.join();
        return true;
      default:
        throw this.groupError(response.errorCode, 'Heartbeat');
    }
  }

  /** Commits offsets with the member's generation; throws the first partition error. */
  async commitOffsets(offsets: readonly OffsetAndMetadata[]): Promise<void> {
    if (offsets.length === 0) return;
    const response = await this.onCoordinator((connection) =>
      connection.requestNegotiated(
        ApiKey.OffsetCommit,
        offsetCommitBody(this.groupId, { generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.options.groupInstanceId ?? null }, offsets),
      ),
    );
    for (const topic of response.topics) {
      for (const partition of topic.partitions) {
        if (partition.errorCode !== ErrorCode.NONE) throw this.groupError(partition.errorCode, `OffsetCommit of ${topic.name}-${partition.partitionIndex}`);
      }
    }
  }

  /** The group's committed offset by `partitionKey` (default: the assignment's partitions); -1n for none. */
  async committedOffsets(partitions?: readonly TopicPartition[]): Promise<Map<string, bigint>> {
    const wanted = partitions ?? this.current?.partitions ?? [];
    const response = await this.onCoordinator((connection) =>
      connection.requestNegotiated(ApiKey.OffsetFetch, {
        groupId: this.groupId,
        topics: [...groupByTopic(wanted)].map(([name, entries]) => ({ name, partitionIndexes: entries.map((entry) => entry.partition) })),
      }),
    );
    if (response.errorCode !== ErrorCode.NONE) throw this.groupError(response.errorCode, 'OffsetFetch');
    const offsets = new Map<string, bigint>();
    for (const topic of response.topics) {
      for (const partition of topic.partitions) {
        if (partition.errorCode !== ErrorCode.NONE) throw this.groupError(partition.errorCode, `OffsetFetch of ${topic.name}-${partition.partitionIndex}`);
        offsets.set(partitionKey(topic.name, partition.partitionIndex), partition.committedOffset);
      }
    }
    return offsets;
  }

  /** Stops heartbeats and leaves the group; later calls do nothing. */
  async leave(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopHeartbeats();
    await this.joining?.catch(() => undefined);
    if (this.currentMemberId === '') return;
    const memberId = this.memberId;
    this.currentMemberId = '';
    this.currentGenerationId = noGenerationId;
    this.current = null;
    const response = await this.onCoordinator((connection) =>
      connection.requestNegotiated(ApiKey.LeaveGroup, {
        groupId: this.groupId,
        memberId,
        members: [{ memberId, groupInstanceId: this.options.groupInstanceId ?? null }],
      }),
    );
    const memberError = response.members.find((member) => member.errorCode !== ErrorCode.NONE)?.errorCode ?? ErrorCode.NONE;
    const errorCode = response.errorCode !== ErrorCode.NONE ? response.errorCode : memberError;
    if (errorCode !== ErrorCode.NONE) throw this.groupError(errorCode, 'LeaveGroup');
  }

  // ---------------------------------------------------------------------------------------------
  // Joining
  // ---------------------------------------------------------------------------------------------

  private async joinUntilSynced(): Promise<MemberAssignment> {
    for (let round = 1; round <= GroupMemberDefaults.maxJoinRounds; round++) {
      const joined = await this.sendJoinGroup();
      if (joined === null) continue;
      const assignment = await this.sendSyncGroup(joined);
      if (assignment !== null) return assignment;
    }
    throw new Error(`group "${this.groupId}": no completed join in ${GroupMemberDefaults.maxJoinRounds} JoinGroup/SyncGroup rounds`);
  }

  /** One JoinGroup; null when the answer asks for another (new member id, coordinator moved). */
  private async sendJoinGroup(): Promise<JoinResponse | null> {
    this.joinRequests++;
    const rebalanceTimeoutMs = this.options.rebalanceTimeoutMs ?? GroupMemberDefaults.rebalanceTimeoutMs;
    const response = await this.onCoordinator((connection) =>
      connection.requestNegotiated(
        ApiKey.JoinGroup,
        {
          groupId: this.groupId,
          sessionTimeoutMs: this.options.sessionTimeoutMs ?? GroupMemberDefaults.sessionTimeoutMs,
          rebalanceTimeoutMs,
          memberId: this.memberId,
          groupInstanceId: this.options.groupInstanceId ?? null,
          protocolType: consumerProtocolType,
          protocols: [{ name: this.assignor.name, metadata: this.subscription }],
        },
        // The coordinator parks JoinGroup until the rebalance completes.
        rebalanceTimeoutMs + this.cluster.requestTimeoutMs,
      ),
    );
    switch (response.errorCode) {
      case ErrorCode.NONE:
        this.currentMemberId = response.memberId;
        this.currentGenerationId = response.generationId;
        return response;
      case ErrorCode.MEMBER_ID_REQUIRED:
        // KIP-394: join again with the id the coordinator handed out.
        this.currentMemberId = response.memberId;
        return null;
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.currentMemberId = '';
        return null;
      case ErrorCode.REBALANCE_IN_PROGRESS:
        return null;
      default:
        if (coordinatorMovedCodes.has(response.errorCode)) {
          this.coordinatorId = null;
          await this.cluster.sleep(GroupMemberDefaults.coordinatorBackoffMs);
          return null;
        }
        throw this.groupError(response.errorCode, 'JoinGroup');
    }
  }

  /** The member's assignment; null when the coordinator started another rebalance meanwhile. */
  private async sendSyncGroup(joined: JoinResponse): Promise<MemberAssignment | null> {
    const assignments = joined.leader === this.memberId ? await this.leaderAssignments(joined.members) : [];
    const response = await this.onCoordinator((connection) =>
      connection.requestNegotiated(
        ApiKey.SyncGroup,
        {
          groupId: this.groupId,
          generationId: joined.generationId,
          memberId: this.memberId,
          groupInstanceId: this.options.groupInstanceId ?? null,
          assignments,
        },
        (this.options.rebalanceTimeoutMs ?? GroupMemberDefaults.rebalanceTimeoutMs) + this.cluster.requestTimeoutMs,
      ),
    );
    if (response.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) return null;
    if (response.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || response.errorCode === ErrorCode.ILLEGAL_GENERATION) {
      if (response.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.currentMemberId = '';
      return null;
    }
    if (response.errorCode !== ErrorCode.NONE) throw this.groupError(response.errorCode, 'SyncGroup');
    return memberAssignment(joined, this.memberId, response.assignment);
  }

  /** As leader: every member's share, from their subscriptions and the topics' partition counts. */
  private async leaderAssignments(members: JoinResponse['members']): Promise<{ memberId: string; assignment: Buffer }[]> {
    const subscribers: AssignorMember[] = members.map((member) => ({
      memberId: member.memberId,
      topics: decodeConsumerSubscription(member.metadata).topics,
    }));
    const topics = [...new Set(subscribers.flatMap((member) => member.topics))];
    const metadata = await this.cluster.retry('Metadata', () => this.cluster.fetchMetadata(topics));
    const partitionCounts = new Map<string, number>();
    for (const [name, topic] of metadata.topics) partitionCounts.set(name, topic.partitions.length);
    const plan = this.assignor.assign(subscribers, partitionCounts);
    const userData = this.options.assignmentUserData?.(subscribers) ?? null;
    return subscribers.map(({ memberId }) => ({
      memberId,
      assignment: encodeConsumerAssignment(GroupMemberDefaults.assignmentVersion, { assignedPartitions: plan.get(memberId) ?? [], userData }),
    }));
  }

  private onJoined(assignment: MemberAssignment): void {
    this.current = assignment;
    if (this.stopped) return;
    this.scheduleHeartbeat();
    this.options.onAssignment?.(assignment);
  }

  // ---------------------------------------------------------------------------------------------
  // Heartbeats and the coordinator
  // ---------------------------------------------------------------------------------------------

  private scheduleHeartbeat(): void {
    if (this.stopped || this.heartbeatTimer !== null) return;
    const delayMs = this.options.heartbeatIntervalMs ?? GroupMemberDefaults.heartbeatIntervalMs;
    this.heartbeatTimer = setTimeout(() => void this.heartbeatTurn(), delayMs);
    // Like the Java client's daemon heartbeat thread: heartbeats alone keep no process alive.
    this.heartbeatTimer.unref();
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /** A timer callback: failures go to `onError`, never thrown. */
  private async heartbeatTurn(): Promise<void> {
    this.heartbeatTimer = null;
    if (this.stopped) return;
    try {
      const rejoined = await this.heartbeat();
      // A rejoin schedules its own heartbeats.
      if (!rejoined) this.scheduleHeartbeat();
    } catch (error) {
      if (this.stopped) return;
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
      this.scheduleHeartbeat();
    }
  }

  /** Runs a request on the coordinator; a coordinator error drops the cached node for next time. */
  private async onCoordinator<T>(operation: (connection: BrokerConnection) => Promise<T>): Promise<T> {
    this.coordinatorId ??= (await this.groupsAdmin.findCoordinator(this.groupId)).nodeId;
    try {
      return await operation(await this.cluster.connectionTo(this.coordinatorId));
    } catch (error) {
      this.coordinatorId = null;
      throw error;
    }
  }

  private groupError(errorCode: number, request: string): KafkaError {
    if (coordinatorMovedCodes.has(errorCode)) {
      this.coordinatorId = null;
      return new KafkaError(errorCode, `${request} of group "${this.groupId}"`);
    }
    return new FinalKafkaError(errorCode, `${request} of member "${this.memberId}" in group "${this.groupId}"`);
  }
}

function memberAssignment(joined: JoinResponse, memberId: string, bytes: Buffer): MemberAssignment {
  const partitions: TopicPartition[] = [];
  let userData: Buffer | null = null;
  if (bytes.length > 0) {
    const decoded = decodeConsumerAssignment(bytes);
    for (const { topic, partitions: indexes } of decoded.assignedPartitions) {
      for (const partition of indexes) partitions.push({ topic, partition });
    }
    userData = decoded.userData === null ? null : Buffer.from(decoded.userData);
  }
  partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  return { generationId: joined.generationId, memberId, leaderId: joined.leader, partitions, userData };
}
