/**
 * Builds an uncompressed record batch v2 in place, in one preallocated buffer that is reused
 * from batch to batch: each `append` writes its record (varints included) straight at the end
 * of the batch, with no per-record object; `seal` fills the header and computes the one CRC.
 *
 * For the same records, `seal` produces exactly the bytes `encodeRecordBatch` does, provided
 * timestamps do not decrease within the batch (the base timestamp is the first record's, as in
 * the Java producer; `encodeRecordBatch` takes the minimum). Records carry no headers.
 *
 * The sealed batch is a view of the builder's buffer: it stays valid until the next `reset`,
 * so a caller that sends it must not reset the builder before the bytes are written.
 */
import { writeBatchCrc } from './batch.js';
import { writeInt64 } from './int64.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  Compression,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD_BYTES,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
} from './layout.js';
import { varintSize, varlongSize, writeVarint, writeVarlong } from './varint.js';

/** Record attributes (unused in v2) and header count: one byte each for a header-less record. */
const RECORD_ATTRIBUTES_BYTES = 1;
const EMPTY_HEADER_COUNT_BYTES = 1;
const NULL_LENGTH = -1;

/** Bytes a header-less record takes in a batch, length prefix included. */
export function recordSizeBytes(timestampDeltaMs: number, offsetDelta: number, keyBytes: number, valueBytes: number): number {
  const bodyBytes = recordBodyBytes(timestampDeltaMs, offsetDelta, keyBytes, valueBytes);
  return varintSize(bodyBytes) + bodyBytes;
}

/** `keyBytes` / `valueBytes` of -1 mean a null key / value. */
function recordBodyBytes(timestampDeltaMs: number, offsetDelta: number, keyBytes: number, valueBytes: number): number {
  return (
    RECORD_ATTRIBUTES_BYTES +
    varlongSize(timestampDeltaMs) +
    varintSize(offsetDelta) +
    varintSize(keyBytes) +
    (keyBytes > 0 ? keyBytes : 0) +
    varintSize(valueBytes) +
    (valueBytes > 0 ? valueBytes : 0) +
    EMPTY_HEADER_COUNT_BYTES
  );
}

/** The largest size a record with this key and value can take (worst-case varints). */
export function maxRecordSizeBytes(keyBytes: number, valueBytes: number): number {
  const maxVarintBytes = 5;
  const maxVarlongBytes = 10;
  return (
    maxVarintBytes +
    RECORD_ATTRIBUTES_BYTES +
    maxVarlongBytes +
    maxVarintBytes +
    maxVarintBytes +
    Math.max(keyBytes, 0) +
    maxVarintBytes +
    Math.max(valueBytes, 0) +
    EMPTY_HEADER_COUNT_BYTES
  );
}

export class BatchBuilder {
  /** Header and records; the sealed batch is `buffer[0, sizeBytes)`. */
  readonly buffer: Buffer;
  readonly capacityBytes: number;
  private position = RECORDS_OFFSET;
  private count = 0;
  private baseTimestampMs = 0;
  private maxTimestampMs = 0;
  private sealed = false;

  constructor(capacityBytes: number) {
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < RECORDS_OFFSET + maxRecordSizeBytes(-1, -1)) {
      throw new RangeError(`batch capacity must hold a header and one empty record, got ${capacityBytes} bytes`);
    }
    this.capacityBytes = capacityBytes;
    this.buffer = Buffer.allocUnsafe(capacityBytes);
  }

  get recordCount(): number {
    return this.count;
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  get isSealed(): boolean {
    return this.sealed;
  }

  /** Bytes of the batch so far (header included). */
  get sizeBytes(): number {
    return this.position;
  }

  get firstTimestampMs(): number {
    return this.baseTimestampMs;
  }

  /** Starts a new, empty batch; the previous sealed view becomes invalid. */
  reset(): void {
    this.position = RECORDS_OFFSET;
    this.count = 0;
    this.baseTimestampMs = 0;
    this.maxTimestampMs = 0;
    this.sealed = false;
  }

  /**
   * Appends a record of `value[valueStart, valueEnd)` (null value: pass null) with an optional
   * key. Returns the index in `buffer` of the value's first byte (so a caller may patch the
   * value in place before `seal`), or -1 if the record does not fit in the remaining capacity.
   */
  append(
    timestampMs: number,
    key: Buffer | null,
    value: Buffer | null,
    valueStart = 0,
    valueEnd = value === null ? 0 : value.length,
  ): number {
    if (this.sealed) throw new Error('BatchBuilder: append after seal; call reset() first');
    const keyBytes = key === null ? NULL_LENGTH : key.length;
    const valueBytes = value === null ? NULL_LENGTH : valueEnd - valueStart;
    const baseTimestampMs = this.count === 0 ? timestampMs : this.baseTimestampMs;
    const timestampDeltaMs = timestampMs - baseTimestampMs;
    const bodyBytes = recordBodyBytes(timestampDeltaMs, this.count, keyBytes, valueBytes);
    if (this.position + varintSize(bodyBytes) + bodyBytes > this.capacityBytes) return -1;
    const buffer = this.buffer;
    let position = writeVarint(buffer, this.position, bodyBytes);
    buffer[position++] = 0;
    position = writeVarlong(buffer, position, timestampDeltaMs);
    position = writeVarint(buffer, position, this.count);
    position = writeVarint(buffer, position, keyBytes);
    if (key !== null) position += key.copy(buffer, position);
    position = writeVarint(buffer, position, valueBytes);
    const valueAt = position;
    if (value !== null) position += value.copy(buffer, position, valueStart, valueEnd);
    buffer[position++] = 0; // header count
    this.position = position;
    if (this.count === 0) this.baseTimestampMs = timestampMs;
    if (this.count === 0 || timestampMs > this.maxTimestampMs) this.maxTimestampMs = timestampMs;
    this.count++;
    return valueAt;
  }

  /** Writes the header and CRC; returns the batch as a view of `buffer`. */
  seal(): Buffer {
    if (this.count === 0) throw new Error('BatchBuilder: a record batch needs at least one record');
    if (this.sealed) return this.buffer.subarray(0, this.position);
    const buffer = this.buffer;
    writeInt64(buffer, 0, 0);
    buffer.writeInt32BE(this.position - LOG_OVERHEAD_BYTES, BATCH_LENGTH_OFFSET);
    buffer.writeInt32BE(NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
    buffer.writeInt8(CURRENT_MAGIC, MAGIC_OFFSET);
    buffer.writeUInt32BE(0, CRC_OFFSET);
    buffer.writeInt16BE(Compression.NONE, ATTRIBUTES_OFFSET);
    buffer.writeInt32BE(this.count - 1, LAST_OFFSET_DELTA_OFFSET);
    writeInt64(buffer, BASE_TIMESTAMP_OFFSET, this.baseTimestampMs);
    writeInt64(buffer, MAX_TIMESTAMP_OFFSET, this.maxTimestampMs);
    writeInt64(buffer, PRODUCER_ID_OFFSET, NO_PRODUCER_ID);
    buffer.writeInt16BE(NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
    buffer.writeInt32BE(NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
    buffer.writeInt32BE(this.count, RECORDS_COUNT_OFFSET);
    const batch = buffer.subarray(0, this.position);
    writeBatchCrc(batch, 0);
    this.sealed = true;
    return batch;
  }
}
