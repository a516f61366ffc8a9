/**
 * Record-level codec for record batch v2. Used by tests, control records, our console tools
 * and compaction: never on the broker's produce or fetch path, which keeps batches as bytes.
 */
import { compress, decompress } from './compression.js';
import { writeBatchCrc } from './batch.js';
import { readInt64, writeInt64 } from './int64.js';
import {
  ATTRIBUTES_OFFSET,
  Attribute,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  Compression,
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
  type CompressionCode,
} from './layout.js';
import {
  readVarint,
  readVarlong,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
  type Cursor,
} from './varint.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: readonly RecordHeader[];
  /** Create time in ms; defaults to the batch's `timestampMs`. */
  timestampMs?: number;
  /** Offset delta within the batch; defaults to the record's index (compaction keeps gaps). */
  offsetDelta?: number;
}

export interface BatchInput {
  records: readonly RecordInput[];
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  compression?: CompressionCode;
  timestampMs?: number;
  logAppendTime?: boolean;
  transactional?: boolean;
  control?: boolean;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  /** Defaults to the largest offset delta of the records; compaction may keep a larger one. */
  lastOffsetDelta?: number;
}

export interface DecodedRecord {
  offset: number;
  timestampMs: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface DecodedBatch {
  baseOffset: number;
  sizeBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: number;
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  baseTimestampMs: number;
  maxTimestampMs: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  records: DecodedRecord[];
}

function toBytes(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value) : value;
}

interface PreparedRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly { key: Buffer; value: Buffer | null }[];
  timestampDelta: number;
  offsetDelta: number;
  bodySizeBytes: number;
}

function prepareRecord(record: RecordInput, index: number, baseTimestampMs: number): PreparedRecord {
  const key = toBytes(record.key);
  const value = toBytes(record.value);
  const headers = (record.headers ?? []).map((header) => ({ key: Buffer.from(header.key), value: header.value }));
  const timestampDelta = (record.timestampMs ?? baseTimestampMs) - baseTimestampMs;
  const offsetDelta = record.offsetDelta ?? index;
  let size = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta);
  size += varintSize(key ? key.length : -1) + (key ? key.length : 0);
  size += varintSize(value ? value.length : -1) + (value ? value.length : 0);
  size += varintSize(headers.length);
  for (const header of headers) {
    size += varintSize(header.key.length) + header.key.length;
    size += varintSize(header.value ? header.value.length : -1) + (header.value ? header.value.length : 0);
  }
  return { key, value, headers, timestampDelta, offsetDelta, bodySizeBytes: size };
}

function writeRecord(target: Buffer, start: number, record: PreparedRecord): number {
  let position = writeVarint(target, start, record.bodySizeBytes);
  target[position++] = 0; // record attributes: unused
  position = writeVarlong(target, position, record.timestampDelta);
  position = writeVarint(target, position, record.offsetDelta);
  position = writeNullableBytes(target, position, record.key);
  position = writeNullableBytes(target, position, record.value);
  position = writeVarint(target, position, record.headers.length);
  for (const header of record.headers) {
    position = writeNullableBytes(target, position, header.key);
    position = writeNullableBytes(target, position, header.value);
  }
  return position;
}

function writeNullableBytes(target: Buffer, position: number, bytes: Buffer | null): number {
  if (bytes === null) return writeVarint(target, position, -1);
  const next = writeVarint(target, position, bytes.length);
  bytes.copy(target, next);
  return next + bytes.length;
}

function encodeRecords(prepared: readonly PreparedRecord[]): Buffer {
  let total = 0;
  for (const record of prepared) total += varintSize(record.bodySizeBytes) + record.bodySizeBytes;
  const body = Buffer.allocUnsafe(total);
  let position = 0;
  for (const record of prepared) position = writeRecord(body, position, record);
  return body;
}

/** Builds a complete, CRC-stamped record batch v2. */
export function encodeRecordBatch(input: BatchInput): Buffer {
  const timestamps = input.records.map((record) => record.timestampMs ?? input.timestampMs ?? Date.now());
  const baseTimestampMs = timestamps.length > 0 ? Math.min(...timestamps) : (input.timestampMs ?? Date.now());
  const maxTimestampMs = timestamps.length > 0 ? Math.max(...timestamps) : baseTimestampMs;
  const prepared = input.records.map((record, index) =>
    prepareRecord({ ...record, timestampMs: timestamps[index]! }, index, baseTimestampMs),
  );
  const compression = input.compression ?? Compression.NONE;
  const records = compress(compression, encodeRecords(prepared));
  const batch = Buffer.alloc(RECORDS_OFFSET + records.length);
  let attributes = compression;
  if (input.logAppendTime) attributes |= Attribute.TIMESTAMP_TYPE_LOG_APPEND;
  if (input.transactional) attributes |= Attribute.TRANSACTIONAL;
  if (input.control) attributes |= Attribute.CONTROL;
  const lastOffsetDelta = input.lastOffsetDelta ?? prepared.reduce((max, record) => Math.max(max, record.offsetDelta), 0);
  writeInt64(batch, 0, input.baseOffset ?? 0);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD_BYTES, BATCH_LENGTH_OFFSET);
  batch.writeInt32BE(input.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
  batch.writeInt8(CURRENT_MAGIC, MAGIC_OFFSET);
  batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(batch, BASE_TIMESTAMP_OFFSET, baseTimestampMs);
  writeInt64(batch, MAX_TIMESTAMP_OFFSET, maxTimestampMs);
  writeInt64(batch, PRODUCER_ID_OFFSET, input.producerId ?? NO_PRODUCER_ID);
  batch.writeInt16BE(input.producerEpoch ?? NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
  batch.writeInt32BE(input.baseSequence ?? NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
  batch.writeInt32BE(prepared.length, RECORDS_COUNT_OFFSET);
  records.copy(batch, RECORDS_OFFSET);
  writeBatchCrc(batch, 0);
  return batch;
}

function readNullableBytes(bytes: Buffer, cursor: Cursor, end: number): Buffer | null {
  const length = readVarint(bytes, cursor, end);
  if (length < 0) return null;
  const start = cursor.position;
  if (start + length > end) throw new RangeError(`record field of ${length} bytes runs past its record`);
  cursor.position = start + length;
  return bytes.subarray(start, start + length);
}

function decodeRecord(bytes: Buffer, cursor: Cursor, baseOffset: number, baseTimestampMs: number, logAppendTimeMs: number | null): DecodedRecord {
  const length = readVarint(bytes, cursor, bytes.length);
  const end = cursor.position + length;
  if (length <= 0 || end > bytes.length) throw new RangeError(`record length ${length} does not fit`);
  cursor.position++; // attributes
  const timestampDelta = readVarlong(bytes, cursor, end);
  const offsetDelta = readVarint(bytes, cursor, end);
  const key = readNullableBytes(bytes, cursor, end);
  const value = readNullableBytes(bytes, cursor, end);
  const headerCount = readVarint(bytes, cursor, end);
  const headers: RecordHeader[] = [];
  for (let index = 0; index < headerCount; index++) {
    const headerKey = readNullableBytes(bytes, cursor, end);
    headers.push({ key: headerKey ? headerKey.toString() : '', value: readNullableBytes(bytes, cursor, end) });
  }
  if (cursor.position !== end) throw new RangeError('record body does not match its length');
  return {
    offset: baseOffset + offsetDelta,
    timestampMs: logAppendTimeMs ?? baseTimestampMs + timestampDelta,
    key,
    value,
    headers,
  };
}

/** Decodes the batch at `position`, records included (decompressing when needed). */
export function decodeRecordBatch(bytes: Buffer, position = 0): DecodedBatch {
  const sizeBytes = LOG_OVERHEAD_BYTES + bytes.readInt32BE(position + BATCH_LENGTH_OFFSET);
  const attributes = bytes.readInt16BE(position + ATTRIBUTES_OFFSET);
  const compression = attributes & Attribute.COMPRESSION_MASK;
  const baseOffset = readInt64(bytes, position);
  const baseTimestampMs = readInt64(bytes, position + BASE_TIMESTAMP_OFFSET);
  const maxTimestampMs = readInt64(bytes, position + MAX_TIMESTAMP_OFFSET);
  const logAppendTimeMs = (attributes & Attribute.TIMESTAMP_TYPE_LOG_APPEND) !== 0 ? maxTimestampMs : null;
  const recordsCount = bytes.readInt32BE(position + RECORDS_COUNT_OFFSET);
  const body = decompress(compression, bytes.subarray(position + RECORDS_OFFSET, position + sizeBytes));
  const cursor: Cursor = { position: 0 };
  const records: DecodedRecord[] = [];
  for (let index = 0; index < recordsCount; index++) {
    records.push(decodeRecord(body, cursor, baseOffset, baseTimestampMs, logAppendTimeMs));
  }
  return {
    baseOffset,
    sizeBytes,
    partitionLeaderEpoch: bytes.readInt32BE(position + PARTITION_LEADER_EPOCH_OFFSET),
    magic: bytes.readInt8(position + MAGIC_OFFSET),
    crc: bytes.readUInt32BE(position + 17),
    attributes,
    compression,
    isTransactional: (attributes & Attribute.TRANSACTIONAL) !== 0,
    isControl: (attributes & Attribute.CONTROL) !== 0,
    lastOffsetDelta: bytes.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET),
    baseTimestampMs,
    maxTimestampMs,
    producerId: readInt64(bytes, position + PRODUCER_ID_OFFSET),
    producerEpoch: bytes.readInt16BE(position + PRODUCER_EPOCH_OFFSET),
    baseSequence: bytes.readInt32BE(position + BASE_SEQUENCE_OFFSET),
    records,
  };
}

/** Decodes every whole batch in `bytes`; a trailing partial batch is ignored, as clients do. */
export function decodeRecordBatches(bytes: Buffer): DecodedBatch[] {
  const batches: DecodedBatch[] = [];
  let position = 0;
  while (position + LOG_OVERHEAD_BYTES <= bytes.length) {
    const sizeBytes = LOG_OVERHEAD_BYTES + bytes.readInt32BE(position + BATCH_LENGTH_OFFSET);
    if (position + sizeBytes > bytes.length) break;
    batches.push(decodeRecordBatch(bytes, position));
    position += sizeBytes;
  }
  return batches;
}

/** Control record key: int16 version 0, int16 type. librdkafka insists on exactly 4 bytes. */
export function encodeControlBatch(input: {
  type: number;
  coordinatorEpoch: number;
  producerId: number;
  producerEpoch: number;
  timestampMs: number;
  partitionLeaderEpoch?: number;
}): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(input.type, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(input.coordinatorEpoch, 2);
  return encodeRecordBatch({
    records: [{ key, value }],
    control: true,
    transactional: true,
    producerId: input.producerId,
    producerEpoch: input.producerEpoch,
    timestampMs: input.timestampMs,
    ...(input.partitionLeaderEpoch === undefined ? {} : { partitionLeaderEpoch: input.partitionLeaderEpoch }),
  });
}
