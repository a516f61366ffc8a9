/**
 * The consumer embedded protocol (protocol type "consumer"): what a consumer puts in its
 * JoinGroup metadata (ConsumerProtocolSubscription) and what the leader hands each member through
 * SyncGroup (ConsumerProtocolAssignment). The layouts are described once as schema data (Kafka's
 * ConsumerProtocolSubscription.json and ConsumerProtocolAssignment.json, versions 0-3, never
 * flexible) and run through the same generic codec as the wire protocol. Every blob starts with
 * its int16 version.
 *
 * Decoding is lenient in the two ways real peers need:
 * - A version above 3 is read as version 3: newer versions only append fields (as Kafka's
 *   ConsumerProtocol does).
 * - A blob may end at a field boundary before the fields its version has: kafkajs advertises
 *   subscription version 1 with a version 0 body, and some encoders stop an assignment after its
 *   partitions. The missing trailing fields take their defaults; a field cut in half is an error.
 */
import { compile, ProtocolDecodeError, Reader, Writer, type CompiledMessage } from '../protocol/codec/index.js';
import type { DecodedMessage, EncodableMessage, MessageSchema } from '../protocol/schema/types.js';

export const consumerProtocolType = 'consumer';

export const consumerProtocolLowestVersion = 0;
export const consumerProtocolHighestVersion = 3;

// Schemas. These are data records, not APIs: `apiKey` and `type` are unused by the codec.

const topicPartitionFields = (versions: string) =>
  [
    { name: 'topic', type: 'string', versions },
    { name: 'partitions', type: '[]int32', versions },
  ] as const;

export const consumerProtocolSubscriptionSchema = {
  apiKey: -1,
  type: 'request',
  name: 'ConsumerProtocolSubscription',
  validVersions: '0-3',
  flexibleVersions: 'none',
  fields: [
    { name: 'topics', type: '[]string', versions: '0+' },
    { name: 'userData', type: 'bytes', versions: '0+', nullableVersions: '0+', default: null },
    // KIP-429: what the member owns now, so a cooperative assignor can move only what must move.
    { name: 'ownedPartitions', type: '[]', versions: '1+', fields: topicPartitionFields('1+') },
    { name: 'generationId', type: 'int32', versions: '2+', default: -1 },
    // KIP-881: rack-aware assignment.
    { name: 'rackId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
  ],
} as const satisfies MessageSchema;

export const consumerProtocolAssignmentSchema = {
  apiKey: -1,
  type: 'request',
  name: 'ConsumerProtocolAssignment',
  // Versions 1-3 have the version 0 layout; they only follow the subscription's version.
  validVersions: '0-3',
  flexibleVersions: 'none',
  fields: [
    { name: 'assignedPartitions', type: '[]', versions: '0+', fields: topicPartitionFields('0+') },
    { name: 'userData', type: 'bytes', versions: '0+', nullableVersions: '0+', default: null },
  ],
} as const satisfies MessageSchema;

type SubscriptionFields = DecodedMessage<typeof consumerProtocolSubscriptionSchema>;
type AssignmentFields = DecodedMessage<typeof consumerProtocolAssignmentSchema>;

/** A decoded subscription: the version as written, and every field (absent ones defaulted). */
export type ConsumerProtocolSubscription = SubscriptionFields & { readonly version: number };
export type ConsumerProtocolAssignment = AssignmentFields & { readonly version: number };
export type ConsumerProtocolTopicPartitions = ConsumerProtocolAssignment['assignedPartitions'][number];

export type EncodableSubscription = EncodableMessage<typeof consumerProtocolSubscriptionSchema>;
export type EncodableAssignment = EncodableMessage<typeof consumerProtocolAssignmentSchema>;

export function encodeConsumerSubscription(version: number, subscription: EncodableSubscription): Buffer {
  return encodeVersioned(consumerProtocolSubscriptionSchema, version, subscription);
}

export function encodeConsumerAssignment(version: number, assignment: EncodableAssignment): Buffer {
  return encodeVersioned(consumerProtocolAssignmentSchema, version, assignment);
}

/**
 * Throws ProtocolDecodeError for bytes that are not a subscription. Byte fields point into
 * `bytes` (no copies).
 */
export function decodeConsumerSubscription(bytes: Buffer): ConsumerProtocolSubscription {
  const { version, fields } = decodeVersioned(consumerProtocolSubscriptionSchema, bytes);
  return { version, ...(fields as SubscriptionFields) };
}

/** Throws ProtocolDecodeError for bytes that are not an assignment. Byte fields point into `bytes`. */
export function decodeConsumerAssignment(bytes: Buffer): ConsumerProtocolAssignment {
  const { version, fields } = decodeVersioned(consumerProtocolAssignmentSchema, bytes);
  return { version, ...(fields as AssignmentFields) };
}

/** The subscribed topic names, or null when the bytes are not a consumer subscription. */
export function subscriptionTopics(metadata: Buffer): string[] | null {
  try {
    return decodeConsumerSubscription(metadata).topics;
  } catch (error) {
    if (error instanceof ProtocolDecodeError) return null;
    throw error;
  }
}

// Helpers.

function encodeVersioned(schema: MessageSchema, version: number, data: unknown): Buffer {
  if (!Number.isInteger(version) || version < consumerProtocolLowestVersion || version > consumerProtocolHighestVersion) {
    throw new RangeError(`${schema.name} version ${version} is outside ${schema.validVersions}`);
  }
  const writer = new Writer();
  writer.int16(version);
  compile(schema, version).encode(data, writer);
  const { chunks, sizeBytes } = writer.finish();
  // A private copy: the writer's chunks live in a shared slab.
  return Buffer.concat(chunks, sizeBytes);
}

/** For each schema, the schemas of its leading fields: index k keeps fields 0..k. */
const leadingFieldSchemas = new WeakMap<MessageSchema, readonly MessageSchema[]>();

function leadingFieldsOf(schema: MessageSchema): readonly MessageSchema[] {
  let prefixes = leadingFieldSchemas.get(schema);
  if (prefixes === undefined) {
    prefixes = schema.fields.map((_, index) => ({ ...schema, fields: schema.fields.slice(0, index + 1) }));
    leadingFieldSchemas.set(schema, prefixes);
  }
  return prefixes;
}

function decodeVersioned(schema: MessageSchema, bytes: Buffer): { version: number; fields: unknown } {
  const reader = new Reader(bytes);
  const version = reader.int16(`${schema.name}.version`);
  if (version < consumerProtocolLowestVersion) {
    throw new ProtocolDecodeError(`${schema.name}: negative version ${version}`, 0);
  }
  const readVersion = Math.min(version, consumerProtocolHighestVersion);
  const bodyOffset = reader.offset;
  try {
    return { version, fields: compile(schema, readVersion).decode(reader) };
  } catch (error) {
    if (!(error instanceof ProtocolDecodeError)) throw error;
    const shorter = decodeLeadingFields(schema, readVersion, bytes, bodyOffset);
    if (shorter === null) throw error;
    return { version, fields: shorter };
  }
}

/**
 * A body that stops early at a field boundary: the longest run of leading fields that uses up
 * the bytes exactly, with the rest defaulted. Null if none does.
 */
function decodeLeadingFields(schema: MessageSchema, version: number, bytes: Buffer, bodyOffset: number): unknown {
  const full = compile(schema, version);
  const prefixes = leadingFieldsOf(schema);
  for (let count = prefixes.length - 1; count >= 1; count--) {
    const reader = new Reader(bytes, bodyOffset);
    let decoded: Record<string, unknown>;
    try {
      decoded = compile(prefixes[count - 1]!, version).decode(reader);
    } catch (error) {
      if (error instanceof ProtocolDecodeError) continue;
      throw error;
    }
    if (reader.remainingBytes !== 0) continue;
    // Every field, in schema order, absent ones holding their defaults.
    return { ...defaultFieldsOf(full), ...decoded };
  }
  return null;
}

/** Every field of the message at its default, in schema order. */
function defaultFieldsOf(codec: CompiledMessage): Record<string, unknown> {
  const writer = new Writer();
  codec.encode({}, writer);
  const { chunks, sizeBytes } = writer.finish();
  return codec.decode(new Reader(Buffer.concat(chunks, sizeBytes)));
}
