/**
 * The records the group coordinator appends to `__consumer_offsets`, in Kafka's own formats so
 * that a partition written by minikafka reads like one written by Kafka (and the reverse).
 *
 * Every key and value starts with an int16 "version". For keys it is really the record type:
 *   0, 1: offset commit key   (group, topic, partition)      — 0 is the pre-0.10 spelling
 *   2:    group metadata key  (group)
 *   3+:   newer Kafka record types (KIP-848 consumer groups, share groups) — ignored here.
 * Values evolve by version: offset commit value v0-v4 (we write v3, or v1 when an OffsetCommit
 * v2-4 asked for an explicit retention), group metadata value v0-v4 (we write v3). A null value
 * is a tombstone: the partition is compacted, so the latest record per key wins.
 *
 * The layouts are described once as schema data (Kafka's OffsetCommitKey.json,
 * OffsetCommitValue.json, GroupMetadataKey.json, GroupMetadataValue.json) and run through the
 * same generic codec as the wire protocol.
 */
import { compile, ProtocolDecodeError, Reader, Writer } from '../protocol/codec/index.js';
import type { DecodedMessage, EncodableMessage, MessageSchema } from '../protocol/schema/types.js';

/** A record of the `__consumer_offsets` partition: key and value bytes, null value = tombstone. */
export interface OffsetsTopicRecord {
  readonly key: Buffer;
  readonly value: Buffer | null;
}

/** The int16 that starts every key: the record type. */
export const OffsetsRecordType = {
  LegacyOffsetCommit: 0,
  OffsetCommit: 1,
  GroupMetadata: 2,
} as const;

/** Value versions we write (the highest non-flexible ones, as Kafka 2.3+ does). */
export const offsetCommitValueVersion = 3;
/** Written instead of v3 when the commit carries an explicit expire timestamp (OffsetCommit v2-4). */
export const offsetCommitValueVersionWithExpiry = 1;
export const groupMetadataValueVersion = 3;

// Schemas. These are data records, not APIs: `apiKey` and `type` are unused by the codec.

const offsetCommitKeySchema = {
  apiKey: -1,
  type: 'request',
  name: 'OffsetCommitKey',
  validVersions: '0',
  flexibleVersions: 'none',
  fields: [
    { name: 'group', type: 'string', versions: '0+' },
    { name: 'topic', type: 'string', versions: '0+' },
    { name: 'partition', type: 'int32', versions: '0+' },
  ],
} as const satisfies MessageSchema;

const groupMetadataKeySchema = {
  apiKey: -1,
  type: 'request',
  name: 'GroupMetadataKey',
  validVersions: '0',
  flexibleVersions: 'none',
  fields: [{ name: 'group', type: 'string', versions: '0+' }],
} as const satisfies MessageSchema;

const offsetCommitValueSchema = {
  apiKey: -1,
  type: 'request',
  name: 'OffsetCommitValue',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    { name: 'offset', type: 'int64', versions: '0+' },
    { name: 'leaderEpoch', type: 'int32', versions: '3+', default: -1 },
    { name: 'metadata', type: 'string', versions: '0+' },
    { name: 'commitTimestamp', type: 'int64', versions: '0+' },
    // Only version 1: the pre-KIP-211 per-commit retention.
    { name: 'expireTimestamp', type: 'int64', versions: '1', default: -1n },
  ],
} as const satisfies MessageSchema;

const groupMetadataValueSchema = {
  apiKey: -1,
  type: 'request',
  name: 'GroupMetadataValue',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    { name: 'protocolType', type: 'string', versions: '0+' },
    { name: 'generation', type: 'int32', versions: '0+' },
    { name: 'protocol', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'leader', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'currentStateTimestamp', type: 'int64', versions: '2+', default: -1n },
    {
      name: 'members',
      type: '[]',
      versions: '0+',
      fields: [
        { name: 'memberId', type: 'string', versions: '0+' },
        {
          name: 'groupInstanceId',
          type: 'string',
          versions: '3+',
          nullableVersions: '3+',
          default: null,
        },
        { name: 'clientId', type: 'string', versions: '0+' },
        { name: 'clientHost', type: 'string', versions: '0+' },
        // Version 0 has none: the session timeout stood in for it.
        { name: 'rebalanceTimeout', type: 'int32', versions: '1+', default: -1 },
        { name: 'sessionTimeout', type: 'int32', versions: '0+' },
        { name: 'subscription', type: 'bytes', versions: '0+' },
        { name: 'assignment', type: 'bytes', versions: '0+' },
      ],
    },
  ],
} as const satisfies MessageSchema;

type OffsetCommitValueData = DecodedMessage<typeof offsetCommitValueSchema>;
type GroupMetadataValueData = DecodedMessage<typeof groupMetadataValueSchema>;

// Decoded forms.

export interface OffsetCommitKey {
  readonly kind: 'offsetCommit';
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
}

export interface GroupMetadataKey {
  readonly kind: 'groupMetadata';
  readonly group: string;
}

/** A record type this coordinator does not know (e.g. KIP-848 records); skipped on load. */
export interface UnknownOffsetsKey {
  readonly kind: 'unknown';
  readonly recordType: number;
}

export type OffsetsRecordKey = OffsetCommitKey | GroupMetadataKey | UnknownOffsetsKey;

export interface OffsetCommitValue {
  readonly offset: bigint;
  /** -1 when the committer did not know the leader epoch. */
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestampMs: number;
  /** -1 unless the commit asked for its own retention (written as value version 1). */
  readonly expireTimestampMs: number;
}

export interface GroupMemberValue {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  /** The member's metadata for the selected protocol. */
  readonly subscription: Buffer;
  readonly assignment: Buffer;
}

export interface GroupMetadataValue {
  /** "" for a group that never had a protocol type. */
  readonly protocolType: string;
  readonly generationId: number;
  readonly protocolName: string | null;
  readonly leaderId: string | null;
  /** When the group entered its current state; -1 if unknown (value versions 0-1). */
  readonly currentStateTimestampMs: number;
  readonly members: readonly GroupMemberValue[];
}

// Keys.

export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return encodeVersioned(OffsetsRecordType.OffsetCommit, offsetCommitKeySchema, 0, {
    group,
    topic,
    partition,
  });
}

export function encodeGroupMetadataKey(group: string): Buffer {
  return encodeVersioned(OffsetsRecordType.GroupMetadata, groupMetadataKeySchema, 0, { group });
}

export function decodeOffsetsRecordKey(key: Buffer): OffsetsRecordKey {
  const reader = new Reader(key);
  const recordType = reader.int16('key.version');
  switch (recordType) {
    case OffsetsRecordType.LegacyOffsetCommit:
    case OffsetsRecordType.OffsetCommit: {
      const decoded = compile(offsetCommitKeySchema, 0).decode(reader) as DecodedMessage<
        typeof offsetCommitKeySchema
      >;
      return { kind: 'offsetCommit', group: decoded.group, topic: decoded.topic, partition: decoded.partition };
    }
    case OffsetsRecordType.GroupMetadata: {
      const decoded = compile(groupMetadataKeySchema, 0).decode(reader) as DecodedMessage<
        typeof groupMetadataKeySchema
      >;
      return { kind: 'groupMetadata', group: decoded.group };
    }
    default:
      return { kind: 'unknown', recordType };
  }
}

// Values.

export function encodeOffsetCommitValue(value: OffsetCommitValue): Buffer {
  const withExpiry = value.expireTimestampMs >= 0;
  const version = withExpiry ? offsetCommitValueVersionWithExpiry : offsetCommitValueVersion;
  const data: EncodableMessage<typeof offsetCommitValueSchema> = {
    offset: value.offset,
    leaderEpoch: value.leaderEpoch,
    metadata: value.metadata,
    commitTimestamp: BigInt(value.commitTimestampMs),
    expireTimestamp: BigInt(value.expireTimestampMs),
  };
  return encodeVersioned(version, offsetCommitValueSchema, version, data);
}

export function decodeOffsetCommitValue(value: Buffer): OffsetCommitValue {
  const { version, data } = decodeVersioned(value, offsetCommitValueSchema, 4);
  const decoded = data as OffsetCommitValueData;
  return {
    offset: decoded.offset,
    leaderEpoch: decoded.leaderEpoch,
    metadata: decoded.metadata,
    commitTimestampMs: Number(decoded.commitTimestamp),
    expireTimestampMs: version === 1 ? Number(decoded.expireTimestamp) : -1,
  };
}

export function encodeGroupMetadataValue(value: GroupMetadataValue): Buffer {
  const data: EncodableMessage<typeof groupMetadataValueSchema> = {
    protocolType: value.protocolType,
    generation: value.generationId,
    protocol: value.protocolName,
    leader: value.leaderId,
    currentStateTimestamp: BigInt(value.currentStateTimestampMs),
    members: value.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      rebalanceTimeout: member.rebalanceTimeoutMs,
      sessionTimeout: member.sessionTimeoutMs,
      subscription: member.subscription,
      assignment: member.assignment,
    })),
  };
  return encodeVersioned(groupMetadataValueVersion, groupMetadataValueSchema, groupMetadataValueVersion, data);
}

/** Decodes a group metadata value. Byte fields are copies, safe to keep after `value` is reused. */
export function decodeGroupMetadataValue(value: Buffer): GroupMetadataValue {
  const { version, data } = decodeVersioned(value, groupMetadataValueSchema, 4);
  const decoded = data as GroupMetadataValueData;
  return {
    protocolType: decoded.protocolType,
    generationId: decoded.generation,
    protocolName: decoded.protocol,
    leaderId: decoded.leader,
    currentStateTimestampMs: Number(decoded.currentStateTimestamp),
    members: decoded.members.map(
      (member): GroupMemberValue => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        rebalanceTimeoutMs: version === 0 ? member.sessionTimeout : member.rebalanceTimeout,
        sessionTimeoutMs: member.sessionTimeout,
        subscription: Buffer.from(member.subscription),
        assignment: Buffer.from(member.assignment),
      }),
    ),
  };
}

// Whole records.

export function offsetCommitRecord(
  group: string,
  topic: string,
  partition: number,
  value: OffsetCommitValue,
): OffsetsTopicRecord {
  return { key: encodeOffsetCommitKey(group, topic, partition), value: encodeOffsetCommitValue(value) };
}

export function offsetTombstone(group: string, topic: string, partition: number): OffsetsTopicRecord {
  return { key: encodeOffsetCommitKey(group, topic, partition), value: null };
}

export function groupMetadataRecord(group: string, value: GroupMetadataValue): OffsetsTopicRecord {
  return { key: encodeGroupMetadataKey(group), value: encodeGroupMetadataValue(value) };
}

export function groupTombstone(group: string): OffsetsTopicRecord {
  return { key: encodeGroupMetadataKey(group), value: null };
}

// Helpers.

function encodeVersioned(prefix: number, schema: MessageSchema, version: number, data: unknown): Buffer {
  const writer = new Writer();
  writer.int16(prefix);
  compile(schema, version).encode(data, writer);
  const { chunks, sizeBytes } = writer.finish();
  // A private copy: the writer's chunks live in a shared slab.
  return Buffer.concat(chunks, sizeBytes);
}

function decodeVersioned(
  bytes: Buffer,
  schema: MessageSchema,
  maxVersion: number,
): { version: number; data: unknown } {
  const reader = new Reader(bytes);
  const version = reader.int16(`${schema.name}.version`);
  if (version < 0 || version > maxVersion) {
    throw new ProtocolDecodeError(`${schema.name}: unknown value version ${version}`, 0);
  }
  return { version, data: compile(schema, version).decode(reader) };
}
