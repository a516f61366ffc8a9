/**
 * ListOffsets by time over a partition's segments (Kafka's fetchOffsetByTimestamp): the first
 * offset at or after a timestamp, found through each segment's time index, decoding only the one
 * batch that holds the answer; and the record with the largest timestamp (ListOffsets -3).
 */
import { readBaseTimestamp } from '../protocol/records/batch.js';
import { canDecompress } from '../protocol/records/compression.js';
import { Attribute } from '../protocol/records/layout.js';
import { decodeRecordBatch } from '../protocol/records/records.js';
import type { LogSegment } from './segment.js';

export interface TimestampLookup {
  offset: number;
  timestampMs: number;
}

/** The first offset (>= logStartOffset) whose record timestamp is >= `timestampMs`, or null if every record is older. */
export function offsetForTimestamp(segments: readonly LogSegment[], timestampMs: number, logStartOffset: number): TimestampLookup | null {
  for (const segment of segments) {
    if (segment.maxTimestampMs < timestampMs) continue;
    const location = segment.findByTimestamp(timestampMs);
    if (location === null) continue;
    const bytes = segment.readBytes(location.position, location.sizeBytes);
    return firstRecordAtOrAfter(bytes, timestampMs, location.baseOffset, location.maxTimestampMs, logStartOffset);
  }
  return null;
}

function firstRecordAtOrAfter(batch: Buffer, timestampMs: number, baseOffset: number, maxTimestampMs: number, logStartOffset: number): TimestampLookup {
  const attributes = batch.readInt16BE(21);
  const logAppendTime = (attributes & Attribute.TIMESTAMP_TYPE_LOG_APPEND) !== 0;
  if (logAppendTime || !canDecompress(attributes & Attribute.COMPRESSION_MASK)) {
    return { offset: Math.max(baseOffset, logStartOffset), timestampMs: logAppendTime ? maxTimestampMs : readBaseTimestamp(batch, 0) };
  }
  for (const record of decodeRecordBatch(batch).records) {
    if (record.timestampMs >= timestampMs && record.offset >= logStartOffset) return { offset: record.offset, timestampMs: record.timestampMs };
  }
  return { offset: baseOffset, timestampMs: maxTimestampMs };
}

/** The offset and timestamp of the record with the largest timestamp, or null for an empty log. */
export function maxTimestamp(segments: readonly LogSegment[]): TimestampLookup | null {
  let best: TimestampLookup | null = null;
  for (const segment of segments) {
    if (segment.maxTimestampMs >= 0 && (best === null || segment.maxTimestampMs > best.timestampMs)) {
      best = { offset: segment.offsetOfMaxTimestamp, timestampMs: segment.maxTimestampMs };
    }
  }
  return best;
}
