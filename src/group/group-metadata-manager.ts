/**
 * What the coordinator keeps in `__consumer_offsets` (Kafka's GroupMetadataManager): group
 * metadata appends, offset commits and fetches, group and offset deletion, and offset expiry.
 * Replies to appends follow the append's outcome. Loading lives in group-metadata-loader.ts.
 */
import { ErrorCode } from '../protocol/errors.js';
import { CoordinatorPhase, type CoordinatorContext } from './coordinator-context.js';
import { GroupState, type ClassicGroup, type CommittedOffset, type TopicPartitionRef } from './group-metadata.js';
import {
  groupMetadataRecord,
  groupTombstone,
  offsetCommitRecord,
  offsetTombstone,
  type GroupMetadataValue,
  type OffsetsTopicRecord,
} from './offsets-records.js';
import { offsetCommitErrorFor, storeGroupErrorFor } from './persist-errors.js';
import { allCommittedTopics, compareStrings, offsetCommitResponse, offsetFetchResponse, topicPartitionKey } from './responses.js';
import type {
  DeletedGroupResult,
  ListedGroup,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetDeleteRequest,
  OffsetDeleteResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
} from './types.js';

/** Appends the group's metadata with this assignment (Kafka's storeGroup). */
export function storeGroup(ctx: CoordinatorContext, group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>, done: (errorCode: number) => void): void {
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
  ctx.persistRecords([groupMetadataRecord(group.groupId, value)], (error) => {
    if (error !== null) ctx.logger?.warn('group metadata append failed', { group: group.groupId, error: error.message });
    done(error === null ? ErrorCode.NONE : storeGroupErrorFor(error));
  });
}

/** Appends the offsets; the cache and the reply follow the append's outcome. */
export function storeOffsets(ctx: CoordinatorContext, group: ClassicGroup, request: OffsetCommitRequest, reply: (response: OffsetCommitResponse) => void): void {
  const nowMs = ctx.nowMs();
  const appendSequence = ++ctx.appendSequence;
  // v2-4 may ask for a per-commit retention; -1 means the broker's.
  const expireTimestampMs = request.retentionTimeMs >= 0n ? nowMs + Number(request.retentionTimeMs) : -1;
  const records: OffsetsTopicRecord[] = [];
  const accepted: Array<{ topic: string; partition: number; offset: CommittedOffset }> = [];
  const tooLarge = new Set<string>();
  for (const topic of request.topics) {
    for (const partition of topic.partitions) {
      const metadata = partition.committedMetadata ?? '';
      if (Buffer.byteLength(metadata, 'utf8') > ctx.config.offsetMetadataMaxBytes) {
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
  if (accepted.length === 0) return ctx.replyCommit(reply, offsetCommitResponse(request, codeFor(ErrorCode.NONE)));
  for (const each of accepted) group.prepareOffsetCommit(each.topic, each.partition, appendSequence);
  ctx.persistRecords(records, (error) => {
    if (!group.is(GroupState.Dead)) {
      for (const each of accepted) {
        if (error === null) group.completeOffsetCommit(each.topic, each.partition, each.offset);
        else group.failOffsetCommit(each.topic, each.partition, appendSequence);
      }
    }
    if (error !== null) ctx.logger?.warn('offset commit append failed', { group: group.groupId, error: error.message });
    const appendCode = error === null ? ErrorCode.NONE : offsetCommitErrorFor(error);
    ctx.replyCommit(reply, offsetCommitResponse(request, codeFor(appendCode)));
  });
}

/**
 * Committed offsets, -1 for partitions without one. v2+ accept topics = null for every
 * committed partition. Errors: v2+ in the top-level errorCode, v1 on every partition.
 */
export function offsetFetch(ctx: CoordinatorContext, version: number, request: OffsetFetchRequest): OffsetFetchResponse {
  const status = ctx.groupStatus(request.groupId, true);
  if (status !== ErrorCode.NONE) {
    if (version >= 2) return { throttleTimeMs: 0, topics: [], errorCode: status };
    return offsetFetchResponse(request.topics ?? [], () => undefined, status);
  }
  const group = ctx.groups.get(request.groupId);
  const lookup = (topic: string, partition: number) =>
    group === undefined || group.is(GroupState.Dead) ? undefined : group.committedOffset(topic, partition);
  if (request.topics !== null) return offsetFetchResponse(request.topics, lookup, ErrorCode.NONE);
  if (group === undefined || group.is(GroupState.Dead)) return { throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE };
  return offsetFetchResponse(allCommittedTopics(group), lookup, ErrorCode.NONE);
}

/**
 * Deletes Empty groups with their offsets (tombstones for both); the reply comes after the
 * tombstones are durable. The caller splits by coordinator partition and merges the results.
 */
export function deleteGroups(ctx: CoordinatorContext, version: number, groupIds: readonly string[], reply: (results: DeletedGroupResult[]) => void): void {
  void version;
  ctx.run(() => {
    const results: DeletedGroupResult[] = [];
    const records: OffsetsTopicRecord[] = [];
    const deleted: DeletedGroupResult[] = [];
    for (const groupId of groupIds) {
      const result = { groupId, errorCode: deleteOne(ctx, groupId, records) };
      results.push(result);
      if (result.errorCode === ErrorCode.NONE) deleted.push(result);
    }
    if (records.length === 0) {
      ctx.effects.push(() => reply(results));
      return;
    }
    ctx.persistRecords(records, (error) => {
      if (error !== null) for (const result of deleted) result.errorCode = offsetCommitErrorFor(error);
      ctx.effects.push(() => reply(results));
    });
  });
}

function deleteOne(ctx: CoordinatorContext, groupId: string, records: OffsetsTopicRecord[]): number {
  const status = ctx.groupStatus(groupId, true);
  if (status !== ErrorCode.NONE) return status;
  const group = ctx.groups.get(groupId);
  if (group === undefined || group.is(GroupState.Dead)) return ErrorCode.GROUP_ID_NOT_FOUND;
  if (!group.is(GroupState.Empty)) return ErrorCode.NON_EMPTY_GROUP;
  for (const { topic, partition } of group.removeAllOffsets()) records.push(offsetTombstone(groupId, topic, partition));
  records.push(...removeDeadGroup(ctx, group));
  ctx.logger?.info('deleted group', { group: groupId });
  return ErrorCode.NONE;
}

/**
 * Deletes committed offsets. An Empty group loses any; an active consumer group only those of
 * topics no member subscribes to (GROUP_SUBSCRIBED_TO_TOPIC otherwise); other active groups
 * get NON_EMPTY_GROUP. The reply comes after the tombstones are durable.
 */
export function offsetDelete(ctx: CoordinatorContext, version: number, request: OffsetDeleteRequest, reply: (response: OffsetDeleteResponse) => void): void {
  void version;
  ctx.run(() => {
    const status = ctx.groupStatus(request.groupId, false);
    const group = ctx.groups.get(request.groupId);
    let groupError = status;
    if (groupError === ErrorCode.NONE && (group === undefined || group.is(GroupState.Dead))) groupError = ErrorCode.GROUP_ID_NOT_FOUND;
    else if (groupError === ErrorCode.NONE && group !== undefined && !group.is(GroupState.Empty) && !group.isConsumerGroup) {
      groupError = ErrorCode.NON_EMPTY_GROUP;
    }
    if (groupError !== ErrorCode.NONE || group === undefined) {
      const response: OffsetDeleteResponse = { errorCode: groupError, throttleTimeMs: 0, topics: [] };
      ctx.effects.push(() => reply(response));
      return;
    }
    deleteOffsets(ctx, group, request, reply);
  });
}

function deleteOffsets(ctx: CoordinatorContext, group: ClassicGroup, request: OffsetDeleteRequest, reply: (response: OffsetDeleteResponse) => void): void {
  // Decided before removing anything: a group emptied of its last offsets turns Dead below.
  const subscribedTopics = new Set(request.topics.filter((topic) => !group.is(GroupState.Empty) && group.isSubscribedToTopic(topic.name)).map((topic) => topic.name));
  const subscribed = (topic: string) => subscribedTopics.has(topic);
  const eligible: TopicPartitionRef[] = [];
  for (const topic of request.topics) {
    if (subscribed(topic.name)) continue;
    for (const partition of topic.partitions) eligible.push({ topic: topic.name, partition: partition.partitionIndex });
  }
  const records = group.removeOffsets(eligible).map(({ topic, partition }) => offsetTombstone(group.groupId, topic, partition));
  if (isRemovable(group)) records.push(...removeDeadGroup(ctx, group));
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
    ctx.effects.push(() => reply(response));
  };
  if (records.length === 0) return respond(ErrorCode.NONE);
  ctx.persistRecords(records, (error) => respond(error === null ? ErrorCode.NONE : offsetCommitErrorFor(error)));
}

/** Kafka's cleanupGroupMetadata run: expired offsets and groups left with nothing. */
export function expireOffsets(ctx: CoordinatorContext, nowMs: number): void {
  const records: OffsetsTopicRecord[] = [];
  let expiredOffsets = 0;
  for (const group of [...ctx.groups.values()]) {
    const removed = group.removeExpiredOffsets(nowMs, ctx.config.offsetsRetentionMs);
    expiredOffsets += removed.length;
    for (const { topic, partition } of removed) records.push(offsetTombstone(group.groupId, topic, partition));
    if (isRemovable(group)) records.push(...removeDeadGroup(ctx, group));
  }
  if (records.length === 0) return;
  ctx.logger?.info('expired offsets', { partition: ctx.partition, offsets: expiredOffsets });
  ctx.persistRecords(records, (error) => {
    // Lost tombstones are harmless: the next check after a reload writes them again.
    if (error !== null) ctx.logger?.warn('failed to append offset expiry tombstones', { error: error.message });
  });
}

/** Empty, nothing committed, nobody about to rejoin with a MEMBER_ID_REQUIRED id. */
function isRemovable(group: ClassicGroup): boolean {
  return group.is(GroupState.Empty) && !group.hasOffsets() && group.pendingMembers.size === 0;
}

/** Empty → Dead, out of the cache; a group tombstone if it ever had a generation. */
export function removeDeadGroup(ctx: CoordinatorContext, group: ClassicGroup): OffsetsTopicRecord[] {
  group.transitionTo(GroupState.Dead, ctx.nowMs());
  group.joinTimer = null;
  group.syncTimer = null;
  ctx.groups.delete(group.groupId);
  // Generation 0 means offsets only: no group metadata was ever written.
  return group.generationId > 0 ? [groupTombstone(group.groupId)] : [];
}

/** This partition's groups, sorted by id; the caller merges the lists of every partition. */
export function listGroups(ctx: CoordinatorContext, version: number): { errorCode: number; groups: ListedGroup[] } {
  void version;
  if (ctx.phase === CoordinatorPhase.Unloaded) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
  if (ctx.phase === CoordinatorPhase.Loading) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groups: [] };
  const groups = [...ctx.groups.values()]
    .map((group): ListedGroup => ({ groupId: group.groupId, protocolType: group.protocolType ?? '' }))
    .sort((a, b) => compareStrings(a.groupId, b.groupId));
  return { errorCode: ErrorCode.NONE, groups };
}
