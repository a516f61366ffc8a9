/**
 * The producer header of a record batch v2: what idempotence and transactions need to know about
 * a batch, read straight from its header bytes (no record is decoded).
 *
 * Sequence numbers are int32 and wrap from 2^31-1 to 0, as Kafka's DefaultRecordBatch
 * incrementSequence / decrementSequence do: a batch of n records starting at 2^31-2 ends at n-3.
 */
import { assert } from '../runtime/assert.js';
import { readInt64 } from '../protocol/records/int64.js';
import {
  ATTRIBUTES_OFFSET,
  Attribute,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BATCH_HEADER_BYTES,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_SEQUENCE,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
} from '../protocol/records/layout.js';

/** Kafka's RecordBatch.hasProducerId: ids below 0 mean "no producer". */
export function hasProducerId(header: ProducerBatchHeader): boolean {
  return header.producerId >= 0;
}

/** The largest sequence number; the next one is 0. */
export const MAX_SEQUENCE = 0x7fff_ffff;

export interface ProducerBatchHeader {
  /** -1 (NO_PRODUCER_ID) for a batch from a non-idempotent producer; any negative id means none. */
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  /** baseSequence + lastOffsetDelta, wrapping at MAX_SEQUENCE; -1 when baseSequence is -1. */
  readonly lastSequence: number;
  /** Offsets as assigned by the leader (before assignment, whatever the producer wrote). */
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** After the leader's timestamp handling (LogAppendTime topics rewrite it before append). */
  readonly maxTimestampMs: number;
  readonly isTransactional: boolean;
  /** Transaction markers (COMMIT/ABORT) are control batches. */
  readonly isControl: boolean;
}

/** Kafka's DefaultRecordBatch.incrementSequence. */
export function incrementSequence(sequence: number, increment: number): number {
  assert(sequence >= 0 && sequence <= MAX_SEQUENCE, () => `sequence ${sequence} outside [0, 2^31-1]`);
  assert(increment >= 0 && increment <= MAX_SEQUENCE, () => `sequence increment ${increment} outside [0, 2^31-1]`);
  if (sequence > MAX_SEQUENCE - increment) return increment - (MAX_SEQUENCE - sequence) - 1;
  return sequence + increment;
}

/** Kafka's DefaultRecordBatch.decrementSequence. */
export function decrementSequence(sequence: number, decrement: number): number {
  assert(sequence >= 0 && sequence <= MAX_SEQUENCE, () => `sequence ${sequence} outside [0, 2^31-1]`);
  assert(decrement >= 0 && decrement <= MAX_SEQUENCE, () => `sequence decrement ${decrement} outside [0, 2^31-1]`);
  if (sequence < decrement) return MAX_SEQUENCE - (decrement - sequence) + 1;
  return sequence - decrement;
}

/**
 * The last sequence of a batch: Kafka's DefaultRecordBatch.lastSequence. A negative base sequence
 * other than -1 is refused at the leader (INVALID_RECORD, as Kafka's LogValidator does); here it
 * reads as "no sequence" so that reading a header never throws on client bytes.
 */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  if (baseSequence < 0) return NO_SEQUENCE;
  return incrementSequence(baseSequence, lastOffsetDelta);
}

/** True when `nextSequence` directly follows `lastSequence` (Kafka's ProducerAppendInfo.inSequence). */
export function inSequence(lastSequence: number, nextSequence: number): boolean {
  return nextSequence === lastSequence + 1 || (nextSequence === 0 && lastSequence === MAX_SEQUENCE);
}

/**
 * Reads the producer header of the v2 batch starting at `position` in `records`. The caller has
 * already checked the batch (magic, length, CRC, lastOffsetDelta); a producer id beyond 2^53 is never allocated
 * by this broker, so it is an invariant breach rather than a client error.
 */
export function readProducerHeader(records: Buffer, position: number): ProducerBatchHeader {
  assert(
    position >= 0 && position + BATCH_HEADER_BYTES <= records.length,
    () => `batch header at ${position} exceeds ${records.length} bytes`,
  );
  const producerId = readInt64(records, position + PRODUCER_ID_OFFSET);
  assert(Number.isSafeInteger(producerId), () => `producer id at ${position} is not a safe integer`);
  const baseOffset = readInt64(records, position + BASE_OFFSET_OFFSET);
  const lastOffsetDelta = records.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
  assert(lastOffsetDelta >= 0, () => `batch at ${position} has lastOffsetDelta ${lastOffsetDelta}`);
  const baseSequence = records.readInt32BE(position + BASE_SEQUENCE_OFFSET);
  const attributes = records.readInt16BE(position + ATTRIBUTES_OFFSET);
  return {
    producerId,
    producerEpoch: records.readInt16BE(position + PRODUCER_EPOCH_OFFSET),
    baseSequence,
    lastSequence: lastSequenceOf(baseSequence, lastOffsetDelta),
    baseOffset,
    lastOffset: baseOffset + lastOffsetDelta,
    maxTimestampMs: readInt64(records, position + MAX_TIMESTAMP_OFFSET),
    isTransactional: (attributes & Attribute.TRANSACTIONAL) !== 0,
    isControl: (attributes & Attribute.CONTROL) !== 0,
  };
}
