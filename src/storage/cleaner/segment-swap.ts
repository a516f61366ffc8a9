/**
 * Crash-safe replacement of segments by compaction output, Kafka's rename protocol:
 *
 *   written   the job writes `<base>.{index,timeindex,log}.cleaned` and fsyncs them.
 *   commit    each output segment, in offset order: `.cleaned` -> `.swap`, indexes first and
 *             the `.log` last; then fsync the directory. A `<base>.log.swap` is the commit
 *             record of its segment.
 *   replace   the replaced segments' files, then those of empty trailing inputs (see
 *             CleanedSegmentWriter), oldest first, are renamed `*.deleted` (unlinking a large
 *             file can take milliseconds; the node's thread only renames), unlinked later.
 *   install   each `.swap` -> its live name (indexes first, `.log` last); fsync the directory.
 *
 * Recovery on open (`completeInterruptedSwaps`, before the segment files are listed):
 *   - every `*.deleted` file is deleted (only ever a replaced segment of a committed swap);
 *   - every `*.cleaned` file is deleted, and every index `.swap` without its `.log.swap`: that
 *     output segment was never committed, so the log keeps its old segments (roll back);
 *   - every `<S>.log.swap` is rolled forward: the live segments whose base offset lies in
 *     [S, next offset of the swap file) are exactly the ones it replaces (see
 *     CleanedSegmentWriter), so they are deleted and the swap files take their live names.
 *
 * Output segments commit one by one in offset order, so a crash can leave a prefix of them
 * committed and the rest rolled back. That state is consistent: each committed segment holds
 * the cleaned form of exactly its inputs, a record is only ever dropped for a newer record of
 * the same key (which is in a later, committed or untouched, segment), and a tombstone only
 * once older values of its key are gone from earlier segments, which committed first.
 * Indexes are always rebuildable from the `.log`, so only `.log` renames carry meaning.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, renameSync, rm, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readInt64 } from '../../protocol/records/int64.js';
import { BASE_OFFSET_OFFSET, BATCH_LENGTH_OFFSET, LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD_BYTES, RECORDS_OFFSET } from '../../protocol/records/layout.js';
import { fsyncDirectory } from '../checkpoint-file.js';
import { FileWindow } from '../file-window.js';
import { INDEX_SUFFIX, LOG_SUFFIX, segmentFileName, TIME_INDEX_SUFFIX } from '../segment.js';
import { CLEANED_SUFFIX } from './cleaned-segment-writer.js';

export const SWAP_SUFFIX = '.swap';
/** A replaced segment's files wait under this suffix for their (asynchronous) deletion. */
export const DELETED_SUFFIX = '.deleted';
/** A segment's files in rename order: the `.log` last, since its name carries the meaning. */
const SEGMENT_SUFFIXES = [INDEX_SUFFIX, TIME_INDEX_SUFFIX, LOG_SUFFIX] as const;

function segmentPath(directory: string, baseOffset: number, suffix: string, extra = ''): string {
  return join(directory, segmentFileName(baseOffset, suffix) + extra);
}

/**
 * Commit: renames the `.cleaned` files of each output segment to `.swap`, then fsyncs the
 * directory. On failure, removes what this call renamed and written (the old segments are
 * untouched) and rethrows.
 */
export function commitCleanedSegments(directory: string, baseOffsets: readonly number[]): void {
  try {
    for (const baseOffset of baseOffsets) {
      for (const suffix of SEGMENT_SUFFIXES) {
        const cleaned = segmentPath(directory, baseOffset, suffix, CLEANED_SUFFIX);
        if (suffix === LOG_SUFFIX || existsSync(cleaned)) renameSync(cleaned, segmentPath(directory, baseOffset, suffix, SWAP_SUFFIX));
      }
    }
    fsyncDirectory(directory);
  } catch (error) {
    for (const baseOffset of baseOffsets) {
      for (const suffix of SEGMENT_SUFFIXES) {
        rmSync(segmentPath(directory, baseOffset, suffix, SWAP_SUFFIX), { force: true });
        rmSync(segmentPath(directory, baseOffset, suffix, CLEANED_SUFFIX), { force: true });
      }
    }
    throw error;
  }
}

/**
 * Replace: renames the files of a replaced (closed) segment to `*.deleted`, in the order given
 * (oldest segment first, see CleanedSegmentWriter); returns the new paths for `unlinkLater`.
 */
export function retireSegmentFiles(paths: readonly string[]): string[] {
  const retired: string[] = [];
  for (const path of paths) {
    if (!existsSync(path)) continue;
    renameSync(path, path + DELETED_SUFFIX);
    retired.push(path + DELETED_SUFFIX);
  }
  return retired;
}

/** Unlinks retired files off the calling thread; a failure only leaves a file recovery removes. */
export function unlinkLater(paths: readonly string[], logLine: (message: string) => void): void {
  for (const path of paths) {
    rm(path, { force: true }, (error) => {
      if (error !== null) logLine(`could not delete ${path}: ${error.message}`);
    });
  }
}

/** Install: gives each committed `.swap` its live name; the replaced segments must be gone. */
export function installSwappedSegments(directory: string, baseOffsets: readonly number[]): void {
  for (const baseOffset of baseOffsets) installOne(directory, baseOffset);
  fsyncDirectory(directory);
}

function installOne(directory: string, baseOffset: number): void {
  for (const suffix of SEGMENT_SUFFIXES) {
    const swap = segmentPath(directory, baseOffset, suffix, SWAP_SUFFIX);
    const live = segmentPath(directory, baseOffset, suffix);
    if (existsSync(swap)) renameSync(swap, live);
    else if (suffix === LOG_SUFFIX) throw new Error(`swap file ${swap} is missing`);
    else rmSync(live, { force: true }); // an index of a replaced segment: rebuilt from the log
  }
}

/**
 * Recovery: rolls back uncommitted output and rolls committed output forward. Returns the
 * number of segments swapped in. Idempotent: a crash while it runs is recovered the same way.
 */
export function completeInterruptedSwaps(directory: string, logLine: (message: string) => void = () => {}): number {
  const names = readdirSync(directory);
  const committed = new Set<number>();
  for (const name of names) {
    if (name.endsWith(LOG_SUFFIX + SWAP_SUFFIX)) committed.add(baseOffsetOf(name));
  }
  for (const name of names) {
    const uncommittedSwap = name.endsWith(SWAP_SUFFIX) && !committed.has(baseOffsetOf(name));
    if (name.endsWith(CLEANED_SUFFIX) || name.endsWith(DELETED_SUFFIX) || uncommittedSwap) rmSync(join(directory, name), { force: true });
  }
  if (committed.size === 0) return 0;
  const liveBaseOffsets = names.filter((name) => name.endsWith(LOG_SUFFIX)).map(baseOffsetOf);
  for (const baseOffset of [...committed].sort((a, b) => a - b)) {
    const nextOffset = nextOffsetOfLogFile(segmentPath(directory, baseOffset, LOG_SUFFIX, SWAP_SUFFIX), baseOffset);
    for (const live of liveBaseOffsets) {
      if (live < baseOffset || live >= nextOffset) continue;
      for (const suffix of SEGMENT_SUFFIXES) rmSync(segmentPath(directory, live, suffix), { force: true });
    }
    installOne(directory, baseOffset);
    logLine(`log ${directory}: completed an interrupted compaction swap of segment ${baseOffset} (offsets ${baseOffset}..${nextOffset - 1})`);
  }
  fsyncDirectory(directory);
  return committed.size;
}

/** `00000000000000000042.log.swap` -> 42. */
function baseOffsetOf(name: string): number {
  return Number(name.slice(0, name.indexOf('.')));
}

/** Last offset + 1 of the last whole batch of a segment file (headers only). */
export function nextOffsetOfLogFile(path: string, baseOffset: number): number {
  const fd = openSync(path, 'r');
  try {
    const fileSizeBytes = fstatSync(fd).size;
    const window = new FileWindow(fd);
    let nextOffset = baseOffset;
    let position = 0;
    while (position < fileSizeBytes) {
      const at = window.load(position, RECORDS_OFFSET, fileSizeBytes);
      if (at < 0) break;
      const sizeBytes = LOG_OVERHEAD_BYTES + window.bytes.readInt32BE(at + BATCH_LENGTH_OFFSET);
      if (sizeBytes < RECORDS_OFFSET || position + sizeBytes > fileSizeBytes) break;
      nextOffset = readInt64(window.bytes, at + BASE_OFFSET_OFFSET) + window.bytes.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) + 1;
      position += sizeBytes;
    }
    return nextOffset;
  } finally {
    closeSync(fd);
  }
}
