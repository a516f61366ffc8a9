/**
 * Operations on a partition log's ordered segment list (the last one active) that need nothing
 * else of the log: the segments' options, reading batches across segments, truncating the
 * list's tail. PartitionLog
 * keeps the offsets, durability and checkpoints around them.
 */
import type { StorageFileOps } from './file-ops.js';
import type { LogConfig } from './log-config.js';
import { LogSegment, type SegmentOptions } from './segment.js';

/** The index layout and write calls of a log's segments under `config`. */
export function segmentOptionsFor(config: LogConfig, files: StorageFileOps): SegmentOptions {
  return {
    indexIntervalBytes: config.indexIntervalBytes,
    maxIndexEntries: Math.max(1, Math.floor(config.segmentIndexBytes / 8)),
    preallocate: config.preallocate,
    files,
  };
}

/** Index of the last segment whose base offset is <= offset (0 if none). */
export function segmentIndexFor(segments: readonly LogSegment[], offset: number): number {
  let low = 0;
  let high = segments.length - 1;
  let found = 0;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (segments[middle]!.baseOffset <= offset) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/**
 * Whole batches from the one holding `fetchOffset` (or the first after it), up to `maxBytes` (at
 * least one batch when `minOneBatch`), none at or past `maxOffsetExclusive`; null when none.
 */
export function readSegments(segments: readonly LogSegment[], fetchOffset: number, maxBytes: number, maxOffsetExclusive: number, minOneBatch: boolean): Buffer | null {
  for (let index = segmentIndexFor(segments, fetchOffset); index < segments.length; index++) {
    const segment = segments[index]!;
    const bytes = segment.read(Math.max(fetchOffset, segment.baseOffset), maxBytes, maxOffsetExclusive, minOneBatch);
    if (bytes !== null && bytes.length > 0) return bytes;
  }
  return null;
}

export interface SegmentTruncation {
  readonly directory: string;
  /** The segments, changed in place; never left empty. */
  readonly segments: LogSegment[];
  readonly logStartOffset: number;
  readonly segmentOptions: SegmentOptions;
}

/**
 * Removes every batch whose last offset is >= `offset` (a batch that straddles it goes whole),
 * deleting the segments wholly at or above it. The caller checked `offset` < the log end.
 */
export function truncateSegments(log: SegmentTruncation, offset: number): void {
  const { segments } = log;
  while (segments.length > 1 && segments[segments.length - 1]!.baseOffset >= offset) {
    segments.pop()!.delete();
  }
  const active = segments[segments.length - 1]!;
  if (active.baseOffset >= offset) {
    segments.pop()!.delete();
    segments.push(LogSegment.create(log.directory, Math.max(offset, log.logStartOffset), log.segmentOptions));
  } else {
    const firstRemoved = active.locate(offset);
    active.truncateTo(offset);
    startSegmentAfterCompactedGap(log, firstRemoved === null ? offset : Math.min(offset, firstRemoved.baseOffset));
  }
}

/**
 * Compaction leaves offset gaps, so after a truncation the kept batches may end below
 * `offset` (the first offset removed, or the truncation offset if nothing was). An empty
 * segment at `offset` puts the log end offset there, as it would be without compaction,
 * and keeps it there across a restart.
 */
function startSegmentAfterCompactedGap(log: SegmentTruncation, offset: number): void {
  const { segments } = log;
  const active = segments[segments.length - 1]!;
  if (active.nextOffset >= offset) return;
  if (active.isEmpty) segments.pop()!.delete();
  segments.push(LogSegment.create(log.directory, Math.max(offset, log.logStartOffset), log.segmentOptions));
}
