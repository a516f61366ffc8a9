/**
 * The leader-epoch cache of one partition log and its `leader-epoch-checkpoint` file (Kafka's
 * LeaderEpochFileCache with its checkpoint; the pure cache is src/replication/leader-epoch-cache.ts).
 *
 * When the file is written:
 * - after a truncation (from the end or the start) that changed the cache, at once, as Kafka
 *   does: a stale file could otherwise name epochs whose batches are gone;
 * - after an append that added an epoch, lazily: at the log's next flush, before the flush
 *   moves the recovery point. So the file always holds every epoch starting below the
 *   recovery point, and recovery, which scans the batches from the recovery point on anyway,
 *   learns the later ones from their batch headers (`partitionLeaderEpoch`). A file with
 *   entries past the recovered log end (appends a crash took back) is truncated on load.
 * - a missing or unreadable file is rebuilt from every batch header of the log.
 */
import { join } from 'node:path';
import { InvariantError } from '../runtime/assert.js';
import { KafkaError } from '../protocol/errors.js';
import { batchSizeBytes, readBaseOffset, readLastOffsetDelta, readPartitionLeaderEpoch } from '../protocol/records/batch.js';
import { RECORDS_OFFSET } from '../protocol/records/layout.js';
import { LeaderEpochCache, type LeaderEpochLookup } from '../replication/leader-epoch-cache.js';
import { CheckpointFormatError, LeaderEpochCheckpointFile } from './checkpoint-file.js';
import type { StorageFileOps } from './file-ops.js';
import type { LogDirFailure } from './log-dir-failure.js';
import type { LogSegment } from './segment.js';

export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';

/** Bytes read per pread while scanning batch headers (many small batches per read). */
const HEADER_SCAN_CHUNK_BYTES = 64 * 1024;

export interface LeaderEpochLoadOptions {
  readonly directory: string;
  /** The recovered segments, oldest first. */
  readonly segments: readonly LogSegment[];
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  /** Batches ending at or past this offset are scanned for epochs the file may lack. */
  readonly scanFromOffset: number;
  readonly files: StorageFileOps;
  /** A write of the file that fails with an I/O error takes this dir offline. */
  readonly logDir: LogDirFailure;
  readonly log: (message: string) => void;
}

export class LogLeaderEpochs {
  private dirty = false;

  private constructor(
    private readonly cache: LeaderEpochCache,
    private readonly file: LeaderEpochCheckpointFile,
    private readonly logDir: LogDirFailure,
  ) {}

  /** Reads the checkpoint, brings it up to date with the recovered segments, writes it if it changed. */
  static load(options: LeaderEpochLoadOptions): LogLeaderEpochs {
    const file = new LeaderEpochCheckpointFile(join(options.directory, LEADER_EPOCH_CHECKPOINT), options.files);
    const stored = readStoredEntries(file, options.log);
    let cache = learnFromSegments(new LeaderEpochCache(stored ?? []), options, stored === null ? Number.NEGATIVE_INFINITY : options.scanFromOffset);
    if (cache === null) {
      options.log(`log ${options.directory}: ${LEADER_EPOCH_CHECKPOINT} disagrees with the batches; rebuilding it from the batch headers`);
      cache = learnFromSegments(new LeaderEpochCache(), options, Number.NEGATIVE_INFINITY)!;
    }
    cache.truncateFromStart(options.logStartOffset);
    const epochs = new LogLeaderEpochs(cache, file, options.logDir);
    if (stored === null ? cache.entries.length > 0 : !sameEntries(stored, cache)) epochs.write();
    return epochs;
  }

  /** The cache, read-only. */
  get lookup(): LeaderEpochLookup {
    return this.cache;
  }

  get latestEpoch(): number {
    return this.cache.latestEpoch;
  }

  /** A leader appends with its current epoch, never one older than the log's latest (asserted before writing). */
  checkLeaderEpoch(leaderEpoch: number): void {
    // On every append: a plain if, no message closure per call.
    if (!(Number.isSafeInteger(leaderEpoch) && leaderEpoch >= 0 && leaderEpoch >= this.cache.latestEpoch)) {
      throw new InvariantError(`${this.file.path}: leader epoch ${leaderEpoch} is below the log's latest epoch ${this.cache.latestEpoch}`);
    }
  }

  /** An append of `leaderEpoch` starting at `startOffset`; the file follows at the next flush. */
  assign(leaderEpoch: number, startOffset: number): void {
    if (this.cache.assign(leaderEpoch, startOffset)) this.dirty = true;
  }

  /** A new leader epoch begins at `startOffset` before any batch of it: written at once. */
  assignNow(leaderEpoch: number, startOffset: number): void {
    if (this.cache.assign(leaderEpoch, startOffset) || this.dirty) this.write();
  }

  /** Whether the batch at `position` may follow the log: its epoch is not older than the latest (or it has none). */
  accepts(records: Buffer, position: number): boolean {
    const epoch = readPartitionLeaderEpoch(records, position);
    return epoch < 0 || epoch >= this.cache.latestEpoch;
  }

  /** Learns the epochs of the batches in `records[start, end)` (offsets and epochs as stored). */
  learnFromBatches(records: Buffer, start: number, end: number): void {
    for (let position = start; position < end; position += batchSizeBytes(records, position)) {
      const epoch = readPartitionLeaderEpoch(records, position);
      if (epoch >= 0 && epoch > this.cache.latestEpoch) this.assign(epoch, readBaseOffset(records, position));
    }
  }

  truncateFromEnd(endOffset: number): void {
    if (this.cache.truncateFromEnd(endOffset)) this.write();
  }

  /**
   * A failed write is not thrown: the log start already moved (retention, DeleteRecords), the
   * dir is offline, and a file left with older entries is cut to the log start on load.
   */
  truncateFromStart(startOffset: number): void {
    if (!this.cache.truncateFromStart(startOffset)) return;
    try {
      this.write();
    } catch (error) {
      if (!(error instanceof KafkaError)) throw error;
    }
  }

  /** Writes the file if appends changed the cache since the last write (before a flush completes). */
  writeIfDirty(): void {
    if (this.dirty) this.write();
  }

  /** Throws the log dir's KAFKA_STORAGE_ERROR (the dir then offline) when the write fails with an I/O error. */
  private write(): void {
    try {
      this.file.write(this.cache.entries);
    } catch (error) {
      throw this.logDir.classify(error, `write of ${this.file.path}`);
    }
    this.dirty = false;
  }
}

function readStoredEntries(file: LeaderEpochCheckpointFile, log: (message: string) => void): LeaderEpochCache['entries'] | null {
  try {
    return file.read();
  } catch (error) {
    if (!(error instanceof CheckpointFormatError)) throw error;
    log(`${error.message}; rebuilding the leader epoch cache from the batch headers`);
    return null;
  }
}

function sameEntries(stored: LeaderEpochCache['entries'], cache: LeaderEpochCache): boolean {
  const entries = cache.entries;
  if (stored.length !== entries.length) return false;
  for (let index = 0; index < entries.length; index++) {
    if (stored[index]!.epoch !== entries[index]!.epoch || stored[index]!.startOffset !== entries[index]!.startOffset) return false;
  }
  return true;
}

/**
 * Drops the entries past the recovered log end (appends a crash took back), then assigns the
 * epoch of every batch ending at or past `fromOffset` that is newer than the latest entry.
 * Returns null when a batch contradicts the entries (a newer epoch starting before the latest
 * one): the caller rebuilds from scratch.
 */
function learnFromSegments(cache: LeaderEpochCache, options: LeaderEpochLoadOptions, fromOffset: number): LeaderEpochCache | null {
  cache.truncateFromEnd(options.logEndOffset);
  for (const segment of options.segments) {
    if (segment.nextOffset > fromOffset && !learnFromSegment(cache, segment, fromOffset)) return null;
  }
  return cache;
}

/** One segment of learnFromSegments: headers only, a chunk of the file per read. */
function learnFromSegment(cache: LeaderEpochCache, segment: LogSegment, fromOffset: number): boolean {
  let position = 0;
  while (position + RECORDS_OFFSET <= segment.sizeBytes) {
    const chunk = segment.readBytes(position, Math.min(HEADER_SCAN_CHUNK_BYTES, segment.sizeBytes - position));
    let at = 0;
    while (at + RECORDS_OFFSET <= chunk.length) {
      const epoch = readPartitionLeaderEpoch(chunk, at);
      const baseOffset = readBaseOffset(chunk, at);
      if (baseOffset + readLastOffsetDelta(chunk, at) >= fromOffset && epoch >= 0 && epoch > cache.latestEpoch) {
        if (baseOffset < (cache.latestEntry?.startOffset ?? 0)) return false;
        cache.assign(epoch, baseOffset);
      }
      at += batchSizeBytes(chunk, at);
    }
    position += at;
  }
  return true;
}
