/**
 * Consumer group administration, the operations of Kafka's kafka-consumer-groups.sh: list
 * groups, describe one (members with their decoded assignments), committed offsets and lag,
 * and, for groups without active members, commit, reset and delete offsets or the group.
 *
 * Every group request goes to the group's coordinator. NOT_COORDINATOR,
 * COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS and connection failures forget the
 * cached coordinator and try again after a fresh FindCoordinator, within the cluster's retry
 * policy. Every other group error is final and thrown with the group it belongs to.
 */
import { consumerProtocolType, decodeConsumerAssignment, subscriptionTopics } from '../group/consumer-protocol.js';
import { ProtocolDecodeError, type ResponseBody } from '../protocol/codec/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { ApiKey } from '../protocol/schema/index.js';
import type { ClusterClient } from './cluster-client.js';
import type { BrokerConnection } from './connection.js';
import { ConnectionError, FinalKafkaError, RequestTimeoutError } from './errors.js';
import { groupByTopic, partitionKey, settleAll, type TopicPartition } from './grouping.js';
import { listOffsets } from './list-offsets.js';

export type { TopicPartition } from './grouping.js';

/** Group states as DescribeGroups names them (Kafka's admin calls them ConsumerGroupState). */
export const ConsumerGroupState = {
  Empty: 'Empty',
  PreparingRebalance: 'PreparingRebalance',
  CompletingRebalance: 'CompletingRebalance',
  Stable: 'Stable',
  /** Also the answer for a group the coordinator does not know. */
  Dead: 'Dead',
} as const;

export interface GroupCoordinatorNode {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export interface ListedGroup {
  readonly groupId: string;
  /** "consumer" for consumer groups; '' for groups that only commit offsets. */
  readonly protocolType: string;
  /** The node that listed the group: its coordinator. */
  readonly coordinatorId: number;
}

/** ConsumerProtocolAssignment (versions 0-3 share this layout). */
export interface ConsumerAssignment {
  readonly version: number;
  /** Sorted by topic, then partition. */
  readonly partitions: readonly TopicPartition[];
  /** The assignor's opaque bytes (a copy); null when absent. */
  readonly userData: Buffer | null;
}

export interface GroupMemberDescription {
  readonly memberId: string;
  /** Static membership (KIP-345); null for dynamic members and before DescribeGroups v4. */
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  /**
   * Topics of the member's consumer subscription; null when the group is not a consumer group
   * or the broker sent no metadata (it does only for Stable groups).
   */
  readonly subscribedTopics: readonly string[] | null;
  /** Decoded from the member's assignment; empty while it has none (or it is not a consumer one). */
  readonly assignment: readonly TopicPartition[];
}

export interface GroupDescription {
  readonly groupId: string;
  /** A `ConsumerGroupState`; Dead also for a group that does not exist. */
  readonly state: string;
  readonly protocolType: string;
  /** The chosen protocol, for consumer groups the assignor ("range"); '' while rebalancing. */
  readonly protocol: string;
  readonly coordinatorId: number;
  /** In the coordinator's order. */
  readonly members: readonly GroupMemberDescription[];
}

export interface CommittedOffset extends TopicPartition {
  readonly offset: bigint;
  /** -1 when unknown (or before OffsetFetch v5). */
  readonly leaderEpoch: number;
  readonly metadata: string | null;
}

export interface OffsetToCommit extends TopicPartition {
  readonly offset: bigint;
  readonly metadata?: string | null;
  readonly leaderEpoch?: number;
}

export interface PartitionLag extends TopicPartition {
  /** null when the group has no committed offset for the partition. */
  readonly committedOffset: bigint | null;
  /** The high watermark; null when the topic or partition no longer exists. */
  readonly logEndOffset: bigint | null;
  /** logEndOffset - committedOffset; null when either is unknown. */
  readonly lag: bigint | null;
  /** The member the partition is assigned to; null when no member has it. */
  readonly member: GroupMemberDescription | null;
}

/** Where `resetOffsets` moves each partition. */
export type OffsetResetTarget =
  | 'earliest'
  | 'latest'
  /** Clamped into [log start, log end], as kafka-consumer-groups.sh does. */
  | { readonly offset: bigint }
  /** The first offset whose timestamp is at or after this; the log end when there is none. */
  | { readonly timestampMs: number };

/** A topic, and optionally only some of its partitions (default: all of them). */
export interface TopicSelection {
  readonly topic: string;
  readonly partitions?: readonly number[];
}

export interface OffsetResetEntry extends TopicPartition {
  /** The committed offset before the reset; null when there was none. */
  readonly currentOffset: bigint | null;
  readonly newOffset: bigint;
}

export interface DeletedGroupResult {
  readonly groupId: string;
  /** ErrorCode.NONE when deleted; e.g. GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP otherwise. */
  readonly errorCode: number;
}

const keyTypeGroup = 0;
const noGenerationId = -1;
const noLeaderEpoch = -1;
const defaultRetentionTimeMs = -1n;

/** Who commits: a group member of a generation, or an admin (generation -1, no member id). */
export interface OffsetCommitter {
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

/** The OffsetCommit request body for `offsets` (grouped by topic; the broker's retention). */
export function offsetCommitBody(groupId: string, committer: OffsetCommitter, offsets: readonly OffsetToCommit[]) {
  return {
    groupId,
    generationId: committer.generationId,
    memberId: committer.memberId,
    groupInstanceId: committer.groupInstanceId,
    retentionTimeMs: defaultRetentionTimeMs,
    topics: [...groupByTopic(offsets)].map(([name, entries]) => ({
      name,
      partitions: entries.map((entry) => ({
        partitionIndex: entry.partition,
        committedOffset: entry.offset,
        committedLeaderEpoch: entry.leaderEpoch ?? noLeaderEpoch,
        committedMetadata: entry.metadata ?? '',
      })),
    })),
  };
}
const firstOffsetFetchVersionForAllTopics = 2;

const coordinatorErrorCodes: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

const inactiveStates: ReadonlySet<string> = new Set([ConsumerGroupState.Empty, ConsumerGroupState.Dead]);

export class GroupsAdmin {
  private readonly cluster: ClusterClient;
  /** Coordinator node id by group id; dropped when a request says the coordinator moved. */
  private readonly coordinators = new Map<string, number>();

  constructor(cluster: ClusterClient) {
    this.cluster = cluster;
  }

  async findCoordinator(groupId: string): Promise<GroupCoordinatorNode> {
    return this.cluster.retry('FindCoordinator', () => this.lookUpCoordinator(groupId));
  }

  /** Every group of every broker (each lists the groups it coordinates), sorted by id. */
  async listGroups(): Promise<ListedGroup[]> {
    const metadata = await this.cluster.retry('Metadata', () => this.cluster.fetchMetadata([]));
    const listed: ListedGroup[][] = [];
    await settleAll(
      [...metadata.brokers.keys()].map(async (nodeId) => {
        listed.push(await this.cluster.retry(`ListGroups on node ${nodeId}`, () => this.listGroupsOn(nodeId)));
      }),
    );
    const byId = new Map<string, ListedGroup>();
    for (const group of listed.flat()) if (!byId.has(group.groupId)) byId.set(group.groupId, group);
    return [...byId.values()].sort((a, b) => compareStrings(a.groupId, b.groupId));
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    return this.onCoordinator(groupId, 'DescribeGroups', async (connection, coordinatorId) => {
      const response = await connection.requestNegotiated(ApiKey.DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false });
      const group = response.groups.find((entry) => entry.groupId === groupId);
      if (group === undefined) throw new FinalKafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `DescribeGroups left out group "${groupId}"`);
      if (group.errorCode !== ErrorCode.NONE) throw groupError(group.errorCode, `describe group "${groupId}"`);
      return toGroupDescription(group, coordinatorId);
    });
  }

  /** The group's committed offsets (only partitions that have one), sorted; `topics` filters. */
  async committedOffsets(groupId: string, topics?: readonly string[]): Promise<CommittedOffset[]> {
    const wanted = topics === undefined ? null : new Set(topics);
    const committed = await this.onCoordinator(groupId, 'OffsetFetch', async (connection) => {
      const version = connection.versionFor(ApiKey.OffsetFetch);
      if (version < firstOffsetFetchVersionForAllTopics) {
        throw new FinalKafkaError(ErrorCode.UNSUPPORTED_VERSION, `OffsetFetch v${version} cannot list a group's committed topics`);
      }
      // topics = null: every partition the group committed.
      const response = await connection.request(ApiKey.OffsetFetch, version, { groupId, topics: null });
      if (response.errorCode !== ErrorCode.NONE) throw groupError(response.errorCode, `fetch committed offsets of group "${groupId}"`);
      return toCommittedOffsets(groupId, response);
    });
    return committed.filter((entry) => wanted === null || wanted.has(entry.topic)).sort(compareTopicPartitions);
  }

  /**
   * Committed offset, log end offset and lag of every partition the group committed or has
   * assigned, sorted. Pass a fresh `description` of the group to save a DescribeGroups.
   */
  async lag(groupId: string, description?: GroupDescription): Promise<PartitionLag[]> {
    if (description !== undefined && description.groupId !== groupId) {
      throw new Error(`lag: description of "${description.groupId}" given for group "${groupId}"`);
    }
    const group = description ?? (await this.describeGroup(groupId));
    const committed = await this.committedOffsets(groupId);
    const owners = new Map<string, GroupMemberDescription>();
    for (const member of group.members) {
      for (const assigned of member.assignment) owners.set(partitionKey(assigned.topic, assigned.partition), member);
    }
    const committedByKey = new Map(committed.map((entry) => [partitionKey(entry.topic, entry.partition), entry.offset]));
    const partitions = new Map<string, TopicPartition>();
    for (const entry of [...committed, ...group.members.flatMap((member) => member.assignment)]) {
      partitions.set(partitionKey(entry.topic, entry.partition), { topic: entry.topic, partition: entry.partition });
    }
    const logEndOffsets = await this.logEndOffsets([...partitions.values()]);
    return [...partitions.entries()]
      .map(([key, entry]): PartitionLag => {
        const committedOffset = committedByKey.get(key) ?? null;
        const logEndOffset = logEndOffsets.get(key) ?? null;
        const lag = committedOffset === null || logEndOffset === null ? null : logEndOffset - committedOffset;
        return { topic: entry.topic, partition: entry.partition, committedOffset, logEndOffset, lag, member: owners.get(key) ?? null };
      })
      .sort(compareTopicPartitions);
  }

  /**
   * Commits offsets as an admin (generation -1, no member id). The coordinator takes them only
   * while the group has no active members; otherwise its error (UNKNOWN_MEMBER_ID) is thrown.
   */
  async commitOffsets(groupId: string, offsets: readonly OffsetToCommit[]): Promise<void> {
    assertUniquePartitions('commitOffsets', offsets);
    for (const entry of offsets) {
      if (entry.offset < 0n) throw new RangeError(`commitOffsets: offset ${entry.offset} of ${entry.topic}-${entry.partition} is negative`);
    }
    if (offsets.length === 0) return;
    await this.onCoordinator(groupId, 'OffsetCommit', async (connection) => {
      const admin: OffsetCommitter = { generationId: noGenerationId, memberId: '', groupInstanceId: null };
      const response = await connection.requestNegotiated(ApiKey.OffsetCommit, offsetCommitBody(groupId, admin, offsets));
      throwCommitErrors(groupId, response);
    });
  }

  /**
   * Moves the group's committed offsets of the selected partitions to `target`. Refuses (with
   * NON_EMPTY_GROUP) unless the group is Empty or Dead: active members would overwrite the new
   * offsets with their own positions. With `dryRun`, only computes and returns the plan.
   */
  async resetOffsets(
    groupId: string,
    topics: readonly (string | TopicSelection)[],
    target: OffsetResetTarget,
    options: { readonly dryRun: boolean },
  ): Promise<OffsetResetEntry[]> {
    if (typeof target === 'object' && 'offset' in target && target.offset < 0n) {
      throw new RangeError(`resetOffsets: offset ${target.offset} is negative`);
    }
    const group = await this.describeGroup(groupId);
    if (!inactiveStates.has(group.state)) {
      throw new FinalKafkaError(
        ErrorCode.NON_EMPTY_GROUP,
        `group "${groupId}" is ${group.state} with ${group.members.length} active member(s); ` +
          'offsets can be reset only while the group has no members (stop its consumers first)',
      );
    }
    const partitions = await this.selectPartitions(topics);
    const newOffsets = await this.targetOffsets(partitions, target);
    const current = new Map((await this.committedOffsets(groupId)).map((entry) => [partitionKey(entry.topic, entry.partition), entry.offset]));
    const plan = partitions.map((entry): OffsetResetEntry => {
      const key = partitionKey(entry.topic, entry.partition);
      return { topic: entry.topic, partition: entry.partition, currentOffset: current.get(key) ?? null, newOffset: newOffsets.get(key)! };
    });
    if (!options.dryRun) await this.commitOffsets(groupId, plan.map((entry) => ({ topic: entry.topic, partition: entry.partition, offset: entry.newOffset })));
    return plan;
  }

  /** Deletes groups without members, with their offsets; one result per distinct id, in order. */
  async deleteGroups(groupIds: readonly string[]): Promise<DeletedGroupResult[]> {
    const distinct = [...new Set(groupIds)];
    const results = new Map<string, number>();
    await settleAll(
      distinct.map(async (groupId) => {
        const errorCode = await this.onCoordinator(groupId, 'DeleteGroups', async (connection) => {
          const response = await connection.requestNegotiated(ApiKey.DeleteGroups, { groupsNames: [groupId] });
          const result = response.results.find((entry) => entry.groupId === groupId);
          if (result === undefined) throw new FinalKafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `DeleteGroups left out group "${groupId}"`);
          if (coordinatorErrorCodes.has(result.errorCode)) throw groupError(result.errorCode, `delete group "${groupId}"`);
          return result.errorCode;
        });
        results.set(groupId, errorCode);
      }),
    );
    return distinct.map((groupId) => ({ groupId, errorCode: results.get(groupId)! }));
  }

  /**
   * Deletes the group's committed offsets of some partitions of one topic. The coordinator
   * refuses topics an active member subscribes to (GROUP_SUBSCRIBED_TO_TOPIC).
   */
  async deleteOffsets(groupId: string, topic: string, partitions: readonly number[]): Promise<void> {
    if (partitions.length === 0) return;
    await this.onCoordinator(groupId, 'OffsetDelete', async (connection) => {
      const response = await connection.requestNegotiated(ApiKey.OffsetDelete, {
        groupId,
        topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex })) }],
      });
      if (response.errorCode !== ErrorCode.NONE) throw groupError(response.errorCode, `delete offsets of group "${groupId}"`);
      for (const result of response.topics) {
        for (const partition of result.partitions) {
          if (partition.errorCode === ErrorCode.NONE) continue;
          throw groupError(partition.errorCode, `delete the offset of ${result.name}-${partition.partitionIndex} in group "${groupId}"`);
        }
      }
    });
  }

  private async lookUpCoordinator(groupId: string): Promise<GroupCoordinatorNode> {
    const connection = await this.cluster.anyConnection();
    const response = await connection.requestNegotiated(ApiKey.FindCoordinator, { key: groupId, keyType: keyTypeGroup });
    if (response.errorCode !== ErrorCode.NONE) {
      const detail = response.errorMessage ? `: ${response.errorMessage}` : '';
      throw groupError(response.errorCode, `find the coordinator of group "${groupId}"${detail}`);
    }
    this.coordinators.set(groupId, response.nodeId);
    return { nodeId: response.nodeId, host: response.host, port: response.port };
  }

  /** Runs `operation` on the group's coordinator, looking it up again when it moved. */
  private onCoordinator<T>(
    groupId: string,
    description: string,
    operation: (connection: BrokerConnection, coordinatorId: number) => Promise<T>,
  ): Promise<T> {
    return this.cluster.retry(description, async () => {
      const nodeId = this.coordinators.get(groupId) ?? (await this.lookUpCoordinator(groupId)).nodeId;
      try {
        return await operation(await this.cluster.connectionTo(nodeId), nodeId);
      } catch (error) {
        if (movesCoordinator(error)) this.coordinators.delete(groupId);
        throw error;
      }
    });
  }

  private async listGroupsOn(nodeId: number): Promise<ListedGroup[]> {
    const connection = await this.cluster.connectionTo(nodeId);
    const response = await connection.requestNegotiated(ApiKey.ListGroups, {});
    if (response.errorCode !== ErrorCode.NONE) throw groupError(response.errorCode, `list groups on node ${nodeId}`);
    return response.groups.map((group) => ({ groupId: group.groupId, protocolType: group.protocolType, coordinatorId: nodeId }));
  }

  /** The selected partitions, sorted; every topic and partition must exist. */
  private async selectPartitions(topics: readonly (string | TopicSelection)[]): Promise<TopicPartition[]> {
    const selections = topics.map((entry) => (typeof entry === 'string' ? { topic: entry } : entry));
    if (selections.length === 0) throw new RangeError('resetOffsets: no topic selected');
    const names = [...new Set(selections.map((selection) => selection.topic))];
    const metadata = await this.cluster.retry('Metadata', () => this.cluster.fetchMetadata(names));
    const selected = new Map<string, TopicPartition>();
    for (const selection of selections) {
      const topic = metadata.topics.get(selection.topic);
      if (topic === undefined) {
        const errorCode = metadata.topicErrors.get(selection.topic) ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        throw new FinalKafkaError(errorCode, `topic "${selection.topic}" does not exist`);
      }
      const partitions = selection.partitions ?? topic.partitions.map((partition) => partition.partition);
      for (const partition of partitions) {
        if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions.length) {
          throw new FinalKafkaError(
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            `${selection.topic}-${partition} does not exist (the topic has ${topic.partitions.length} partitions)`,
          );
        }
        selected.set(partitionKey(selection.topic, partition), { topic: selection.topic, partition });
      }
    }
    return [...selected.values()].sort(compareTopicPartitions);
  }

  /** The offset each partition resets to, by partition key. */
  private async targetOffsets(partitions: readonly TopicPartition[], target: OffsetResetTarget): Promise<Map<string, bigint>> {
    const earliest = await listOffsets(this.cluster, partitions.map((entry) => ({ ...entry, query: 'earliest' as const })));
    const latest = await listOffsets(this.cluster, partitions.map((entry) => ({ ...entry, query: 'latest' as const })));
    const found =
      typeof target === 'object' && 'timestampMs' in target
        ? await listOffsets(this.cluster, partitions.map((entry) => ({ ...entry, query: { timestampMs: target.timestampMs } })))
        : null;
    const offsets = new Map<string, bigint>();
    for (let index = 0; index < partitions.length; index++) {
      const entry = partitions[index]!;
      const bounds = { logStartOffset: earliest[index]!.offset, logEndOffset: latest[index]!.offset };
      offsets.set(partitionKey(entry.topic, entry.partition), resolveResetOffset(target, bounds, found?.[index]!.offset ?? -1n));
    }
    return offsets;
  }

  /** High watermarks of the partitions that still exist, by partition key. */
  private async logEndOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, bigint>> {
    const offsets = new Map<string, bigint>();
    if (partitions.length === 0) return offsets;
    const names = [...new Set(partitions.map((entry) => entry.topic))];
    const metadata = await this.cluster.retry('Metadata', () => this.cluster.fetchMetadata(names));
    const existing = partitions.filter((entry) => entry.partition < (metadata.topics.get(entry.topic)?.partitions.length ?? 0));
    const latest = await listOffsets(this.cluster, existing.map((entry) => ({ ...entry, query: 'latest' as const })));
    for (const entry of latest) offsets.set(partitionKey(entry.topic, entry.partition), entry.offset);
    return offsets;
  }
}

/**
 * The offset a reset moves one partition to. `timestampOffset` is ListOffsets' answer for a
 * timestamp target (-1n: no record at or after it, so the log end).
 */
export function resolveResetOffset(
  target: OffsetResetTarget,
  bounds: { readonly logStartOffset: bigint; readonly logEndOffset: bigint },
  timestampOffset: bigint,
): bigint {
  if (bounds.logStartOffset < 0n || bounds.logEndOffset < bounds.logStartOffset) {
    throw new RangeError(`log offsets out of order: start ${bounds.logStartOffset}, end ${bounds.logEndOffset}`);
  }
  if (target === 'earliest') return bounds.logStartOffset;
  if (target === 'latest') return bounds.logEndOffset;
  if ('offset' in target) {
    if (target.offset < bounds.logStartOffset) return bounds.logStartOffset;
    return target.offset > bounds.logEndOffset ? bounds.logEndOffset : target.offset;
  }
  return timestampOffset < 0n ? bounds.logEndOffset : timestampOffset;
}

/**
 * Reads a ConsumerProtocolAssignment (any version; see consumer-protocol.ts). Empty bytes are
 * "no assignment yet". Returns null for bytes that are not a consumer assignment.
 */
export function parseConsumerAssignment(bytes: Buffer): ConsumerAssignment | null {
  if (bytes.length === 0) return { version: 0, partitions: [], userData: null };
  try {
    const { version, assignedPartitions, userData } = decodeConsumerAssignment(bytes);
    const partitions: TopicPartition[] = [];
    for (const { topic, partitions: indexes } of assignedPartitions) {
      for (const partition of indexes) partitions.push({ topic, partition });
    }
    return { version, partitions: partitions.sort(compareTopicPartitions), userData: userData === null ? null : Buffer.from(userData) };
  } catch (error) {
    if (error instanceof ProtocolDecodeError) return null;
    throw error;
  }
}

function toGroupDescription(
  group: ResponseBody<typeof ApiKey.DescribeGroups>['groups'][number],
  coordinatorId: number,
): GroupDescription {
  const isConsumerGroup = group.protocolType === consumerProtocolType;
  const members = group.members.map((member): GroupMemberDescription => {
    const assignment = isConsumerGroup ? parseConsumerAssignment(member.memberAssignment) : null;
    const subscribedTopics = isConsumerGroup && member.memberMetadata.length > 0 ? subscriptionTopics(member.memberMetadata) : null;
    return {
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      subscribedTopics,
      assignment: assignment?.partitions ?? [],
    };
  });
  return {
    groupId: group.groupId,
    state: group.groupState,
    protocolType: group.protocolType,
    protocol: group.protocolData,
    coordinatorId,
    members,
  };
}

function toCommittedOffsets(groupId: string, response: ResponseBody<typeof ApiKey.OffsetFetch>): CommittedOffset[] {
  const committed: CommittedOffset[] = [];
  for (const topic of response.topics) {
    for (const partition of topic.partitions) {
      if (partition.errorCode !== ErrorCode.NONE) {
        throw groupError(partition.errorCode, `fetch the committed offset of ${topic.name}-${partition.partitionIndex} in group "${groupId}"`);
      }
      // -1: the partition has no committed offset.
      if (partition.committedOffset < 0n) continue;
      committed.push({
        topic: topic.name,
        partition: partition.partitionIndex,
        offset: partition.committedOffset,
        leaderEpoch: partition.committedLeaderEpoch,
        metadata: partition.metadata,
      });
    }
  }
  return committed;
}

function throwCommitErrors(groupId: string, response: ResponseBody<typeof ApiKey.OffsetCommit>): void {
  for (const topic of response.topics) {
    for (const partition of topic.partitions) {
      if (partition.errorCode === ErrorCode.NONE) continue;
      const hint =
        partition.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || partition.errorCode === ErrorCode.ILLEGAL_GENERATION
          ? ': the group has active members, and only they may commit'
          : '';
      throw groupError(partition.errorCode, `commit the offset of ${topic.name}-${partition.partitionIndex} for group "${groupId}"${hint}`);
    }
  }
}

/** Coordinator errors stay retriable (after a fresh FindCoordinator); every other one is final. */
function groupError(code: number, message: string): KafkaError {
  return coordinatorErrorCodes.has(code) ? new KafkaError(code, message) : new FinalKafkaError(code, message);
}

function movesCoordinator(error: unknown): boolean {
  if (error instanceof KafkaError) return coordinatorErrorCodes.has(error.code);
  return error instanceof ConnectionError || error instanceof RequestTimeoutError;
}

function assertUniquePartitions(operation: string, entries: readonly TopicPartition[]): void {
  const seen = new Set<string>();
  for (const entry of entries) {
    const key = partitionKey(entry.topic, entry.partition);
    if (seen.has(key)) throw new Error(`${operation}: ${entry.topic}-${entry.partition} is named twice`);
    seen.add(key);
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  return compareStrings(a.topic, b.topic) || a.partition - b.partition;
}
