/**
 * Record batch v2: header access, in-place patching and validation of batches as byte ranges.
 * The broker never decodes records on the produce or fetch path; see `records.ts` for the
 * record codec used by tests, control records and compaction.
 */
import { InvariantError } from '../../runtime/assert.js';
import { crc32c } from './crc32c.js';
import { readInt64, writeInt64 } from './int64.js';
import { readVarint, VarintError, type Cursor } from './varint.js';
import { ErrorCode, KafkaError } from '../errors.js';
import {
  ATTRIBUTES_OFFSET,
  Attribute,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_OFFSET,
  Compression,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD_BYTES,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  MIN_BATCH_LENGTH,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
} from './layout.js';

/** Total size in bytes of the batch starting at `position` (from its batchLength field). */
export function batchSizeBytes(bytes: Buffer, position: number): number {
  return LOG_OVERHEAD_BYTES + bytes.readInt32BE(position + BATCH_LENGTH_OFFSET);
}

export function readBaseOffset(bytes: Buffer, position: number): number {
  return readInt64(bytes, position + BASE_OFFSET_OFFSET);
}

export function readLastOffsetDelta(bytes: Buffer, position: number): number {
  return bytes.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
}

export function readLastOffset(bytes: Buffer, position: number): number {
  return readBaseOffset(bytes, position) + readLastOffsetDelta(bytes, position);
}

export function readBaseTimestamp(bytes: Buffer, position: number): number {
  return readInt64(bytes, position + BASE_TIMESTAMP_OFFSET);
}

export function readMaxTimestamp(bytes: Buffer, position: number): number {
  return readInt64(bytes, position + MAX_TIMESTAMP_OFFSET);
}

export function readAttributes(bytes: Buffer, position: number): number {
  return bytes.readInt16BE(position + ATTRIBUTES_OFFSET);
}

export function readRecordsCount(bytes: Buffer, position: number): number {
  return bytes.readInt32BE(position + RECORDS_COUNT_OFFSET);
}

export function readProducerId(bytes: Buffer, position: number): number {
  return readInt64(bytes, position + PRODUCER_ID_OFFSET);
}

export function readProducerEpoch(bytes: Buffer, position: number): number {
  return bytes.readInt16BE(position + PRODUCER_EPOCH_OFFSET);
}

export function readBaseSequence(bytes: Buffer, position: number): number {
  return bytes.readInt32BE(position + BASE_SEQUENCE_OFFSET);
}

export function readPartitionLeaderEpoch(bytes: Buffer, position: number): number {
  return bytes.readInt32BE(position + PARTITION_LEADER_EPOCH_OFFSET);
}

export function isControlBatch(bytes: Buffer, position: number): boolean {
  return (readAttributes(bytes, position) & Attribute.CONTROL) !== 0;
}

export function isTransactionalBatch(bytes: Buffer, position: number): boolean {
  return (readAttributes(bytes, position) & Attribute.TRANSACTIONAL) !== 0;
}

/** Rewrites baseOffset in place; outside the CRC, so the CRC stays valid. */
export function setBaseOffset(bytes: Buffer, position: number, baseOffset: number): void {
  writeInt64(bytes, position + BASE_OFFSET_OFFSET, baseOffset);
}

/** Rewrites partitionLeaderEpoch in place; outside the CRC. */
export function setPartitionLeaderEpoch(bytes: Buffer, position: number, epoch: number): void {
  bytes.writeInt32BE(epoch, position + PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * Applies LogAppendTime: sets the timestamp-type bit and maxTimestamp. Both are inside the CRC,
 * so Kafka's layout forces a CRC recomputation here (as Kafka itself does).
 */
export function setLogAppendTime(bytes: Buffer, position: number, timestampMs: number): void {
  const attributes = readAttributes(bytes, position) | Attribute.TIMESTAMP_TYPE_LOG_APPEND;
  bytes.writeInt16BE(attributes, position + ATTRIBUTES_OFFSET);
  writeInt64(bytes, position + MAX_TIMESTAMP_OFFSET, timestampMs);
  writeBatchCrc(bytes, position);
}

/**
 * The CRC of a batch the broker built or already checked (checkBatchFrame). Its header's
 * batchLength must cover the header and end inside `bytes`: otherwise the CRC would be taken
 * over bytes that are not the batch (or past the buffer) and stamped in as if valid.
 */
export function computeBatchCrc(bytes: Buffer, position: number): number {
  const sizeBytes = batchSizeBytes(bytes, position);
  if (!(sizeBytes >= BATCH_HEADER_BYTES && position + sizeBytes <= bytes.length)) throw new InvariantError(`record batch at ${position}: header length ${sizeBytes} bytes does not fit the header (${BATCH_HEADER_BYTES}) and the ${bytes.length - position} bytes there`);
  return crc32c(bytes, position + ATTRIBUTES_OFFSET, position + sizeBytes);
}

export function writeBatchCrc(bytes: Buffer, position: number): void {
  bytes.writeUInt32BE(computeBatchCrc(bytes, position), position + CRC_OFFSET);
}

/** What validation learned about one batch, without decoding its records. */
export interface BatchInfo {
  position: number;
  sizeBytes: number;
  recordsCount: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
  attributes: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

export interface BatchValidationOptions {
  /** max.message.bytes of the topic: largest batch accepted. */
  maxBatchSizeBytes: number;
  /** Compacted topics need a key on every record. */
  requireKeys: boolean;
  /** Control batches are written by the broker, never accepted from clients. */
  allowControlBatches: boolean;
}

/**
 * Structural checks on the batch header that recovery and produce share. Returns the size of
 * the batch, or throws KafkaError(CORRUPT_MESSAGE | UNSUPPORTED_FOR_MESSAGE_FORMAT).
 */
export function checkBatchFrame(bytes: Buffer, position: number, end: number): number {
  const remaining = end - position;
  if (remaining < BATCH_HEADER_BYTES) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record batch truncated: ${remaining} bytes, header needs ${BATCH_HEADER_BYTES}`);
  }
  const magic = bytes.readInt8(position + MAGIC_OFFSET);
  if (magic < CURRENT_MAGIC) {
    throw new KafkaError(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, `message format v${magic} is not supported; only record batch v2`);
  }
  if (magic > CURRENT_MAGIC) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `unknown record batch magic ${magic}`);
  }
  const batchLength = bytes.readInt32BE(position + BATCH_LENGTH_OFFSET);
  if (batchLength < MIN_BATCH_LENGTH) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record batch length ${batchLength} is below the minimum ${MIN_BATCH_LENGTH}`);
  }
  const sizeBytes = LOG_OVERHEAD_BYTES + batchLength;
  if (sizeBytes > remaining) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record batch length ${batchLength} runs past the ${remaining} bytes available`);
  }
  const storedCrc = bytes.readUInt32BE(position + CRC_OFFSET);
  const actualCrc = crc32c(bytes, position + ATTRIBUTES_OFFSET, position + sizeBytes);
  if (storedCrc !== actualCrc) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record batch CRC mismatch: stored ${storedCrc}, computed ${actualCrc}`);
  }
  return sizeBytes;
}

/**
 * Validates one client-supplied batch at `position` for append. Uncompressed batches have their
 * record framing walked (lengths, offset deltas, keys) without allocating; compressed batches
 * stay opaque, as the broker stores them as sent.
 */
export function validateBatch(bytes: Buffer, position: number, end: number, options: BatchValidationOptions): BatchInfo {
  const sizeBytes = checkBatchFrame(bytes, position, end);
  if (sizeBytes > options.maxBatchSizeBytes) {
    throw new KafkaError(ErrorCode.MESSAGE_TOO_LARGE, `record batch of ${sizeBytes} bytes exceeds max.message.bytes ${options.maxBatchSizeBytes}`);
  }
  const attributes = readAttributes(bytes, position);
  const recordsCount = readRecordsCount(bytes, position);
  const lastOffsetDelta = readLastOffsetDelta(bytes, position);
  if (recordsCount <= 0) {
    throw new KafkaError(ErrorCode.INVALID_RECORD, `record batch declares ${recordsCount} records`);
  }
  if (lastOffsetDelta !== recordsCount - 1) {
    throw new KafkaError(ErrorCode.INVALID_RECORD, `lastOffsetDelta ${lastOffsetDelta} does not match ${recordsCount} records`);
  }
  if ((attributes & Attribute.CONTROL) !== 0 && !options.allowControlBatches) {
    throw new KafkaError(ErrorCode.INVALID_RECORD, 'clients may not write control batches');
  }
  const compression = attributes & Attribute.COMPRESSION_MASK;
  if (compression > Compression.ZSTD) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `unknown compression codec ${compression}`);
  }
  if (compression === Compression.NONE) {
    walkUncompressedRecords(bytes, position, position + sizeBytes, recordsCount, options.requireKeys);
  }
  return {
    position,
    sizeBytes,
    recordsCount,
    lastOffsetDelta,
    maxTimestamp: readMaxTimestamp(bytes, position),
    attributes,
    producerId: readProducerId(bytes, position),
    producerEpoch: readProducerEpoch(bytes, position),
    baseSequence: readBaseSequence(bytes, position),
  };
}

/** Position after the varint read by `varintAt`; module state keeps the per-record loop allocation-free. */
let varintEnd = 0;

/** Zigzag varint at `position`, with a fast path for the one-byte case most record fields take. */
function varintAt(bytes: Buffer, position: number, end: number): number {
  if (position < end) {
    const first = bytes[position]!;
    if (first < 0x80) {
      varintEnd = position + 1;
      return (first >>> 1) ^ -(first & 1);
    }
  }
  const cursor: Cursor = { position };
  const value = readVarint(bytes, cursor, end);
  varintEnd = cursor.position;
  return value;
}

/** Skips a varlong (timestampDelta): only its length matters here. */
function skipVarlong(bytes: Buffer, position: number, end: number): number {
  for (let index = position; index < end && index < position + 10; index++) {
    if (bytes[index]! < 0x80) return index + 1;
  }
  throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'record timestamp delta is not a valid varlong');
}

/** Checks record framing: each length fits, offset deltas are 0..n-1, the records fill the batch. */
function walkUncompressedRecords(bytes: Buffer, batchStart: number, batchEnd: number, recordsCount: number, requireKeys: boolean): void {
  let position = batchStart + RECORDS_OFFSET;
  try {
    for (let index = 0; index < recordsCount; index++) {
      const recordLength = varintAt(bytes, position, batchEnd);
      const recordEnd = varintEnd + recordLength;
      if (recordLength <= 0 || recordEnd > batchEnd) {
        throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record ${index} length ${recordLength} does not fit its batch`);
      }
      // attributes (1 byte, unused), then timestampDelta
      const offsetDelta = varintAt(bytes, skipVarlong(bytes, varintEnd + 1, recordEnd), recordEnd);
      if (offsetDelta !== index) {
        throw new KafkaError(ErrorCode.INVALID_RECORD, `record ${index} has offset delta ${offsetDelta}`);
      }
      if (requireKeys && varintAt(bytes, varintEnd, recordEnd) < 0) {
        throw new KafkaError(ErrorCode.INVALID_RECORD, 'compacted topics accept only records with a key');
      }
      position = recordEnd;
    }
  } catch (error) {
    if (error instanceof VarintError) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, error.message);
    throw error;
  }
  if (position !== batchEnd) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `records end at ${position - batchStart}, batch is ${batchEnd - batchStart} bytes`);
  }
}

