/**
 * Response bodies and snapshots built from group state: pure functions, no coordinator state.
 */
import { ErrorCode } from '../protocol/errors.js';
import { GroupState, type ClassicGroup, type CommittedOffset, type GroupStateName } from './group-metadata.js';
import type {
  DescribedGroup,
  JoinGroupResponse,
  JoinGroupResponseMember,
  LeaveGroupResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchResponse,
} from './types.js';

/** DescribeGroups authorizedOperations when not requested (Kafka's Integer.MIN_VALUE). */
export const authorizedOperationsOmitted = -2147483648;
/**
 * READ(3) | DELETE(6) | DESCRIBE(8), Kafka's AclOperation codes: what a group allows when no
 * authorizer is configured. Authorization itself is the front end's business.
 */
export const groupAuthorizedOperations = (1 << 3) | (1 << 6) | (1 << 8);

const emptyBuffer: Buffer = Buffer.alloc(0);
const invalidOffset = -1n;

/** Snapshot of one group for the CLI and admin endpoints. */
export interface GroupSnapshot {
  readonly groupId: string;
  readonly state: GroupStateName;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly generationId: number;
  readonly leaderId: string | null;
  readonly currentStateTimestampMs: number | null;
  readonly members: readonly MemberSnapshot[];
  readonly pendingMemberIds: readonly string[];
  readonly offsets: readonly OffsetSnapshot[];
}

export interface MemberSnapshot {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly protocols: readonly string[];
  readonly assignment: Buffer;
  readonly awaitingJoin: boolean;
  readonly awaitingSync: boolean;
}

export interface OffsetSnapshot {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestampMs: number;
}

export function joinError(memberId: string, errorCode: number): JoinGroupResponse {
  return { throttleTimeMs: 0, errorCode, generationId: -1, protocolName: '', leader: '', memberId, members: [] };
}

export function joinResponse(
  group: ClassicGroup,
  memberId: string,
  members: JoinGroupResponseMember[],
  leaderId: string = group.leaderId ?? '',
): JoinGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    generationId: group.generationId,
    protocolName: group.protocolName ?? '',
    leader: leaderId,
    memberId,
    members,
  };
}

export function leaveResponse(
  version: number,
  errorCode: number,
  members: Array<{ memberId: string; groupInstanceId: string | null; errorCode: number }>,
): LeaveGroupResponse {
  if (version >= 3) return { throttleTimeMs: 0, errorCode, members };
  // v0-2 have no per-member errors: the member's error becomes the response's.
  const memberError = members.find((member) => member.errorCode !== ErrorCode.NONE)?.errorCode ?? ErrorCode.NONE;
  return { throttleTimeMs: 0, errorCode: errorCode !== ErrorCode.NONE ? errorCode : memberError, members: [] };
}

export function offsetCommitResponse(
  request: OffsetCommitRequest,
  errorCodeFor: (topic: string, partition: number) => number,
): OffsetCommitResponse {
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((partition) => ({
        partitionIndex: partition.partitionIndex,
        errorCode: errorCodeFor(topic.name, partition.partitionIndex),
      })),
    })),
  };
}

export function offsetFetchResponse(
  topics: ReadonlyArray<{ name: string; partitionIndexes: readonly number[] }>,
  lookup: (topic: string, partition: number) => CommittedOffset | undefined,
  partitionErrorCode: number,
): OffsetFetchResponse {
  return {
    throttleTimeMs: 0,
    topics: topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitionIndexes.map((partitionIndex) => {
        const committed = lookup(topic.name, partitionIndex);
        return {
          partitionIndex,
          committedOffset: committed?.offset ?? invalidOffset,
          committedLeaderEpoch: committed?.leaderEpoch ?? -1,
          metadata: committed?.metadata ?? '',
          errorCode: partitionErrorCode,
        };
      }),
    })),
    errorCode: ErrorCode.NONE,
  };
}

export function allCommittedTopics(group: ClassicGroup): Array<{ name: string; partitionIndexes: number[] }> {
  return [...group.offsets]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([name, partitions]) => ({ name, partitionIndexes: [...partitions.keys()].sort((a, b) => a - b) }));
}

export function describedGroup(
  groupId: string,
  errorCode: number,
  groupState: string,
  protocolType: string,
  protocolData: string,
  members: DescribedGroup['members'],
  authorizedOperations: number,
): DescribedGroup {
  return { errorCode, groupId, groupState, protocolType, protocolData, members, authorizedOperations };
}

/** Kafka's GroupMetadata.summary: metadata and assignments only while Stable. */
export function describeGroup(group: ClassicGroup, authorizedOperations: number): DescribedGroup {
  const stableProtocol = group.is(GroupState.Stable) ? group.protocolName : null;
  const members = [...group.members.values()].map((member) => ({
    memberId: member.memberId,
    groupInstanceId: member.groupInstanceId,
    clientId: member.clientId,
    clientHost: member.clientHost,
    memberMetadata: stableProtocol === null ? emptyBuffer : member.metadataFor(stableProtocol),
    memberAssignment: stableProtocol === null ? emptyBuffer : member.assignment,
  }));
  return describedGroup(
    group.groupId,
    ErrorCode.NONE,
    group.state,
    group.protocolType ?? '',
    stableProtocol ?? '',
    members,
    authorizedOperations,
  );
}

export function snapshotGroup(group: ClassicGroup): GroupSnapshot {
  const offsets: OffsetSnapshot[] = [];
  for (const { name, partitionIndexes } of allCommittedTopics(group)) {
    for (const partition of partitionIndexes) {
      const committed = group.committedOffset(name, partition)!;
      offsets.push({
        topic: name,
        partition,
        offset: committed.offset,
        leaderEpoch: committed.leaderEpoch,
        metadata: committed.metadata,
        commitTimestampMs: committed.commitTimestampMs,
      });
    }
  }
  return {
    groupId: group.groupId,
    state: group.state,
    protocolType: group.protocolType,
    protocolName: group.protocolName,
    generationId: group.generationId,
    leaderId: group.leaderId,
    currentStateTimestampMs: group.currentStateTimestampMs,
    members: [...group.members.values()].map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      sessionTimeoutMs: member.sessionTimeoutMs,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      protocols: member.protocols.map((protocol) => protocol.name),
      assignment: member.assignment,
      awaitingJoin: member.awaitingJoin !== null,
      awaitingSync: member.awaitingSync !== null,
    })),
    pendingMemberIds: [...group.pendingMembers.keys()],
    offsets,
  };
}

export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Code-unit order, independent of locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
