/**
 * The messages between the front-end thread and a node worker, as laid out in the rings.
 *
 * Hot path (hand-laid binary, record bytes in place):
 *   PRODUCE  u8 kind, u32 requestId, i16 acks, i32 timeoutMs, u32 count,
 *            count x { string topic, i32 partition, bytes records }
 *   FETCH    u8 kind, u32 requestId, i32 maxWaitMs, i32 minBytes, i32 maxBytes, u8 isolation,
 *            u32 count, count x { string topic, i32 partition, f64 fetchOffset, i32 partitionMaxBytes }
 * Completions:
 *   PRODUCE  u8 kind, u32 requestId, u32 count,
 *            count x { i16 errorCode, f64 baseOffset, f64 logAppendTimeMs, f64 logStartOffset, string errorMessage }
 *   FETCH    u8 kind, u32 requestId, u32 count,
 *            count x { i16 errorCode, f64 highWatermark, f64 lastStableOffset, f64 logStartOffset, bytes records }
 * Control (admin, partition management; small): u8 kind, u32 requestId, msgpack payload.
 */
// The pack/unpack subpaths load msgpackr without probing for its optional native addon, which
// we never install: about half of msgpackr's load time, paid by every thread at start.
import { pack } from 'msgpackr/pack';
import { unpack } from 'msgpackr/unpack';
import type { LogConfig } from '../storage/log-config.js';
import type { RingWriter } from '../runtime/shared-ring.js';
import { maxStringBytes, WireReader, WireWriter } from './wire.js';

export const MessageKind = {
  PRODUCE: 1,
  FETCH: 2,
  CONTROL: 3,
  /** Node to node (see replica-protocol.ts): a follower's fetch, and the leader's answer. */
  REPLICA_FETCH: 4,
  REPLICA_FETCH_RESPONSE: 5,
} as const;

export const HEADER_BYTES = 1 + 4;

// ---- produce ------------------------------------------------------------------------------

export interface ProducePartition {
  topic: string;
  partition: number;
  records: Buffer;
}

export interface ProduceRequest {
  requestId: number;
  acks: number;
  timeoutMs: number;
  partitions: ProducePartition[];
}

export function produceRequestSize(partitions: readonly ProducePartition[]): number {
  let size = HEADER_BYTES + 2 + 4 + 4;
  for (const partition of partitions) size += maxStringBytes(partition.topic) + 4 + 4 + partition.records.length;
  return size;
}

/** Writes the request into the ring; false if the ring is too full now. */
export function writeProduceRequest(ring: RingWriter, request: ProduceRequest): boolean {
  const at = ring.reserve(produceRequestSize(request.partitions));
  if (at < 0) return false;
  const writer = new WireWriter(ring.bytes, at).u8(MessageKind.PRODUCE).u32(request.requestId);
  writer.i16(request.acks).i32(request.timeoutMs).u32(request.partitions.length);
  for (const partition of request.partitions) writer.string(partition.topic).i32(partition.partition).bytesField(partition.records);
  ring.commit(writer.position - at);
  return true;
}

/** Reads a produce request; `records` are views into the ring, valid during the drain only. */
export function readProduceRequest(bytes: Buffer, offset: number): ProduceRequest {
  const reader = new WireReader(bytes, offset + 1);
  const requestId = reader.u32();
  const acks = reader.i16();
  const timeoutMs = reader.i32();
  const count = reader.u32();
  const partitions: ProducePartition[] = [];
  for (let index = 0; index < count; index++) {
    partitions.push({ topic: reader.string(), partition: reader.i32(), records: reader.bytesView() });
  }
  return { requestId, acks, timeoutMs, partitions };
}

export interface ProducePartitionResult {
  errorCode: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
  errorMessage: string;
}

export function writeProduceCompletion(ring: RingWriter, requestId: number, results: readonly ProducePartitionResult[]): boolean {
  let size = HEADER_BYTES + 4;
  for (const result of results) size += 2 + 8 * 3 + maxStringBytes(result.errorMessage);
  const at = ring.reserve(size);
  if (at < 0) return false;
  const writer = new WireWriter(ring.bytes, at).u8(MessageKind.PRODUCE).u32(requestId).u32(results.length);
  for (const result of results) {
    writer.i16(result.errorCode).f64(result.baseOffset).f64(result.logAppendTimeMs).f64(result.logStartOffset).string(result.errorMessage);
  }
  ring.commit(writer.position - at);
  return true;
}

export function readProduceCompletion(bytes: Buffer, offset: number): { requestId: number; results: ProducePartitionResult[] } {
  const reader = new WireReader(bytes, offset + 1);
  const requestId = reader.u32();
  const count = reader.u32();
  const results: ProducePartitionResult[] = [];
  for (let index = 0; index < count; index++) {
    results.push({ errorCode: reader.i16(), baseOffset: reader.f64(), logAppendTimeMs: reader.f64(), logStartOffset: reader.f64(), errorMessage: reader.string() });
  }
  return { requestId, results };
}

// ---- fetch --------------------------------------------------------------------------------

export interface FetchPartition {
  topic: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}

export interface FetchRequest {
  requestId: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  partitions: FetchPartition[];
}

export function writeFetchRequest(ring: RingWriter, request: FetchRequest): boolean {
  let size = HEADER_BYTES + 4 * 3 + 1 + 4;
  for (const partition of request.partitions) size += maxStringBytes(partition.topic) + 4 + 8 + 4;
  const at = ring.reserve(size);
  if (at < 0) return false;
  const writer = new WireWriter(ring.bytes, at).u8(MessageKind.FETCH).u32(request.requestId);
  writer.i32(request.maxWaitMs).i32(request.minBytes).i32(request.maxBytes).u8(request.isolationLevel).u32(request.partitions.length);
  for (const partition of request.partitions) {
    writer.string(partition.topic).i32(partition.partition).f64(partition.fetchOffset).i32(partition.partitionMaxBytes);
  }
  ring.commit(writer.position - at);
  return true;
}

export function readFetchRequest(bytes: Buffer, offset: number): FetchRequest {
  const reader = new WireReader(bytes, offset + 1);
  const requestId = reader.u32();
  const maxWaitMs = reader.i32();
  const minBytes = reader.i32();
  const maxBytes = reader.i32();
  const isolationLevel = reader.u8();
  const count = reader.u32();
  const partitions: FetchPartition[] = [];
  for (let index = 0; index < count; index++) {
    partitions.push({ topic: reader.string(), partition: reader.i32(), fetchOffset: reader.f64(), partitionMaxBytes: reader.i32() });
  }
  return { requestId, maxWaitMs, minBytes, maxBytes, isolationLevel, partitions };
}

export interface FetchPartitionResult {
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  records: Buffer;
}

/** Bytes of a fetch completion besides the record bytes (kind, request id, per-partition fields). */
export function fetchCompletionFieldBytes(partitionCount: number): number {
  return HEADER_BYTES + 4 + partitionCount * FETCH_PARTITION_FIELD_BYTES;
}

const FETCH_PARTITION_FIELD_BYTES = 2 + 8 * 3 + 4;

export function fetchCompletionSize(results: readonly FetchPartitionResult[]): number {
  let size = fetchCompletionFieldBytes(results.length);
  for (const result of results) size += result.records.length;
  return size;
}

export function writeFetchCompletion(ring: RingWriter, requestId: number, results: readonly FetchPartitionResult[]): boolean {
  const at = ring.reserve(fetchCompletionSize(results));
  if (at < 0) return false;
  const writer = new WireWriter(ring.bytes, at).u8(MessageKind.FETCH).u32(requestId).u32(results.length);
  for (const result of results) {
    writer.i16(result.errorCode).f64(result.highWatermark).f64(result.lastStableOffset).f64(result.logStartOffset).bytesField(result.records);
  }
  ring.commit(writer.position - at);
  return true;
}

/** Reads a fetch completion, copying record bytes out of the ring. */
export function readFetchCompletion(bytes: Buffer, offset: number): { requestId: number; results: FetchPartitionResult[] } {
  const reader = new WireReader(bytes, offset + 1);
  const requestId = reader.u32();
  const count = reader.u32();
  const results: FetchPartitionResult[] = [];
  for (let index = 0; index < count; index++) {
    const errorCode = reader.i16();
    const highWatermark = reader.f64();
    const lastStableOffset = reader.f64();
    const logStartOffset = reader.f64();
    const view = reader.bytesView();
    results.push({ errorCode, highWatermark, lastStableOffset, logStartOffset, records: view.length === 0 ? EMPTY : Buffer.from(view) });
  }
  return { requestId, results };
}

const EMPTY = Buffer.alloc(0);

// ---- control ------------------------------------------------------------------------------

export interface PartitionAssignment {
  topic: string;
  partition: number;
  leaderEpoch: number;
  config: LogConfig;
  /** Partitions of the topic (the group coordinator hashes group ids over them). */
  partitionCount: number;
}

export type ControlRequest =
  | { op: 'becomeLeader'; partitions: PartitionAssignment[] }
  | { op: 'stopReplica'; partitions: Array<{ topic: string; partition: number }>; deleteData: boolean }
  | { op: 'updateConfig'; topic: string; config: LogConfig }
  | { op: 'dropStrayLogs'; knownTopics: string[] }
  | { op: 'listOffsets'; isolationLevel: number; partitions: Array<{ topic: string; partition: number; timestamp: number }> }
  | { op: 'deleteRecords'; partitions: Array<{ topic: string; partition: number; offset: number }> }
  | { op: 'offsetsForLeaderEpoch'; partitions: OffsetForLeaderEpochPartition[] }
  | { op: 'group'; partition: number; apiKey: number; apiVersion: number; clientId: string; clientHost: string; body: unknown }
  | { op: 'listGroups' }
  | { op: 'shutdown' };

export interface ListOffsetsResult {
  errorCode: number;
  offset: number;
  timestamp: number;
}

export interface DeleteRecordsResult {
  errorCode: number;
  lowWatermark: number;
}

export interface OffsetForLeaderEpochPartition {
  topic: string;
  partition: number;
  /** The leader epoch the client expects (KIP-320 fencing), -1 if not given. */
  currentLeaderEpoch: number;
  /** The epoch whose end offset is asked for. */
  leaderEpoch: number;
}

/** NONE with -1 / -1 is Kafka's "undefined" answer: the epoch asked for is -1 or above every epoch in the log. */
export interface OffsetForLeaderEpochResult {
  errorCode: number;
  leaderEpoch: number;
  endOffset: number;
}

export type ControlResponse =
  | { ok: true; value?: unknown }
  | { ok: false; error: string };

export function writeControl(ring: RingWriter, requestId: number, message: unknown): boolean {
  const payload = pack(message);
  const at = ring.reserve(HEADER_BYTES + payload.length);
  if (at < 0) return false;
  const writer = new WireWriter(ring.bytes, at).u8(MessageKind.CONTROL).u32(requestId);
  ring.bytes.set(payload, writer.position);
  ring.commit(HEADER_BYTES + payload.length);
  return true;
}

export function readControl<T>(bytes: Buffer, offset: number, length: number): { requestId: number; message: T } {
  const requestId = bytes.readUInt32LE(offset + 1);
  // unpack copies what it decodes, so the ring space can be released afterwards.
  const message = unpack(bytes.subarray(offset + HEADER_BYTES, offset + length)) as T;
  return { requestId, message };
}

export function messageKind(bytes: Buffer, offset: number): number {
  return bytes[offset]!;
}
