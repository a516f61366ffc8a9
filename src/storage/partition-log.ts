/**
 * The log of one partition replica: an ordered list of segments, the last one active.
 *
 * Appends take validated record batches as bytes, assign offsets in place and write them with
 * one pwrite; nothing is fsynced until `flush()`, which group-commits (see GroupCommit).
 * Reads return whole batches as bytes. The log also owns roll, retention, truncation,
 * DeleteRecords (log start offset) and recovery on open.
 */
import { InvariantError } from '../runtime/assert.js';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { Clock } from '../runtime/clock.js';
import { GroupCommit, startImmediately, type Scheduler } from './group-commit.js';
import { FlushPolicy, hasDeleteRetention, isCompacted, type LogConfig } from './log-config.js';
import { batchSizeBytes, readLastOffset } from '../protocol/records/batch.js';
import { LogSegment, type SegmentOptions } from './segment.js';
import { readSegments, segmentOptionsFor, truncateSegments } from './log-segments.js';
import { nodeFileOps, type StorageFileOps } from './file-ops.js';
import { isStorageIoError, LogDirFailure } from './log-dir-failure.js';
import { LogDurability } from './log-durability.js';
import { maxTimestamp, offsetForTimestamp, type TimestampLookup } from './log-timestamps.js';
export type { TimestampLookup } from './log-timestamps.js';
import { LogLoader, type RecoverySummary } from './log-loader.js';
import { LogLeaderEpochs } from './log-leader-epochs.js';
import { checkFollowerBatches, journalBatchesToReplay, stampLeaderBatches, validateClientBatches } from './log-append.js';
import type { LeaderEpochLookup } from '../replication/leader-epoch-cache.js';
import { checkCleanedSegments, commitSwap, indexOfUnchangedRun, snapshotOf, swapInMemory, type CleanedSegmentFiles, type SegmentSnapshot, type SegmentSwap } from './replace-segments.js';

export type { RecoverySummary } from './log-loader.js';
export type { CleanedSegmentFiles, SegmentSnapshot } from './replace-segments.js';

export interface PartitionLogOptions {
  directory: string;
  config: LogConfig;
  clock: Clock;
  /** Offset up to which the log is known to be flushed (from the recovery checkpoint). */
  recoveryPoint?: number;
  /** Log start offset from its checkpoint (DeleteRecords moves it inside a segment). */
  logStartOffset?: number;
  /** The data dir was shut down cleanly: trust everything, check indexes only. */
  cleanShutdown?: boolean;
  /** When group-commit rounds start (default: at once if none runs); tests inject others. */
  scheduler?: Scheduler;
  /** The file system calls that write (default node:fs); tests inject faults here. */
  files?: StorageFileOps;
  /** The data dir's failure channel: an I/O error here takes the whole dir offline. */
  logDir?: LogDirFailure;
  log?: (message: string) => void;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The broker time written into the batches under LogAppendTime, else -1. */
  logAppendTimeMs: number;
  sizeBytes: number;
}

export interface LogReadResult {
  /** Whole record batches; empty when nothing is available. */
  records: Buffer;
  logStartOffset: number;
  logEndOffset: number;
}

export class PartitionLog {
  readonly directory: string;
  config: LogConfig;
  private readonly segments: LogSegment[];
  private startOffset: number;
  /** The recovery point and the durable end offset, and the acknowledgements waiting on them. */
  private readonly durability: LogDurability;
  /** The leader-epoch cache and its checkpoint file. */
  private readonly epochs: LogLeaderEpochs;
  private readonly groupCommit: GroupCommit;
  private failure: Error | null = null;
  private syncRounds = 0;
  private closed = false;
  private readonly clock: Clock;
  private readonly files: StorageFileOps;
  private readonly logDir: LogDirFailure;
  private readonly logLine: (message: string) => void;
  readonly recovery: RecoverySummary;

  private constructor(options: PartitionLogOptions) {
    this.directory = options.directory;
    this.config = options.config;
    this.clock = options.clock;
    this.files = options.files ?? nodeFileOps;
    this.logDir = options.logDir ?? new LogDirFailure(options.directory);
    this.logLine = options.log ?? (() => {});
    this.groupCommit = new GroupCommit(() => this.flushOnce(), options.scheduler ?? startImmediately);
    const loaded = LogLoader.load({
      directory: options.directory,
      segmentOptions: this.segmentOptions,
      maxBatchSizeBytes: this.maxBatchSizeBytes,
      recoveryPoint: options.recoveryPoint ?? 0,
      logStartOffset: options.logStartOffset ?? 0,
      cleanShutdown: options.cleanShutdown ?? false,
      log: this.logLine,
    });
    this.segments = loaded.segments;
    this.startOffset = loaded.logStartOffset;
    this.durability = new LogDurability(loaded.recoveryPoint);
    this.recovery = loaded.recovery;
    this.epochs = LogLeaderEpochs.load({
      directory: options.directory,
      segments: this.segments,
      logStartOffset: this.startOffset,
      logEndOffset: this.logEndOffset,
      scanFromOffset: options.cleanShutdown === true ? this.logEndOffset : (options.recoveryPoint ?? 0),
      files: this.files,
      logDir: this.logDir,
      log: this.logLine,
    });
  }

  /** Opens (creating if needed) and recovers the log in `options.directory`. */
  static open(options: PartitionLogOptions): PartitionLog {
    mkdirSync(options.directory, { recursive: true });
    return new PartitionLog(options);
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  get logEndOffset(): number {
    return this.activeSegment.nextOffset;
  }

  /** Every offset below this is fdatasynced in the segment files (Kafka's recovery point). */
  get recoveryPoint(): number {
    return this.durability.recoveryPoint;
  }

  /**
   * Every offset below this is durable: in the segment files, or in the node journal (whose
   * replay after a crash puts it back). Acknowledgements and the high watermark follow it.
   */
  get durableEndOffset(): number {
    return this.durability.durableEndOffset;
  }

  /**
   * The node journal made the appends in [from, to) durable. They count once everything below
   * `from` is durable too (a log may mix journaled appends with appends fsynced in its own
   * files); then the acknowledgements waiting for them are released. The segment files are
   * fsynced later, at the journal's checkpoint.
   */
  acknowledgeDurable(from: number, to: number): void {
    this.durability.markJournaled({ from, to });
  }

  /**
   * Appends batches replayed from the node journal after a crash, offsets as they are: batches
   * the log already has are skipped, a batch that would leave a gap ends the replay of this
   * log. Returns the number of batches appended.
   */
  appendRecovered(records: Buffer): number {
    this.checkWritable();
    const replay = journalBatchesToReplay(records, this.logEndOffset, this.epochs.latestEpoch);
    if (replay.stopReason !== null) this.logLine(`log ${this.directory}: ${replay.stopReason}; replay of this log stops`);
    for (let position = replay.start; position < replay.end; position += batchSizeBytes(records, position)) {
      this.writeBatches(records, position, position + batchSizeBytes(records, position), readLastOffset(records, position));
    }
    this.epochs.learnFromBatches(records, replay.start, replay.end);
    return replay.batches;
  }

  get sizeBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.sizeBytes;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Flushes completed: group-commit rounds plus `flushNow` calls. */
  get flushRounds(): number {
    return this.groupCommit.roundsCompleted + this.syncRounds;
  }

  /** A flush round is running on the threadpool. */
  get isFlushing(): boolean {
    return this.groupCommit.isFlushing;
  }

  segmentBaseOffsets(): number[] {
    return this.segments.map((segment) => segment.baseOffset);
  }

  private get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  private get segmentOptions(): SegmentOptions {
    return segmentOptionsFor(this.config, this.files);
  }

  // ---- append -------------------------------------------------------------------------

  /**
   * Validates client batches in `records`, assigns offsets from the log end offset, stamps the
   * leader epoch (and LogAppendTime when configured) in place, and appends them. All batches
   * are validated before any is written. Throws KafkaError for invalid input.
   */
  appendAsLeader(records: Buffer, leaderEpoch: number): AppendResult {
    this.checkWritable();
    validateClientBatches(records, this.config.maxMessageBytes, isCompacted(this.config));
    return this.assignAndAppend(records, leaderEpoch);
  }

  /** Appends broker-built batches (control records, internal topics); still assigns offsets. */
  appendInternal(records: Buffer, leaderEpoch: number): AppendResult {
    this.checkWritable();
    return this.assignAndAppend(records, leaderEpoch);
  }

  /**
   * Appends batches fetched from the leader as they are: offsets, leader epochs and bytes
   * unchanged; the leader-epoch cache learns the epochs. Everything is checked before anything
   * is written (see log-append.ts for the checks and why they are KafkaErrors). An empty
   * `records` appends nothing.
   */
  appendAsFollower(records: Buffer): AppendResult {
    this.checkWritable();
    const batches = checkFollowerBatches(records, this.logEndOffset, this.epochs.latestEpoch);
    if (batches.sizeBytes > 0) {
      this.writeBatches(records, 0, records.length, batches.lastOffset);
      this.epochs.learnFromBatches(records, 0, records.length);
    }
    return { baseOffset: batches.baseOffset, lastOffset: batches.lastOffset, logAppendTimeMs: -1, sizeBytes: batches.sizeBytes };
  }

  /**
   * This replica leads `leaderEpoch` from the log end offset on (Kafka's makeLeader): cached
   * before any batch of it and written at once, so followers truncate right. An empty log (a
   * partition just created) has nothing a follower could truncate against: its file follows
   * with the first flush, sparing every new partition an fsync. Repeats are ignored.
   */
  startLeaderEpoch(leaderEpoch: number): void {
    this.checkWritable();
    this.epochs.checkLeaderEpoch(leaderEpoch);
    if (this.logEndOffset === this.startOffset && this.epochs.latestEpoch < 0) this.epochs.assign(leaderEpoch, this.logEndOffset);
    else this.epochs.assignNow(leaderEpoch, this.logEndOffset);
  }

  /** The leader-epoch cache, read-only (OffsetsForLeaderEpoch, fetch divergence, truncation). */
  get leaderEpochs(): LeaderEpochLookup {
    return this.epochs.lookup;
  }

  /** The latest leader epoch in this log (a follower's Fetch `lastFetchedEpoch`), -1 if none. */
  get lastFetchedEpoch(): number {
    return this.epochs.latestEpoch;
  }

  private assignAndAppend(records: Buffer, leaderEpoch: number): AppendResult {
    this.epochs.checkLeaderEpoch(leaderEpoch);
    const baseOffset = this.logEndOffset;
    const logAppendTimeMs = this.config.messageTimestampType === 'LogAppendTime' ? this.clock.nowMs() : -1;
    const nextOffset = stampLeaderBatches(records, baseOffset, leaderEpoch, logAppendTimeMs);
    this.writeBatches(records, 0, records.length, nextOffset - 1);
    this.epochs.assign(leaderEpoch, baseOffset);
    if (!(nextOffset > baseOffset && this.logEndOffset === nextOffset)) throw new InvariantError(`${this.directory}: append of offsets ${baseOffset}..${nextOffset - 1} left the log end at ${this.logEndOffset}`);
    return { baseOffset, lastOffset: nextOffset - 1, logAppendTimeMs, sizeBytes: records.length };
  }

  /** Rolls if needed and appends `records[start, end)`; an I/O error takes the log dir offline. */
  private writeBatches(records: Buffer, start: number, end: number, lastOffset: number): void {
    try {
      this.maybeRoll(end - start, lastOffset);
      this.activeSegment.append(records, start, end, this.clock.nowMs());
    } catch (error) {
      throw this.logDir.classify(error, `append to ${this.directory}`);
    }
  }

  private checkWritable(): void {
    if (this.closed) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `log ${this.directory} is closed`);
    if (this.logDir.isOffline) throw this.logDir.offlineError();
    if (this.failure !== null) {
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.directory} is offline after a storage error: ${this.failure.message}`);
    }
  }

  /** The log takes no appends and serves no reads: its own flush failed, or its log dir is offline. */
  get isOffline(): boolean {
    return this.failure !== null || this.logDir.isOffline;
  }

  // ---- roll and flush -----------------------------------------------------------------

  private maybeRoll(appendSizeBytes: number, lastOffset: number): void {
    const active = this.activeSegment;
    if (active.isEmpty) return;
    const nowMs = this.clock.nowMs();
    const tooBig = active.sizeBytes + appendSizeBytes > this.config.segmentBytes;
    const tooOld = active.firstAppendMs !== null && nowMs - active.firstAppendMs >= this.config.segmentMs;
    if (tooBig || tooOld || active.isIndexFull || !active.canHold(lastOffset, appendSizeBytes)) this.roll();
  }

  /** Starts a new active segment at the log end offset. */
  roll(): void {
    const active = this.activeSegment;
    if (active.isEmpty) return;
    try {
      active.offsetIndex.writePending();
      active.timeIndex.writePending();
      active.trimPreallocation();
      active.releaseReadBuffer();
      this.segments.push(LogSegment.create(this.directory, active.nextOffset, this.segmentOptions));
    } catch (error) {
      throw this.logDir.classify(error, `roll of ${this.directory}`);
    }
  }

  /** Group-committed flush; resolves with the durable offset covering earlier appends. */
  flush(): Promise<number> {
    // A deleted or closed log has nothing left to make durable (and no open files).
    if (this.closed) return Promise.resolve(this.durability.recoveryPoint);
    return this.groupCommit.flush();
  }

  /**
   * Resolves when appends up to `offset` may be acknowledged: under the `always` policy after
   * the covering fsync, otherwise at once.
   */
  async waitForDurability(offset: number): Promise<void> {
    if (this.config.flushPolicy !== FlushPolicy.ALWAYS || offset < this.durableEndOffset) return;
    await this.flush();
  }

  /**
   * Like waitForDurability, but starts no flush: resolves when some later flush covers
   * `offset`. A node appends a whole ring drain, then flushes each log once.
   */
  whenDurable(offset: number): Promise<void> {
    if (this.config.flushPolicy !== FlushPolicy.ALWAYS || offset < this.durableEndOffset) return Promise.resolve();
    if (this.failure !== null) return Promise.reject(new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, this.failure.message));
    if (this.logDir.isOffline) return Promise.reject(this.logDir.offlineError());
    return this.durability.whenDurable(offset);
  }

  private async flushOnce(): Promise<number> {
    // Offline, the log end may cover appends that never reached the file: nothing becomes durable.
    if (this.failure !== null) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, this.failure.message);
    if (this.logDir.isOffline) throw this.logDir.offlineError();
    const target = this.logEndOffset;
    const dirty = this.segments.filter((segment) => segment.hasUnflushedBytes);
    try {
      await Promise.all(dirty.map((segment) => flushSegment(segment)));
      this.epochs.writeIfDirty();
    } catch (error) {
      throw this.failFlush(error);
    }
    return this.markDurable(target);
  }

  /**
   * Flushes on the calling thread, now, instead of on libuv's threadpool: for a node thread
   * that has exactly one flush to wait for after a drain, blocking in fdatasync is cheaper than
   * handing it to another thread and being woken for its completion (and what arrives
   * meanwhile waits in the ring, to share the next flush). Joins the group-commit bookkeeping:
   * a round still running elsewhere only ever moves the durable offset forward. Throws a
   * KAFKA_STORAGE_ERROR KafkaError when the fsync fails (the log is then offline).
   */
  flushNow(): number {
    if (this.closed) return this.durability.recoveryPoint;
    if (this.failure !== null) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, this.failure.message);
    if (this.logDir.isOffline) throw this.logDir.offlineError();
    const target = this.logEndOffset;
    try {
      for (const segment of this.segments) if (segment.hasUnflushedBytes) segment.flushDataNow();
      this.epochs.writeIfDirty();
    } catch (error) {
      throw this.failFlush(error);
    }
    this.syncRounds++;
    return this.markDurable(target);
  }

  /**
   * Another file holding this log's unacknowledged appends (the node journal) failed to fsync:
   * the log goes offline as after its own failed flush, its waiting acknowledgements are
   * rejected with KAFKA_STORAGE_ERROR, and it takes no more appends.
   */
  takeOffline(cause: Error): void {
    if (this.failure !== null) return;
    this.failure = cause;
    this.durability.failWaiters(new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, cause.message));
  }

  /**
   * After a failed fsync the page cache may have dropped our writes: never ack again. An I/O
   * error takes the whole log dir offline (the same disk holds its other logs).
   */
  private failFlush(error: unknown): KafkaError {
    const cause = error instanceof Error ? error : new Error(String(error));
    this.logLine(`log ${this.directory} failed to flush and is now offline: ${cause.message}`);
    this.takeOffline(cause);
    if (isStorageIoError(error)) this.logDir.fail(error, `flush of ${this.directory}`);
    return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, cause.message);
  }

  private markDurable(target: number): number {
    this.durability.markFlushed(target);
    return this.durability.recoveryPoint;
  }

  // ---- read ---------------------------------------------------------------------------

  /**
   * Reads whole batches starting at the batch that holds `fetchOffset`, up to `maxBytes` (at
   * least one batch when `minOneBatch`), none at or past `maxOffsetExclusive` (the high
   * watermark for consumers). Throws OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset].
   */
  read(fetchOffset: number, maxBytes: number, maxOffsetExclusive = this.logEndOffset, minOneBatch = true): LogReadResult {
    if (fetchOffset < this.startOffset || fetchOffset > this.logEndOffset) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `offset ${fetchOffset} is outside [${this.startOffset}, ${this.logEndOffset}] of ${this.directory}`,
      );
    }
    const empty: LogReadResult = { records: Buffer.alloc(0), logStartOffset: this.startOffset, logEndOffset: this.logEndOffset };
    if (fetchOffset >= maxOffsetExclusive) return empty;
    const records = readSegments(this.segments, fetchOffset, maxBytes, maxOffsetExclusive, minOneBatch);
    return records === null ? empty : { ...empty, records };
  }

  /** ListOffsets by time: see log-timestamps.ts. */
  offsetForTimestamp(timestampMs: number): TimestampLookup | null {
    return offsetForTimestamp(this.segments, timestampMs, this.startOffset);
  }

  /** ListOffsets -3: the record with the largest timestamp. */
  maxTimestamp(): TimestampLookup | null {
    return maxTimestamp(this.segments);
  }

  // ---- truncation, log start offset, retention ----------------------------------------

  /**
   * Removes every record at or above `offset` (replication truncates a diverged follower).
   * A batch that straddles `offset` goes whole. Waits for a running flush first.
   */
  async truncateTo(offset: number): Promise<void> {
    await this.groupCommit.idle();
    if (offset >= this.logEndOffset) {
      // No batch goes, but an epoch that started here without one does.
      this.epochs.truncateFromEnd(offset);
      return;
    }
    truncateSegments({ directory: this.directory, segments: this.segments, logStartOffset: this.startOffset, segmentOptions: this.segmentOptions }, offset);
    this.durability.truncateTo(this.logEndOffset);
    if (this.startOffset > this.logEndOffset) this.startOffset = this.logEndOffset;
    this.epochs.truncateFromEnd(this.logEndOffset);
  }

  /**
   * Kafka's truncateFullyAndStartAt: every record goes and the log starts again, empty, at
   * `offset` (a follower whose fetch offset fell below its leader's log start: all it holds is
   * older than anything the leader still has). The leader-epoch cache empties with it; the
   * first batches fetched fill it again. Waits for a running flush first.
   */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    await this.groupCommit.idle();
    this.checkWritable();
    if (!(Number.isSafeInteger(offset) && offset >= this.logEndOffset)) {
      throw new InvariantError(`${this.directory}: a full truncation starts at or past the log end ${this.logEndOffset}, not at ${offset}`);
    }
    try {
      for (const segment of this.segments.splice(0)) segment.delete();
      this.segments.push(LogSegment.create(this.directory, offset, this.segmentOptions));
    } catch (error) {
      throw this.logDir.classify(error, `full truncation of ${this.directory}`);
    }
    this.startOffset = offset;
    this.durability.markFlushed(offset);
    this.epochs.truncateFromEnd(0);
  }

  /**
   * DeleteRecords: moves the log start offset forward to `offset` (at most the log end offset)
   * and deletes the segments wholly below it. Returns the new log start offset.
   */
  async deleteRecordsBefore(offset: number): Promise<number> {
    if (offset > this.logEndOffset) {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `cannot delete records before ${offset}: log end offset is ${this.logEndOffset}`);
    }
    if (offset <= this.startOffset) return this.startOffset;
    this.startOffset = offset;
    if (offset === this.logEndOffset) this.roll();
    await this.deleteSegmentsWhile((_segment, next) => next !== undefined && next.baseOffset <= this.startOffset);
    this.epochs.truncateFromStart(this.startOffset);
    return this.startOffset;
  }

  /**
   * Deletes closed segments past retention.ms or beyond retention.bytes (never the active one)
   * and moves the log start offset up. Returns the number of segments deleted.
   */
  async applyRetention(): Promise<number> {
    if (!hasDeleteRetention(this.config)) return 0;
    const nowMs = this.clock.nowMs();
    const { retentionMs, retentionBytes } = this.config;
    let bytesOverLimit = retentionBytes < 0 ? 0 : this.sizeBytes - retentionBytes;
    return this.deleteSegmentsWhile((segment, next) => {
      if (next === undefined) return false;
      const expired = retentionMs >= 0 && segment.maxTimestampMs >= 0 && nowMs - segment.maxTimestampMs > retentionMs;
      const oversize = bytesOverLimit >= segment.sizeBytes;
      if (!expired && !oversize) return false;
      bytesOverLimit -= segment.sizeBytes;
      return true;
    });
  }

  /** Deletes leading segments while `shouldDelete(segment, nextSegment)`; never the active one. */
  private async deleteSegmentsWhile(shouldDelete: (segment: LogSegment, next: LogSegment | undefined) => boolean): Promise<number> {
    await this.groupCommit.idle();
    let deleted = 0;
    while (this.segments.length > 1 && shouldDelete(this.segments[0]!, this.segments[1])) {
      this.segments.shift()!.delete();
      deleted++;
    }
    if (this.segments[0]!.baseOffset > this.startOffset) this.startOffset = this.segments[0]!.baseOffset;
    if (deleted > 0) this.epochs.truncateFromStart(this.startOffset);
    return deleted;
  }

  // ---- log compaction -------------------------------------------------------------------

  /** The closed segments, oldest first (never the active one): what compaction may rewrite. */
  closedSegments(): SegmentSnapshot[] {
    return this.segments.slice(0, -1).map(snapshotOf);
  }

  /** Index layout of this log's segments; compaction writes its output with it. */
  get segmentFileOptions(): SegmentOptions {
    return this.segmentOptions;
  }

  /** The largest batch recovery accepts in this log's segments. */
  get maxBatchSizeBytes(): number {
    return Math.max(this.config.maxMessageBytes, this.config.segmentBytes);
  }

  /**
   * Swaps compaction output in for `originals`, a run of closed segments from `closedSegments()`
   * (the inputs the output replaces, then any empty trailing inputs, which are deleted), with
   * the crash-safe rename protocol of cleaner/segment-swap.ts. Waits for a running flush
   * first; the swap itself is synchronous, so a reader on this thread sees either the old
   * segments or the new ones. Returns false, touching nothing, if any original is gone or
   * changed meanwhile (retention, DeleteRecords, truncation) or the log is closed or offline;
   * the caller then deletes the `.cleaned` files.
   */
  async replaceSegments(cleaned: readonly CleanedSegmentFiles[], originals: readonly SegmentSnapshot[]): Promise<boolean> {
    do await this.groupCommit.idle();
    while (this.groupCommit.isFlushing);
    const first = indexOfUnchangedRun(this.segments, originals);
    if (this.closed || this.isOffline || first < 0) return false;
    checkCleanedSegments(this.directory, cleaned, originals, this.segments[first + originals.length]!.baseOffset);
    const swap: SegmentSwap = {
      directory: this.directory,
      segments: this.segments,
      first,
      count: originals.length,
      cleaned,
      segmentOptions: this.segmentOptions,
      maxBatchSizeBytes: this.maxBatchSizeBytes,
      log: this.logLine,
    };
    commitSwap(swap);
    try {
      swapInMemory(swap);
    } catch (error) {
      // The swap is committed on disk (a restart completes it) but memory no longer matches.
      const cause = error instanceof Error ? error : new Error(String(error));
      this.logLine(`log ${this.directory} failed in a compaction swap and is now offline: ${cause.message}`);
      this.takeOffline(cause);
      throw error;
    }
    return true;
  }

  // ---- close --------------------------------------------------------------------------

  /** Flushes everything, syncs the indexes and closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.isOffline) await this.flush().catch(() => undefined);
    await this.groupCommit.idle();
    this.closed = true;
    for (const segment of this.segments) {
      // Written, not fsynced: open checks index files against the log and rebuilds what is
      // missing, so their durability costs a shutdown thousands of fsyncs for nothing.
      if (!this.isOffline) this.closingWrite(() => segment.writeIndexes());
      this.closingWrite(() => segment.close());
    }
  }

  /** A full or failing disk must not stop a shutdown: open rebuilds what did not reach it. */
  private closingWrite(write: () => void): void {
    try {
      write();
    } catch (error) {
      const failure = this.logDir.classify(error, `close of ${this.directory}`);
      if (!(failure instanceof KafkaError)) throw failure;
    }
  }

  /** Closes without flushing and removes the directory (topic deletion). */
  async deleteAll(): Promise<void> {
    await this.groupCommit.idle();
    this.closed = true;
    for (const segment of this.segments) segment.close();
    if (existsSync(this.directory)) rmSync(this.directory, { recursive: true, force: true });
  }
}

function flushSegment(segment: LogSegment): Promise<void> {
  return new Promise((resolve, reject) => {
    segment.flush((error) => (error ? reject(error) : resolve()));
  });
}

