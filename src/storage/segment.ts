/**
 * One log segment: `<baseOffset>.log` holding record batches exactly as on the wire, with its
 * sparse `.index` (relative offset -> position) and `.timeindex` (timestamp -> relative offset).
 * The segment knows positions and offsets; policy (when to roll, retention) lives in the log.
 */
import { existsSync, fstatSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaError } from '../protocol/errors.js';
import {
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD_BYTES,
  MAX_TIMESTAMP_OFFSET,
  RECORDS_OFFSET,
} from '../protocol/records/layout.js';
import { checkBatchFrame } from '../protocol/records/batch.js';
import { readInt64 } from '../protocol/records/int64.js';
import { FileWindow, readFully } from './file-window.js';
import { nodeFileOps, writeFully, type StorageFileOps } from './file-ops.js';
import { isStorageIoError } from './log-dir-failure.js';
import { offsetIndexCodec, SparseIndex, timeIndexCodec } from './sparse-index.js';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';

/** Relative offsets and positions are u32 in the index files. */
export const MAX_RELATIVE_OFFSET = 0xffff_ffff;
export const MAX_SEGMENT_POSITION = 0x7fff_ffff;

export function segmentFileName(baseOffset: number, suffix: string): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

export interface SegmentOptions {
  indexIntervalBytes: number;
  maxIndexEntries: number;
  /** Zero-fill the file ahead of appends (log.preallocate); see `preallocateAhead`. */
  preallocate?: boolean;
  /** The file system calls that write (default node:fs); tests inject faults here. */
  files?: StorageFileOps;
}

/**
 * Preallocation grows with the segment: a quarter of its data, within these bounds (the fsync
 * that writes out a chunk of zeros takes longer by about its size over the disk's bandwidth).
 */
const PREALLOCATE_MIN_CHUNK_BYTES = 64 * 1024;
const PREALLOCATE_MAX_CHUNK_BYTES = 1024 * 1024;
/**
 * Segments start preallocating once they hold this much: a busy log gets there in moments,
 * while thousands of slow logs (whose appends mostly ride the node journal anyway) would
 * otherwise each zero-fill a chunk at their first append (10,000 partitions: 320 MB of zeros,
 * and produce p99 doubled).
 */
const PREALLOCATE_AFTER_BYTES = 256 * 1024;
const ZEROS = Buffer.alloc(PREALLOCATE_MAX_CHUNK_BYTES);

/** Where a batch sits: its file position, size and offsets. */
export interface BatchLocation {
  position: number;
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestampMs: number;
}

export interface RecoveryResult {
  truncatedBytes: number;
  reason: string | null;
}

export class LogSegment {
  readonly logPath: string;
  readonly offsetIndex: SparseIndex;
  readonly timeIndex: SparseIndex;
  /** Bytes of valid batches in the `.log` file. */
  sizeBytes = 0;
  /** Last offset + 1, or the base offset while empty. */
  nextOffset: number;
  maxTimestampMs = -1;
  offsetOfMaxTimestamp = -1;
  /** Wall time of the first append (segment.ms rolls from it); null while empty. */
  firstAppendMs: number | null = null;
  /** Appends since the last fdatasync of this segment. */
  hasUnflushedBytes = false;
  /** Length of the file: past `sizeBytes` when zero-filled ahead (preallocation). */
  private fileBytes = 0;
  private bytesSinceLastIndexEntry = 0;
  private readonly window: FileWindow;
  private readonly fd: number;
  private readonly files: StorageFileOps;
  /** Off once zero-filling hit a full disk: preallocation is an optimisation, not a need. */
  private preallocating: boolean;

  private constructor(
    readonly directory: string,
    readonly baseOffset: number,
    private readonly options: SegmentOptions,
    truncateFiles: boolean,
    fileSuffix = '',
  ) {
    this.logPath = join(directory, segmentFileName(baseOffset, LOG_SUFFIX) + fileSuffix);
    this.files = options.files ?? nodeFileOps;
    this.preallocating = options.preallocate === true;
    this.fd = this.files.openSync(this.logPath, truncateFiles || !existsSync(this.logPath) ? 'w+' : 'r+');
    this.window = new FileWindow(this.fd);
    this.nextOffset = baseOffset;
    const indexPath = join(directory, segmentFileName(baseOffset, INDEX_SUFFIX) + fileSuffix);
    const timeIndexPath = join(directory, segmentFileName(baseOffset, TIME_INDEX_SUFFIX) + fileSuffix);
    this.offsetIndex = new SparseIndex(indexPath, offsetIndexCodec, options.maxIndexEntries, this.files);
    this.timeIndex = new SparseIndex(timeIndexPath, timeIndexCodec, options.maxIndexEntries, this.files);
    if (truncateFiles) {
      this.offsetIndex.resetFile();
      this.timeIndex.resetFile();
    }
  }

  /** A new, empty segment (any files left at that name are emptied). */
  static create(directory: string, baseOffset: number, options: SegmentOptions): LogSegment {
    return new LogSegment(directory, baseOffset, options, true);
  }

  /**
   * A new, empty segment whose three files carry `fileSuffix` after their usual names
   * (`<base>.log.cleaned`): log compaction writes its output beside the live segments.
   */
  static createWithSuffix(directory: string, baseOffset: number, options: SegmentOptions, fileSuffix: string): LogSegment {
    if (fileSuffix.length === 0) throw new Error('createWithSuffix needs a non-empty suffix');
    return new LogSegment(directory, baseOffset, options, true, fileSuffix);
  }

  /** Opens existing files; call `recover()` or `loadIndexes()` before use. */
  static open(directory: string, baseOffset: number, options: SegmentOptions): LogSegment {
    const segment = new LogSegment(directory, baseOffset, options, false);
    segment.sizeBytes = fstatSync(segment.fd).size;
    segment.fileBytes = segment.sizeBytes;
    return segment;
  }

  get isEmpty(): boolean {
    return this.sizeBytes === 0;
  }

  get isIndexFull(): boolean {
    return this.offsetIndex.isFull || this.timeIndex.isFull;
  }

  /** Whether a batch ending at `lastOffset` and `sizeBytes` long still fits this segment's index formats. */
  canHold(lastOffset: number, sizeBytes: number): boolean {
    return lastOffset - this.baseOffset <= MAX_RELATIVE_OFFSET && this.sizeBytes + sizeBytes <= MAX_SEGMENT_POSITION;
  }

  /**
   * Appends whole batches `bytes[start, end)` whose offsets are already assigned and checked.
   * One write for the whole range; index entries per `index.interval.bytes`.
   */
  append(bytes: Buffer, start: number, end: number, nowMs: number): void {
    // Written before it is indexed: a write that fails (a full disk) leaves the segment as it was.
    const filePosition = this.sizeBytes;
    writeFully(this.files, this.fd, bytes, start, end - start, filePosition);
    let position = start;
    while (position < end) {
      const sizeBytes = LOG_OVERHEAD_BYTES + bytes.readInt32BE(position + BATCH_LENGTH_OFFSET);
      const baseOffset = readInt64(bytes, position + BASE_OFFSET_OFFSET);
      const lastOffset = baseOffset + bytes.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
      const maxTimestampMs = readInt64(bytes, position + MAX_TIMESTAMP_OFFSET);
      this.indexBatch(filePosition + (position - start), sizeBytes, baseOffset, lastOffset, maxTimestampMs);
      position += sizeBytes;
    }
    this.sizeBytes += end - start;
    if (this.sizeBytes > this.fileBytes) this.fileBytes = this.sizeBytes;
    if (this.preallocating) this.preallocateAhead();
    this.hasUnflushedBytes = true;
    if (this.firstAppendMs === null) this.firstAppendMs = nowMs;
  }

  /**
   * Zero-fills the file past the data. fdatasync after appending into blocks that already exist
   * and a file whose size does not change skips the block allocation and the size update in the
   * filesystem journal: on the dev box small write+fdatasync went from about 190 to 120 us at
   * the median and from 350-490 to 230 us at p99. Recovery stops at the zeros (a batch length of
   * 0 is not a batch) and cuts them off; close and roll trim them. A full disk stops it for
   * this segment: the zeros that made it are kept, the data needs none of them.
   */
  private preallocateAhead(): void {
    // Refill while at least half a chunk of zeros is still ahead: appends then always land in
    // blocks written before (the fsync that carries a chunk of zeros pays for the next ones).
    if (this.sizeBytes < PREALLOCATE_AFTER_BYTES) return;
    const chunk = Math.min(PREALLOCATE_MAX_CHUNK_BYTES, Math.max(PREALLOCATE_MIN_CHUNK_BYTES, this.sizeBytes >>> 2));
    if (this.fileBytes - this.sizeBytes >= chunk >>> 1) return;
    const room = MAX_SEGMENT_POSITION - this.fileBytes;
    const length = Math.min(chunk, room);
    if (length <= 0) return;
    let written = 0;
    try {
      while (written < length) written += this.files.writeSync(this.fd, ZEROS, 0, length - written, this.fileBytes + written);
    } catch (error) {
      if (!isStorageIoError(error)) throw error;
      this.preallocating = false;
    }
    this.fileBytes += written;
  }

  /** Cuts preallocated zeros off the end of the file (roll and close). */
  trimPreallocation(): void {
    if (this.fileBytes <= this.sizeBytes) return;
    this.files.ftruncateSync(this.fd, this.sizeBytes);
    this.fileBytes = this.sizeBytes;
  }

  private indexBatch(position: number, sizeBytes: number, baseOffset: number, lastOffset: number, maxTimestampMs: number): void {
    if (baseOffset < this.nextOffset) {
      throw new Error(`segment ${this.logPath}: batch base offset ${baseOffset} is below next offset ${this.nextOffset}`);
    }
    if (maxTimestampMs > this.maxTimestampMs) {
      this.maxTimestampMs = maxTimestampMs;
      this.offsetOfMaxTimestamp = lastOffset;
    }
    // As Kafka: an entry once `index.interval.bytes` of batches passed since the last one. The
    // first batch of a segment needs none: a lookup that finds no entry starts at position 0.
    if (this.bytesSinceLastIndexEntry >= this.options.indexIntervalBytes) {
      this.offsetIndex.append(baseOffset - this.baseOffset, position);
      if (this.maxTimestampMs > this.timeIndex.lastKey()) {
        this.timeIndex.append(this.maxTimestampMs, this.offsetOfMaxTimestamp - this.baseOffset);
      }
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += sizeBytes;
    this.nextOffset = lastOffset + 1;
  }

  /**
   * Finds the first batch whose last offset is >= `offset`, starting from the offset index's
   * floor entry, scanning headers only. Returns null if no batch qualifies.
   */
  locate(offset: number, fromPosition = 0): BatchLocation | null {
    const entry = this.offsetIndex.floorIndex(offset - this.baseOffset);
    let position = Math.max(fromPosition, entry < 0 ? 0 : this.offsetIndex.valueAt(entry));
    while (position < this.sizeBytes) {
      const location = this.readLocation(position);
      if (location.lastOffset >= offset) return location;
      position += location.sizeBytes;
    }
    return null;
  }

  /** Header fields of the batch at `position` (which must start a batch). */
  readLocation(position: number): BatchLocation {
    const at = this.window.load(position, RECORDS_OFFSET, this.sizeBytes);
    if (at < 0) throw new Error(`segment ${this.logPath}: no batch header at position ${position}`);
    const bytes = this.window.bytes;
    const baseOffset = readInt64(bytes, at + BASE_OFFSET_OFFSET);
    return {
      position,
      sizeBytes: LOG_OVERHEAD_BYTES + bytes.readInt32BE(at + BATCH_LENGTH_OFFSET),
      baseOffset,
      lastOffset: baseOffset + bytes.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET),
      maxTimestampMs: readInt64(bytes, at + MAX_TIMESTAMP_OFFSET),
    };
  }

  /**
   * Reads whole batches starting with the one holding `offset`: up to `maxBytes`, but at least
   * one batch when `minOneBatch`, and none whose base offset is >= `maxOffsetExclusive`.
   */
  read(offset: number, maxBytes: number, maxOffsetExclusive: number, minOneBatch: boolean): Buffer | null {
    const first = this.locate(offset);
    if (first === null || first.baseOffset >= maxOffsetExclusive) return null;
    if (first.sizeBytes > maxBytes && !minOneBatch) return null;
    const wanted = Math.min(Math.max(maxBytes, first.sizeBytes), this.sizeBytes - first.position);
    const bytes = Buffer.allocUnsafe(wanted);
    const read = readFully(this.fd, bytes, wanted, first.position);
    return bytes.subarray(0, wholeBatchesLength(bytes, read, maxOffsetExclusive));
  }

  /** Reads raw bytes (used by compaction and tests). */
  readBytes(position: number, length: number): Buffer {
    const bytes = Buffer.allocUnsafe(length);
    const read = readFully(this.fd, bytes, length, position);
    return bytes.subarray(0, read);
  }

  /** The first batch whose max timestamp is >= `timestampMs`, or null. */
  findByTimestamp(timestampMs: number): BatchLocation | null {
    const entry = this.timeIndex.floorIndex(timestampMs);
    const startOffset = entry < 0 ? this.baseOffset : this.baseOffset + this.timeIndex.valueAt(entry);
    let location = this.locate(startOffset);
    while (location !== null) {
      if (location.maxTimestampMs >= timestampMs) return location;
      const next = location.position + location.sizeBytes;
      location = next < this.sizeBytes ? this.readLocation(next) : null;
    }
    return null;
  }

  /**
   * Removes every batch whose last offset is >= `offset` (a batch holding `offset` goes whole).
   * Returns the bytes removed.
   */
  truncateTo(offset: number): number {
    const first = this.locate(offset);
    if (first === null) return 0;
    return this.truncateToPosition(first.position, first.baseOffset);
  }

  /**
   * Cuts the file at `position`, which must start a batch; `nextOffset` is the last offset + 1
   * of the batches kept (checked). Compaction uses it to take back a partly written input.
   */
  truncateToBatchBoundary(position: number, nextOffset: number): number {
    if (position < 0 || position > this.sizeBytes) throw new Error(`segment ${this.logPath}: position ${position} is outside the file`);
    return this.truncateToPosition(position, nextOffset);
  }

  private truncateToPosition(position: number, nextOffset: number): number {
    const removed = this.sizeBytes - position;
    this.files.ftruncateSync(this.fd, position);
    this.fileBytes = position;
    this.window.invalidate();
    this.sizeBytes = position;
    this.rebuildIndexesFromLog();
    // Below, not equal: compaction leaves offset gaps, so the kept batches may end before the
    // first removed batch begins.
    if (this.nextOffset > Math.max(this.baseOffset, nextOffset)) {
      throw new Error(`segment ${this.logPath}: truncation left next offset ${this.nextOffset}, expected ${nextOffset}`);
    }
    this.hasUnflushedBytes = true;
    if (this.sizeBytes === 0) this.firstAppendMs = null;
    return removed;
  }

  /**
   * Re-derives both indexes and the max timestamp from the batches left after a truncation.
   * Headers only, read through the window; truncation is rare (replica divergence, tests).
   */
  private rebuildIndexesFromLog(): void {
    this.maxTimestampMs = -1;
    this.offsetOfMaxTimestamp = -1;
    this.timeIndex.clear();
    this.offsetIndex.clear();
    this.bytesSinceLastIndexEntry = 0;
    const end = this.sizeBytes;
    this.nextOffset = this.baseOffset;
    let position = 0;
    while (position < end) {
      const location = this.readLocation(position);
      this.indexBatch(position, location.sizeBytes, location.baseOffset, location.lastOffset, location.maxTimestampMs);
      position += location.sizeBytes;
    }
  }

  /**
   * Scans every batch: checks framing and CRC, checks offsets increase, rebuilds both indexes,
   * and truncates the file at the first bad batch (a torn or corrupt tail).
   */
  recover(maxBatchSizeBytes: number): RecoveryResult {
    this.offsetIndex.resetFile();
    this.timeIndex.resetFile();
    this.maxTimestampMs = -1;
    this.offsetOfMaxTimestamp = -1;
    this.bytesSinceLastIndexEntry = 0;
    this.nextOffset = this.baseOffset;
    const end = this.sizeBytes;
    let position = 0;
    let reason: string | null = null;
    while (position < end) {
      reason = this.checkBatchAt(position, end, maxBatchSizeBytes);
      if (reason !== null) break;
      const location = this.readLocation(position);
      this.indexBatch(position, location.sizeBytes, location.baseOffset, location.lastOffset, location.maxTimestampMs);
      position += location.sizeBytes;
    }
    // Zeros after the last batch are preallocated space, not a torn write: cut, not counted.
    const zeroTail = position < end && this.isZeroFilled(position, end);
    const truncatedBytes = zeroTail ? 0 : end - position;
    if (position < end) {
      this.files.ftruncateSync(this.fd, position);
      this.window.invalidate();
      this.sizeBytes = position;
      this.fileBytes = position;
    }
    this.offsetIndex.writePending();
    this.timeIndex.writePending();
    // Scanned bytes may still sit only in the page cache after a crash: flush before serving.
    this.hasUnflushedBytes = true;
    return { truncatedBytes, reason: zeroTail ? null : reason };
  }

  private isZeroFilled(start: number, end: number): boolean {
    const chunkBytes = 64 * 1024;
    for (let position = start; position < end; position += chunkBytes) {
      const length = Math.min(chunkBytes, end - position);
      const at = this.window.load(position, length, end);
      if (at < 0) return false;
      const bytes = this.window.bytes;
      for (let index = at; index < at + length; index++) if (bytes[index] !== 0) return false;
    }
    return true;
  }

  /** Returns why the batch at `position` is not valid, or null if it is. */
  private checkBatchAt(position: number, end: number, maxBatchSizeBytes: number): string | null {
    const headerAt = this.window.load(position, LOG_OVERHEAD_BYTES, end);
    if (headerAt < 0) return `torn batch header at position ${position}`;
    const sizeBytes = LOG_OVERHEAD_BYTES + this.window.bytes.readInt32BE(headerAt + BATCH_LENGTH_OFFSET);
    if (sizeBytes < RECORDS_OFFSET || sizeBytes > maxBatchSizeBytes) return `implausible batch size ${sizeBytes} at position ${position}`;
    const at = this.window.load(position, sizeBytes, end);
    if (at < 0) return `torn batch of ${sizeBytes} bytes at position ${position}`;
    try {
      checkBatchFrame(this.window.bytes, at, at + sizeBytes);
    } catch (error) {
      if (error instanceof KafkaError) return `${error.message} at position ${position}`;
      throw error;
    }
    const baseOffset = readInt64(this.window.bytes, at + BASE_OFFSET_OFFSET);
    const lastOffset = baseOffset + this.window.bytes.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
    if (baseOffset < this.nextOffset || lastOffset < baseOffset || !this.canHoldRelative(lastOffset)) {
      return `batch offsets ${baseOffset}..${lastOffset} out of order at position ${position}`;
    }
    return null;
  }

  private canHoldRelative(lastOffset: number): boolean {
    return lastOffset - this.baseOffset <= MAX_RELATIVE_OFFSET;
  }

  /**
   * Loads the index files of a segment below the recovery point and sanity-checks them; if
   * they are missing or inconsistent, rebuilds them with a full scan. Returns whether the
   * indexes had to be rebuilt.
   */
  loadIndexes(maxBatchSizeBytes: number): boolean {
    const size = this.sizeBytes;
    const consistent =
      this.offsetIndex.load((key, value) => key <= MAX_RELATIVE_OFFSET && value < size) &&
      this.timeIndex.load((_key, value) => value <= MAX_RELATIVE_OFFSET) &&
      this.scanTailAfterIndex();
    if (consistent) return false;
    this.recover(maxBatchSizeBytes);
    return true;
  }

  /**
   * Restores nextOffset and the max timestamp from the last index entry onward; returns false
   * if the data there does not match the index.
   */
  private scanTailAfterIndex(): boolean {
    const entries = this.offsetIndex.entryCount;
    let position = entries === 0 ? 0 : this.offsetIndex.lastValue();
    this.nextOffset = this.baseOffset;
    if (entries > 0) {
      const located = this.readLocationSafely(position);
      if (located === null || located.baseOffset !== this.baseOffset + this.offsetIndex.lastKey()) return false;
    }
    this.bytesSinceLastIndexEntry = 0;
    this.maxTimestampMs = this.timeIndex.entryCount === 0 ? -1 : this.timeIndex.lastKey();
    this.offsetOfMaxTimestamp = this.timeIndex.entryCount === 0 ? -1 : this.baseOffset + this.timeIndex.lastValue();
    // Batches after the last entry (appended since the index file was last written) get their
    // entries back here, so lookups stay fast after a crash.
    while (position < this.sizeBytes) {
      const location = this.readLocationSafely(position);
      if (location === null || location.baseOffset < this.nextOffset || !this.canHoldRelative(location.lastOffset)) return false;
      this.indexBatch(position, location.sizeBytes, location.baseOffset, location.lastOffset, location.maxTimestampMs);
      position += location.sizeBytes;
    }
    return position === this.sizeBytes;
  }

  private readLocationSafely(position: number): BatchLocation | null {
    if (position + RECORDS_OFFSET > this.sizeBytes) return null;
    const location = this.readLocation(position);
    if (location.sizeBytes < RECORDS_OFFSET || position + location.sizeBytes > this.sizeBytes) return null;
    return location;
  }

  /**
   * fdatasyncs the log file (off-thread). Index entries are not written here but at roll and
   * close: after a crash, open checks the index files and scans on from their last entry.
   */
  flush(callback: (error: Error | null) => void): void {
    this.hasUnflushedBytes = false;
    this.files.fdatasync(this.fd, (error) => callback(error));
  }

  /** fdatasyncs the log file on the calling thread (see PartitionLog.flushNow). */
  flushDataNow(): void {
    this.hasUnflushedBytes = false;
    this.files.fdatasyncSync(this.fd);
  }

  /** Synchronous flush, for recovery at open (nothing else runs yet). */
  flushSync(): void {
    this.offsetIndex.writePending();
    this.timeIndex.writePending();
    this.hasUnflushedBytes = false;
    this.files.fdatasyncSync(this.fd);
  }

  /** Frees read scratch memory; called when the segment stops being the active one. */
  releaseReadBuffer(): void {
    this.window.release();
  }

  /** Writes pending index entries (no fsync). */
  writeIndexes(): void {
    this.offsetIndex.writePending();
    this.timeIndex.writePending();
  }

  /** Makes index files durable. */
  syncIndexes(): void {
    this.offsetIndex.sync();
    this.timeIndex.sync();
  }

  close(): void {
    try {
      this.trimPreallocation();
    } finally {
      this.offsetIndex.close();
      this.timeIndex.close();
      this.files.closeSync(this.fd);
    }
  }

  /** Closes and removes all three files. */
  delete(): void {
    this.close();
    rmSync(this.logPath, { force: true });
    rmSync(this.offsetIndex.path, { force: true });
    rmSync(this.timeIndex.path, { force: true });
  }
}

/** Length of the whole batches at the start of `bytes[0, length)` below `maxOffsetExclusive`. */
function wholeBatchesLength(bytes: Buffer, length: number, maxOffsetExclusive: number): number {
  let position = 0;
  while (position + LOG_OVERHEAD_BYTES <= length) {
    const sizeBytes = LOG_OVERHEAD_BYTES + bytes.readInt32BE(position + BATCH_LENGTH_OFFSET);
    if (position + sizeBytes > length) break;
    if (readInt64(bytes, position + BASE_OFFSET_OFFSET) >= maxOffsetExclusive) break;
    position += sizeBytes;
  }
  return position;
}
