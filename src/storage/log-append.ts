/**
 * How record batches enter a partition log, before any byte is written (pure: no I/O):
 * - from a client, as leader: validated, then stamped in place with offsets, the leader epoch
 *   and LogAppendTime (`validateClientBatches`, `stampLeaderBatches`);
 * - from the leader, as follower (Kafka's appendAsFollower), and from the node journal after a
 *   crash: offsets and epochs kept, so the log checks instead of assigning
 *   (`checkFollowerBatches`, `journalBatchesToReplay`).
 *
 * A follower batch that does not fit is a KafkaError, not an assertion: the bytes come from
 * another node, and a fetch response may race with a truncation or a role change on this one.
 * Nothing is written, the log's own invariants still hold, and the fetcher recovers by dropping
 * the response and fetching again (its next fetch carries the log end offset and latest epoch,
 * which the leader checks for divergence).
 */
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import {
  batchSizeBytes,
  checkBatchFrame,
  readBaseOffset,
  readLastOffsetDelta,
  readPartitionLeaderEpoch,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  validateBatch,
} from '../protocol/records/batch.js';
import { LOG_OVERHEAD_BYTES } from '../protocol/records/layout.js';

/** Validates every client batch of a produce request (KafkaError on the first bad one). */
export function validateClientBatches(records: Buffer, maxBatchSizeBytes: number, requireKeys: boolean): void {
  const end = records.length;
  let position = 0;
  while (position < end) position += validateBatch(records, position, end, { maxBatchSizeBytes, requireKeys, allowControlBatches: false }).sizeBytes;
  if (end === 0) throw new KafkaError(ErrorCode.INVALID_RECORD, 'produce request holds no record batch');
}

/**
 * Stamps checked batches in place: offsets from `baseOffset` on, the leader epoch, and the
 * LogAppendTime when `logAppendTimeMs` >= 0. Returns the offset after the last batch.
 */
export function stampLeaderBatches(records: Buffer, baseOffset: number, leaderEpoch: number, logAppendTimeMs: number): number {
  let nextOffset = baseOffset;
  for (let position = 0; position < records.length; position += batchSizeBytes(records, position)) {
    setBaseOffset(records, position, nextOffset);
    setPartitionLeaderEpoch(records, position, leaderEpoch);
    if (logAppendTimeMs >= 0) setLogAppendTime(records, position, logAppendTimeMs);
    nextOffset += readLastOffsetDelta(records, position) + 1;
  }
  return nextOffset;
}

export interface FollowerBatches {
  /** Base offset of the first batch (the log end offset unless compaction left a gap). */
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly sizeBytes: number;
}

/**
 * Validates fetched `records` against a log ending at `logEndOffset` whose latest epoch is
 * `latestEpoch`: each batch whole with a valid CRC (CORRUPT_MESSAGE), the first starting at or
 * after the log end and each after the previous (OFFSET_OUT_OF_RANGE, CORRUPT_MESSAGE), and no
 * epoch older than the one before it (UNKNOWN_LEADER_EPOCH: the follower must truncate first).
 *
 * Offsets may jump forward between batches and at the first one, as in Kafka: log compaction
 * removes whole batches from the leader's log, and a follower fetching in such a gap receives
 * the next batch kept.
 */
export function checkFollowerBatches(records: Buffer, logEndOffset: number, latestEpoch: number): FollowerBatches {
  let nextOffset = logEndOffset;
  let epoch = latestEpoch;
  let position = 0;
  while (position < records.length) {
    const sizeBytes = checkBatchFrame(records, position, records.length);
    const baseOffset = readBaseOffset(records, position);
    if (baseOffset < nextOffset) {
      const problem = position === 0 ? `does not follow the log end offset ${logEndOffset}` : `overlaps the batch before it (next offset ${nextOffset})`;
      throw new KafkaError(position === 0 ? ErrorCode.OFFSET_OUT_OF_RANGE : ErrorCode.CORRUPT_MESSAGE, `fetched batch at offset ${baseOffset} ${problem}`);
    }
    const batchEpoch = readPartitionLeaderEpoch(records, position);
    if (batchEpoch >= 0) {
      if (batchEpoch < epoch) {
        throw new KafkaError(ErrorCode.UNKNOWN_LEADER_EPOCH, `fetched batch at offset ${baseOffset} has leader epoch ${batchEpoch}, older than ${epoch} before it: truncate before appending`);
      }
      epoch = batchEpoch;
    }
    nextOffset = baseOffset + readLastOffsetDelta(records, position) + 1;
    position += sizeBytes;
  }
  const baseOffset = records.length === 0 ? logEndOffset : readBaseOffset(records, 0);
  return { baseOffset, lastOffset: nextOffset - 1, sizeBytes: records.length };
}

/** The run of journal batches a log takes back after a crash: `records[start, end)`. */
export interface JournalReplay {
  readonly start: number;
  readonly end: number;
  readonly lastOffset: number;
  readonly batches: number;
  /** Why the replay stops before the end of `records`, or null. */
  readonly stopReason: string | null;
}

/**
 * Which batches replayed from the node journal a log ending at `logEndOffset` appends, offsets
 * as they are: batches the log already has are skipped; the rest must continue the log
 * without a gap and have no epoch older than the log's: the first that does not ends the replay
 * (a trailing partial batch too, silently: a torn journal write). A bad frame or CRC throws
 * CORRUPT_MESSAGE, as the journal checked its own CRC before.
 */
export function journalBatchesToReplay(records: Buffer, logEndOffset: number, latestEpoch: number): JournalReplay {
  let start = -1;
  let position = 0;
  let nextOffset = logEndOffset;
  let epoch = latestEpoch;
  let batches = 0;
  let stopReason: string | null = null;
  while (position + LOG_OVERHEAD_BYTES <= records.length) {
    const sizeBytes = batchSizeBytes(records, position);
    if (position + sizeBytes > records.length) break;
    const baseOffset = readBaseOffset(records, position);
    const lastOffset = baseOffset + readLastOffsetDelta(records, position);
    if (lastOffset >= nextOffset) {
      stopReason = replayProblem(records, position, baseOffset, nextOffset, epoch);
      if (stopReason !== null) break;
      if (start < 0) start = position;
      const batchEpoch = readPartitionLeaderEpoch(records, position);
      if (batchEpoch >= 0) epoch = batchEpoch;
      nextOffset = lastOffset + 1;
      batches++;
    } else if (start >= 0) {
      stopReason = `journal batch at ${baseOffset} does not follow the log end ${nextOffset}`;
      break;
    }
    position += sizeBytes;
  }
  return { start: Math.max(start, 0), end: start < 0 ? 0 : position, lastOffset: nextOffset - 1, batches, stopReason };
}

function replayProblem(records: Buffer, position: number, baseOffset: number, nextOffset: number, epoch: number): string | null {
  if (baseOffset !== nextOffset) return `journal batch at ${baseOffset} does not follow the log end ${nextOffset}`;
  const batchEpoch = readPartitionLeaderEpoch(records, position);
  if (batchEpoch >= 0 && batchEpoch < epoch) return `journal batch at ${baseOffset} has leader epoch ${batchEpoch}, older than the log's ${epoch}`;
  checkBatchFrame(records, position, records.length);
  return null;
}
