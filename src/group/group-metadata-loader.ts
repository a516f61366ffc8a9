/**
 * Loading a coordinator partition from `__consumer_offsets` (Kafka's
 * GroupMetadataManager.loadGroupsAndOffsets): the latest value per key wins, tombstones delete,
 * and what is left becomes the groups of the partition, Stable if they have members.
 */
import type { CoordinatorContext } from './coordinator-context.js';
import { ClassicGroup, GroupMember, GroupState } from './group-metadata.js';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsRecordKey,
  type GroupMetadataValue,
  type OffsetCommitValue,
  type OffsetsTopicRecord,
} from './offsets-records.js';

export interface LoadedPartitionState {
  readonly groupValues: Map<string, GroupMetadataValue>;
  /** group → topic → partition → value. */
  readonly offsets: Map<string, Map<string, Map<number, OffsetCommitValue>>>;
  skippedRecords: number;
}

export function loadRecord(ctx: CoordinatorContext, loaded: LoadedPartitionState, record: OffsetsTopicRecord): void {
  try {
    const key = decodeOffsetsRecordKey(record.key);
    if (key.kind === 'unknown' || !ctx.ownsGroup(key.group)) {
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
    ctx.logger?.error('skipped undecodable __consumer_offsets record', {
      partition: ctx.partition,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

export function materializeLoadedGroups(ctx: CoordinatorContext, loaded: LoadedPartitionState): ClassicGroup[] {
  const nowMs = ctx.nowMs();
  const result: ClassicGroup[] = [];
  for (const [groupId, value] of loaded.groupValues) {
    const group = groupFromValue(ctx, groupId, value, nowMs);
    if (group !== null) {
      ctx.groups.set(groupId, group);
      result.push(group);
    }
  }
  for (const [groupId, topics] of loaded.offsets) {
    let group = ctx.groups.get(groupId);
    for (const [topic, partitions] of topics) {
      for (const [partition, value] of partitions) {
        if (group === undefined) {
          // Offsets without group metadata: a simple-consumer group, Empty.
          group = new ClassicGroup(groupId, nowMs);
          ctx.groups.set(groupId, group);
          result.push(group);
        }
        group.restoreOffset(topic, partition, { ...value, appendSequence: 0 });
      }
    }
  }
  return result;
}

function groupFromValue(ctx: CoordinatorContext, groupId: string, value: GroupMetadataValue, nowMs: number): ClassicGroup | null {
  const protocolName = value.protocolName;
  if (value.members.length > 0 && protocolName === null) {
    ctx.logger?.error('group metadata has members but no protocol; ignored', { group: groupId });
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
