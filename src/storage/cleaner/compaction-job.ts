/**
 * The compaction job: a pure, stateless function of files, run in a piscina worker. It never
 * touches the live log's state; it reads closed segments and writes `.cleaned` segments beside
 * them, and the node swaps those in (PartitionLog.replaceSegments).
 *
 * 1. Offset map: key -> latest offset over the dirty range [firstDirtyOffset, end of the input
 *    segments), from decodable, non-transactional data batches. Transactional records stay out
 *    of the map: without the aborted-transaction index the job cannot tell an aborted record
 *    from a committed one, and an aborted record must never supersede a committed value.
 *    The map is bounded (entries, key bytes); when full it stops at a batch boundary and the
 *    job cleans only the segments that start before that offset, like Kafka.
 * 2. Rewrite: every input segment from the start of the log, batch by batch through
 *    BatchFilter (retention rules and the tombstone rule are documented there), into output
 *    segments grouped by CleanedSegmentWriter (at most segment.bytes each, except one input
 *    whose own output is larger), fsynced, with their indexes.
 *
 * CRCs are checked on every batch rewritten; corrupt data makes the job report `corruption` and
 * write nothing (the log stays as it was; the cleaner stops cleaning that log).
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaError } from '../../protocol/errors.js';
import { checkBatchFrame } from '../../protocol/records/batch.js';
import { canDecompress } from '../../protocol/records/compression.js';
import { Attribute, ATTRIBUTES_OFFSET, RECORDS_COUNT_OFFSET } from '../../protocol/records/layout.js';
import { VarintError } from '../../protocol/records/varint.js';
import { fsyncDirectory } from '../checkpoint-file.js';
import { LOG_SUFFIX, segmentFileName } from '../segment.js';
import { BatchFilter, BatchVerdict, type FilterContext, type FilterStats } from './batch-filter.js';
import { CLEANED_SUFFIX, CleanedSegmentWriter, type CleanedSegment, type InputSegment } from './cleaned-segment-writer.js';
import { OffsetMap } from './offset-map.js';
import { CorruptRecordError, RecordWalker } from './record-walker.js';
import { SegmentBatchReader, SegmentCorruptionError } from './segment-reader.js';

export type { CleanedSegment, InputSegment } from './cleaned-segment-writer.js';

export interface CompactionJobInput {
  /** The partition directory. */
  directory: string;
  /** Closed segments to clean, oldest first and contiguous, from the first segment of the log. */
  segments: InputSegment[];
  /** Offsets below this were cleaned before (the cleaner checkpoint). */
  firstDirtyOffset: number;
  nowMs: number;
  deleteRetentionMs: number;
  segmentBytes: number;
  indexIntervalBytes: number;
  maxIndexEntries: number;
  /** The largest batch recovery accepts for this log. */
  maxBatchSizeBytes: number;
  maxOffsetMapEntries: number;
  maxOffsetMapKeyBytes: number;
}

export interface CompactionStats extends FilterStats {
  bytesRead: number;
  bytesWritten: number;
  mapEntries: number;
}

export interface CompactionJobResult {
  /** New segments, `.cleaned` files in the directory; empty when nothing is to be replaced. */
  cleaned: CleanedSegment[];
  /**
   * Base offsets of the inputs after the last output segment that keep no record: the swap
   * deletes them too (see CleanedSegmentWriter). Only set when `cleaned` is not empty.
   */
  emptyTrailingBaseOffsets: number[];
  /** The checkpoint after a swap: offsets below it are clean. */
  nextDirtyOffset: number;
  /** Earliest delete horizon of a kept tombstone that a later pass may drop; null if none. */
  earliestDeleteHorizonMs: number | null;
  /** Set when the data is corrupt; nothing was written. */
  corruption: string | null;
  stats: CompactionStats;
}

/** Runs one compaction of `input.directory`. Throws on I/O errors (after removing its output). */
export function runCompactionJob(input: CompactionJobInput): CompactionJobResult {
  checkInput(input);
  removeCleanedFiles(input.directory);
  const stats: CompactionStats = {
    recordsRead: 0, recordsRetained: 0, tombstonesDropped: 0, batchesKeptOpaque: 0, batchesRebuilt: 0, batchesDropped: 0,
    bytesRead: 0, bytesWritten: 0, mapEntries: 0,
  };
  const map = new OffsetMap(input.maxOffsetMapEntries, input.maxOffsetMapKeyBytes);
  const writer = new CleanedSegmentWriter(
    input.directory,
    input.segmentBytes,
    { indexIntervalBytes: input.indexIntervalBytes, maxIndexEntries: input.maxIndexEntries },
    input.nowMs,
  );
  try {
    const mapEndOffset = buildOffsetMap(input, map, stats);
    stats.mapEntries = map.size;
    const context: FilterContext = {
      map,
      mapEndOffset,
      nowMs: input.nowMs,
      deleteRetentionMs: input.deleteRetentionMs,
      maxBatchSizeBytes: input.maxBatchSizeBytes,
      tombstonesMayGo: true,
      earliestDeleteHorizonMs: Number.POSITIVE_INFINITY,
    };
    const filter = new BatchFilter();
    for (const segment of input.segments) {
      if (segment.baseOffset >= mapEndOffset && mapEndOffset < endOfInputs(input)) break;
      rewriteSegment(input, segment, filter, context, writer, stats);
    }
    writer.finish();
    Object.assign(stats, filter.stats);
    for (const cleaned of writer.finished) stats.bytesWritten += cleaned.sizeBytes;
    if (writer.finished.length > 0) fsyncDirectory(input.directory);
    return {
      cleaned: writer.finished,
      emptyTrailingBaseOffsets: writer.finished.length === 0 ? [] : writer.emptyTrailingInputs.map((segment) => segment.baseOffset),
      nextDirtyOffset: Math.max(input.firstDirtyOffset, mapEndOffset),
      earliestDeleteHorizonMs: Number.isFinite(context.earliestDeleteHorizonMs) ? context.earliestDeleteHorizonMs : null,
      corruption: null,
      stats,
    };
  } catch (error) {
    writer.abandon();
    removeCleanedFiles(input.directory);
    if (isCorruption(error)) {
      return { cleaned: [], emptyTrailingBaseOffsets: [], nextDirtyOffset: input.firstDirtyOffset, earliestDeleteHorizonMs: null, corruption: (error as Error).message, stats };
    }
    throw error;
  }
}

function checkInput(input: CompactionJobInput): void {
  let expectedBase = input.segments[0]?.baseOffset ?? 0;
  for (const segment of input.segments) {
    if (segment.baseOffset < expectedBase || segment.nextOffset < segment.baseOffset || segment.sizeBytes < 0) {
      throw new Error(`compaction input segments are not ordered: ${JSON.stringify(input.segments)}`);
    }
    expectedBase = segment.nextOffset;
  }
  if (input.segmentBytes < 1 || input.maxBatchSizeBytes < 1) throw new Error('compaction needs positive size limits');
}

function endOfInputs(input: CompactionJobInput): number {
  return input.segments.length === 0 ? input.firstDirtyOffset : input.segments[input.segments.length - 1]!.nextOffset;
}

function segmentPath(directory: string, baseOffset: number): string {
  return join(directory, segmentFileName(baseOffset, LOG_SUFFIX));
}

/**
 * Fills the map from the dirty range; returns the offset up to which it is complete: the end
 * of the inputs, or the base offset of the first batch that did not fit.
 */
function buildOffsetMap(input: CompactionJobInput, map: OffsetMap, stats: CompactionStats): number {
  const walker = new RecordWalker();
  for (const segment of input.segments) {
    if (segment.nextOffset <= input.firstDirtyOffset) continue;
    const reader = new SegmentBatchReader(segmentPath(input.directory, segment.baseOffset), segment.sizeBytes);
    try {
      while (reader.next()) {
        if (reader.lastOffset < input.firstDirtyOffset) continue;
        stats.bytesRead += reader.sizeBytes;
        // No CRC check here: the rewrite checks every batch this map is used for, and a
        // corrupt one aborts the job before anything is swapped in.
        const attributes = reader.bytes.readInt16BE(reader.at + ATTRIBUTES_OFFSET);
        if ((attributes & (Attribute.CONTROL | Attribute.TRANSACTIONAL)) !== 0) continue;
        if (!canDecompress(attributes & Attribute.COMPRESSION_MASK)) continue;
        const recordCount = reader.bytes.readInt32BE(reader.at + RECORDS_COUNT_OFFSET);
        if (map.size > 0 && !map.hasRoomFor(recordCount)) return reader.baseOffset;
        addBatchKeys(walker, reader, input.firstDirtyOffset, map);
      }
    } finally {
      reader.close();
    }
  }
  return endOfInputs(input);
}

function addBatchKeys(walker: RecordWalker, reader: SegmentBatchReader, firstDirtyOffset: number, map: OffsetMap): void {
  walker.beginBatch(reader.bytes, reader.at, reader.sizeBytes);
  while (walker.next()) {
    const offset = reader.baseOffset + walker.offsetDelta;
    if (walker.keyLength >= 0 && offset >= firstDirtyOffset) map.put(walker.keyString(), offset);
  }
}

/** Filters one input segment into the writer; writes it again into a new group if it overflowed. */
function rewriteSegment(
  input: CompactionJobInput,
  segment: InputSegment,
  filter: BatchFilter,
  context: FilterContext,
  writer: CleanedSegmentWriter,
  stats: CompactionStats,
): void {
  const contextBefore = { tombstonesMayGo: context.tombstonesMayGo, earliestDeleteHorizonMs: context.earliestDeleteHorizonMs };
  const statsBefore = { ...filter.stats };
  writer.beginInput(segment);
  if (filterSegmentInto(input, segment, filter, context, writer, stats)) {
    writer.endInput();
    return;
  }
  writer.takeBackInput();
  Object.assign(context, contextBefore);
  Object.assign(filter.stats, statsBefore);
  writer.beginInput(segment, true);
  if (!filterSegmentInto(input, segment, filter, context, writer, stats)) throw new Error('an input overflowed a group of its own');
  writer.endInput();
}

/** Returns false if the writer refused a batch (the group is full). */
function filterSegmentInto(
  input: CompactionJobInput,
  segment: InputSegment,
  filter: BatchFilter,
  context: FilterContext,
  writer: CleanedSegmentWriter,
  stats: CompactionStats,
): boolean {
  const reader = new SegmentBatchReader(segmentPath(input.directory, segment.baseOffset), segment.sizeBytes);
  try {
    while (reader.next()) {
      stats.bytesRead += reader.sizeBytes;
      checkBatchFrame(reader.bytes, reader.at, reader.at + reader.sizeBytes);
      const verdict = filter.filter(reader.bytes, reader.at, reader.sizeBytes, context);
      if (verdict === BatchVerdict.DROP) continue;
      const written =
        verdict === BatchVerdict.KEEP
          ? writer.write(reader.bytes, reader.at, reader.sizeBytes, reader.lastOffset)
          : writer.write(filter.output, 0, filter.output.length, reader.lastOffset);
      if (!written) return false;
    }
    return true;
  } finally {
    reader.close();
  }
}

function isCorruption(error: unknown): boolean {
  return (
    error instanceof SegmentCorruptionError ||
    error instanceof CorruptRecordError ||
    error instanceof VarintError ||
    error instanceof KafkaError
  );
}

/** Removes every `*.cleaned` file: leftovers of a failed or abandoned job. */
export function removeCleanedFiles(directory: string): void {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.endsWith(CLEANED_SUFFIX)) rmSync(join(directory, name), { force: true });
  }
}
