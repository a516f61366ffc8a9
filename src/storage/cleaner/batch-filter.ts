/**
 * The per-batch decision of log compaction, and the rebuild of a batch that lost records.
 *
 * A record is kept iff it is the latest for its key in the offset map (or its key is not in
 * the map, or it has no key), except an expired tombstone. The tombstone rule is Kafka's
 * KIP-534 rule:
 *
 *   - The first cleaning that keeps a tombstone stamps its batch with a delete horizon:
 *     attribute DELETE_HORIZON set and baseTimestamp = nowMs + delete.retention.ms (each
 *     record's timestamp delta is rewritten so record timestamps do not change).
 *   - A later cleaning drops a tombstone (null value, latest for its key) only if its batch
 *     carries a delete horizon, nowMs >= that horizon, and the tombstone lies below the end of
 *     this pass's offset map (so every older value of its key has met it in some map: values
 *     below the cleaner checkpoint were cleaned by a swapped-in pass whose map held it).
 *
 * So a tombstone survives at least delete.retention.ms after the cleaning that first saw it,
 * time enough for consumers of the clean section to see the delete. Exceptions, both about
 * values the cleaner cannot see: a batch it cannot look into (a codec we cannot inflate, or a
 * batch kept whole because its rebuild would be too large) may hold an older value of any key,
 * so no tombstone after such a batch is dropped in that pass; and tombstones in transactional
 * batches are never dropped, because transactional records never enter the offset map (an
 * aborted transaction must not supersede a committed value; see compaction-job.ts), so
 * dropping their tombstone could revive an older value.
 *
 * Control batches (transaction markers) and undecodable batches are kept byte for byte. A
 * rebuilt batch keeps baseOffset, lastOffsetDelta (it still covers its original offset range,
 * so reads by offset keep working), partitionLeaderEpoch, producer id/epoch, base sequence and
 * attributes; kept records are copied byte for byte (offset and timestamp deltas are relative
 * to the unchanged base offset and, unless a horizon is stamped, base timestamp); the CRC is
 * recomputed. A batch left with no record is dropped. (Kafka keeps an empty batch for the last
 * batch of an active producer, to keep its sequence state; this broker does not rebuild
 * producer state from the log yet, and empty batches trip some clients.)
 */
import { writeBatchCrc } from '../../protocol/records/batch.js';
import { canDecompress, compress } from '../../protocol/records/compression.js';
import { readInt64, writeInt64 } from '../../protocol/records/int64.js';
import {
  Attribute,
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  Compression,
  LOG_OVERHEAD_BYTES,
  MAX_TIMESTAMP_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  type CompressionCode,
} from '../../protocol/records/layout.js';
import { varintSize, varlongSize, writeVarint, writeVarlong } from '../../protocol/records/varint.js';
import type { OffsetMap } from './offset-map.js';
import { CorruptRecordError, RecordWalker } from './record-walker.js';

export const BatchVerdict = {
  /** Copy the batch unchanged. */
  KEEP: 0,
  /** Leave the batch out. */
  DROP: 1,
  /** Write `filter.output` instead. */
  REBUILT: 2,
} as const;
export type BatchVerdictCode = (typeof BatchVerdict)[keyof typeof BatchVerdict];

/** What the filter needs from the job, and what it tells the job back. */
export interface FilterContext {
  map: OffsetMap;
  /** Records at or past this offset are newer than anything in the map: never superseded. */
  mapEndOffset: number;
  nowMs: number;
  deleteRetentionMs: number;
  /** A rebuilt batch larger than this (what recovery accepts) is not written. */
  maxBatchSizeBytes: number;
  /** False once a batch the filter could not look into was kept: see the module comment. */
  tombstonesMayGo: boolean;
  /** Earliest delete horizon among kept tombstones that a later pass could drop; Infinity if none. */
  earliestDeleteHorizonMs: number;
}

export interface FilterStats {
  recordsRead: number;
  recordsRetained: number;
  tombstonesDropped: number;
  batchesKeptOpaque: number;
  batchesRebuilt: number;
  batchesDropped: number;
}

const INITIAL_RECORD_CAPACITY = 256;

export class BatchFilter {
  /** The rebuilt batch after a REBUILT verdict; valid until the next `filter` call. */
  output: Buffer = Buffer.alloc(0);
  readonly stats: FilterStats = { recordsRead: 0, recordsRetained: 0, tombstonesDropped: 0, batchesKeptOpaque: 0, batchesRebuilt: 0, batchesDropped: 0 };
  private readonly walker = new RecordWalker();
  // Per-record scratch of the current batch, reused across batches.
  private recordStarts = new Int32Array(INITIAL_RECORD_CAPACITY);
  private attributePositions = new Int32Array(INITIAL_RECORD_CAPACITY);
  private timestampEnds = new Int32Array(INITIAL_RECORD_CAPACITY);
  private recordEnds = new Int32Array(INITIAL_RECORD_CAPACITY);
  private timestampDeltas = new Float64Array(INITIAL_RECORD_CAPACITY);
  private retained = new Uint8Array(INITIAL_RECORD_CAPACITY);

  /** Decides the fate of the batch at `bytes[at, at + sizeBytes)` (CRC already checked). */
  filter(bytes: Buffer, at: number, sizeBytes: number, context: FilterContext): BatchVerdictCode {
    const attributes = bytes.readInt16BE(at + ATTRIBUTES_OFFSET);
    if ((attributes & Attribute.CONTROL) !== 0) return BatchVerdict.KEEP;
    if (!canDecompress(attributes & Attribute.COMPRESSION_MASK)) return this.keepOpaque(context);
    const transactional = (attributes & Attribute.TRANSACTIONAL) !== 0;
    const hasHorizon = (attributes & Attribute.DELETE_HORIZON) !== 0;
    const baseTimestampMs = readInt64(bytes, at + BASE_TIMESTAMP_OFFSET);
    const tombstonesExpired = hasHorizon && !transactional && context.tombstonesMayGo && context.nowMs >= baseTimestampMs;
    const recordCount = bytes.readInt32BE(at + RECORDS_COUNT_OFFSET);
    const { retainedCount, retainedTombstones } = this.markRetained(bytes, at, sizeBytes, recordCount, tombstonesExpired, context);
    this.stats.recordsRead += recordCount;
    this.stats.recordsRetained += retainedCount;
    if (retainedCount === 0) {
      this.stats.batchesDropped++;
      return BatchVerdict.DROP;
    }
    const stampHorizon = retainedTombstones > 0 && !hasHorizon && !transactional;
    if (retainedCount === recordCount && !stampHorizon) {
      if (retainedTombstones > 0 && hasHorizon && !transactional) this.noteHorizon(baseTimestampMs, context);
      return BatchVerdict.KEEP;
    }
    return this.rebuildWithinLimit(bytes, at, recordCount, retainedCount, stampHorizon, transactional, context);
  }

  private keepOpaque(context: FilterContext): BatchVerdictCode {
    context.tombstonesMayGo = false;
    this.stats.batchesKeptOpaque++;
    return BatchVerdict.KEEP;
  }

  private noteHorizon(horizonMs: number, context: FilterContext): void {
    if (context.tombstonesMayGo && horizonMs < context.earliestDeleteHorizonMs) context.earliestDeleteHorizonMs = horizonMs;
  }

  /** Walks the records, marking which stay; fills the per-record scratch arrays. */
  private markRetained(
    bytes: Buffer,
    at: number,
    sizeBytes: number,
    recordCount: number,
    tombstonesExpired: boolean,
    context: FilterContext,
  ): { retainedCount: number; retainedTombstones: number } {
    const walker = this.walker;
    const baseOffset = readInt64(bytes, at);
    walker.beginBatch(bytes, at, sizeBytes);
    // Every record takes at least one byte, so this bounds the scratch arrays by the body.
    if (recordCount > walker.bodyEnd - walker.bodyStart) throw new CorruptRecordError(`batch declares ${recordCount} records in ${walker.bodyEnd - walker.bodyStart} bytes`);
    this.ensureCapacity(recordCount);
    let index = 0;
    let retainedCount = 0;
    let retainedTombstones = 0;
    while (walker.next()) {
      let keep = true;
      if (walker.keyLength >= 0) {
        const offset = baseOffset + walker.offsetDelta;
        if (offset < context.mapEndOffset && offset < context.map.get(walker.keyString())) keep = false;
        if (keep && walker.valueLength < 0) {
          // Past the map's end a tombstone's older values may not have met it in any map yet.
          if (tombstonesExpired && offset < context.mapEndOffset) {
            keep = false;
            this.stats.tombstonesDropped++;
          } else {
            retainedTombstones++;
          }
        }
      }
      this.recordStarts[index] = walker.recordStart;
      this.attributePositions[index] = walker.attributesPosition;
      this.timestampEnds[index] = walker.timestampEnd;
      this.recordEnds[index] = walker.recordEnd;
      this.timestampDeltas[index] = walker.timestampDelta;
      this.retained[index] = keep ? 1 : 0;
      if (keep) retainedCount++;
      index++;
    }
    return { retainedCount, retainedTombstones };
  }

  /**
   * Rebuilds, falling back to no horizon and then to the original batch when the result would
   * exceed what recovery accepts (a stamped horizon can lengthen timestamp deltas).
   */
  private rebuildWithinLimit(
    bytes: Buffer,
    at: number,
    recordCount: number,
    retainedCount: number,
    stampHorizon: boolean,
    transactional: boolean,
    context: FilterContext,
  ): BatchVerdictCode {
    const horizonMs = context.nowMs + context.deleteRetentionMs;
    if (stampHorizon) {
      this.output = this.rebuild(bytes, at, recordCount, retainedCount, horizonMs);
      if (this.output.length <= context.maxBatchSizeBytes) {
        this.noteHorizon(horizonMs, context);
        this.stats.batchesRebuilt++;
        return BatchVerdict.REBUILT;
      }
      if (retainedCount === recordCount) return BatchVerdict.KEEP;
    }
    this.output = this.rebuild(bytes, at, recordCount, retainedCount, null);
    if (this.output.length <= context.maxBatchSizeBytes) {
      const attributes = bytes.readInt16BE(at + ATTRIBUTES_OFFSET);
      if (!transactional && (attributes & Attribute.DELETE_HORIZON) !== 0) this.noteHorizon(readInt64(bytes, at + BASE_TIMESTAMP_OFFSET), context);
      this.stats.batchesRebuilt++;
      return BatchVerdict.REBUILT;
    }
    // Kept whole, superseded records included: it now hides older values like an opaque batch.
    this.stats.recordsRetained += recordCount - retainedCount;
    return this.keepOpaque(context);
  }

  /** The batch with only the retained records; `horizonMs` non-null stamps a delete horizon. */
  private rebuild(bytes: Buffer, at: number, recordCount: number, retainedCount: number, horizonMs: number | null): Buffer {
    const attributes = bytes.readInt16BE(at + ATTRIBUTES_OFFSET);
    const codec = (attributes & Attribute.COMPRESSION_MASK) as CompressionCode;
    const baseTimestampMs = readInt64(bytes, at + BASE_TIMESTAMP_OFFSET);
    const recordsBytes = this.retainedRecordsSize(recordCount, baseTimestampMs, horizonMs);
    let batch: Buffer;
    if (codec === Compression.NONE) {
      batch = Buffer.allocUnsafe(RECORDS_OFFSET + recordsBytes);
      this.writeRetainedRecords(batch, RECORDS_OFFSET, recordCount, baseTimestampMs, horizonMs);
    } else {
      const body = Buffer.allocUnsafe(recordsBytes);
      this.writeRetainedRecords(body, 0, recordCount, baseTimestampMs, horizonMs);
      const compressed = compress(codec, body);
      batch = Buffer.allocUnsafe(RECORDS_OFFSET + compressed.length);
      compressed.copy(batch, RECORDS_OFFSET);
    }
    bytes.copy(batch, 0, at, at + RECORDS_OFFSET);
    batch.writeInt32BE(batch.length - LOG_OVERHEAD_BYTES, BATCH_LENGTH_OFFSET);
    batch.writeInt32BE(retainedCount, RECORDS_COUNT_OFFSET);
    if ((attributes & Attribute.TIMESTAMP_TYPE_LOG_APPEND) === 0) {
      writeInt64(batch, MAX_TIMESTAMP_OFFSET, this.retainedMaxTimestamp(recordCount, baseTimestampMs));
    }
    if (horizonMs !== null) {
      batch.writeInt16BE(attributes | Attribute.DELETE_HORIZON, ATTRIBUTES_OFFSET);
      writeInt64(batch, BASE_TIMESTAMP_OFFSET, horizonMs);
    }
    writeBatchCrc(batch, 0);
    return batch;
  }

  private retainedRecordsSize(recordCount: number, baseTimestampMs: number, horizonMs: number | null): number {
    let total = 0;
    for (let index = 0; index < recordCount; index++) {
      if (this.retained[index] === 0) continue;
      if (horizonMs === null) {
        total += this.recordEnds[index]! - this.recordStarts[index]!;
      } else {
        const length = this.restampedLength(index, baseTimestampMs, horizonMs);
        total += varintSize(length) + length;
      }
    }
    return total;
  }

  /** Body length of record `index` once its timestamp delta is relative to `horizonMs`. */
  private restampedLength(index: number, baseTimestampMs: number, horizonMs: number): number {
    const oldDeltaBytes = this.timestampEnds[index]! - (this.attributePositions[index]! + 1);
    const newDelta = baseTimestampMs + this.timestampDeltas[index]! - horizonMs;
    return this.recordEnds[index]! - this.attributePositions[index]! - oldDeltaBytes + varlongSize(newDelta);
  }

  private writeRetainedRecords(target: Buffer, start: number, recordCount: number, baseTimestampMs: number, horizonMs: number | null): void {
    const source = this.walker.body;
    let position = start;
    for (let index = 0; index < recordCount; index++) {
      if (this.retained[index] === 0) continue;
      if (horizonMs === null) {
        position += source.copy(target, position, this.recordStarts[index]!, this.recordEnds[index]!);
        continue;
      }
      position = writeVarint(target, position, this.restampedLength(index, baseTimestampMs, horizonMs));
      target[position++] = source[this.attributePositions[index]!]!;
      position = writeVarlong(target, position, baseTimestampMs + this.timestampDeltas[index]! - horizonMs);
      position += source.copy(target, position, this.timestampEnds[index]!, this.recordEnds[index]!);
    }
    if (position !== target.length) throw new Error(`rebuilt records fill ${position - start} bytes, expected ${target.length - start}`);
  }

  private retainedMaxTimestamp(recordCount: number, baseTimestampMs: number): number {
    let maxTimestampMs = Number.NEGATIVE_INFINITY;
    for (let index = 0; index < recordCount; index++) {
      if (this.retained[index] === 1) maxTimestampMs = Math.max(maxTimestampMs, baseTimestampMs + this.timestampDeltas[index]!);
    }
    return maxTimestampMs;
  }

  private ensureCapacity(recordCount: number): void {
    if (recordCount <= this.retained.length) return;
    const capacity = Math.max(recordCount, this.retained.length * 2);
    this.recordStarts = new Int32Array(capacity);
    this.attributePositions = new Int32Array(capacity);
    this.timestampEnds = new Int32Array(capacity);
    this.recordEnds = new Int32Array(capacity);
    this.timestampDeltas = new Float64Array(capacity);
    this.retained = new Uint8Array(capacity);
  }
}
