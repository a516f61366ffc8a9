/**
 * Node-to-node replication messages, laid out in the link rings between two nodes (Kafka's
 * Fetch with a replica id, as a follower's ReplicaFetcherThread sends it):
 *
 *   REPLICA_FETCH           u8 kind, u32 fetchId, i32 replicaId, i32 maxWaitMs, i32 maxBytes,
 *                           u32 count, count x { string topic, i32 partition,
 *                           i32 currentLeaderEpoch, f64 fetchOffset, i32 lastFetchedEpoch }
 *   REPLICA_FETCH_RESPONSE  u8 kind, u32 fetchId, u32 count, count x { string topic,
 *                           i32 partition, i16 errorCode, f64 highWatermark, f64 logStartOffset,
 *                           i32 divergingEpoch, f64 divergingEndOffset, bytes records }
 *
 * Record bytes are the leader's batches unchanged (offsets and leader epochs as written). A
 * diverging answer (divergingEndOffset >= 0) carries no records: the follower truncates first.
 */
import type { RingWriter } from '../runtime/shared-ring.js';
import { HEADER_BYTES, MessageKind } from './node-protocol.js';
import { maxStringBytes, WireReader, WireWriter } from './wire.js';

export interface ReplicaFetchPartition {
  topic: string;
  partition: number;
  currentLeaderEpoch: number;
  /** The follower's durable log end offset. */
  fetchOffset: number;
  /** The leader epoch of the follower's last batch (-1: an empty log). */
  lastFetchedEpoch: number;
}

export interface ReplicaFetchRequest {
  fetchId: number;
  replicaId: number;
  maxWaitMs: number;
  maxBytes: number;
  partitions: ReplicaFetchPartition[];
}

export interface ReplicaFetchPartitionResult {
  topic: string;
  partition: number;
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  /** With divergingEndOffset >= 0: the follower's log diverges (KIP-320); no records. */
  divergingEpoch: number;
  divergingEndOffset: number;
  records: Buffer;
}

export function writeReplicaFetch(ring: RingWriter, request: ReplicaFetchRequest): boolean {
  let size = HEADER_BYTES + 4 * 4;
  for (const partition of request.partitions) size += maxStringBytes(partition.topic) + 4 + 4 + 8 + 4;
  const at = ring.reserve(size);
  if (at < 0) return false;
  const writer = new WireWriter(ring.bytes, at).u8(MessageKind.REPLICA_FETCH).u32(request.fetchId);
  writer.i32(request.replicaId).i32(request.maxWaitMs).i32(request.maxBytes).u32(request.partitions.length);
  for (const partition of request.partitions) {
    writer.string(partition.topic).i32(partition.partition).i32(partition.currentLeaderEpoch).f64(partition.fetchOffset).i32(partition.lastFetchedEpoch);
  }
  ring.commit(writer.position - at);
  return true;
}

export function readReplicaFetch(bytes: Buffer, offset: number): ReplicaFetchRequest {
  const reader = new WireReader(bytes, offset + 1);
  const fetchId = reader.u32();
  const replicaId = reader.i32();
  const maxWaitMs = reader.i32();
  const maxBytes = reader.i32();
  const count = reader.u32();
  const partitions: ReplicaFetchPartition[] = [];
  for (let index = 0; index < count; index++) {
    partitions.push({ topic: reader.string(), partition: reader.i32(), currentLeaderEpoch: reader.i32(), fetchOffset: reader.f64(), lastFetchedEpoch: reader.i32() });
  }
  return { fetchId, replicaId, maxWaitMs, maxBytes, partitions };
}

const RESULT_FIELD_BYTES = 4 + 2 + 8 + 8 + 4 + 8 + 4;

/** Bytes of a response besides topic names and record bytes. */
export function replicaFetchResponseFieldBytes(results: readonly { topic: string }[]): number {
  let size = HEADER_BYTES + 4;
  for (const result of results) size += maxStringBytes(result.topic) + RESULT_FIELD_BYTES;
  return size;
}

export function writeReplicaFetchResponse(ring: RingWriter, fetchId: number, results: readonly ReplicaFetchPartitionResult[]): boolean {
  let size = replicaFetchResponseFieldBytes(results);
  for (const result of results) size += result.records.length;
  const at = ring.reserve(size);
  if (at < 0) return false;
  const writer = new WireWriter(ring.bytes, at).u8(MessageKind.REPLICA_FETCH_RESPONSE).u32(fetchId).u32(results.length);
  for (const result of results) {
    writer.string(result.topic).i32(result.partition).i16(result.errorCode).f64(result.highWatermark).f64(result.logStartOffset);
    writer.i32(result.divergingEpoch).f64(result.divergingEndOffset).bytesField(result.records);
  }
  ring.commit(writer.position - at);
  return true;
}

/** Reads a response; `records` are views into the ring, valid during the drain only. */
export function readReplicaFetchResponse(bytes: Buffer, offset: number): { fetchId: number; results: ReplicaFetchPartitionResult[] } {
  const reader = new WireReader(bytes, offset + 1);
  const fetchId = reader.u32();
  const count = reader.u32();
  const results: ReplicaFetchPartitionResult[] = [];
  for (let index = 0; index < count; index++) {
    results.push({
      topic: reader.string(),
      partition: reader.i32(),
      errorCode: reader.i16(),
      highWatermark: reader.f64(),
      logStartOffset: reader.f64(),
      divergingEpoch: reader.i32(),
      divergingEndOffset: reader.f64(),
      records: reader.bytesView(),
    });
  }
  return { fetchId, results };
}
