/**
 * The compaction swap of a partition log (Kafka's replaceSegments): checks that the cleaner's
 * output still fits the segments it was made from, then swaps it in with the crash-safe rename
 * protocol of cleaner/segment-swap.ts. Synchronous, so a reader on the log's thread sees either
 * the old segments or the new ones.
 */
import { commitCleanedSegments, installSwappedSegments, retireSegmentFiles, unlinkLater } from './cleaner/segment-swap.js';
import { LogSegment, type SegmentOptions } from './segment.js';

/** A closed segment as log compaction sees it; `identity` tells a swap it is still the same segment. */
export interface SegmentSnapshot {
  readonly baseOffset: number;
  readonly nextOffset: number;
  readonly sizeBytes: number;
  readonly identity: object;
}

/** An output segment of compaction: files `<baseOffset>.{log,index,timeindex}.cleaned` in the log directory. */
export interface CleanedSegmentFiles {
  readonly baseOffset: number;
  readonly nextOffset: number;
}

export function snapshotOf(segment: LogSegment): SegmentSnapshot {
  return { baseOffset: segment.baseOffset, nextOffset: segment.nextOffset, sizeBytes: segment.sizeBytes, identity: segment };
}

/** Position of `originals` in `segments` if they are all still there, unchanged and closed; else -1. */
export function indexOfUnchangedRun(segments: readonly LogSegment[], originals: readonly SegmentSnapshot[]): number {
  if (originals.length === 0) return -1;
  const first = segments.indexOf(originals[0]!.identity as LogSegment);
  if (first < 0 || first + originals.length >= segments.length) return -1;
  for (let index = 0; index < originals.length; index++) {
    const segment = segments[first + index]!;
    const original = originals[index]!;
    if (segment !== original.identity || segment.sizeBytes !== original.sizeBytes || segment.nextOffset !== original.nextOffset) return -1;
  }
  return first;
}

/** Output must cover the originals' offsets from their first base offset, in order. */
export function checkCleanedSegments(directory: string, cleaned: readonly CleanedSegmentFiles[], originals: readonly SegmentSnapshot[], followingBaseOffset: number): void {
  const bases = new Set(originals.map((original) => original.baseOffset));
  let previousNext = originals[0]!.baseOffset;
  for (const [index, segment] of cleaned.entries()) {
    const valid = bases.has(segment.baseOffset) && segment.baseOffset >= previousNext && segment.nextOffset > segment.baseOffset;
    if (!valid || (index === 0 && segment.baseOffset !== originals[0]!.baseOffset)) {
      throw new Error(`log ${directory}: cleaned segments ${JSON.stringify(cleaned)} do not fit the replaced segments`);
    }
    previousNext = segment.nextOffset;
  }
  if (cleaned.length === 0 || previousNext > followingBaseOffset) {
    throw new Error(`log ${directory}: cleaned segments end at ${previousNext}, past the next segment at ${followingBaseOffset}`);
  }
}

export interface SegmentSwap {
  readonly directory: string;
  /** The log's segments; the run [first, first + count) is replaced in place. */
  readonly segments: LogSegment[];
  readonly first: number;
  readonly count: number;
  readonly cleaned: readonly CleanedSegmentFiles[];
  readonly segmentOptions: SegmentOptions;
  readonly maxBatchSizeBytes: number;
  readonly log: (message: string) => void;
}

/**
 * Commits the swap on disk (after this, a restart completes it), then swaps in memory: a throw
 * from `swapInMemory` leaves disk ahead of memory, and the caller takes the log offline.
 */
export function commitSwap(swap: SegmentSwap): void {
  commitCleanedSegments(swap.directory, swap.cleaned.map((segment) => segment.baseOffset));
}

/** Closes and retires the replaced segments and opens the cleaned ones in their place. */
export function swapInMemory(swap: SegmentSwap): void {
  const baseOffsets = swap.cleaned.map((segment) => segment.baseOffset);
  const replaced = swap.segments.slice(swap.first, swap.first + swap.count);
  const retired: string[] = [];
  for (const segment of replaced) {
    segment.close();
    retired.push(...retireSegmentFiles([segment.logPath, segment.offsetIndex.path, segment.timeIndex.path]));
  }
  installSwappedSegments(swap.directory, baseOffsets);
  const swappedIn = swap.cleaned.map((segment) => openCleanedSegment(swap, segment));
  swap.segments.splice(swap.first, replaced.length, ...swappedIn);
  unlinkLater(retired, swap.log);
}

function openCleanedSegment(swap: SegmentSwap, cleaned: CleanedSegmentFiles): LogSegment {
  const segment = LogSegment.open(swap.directory, cleaned.baseOffset, swap.segmentOptions);
  segment.loadIndexes(swap.maxBatchSizeBytes);
  if (segment.nextOffset !== cleaned.nextOffset) {
    throw new Error(`log ${swap.directory}: swapped-in segment ${cleaned.baseOffset} ends at ${segment.nextOffset}, expected ${cleaned.nextOffset}`);
  }
  return segment;
}
