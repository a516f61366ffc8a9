/**
 * The log cleaner of one data dir (Kafka's LogCleaner + LogCleanerManager, reduced to one
 * thread): picks the compacted log most worth cleaning, runs the compaction job in a piscina
 * worker, swaps the result in and records how far the log is clean.
 *
 * - Cleanable range: the closed segments (never the active one) that end at or below the
 *   caller's `uncleanableFromOffset` (give the high watermark or last stable offset: records a
 *   follower may still truncate must not supersede anything).
 * - Dirty ratio = bytes of cleanable segments holding offsets >= the first dirty offset /
 *   bytes of all cleanable segments. A log is cleaned when the ratio is >= its
 *   min.cleanable.dirty.ratio, or when a tombstone it kept has reached its delete horizon.
 * - First dirty offset per log: the `cleaner-offset-checkpoint` file in the data dir, written
 *   atomically after every swap, and lowered by `truncateCheckpoint` when the log is truncated.
 *   Clamped to the log start offset; reset to it when above the log end offset, as Kafka does.
 *   Every record below it was cleaned by a swapped-in pass whose offset map held it; the
 *   tombstone rule relies on that (see batch-filter.ts).
 * - At most one job at a time per data dir (one cleaner per data dir, a pool of one thread).
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Piscina } from 'piscina';
import type { Clock } from '../../runtime/clock.js';
import { OffsetCheckpointFile, parsePartitionName, partitionName } from '../checkpoint-file.js';
import { isCompacted } from '../log-config.js';
import { PartitionLog, type SegmentSnapshot } from '../partition-log.js';
import { removeCleanedFiles, type CompactionJobInput, type CompactionJobResult, type CompactionStats } from './compaction-job.js';

export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint';

/** Named bounds of the cleaner. */
export const CleanerLimits = {
  /** The offset map holds at most this many keys (Kafka bounds it by log.cleaner.dedupe.buffer.size). */
  maxOffsetMapEntries: 1_000_000,
  /** ... and at most about this many key bytes. */
  maxOffsetMapKeyBytes: 64 * 1024 * 1024,
  /** The pool's worker thread exits after this long without a job. */
  poolIdleTimeoutMs: 30_000,
  /** After a failed job (I/O error), the log is not tried again for this long. */
  failureBackoffMs: 60_000,
} as const;

export interface CleanableLog {
  topic: string;
  partition: number;
  log: PartitionLog;
  /** The cleaner never cleans past this offset (high watermark / last stable offset). */
  uncleanableFromOffset?: number;
}

export interface LogCleanerOptions {
  dataDir: string;
  clock: Clock;
  log?: (message: string) => void;
  /** Runs a job; default: the piscina pool. */
  runJob?: (input: CompactionJobInput) => Promise<CompactionJobResult>;
  maxOffsetMapEntries?: number;
  maxOffsetMapKeyBytes?: number;
  poolIdleTimeoutMs?: number;
}

/** What the cleaner knows about one log before cleaning it. */
export interface CleanableState {
  firstDirtyOffset: number;
  segments: SegmentSnapshot[];
  totalBytes: number;
  dirtyBytes: number;
  dirtyRatio: number;
}

export const CleaningOutcome = {
  SWAPPED: 'swapped',
  /** The log changed under the job (or was closed); the output was deleted. */
  DISCARDED: 'discarded',
  NOTHING_TO_CLEAN: 'nothing-to-clean',
  FAILED: 'failed',
} as const;
export type CleaningOutcomeName = (typeof CleaningOutcome)[keyof typeof CleaningOutcome];

export interface CleaningResult {
  topic: string;
  partition: number;
  outcome: CleaningOutcomeName;
  /** The first dirty offset after this pass. */
  firstDirtyOffset: number;
  segmentsReplaced: number;
  segmentsWritten: number;
  stats: CompactionStats | null;
  error: string | null;
}

/** A pass started by `maybeClean`; `done` never rejects. */
export interface CleaningPass {
  topic: string;
  partition: number;
  dirtyRatio: number;
  done: Promise<CleaningResult>;
}

export class LogCleaner {
  private readonly checkpoint: OffsetCheckpointFile;
  private readonly firstDirtyOffsets: Map<string, number>;
  /** Earliest delete horizon of a kept tombstone, per log: a reason to clean again. */
  private readonly pendingHorizonsMs = new Map<string, number>();
  /** Logs with corrupt data: not cleaned again until restart (Kafka's "uncleanable"). */
  private readonly uncleanable = new Map<string, string>();
  private readonly retryAfterMs = new Map<string, number>();
  private running: Promise<CleaningResult> | null = null;
  /** The directory of the log the running pass compacts. */
  private runningDirectory: string | null = null;
  private pool: Piscina | null = null;
  private closed = false;
  private readonly logLine: (message: string) => void;

  constructor(private readonly options: LogCleanerOptions) {
    this.checkpoint = new OffsetCheckpointFile(join(options.dataDir, CLEANER_OFFSET_CHECKPOINT));
    this.firstDirtyOffsets = this.checkpoint.read();
    this.logLine = options.log ?? (() => {});
  }

  /** The checkpointed first dirty offset of a partition, if any. */
  checkpointedDirtyOffset(topic: string, partition: number): number | undefined {
    return this.firstDirtyOffsets.get(partitionName(topic, partition));
  }

  /**
   * Kafka's maybeTruncateCheckpoint: call it whenever a log is truncated (replication
   * divergence). Records appended again below the old checkpoint are new and must be mapped
   * by the next pass, or a tombstone among them could expire before older values of its key
   * ever met it in a map. Persists the lowered checkpoint at once.
   */
  truncateCheckpoint(topic: string, partition: number, offset: number): void {
    const name = partitionName(topic, partition);
    const stored = this.firstDirtyOffsets.get(name);
    if (stored === undefined || stored <= offset) return;
    this.firstDirtyOffsets.set(name, offset);
    this.checkpoint.write(this.firstDirtyOffsets);
  }

  /** Whether a pass is running. */
  get isCleaning(): boolean {
    return this.running !== null;
  }

  /** Dirty ratio and cleanable segments of one log. */
  cleanableState(target: CleanableLog): CleanableState {
    const { log } = target;
    const limit = target.uncleanableFromOffset ?? Number.POSITIVE_INFINITY;
    const segments: SegmentSnapshot[] = [];
    for (const segment of log.closedSegments()) {
      if (segment.nextOffset > limit) break;
      segments.push(segment);
    }
    const stored = this.firstDirtyOffsets.get(partitionName(target.topic, target.partition));
    const firstDirtyOffset = stored === undefined || stored < log.logStartOffset || stored > log.logEndOffset ? log.logStartOffset : stored;
    let totalBytes = 0;
    let dirtyBytes = 0;
    for (const segment of segments) {
      totalBytes += segment.sizeBytes;
      if (segment.nextOffset > firstDirtyOffset) dirtyBytes += segment.sizeBytes;
    }
    return { firstDirtyOffset, segments, totalBytes, dirtyBytes, dirtyRatio: totalBytes === 0 ? 0 : dirtyBytes / totalBytes };
  }

  /**
   * Called from the node's tick: if no pass is running, picks the compacted log with the
   * highest dirty ratio among those due (ratio >= min.cleanable.dirty.ratio, or a tombstone
   * horizon reached) and starts cleaning it. Resolves at once with the started pass (await
   * `pass.done` for its result) or null; it never waits for the job. Pass every log of the
   * data dir: checkpoint entries of partitions not passed are forgotten.
   */
  async maybeClean(logs: Iterable<CleanableLog>): Promise<CleaningPass | null> {
    if (this.closed || this.running !== null) return null;
    const nowMs = this.options.clock.nowMs();
    let best: { target: CleanableLog; state: CleanableState } | null = null;
    const present = new Set<string>();
    for (const target of logs) {
      const name = partitionName(target.topic, target.partition);
      present.add(name);
      if (!isCompacted(target.log.config) || this.uncleanable.has(name) || (this.retryAfterMs.get(name) ?? 0) > nowMs) continue;
      const state = this.cleanableState(target);
      if (state.segments.length === 0) continue;
      const ratioDue = state.dirtyBytes > 0 && state.dirtyRatio >= target.log.config.minCleanableDirtyRatio;
      const horizonDue = (this.pendingHorizonsMs.get(name) ?? Number.POSITIVE_INFINITY) <= nowMs;
      if ((ratioDue || horizonDue) && (best === null || state.dirtyRatio > best.state.dirtyRatio)) best = { target, state };
    }
    this.forgetAbsentLogs(present);
    if (best === null) return null;
    const done = this.startPass(best.target, best.state);
    return { topic: best.target.topic, partition: best.target.partition, dirtyRatio: best.state.dirtyRatio, done };
  }

  /** Cleans one log now, whatever its dirty ratio (tests, admin); waits for a running pass first. */
  async cleanNow(target: PartitionLog | CleanableLog): Promise<CleaningResult> {
    const cleanable = target instanceof PartitionLog ? { ...parsePartitionName(basename(target.directory)), log: target } : target;
    while (this.running !== null) await this.running;
    if (this.closed) throw new Error('the log cleaner is closed');
    return this.startPass(cleanable, this.cleanableState(cleanable));
  }

  /** Resolves when no pass runs. */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /** Stops: aborts a running job (its output is deleted) and destroys the pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pool = this.pool;
    this.pool = null;
    const directory = this.runningDirectory;
    if (pool !== null) await pool.destroy();
    await this.idle();
    // A job's thread may have written once more while it was being terminated.
    if (directory !== null && existsSync(directory)) removeCleanedFiles(directory);
  }

  private startPass(target: CleanableLog, state: CleanableState): Promise<CleaningResult> {
    const pass = this.runPass(target, state)
      .catch((error: unknown) => this.failed(this.emptyResult(target, state.firstDirtyOffset), errorMessage(error)))
      .finally(() => {
        this.running = null;
        this.runningDirectory = null;
      });
    this.running = pass;
    this.runningDirectory = target.log.directory;
    return pass;
  }

  private async runPass(target: CleanableLog, state: CleanableState): Promise<CleaningResult> {
    const name = partitionName(target.topic, target.partition);
    const result = this.emptyResult(target, state.firstDirtyOffset);
    if (state.segments.length === 0) return result;
    const { log } = target;
    let job: CompactionJobResult;
    try {
      job = await this.runJob(this.jobInput(target, state));
    } catch (error) {
      removeCleanedFiles(log.directory);
      this.retryAfterMs.set(name, this.options.clock.nowMs() + CleanerLimits.failureBackoffMs);
      return this.failed(result, `compaction job failed: ${errorMessage(error)}`);
    }
    if (job.corruption !== null) {
      this.uncleanable.set(name, job.corruption);
      return this.failed(result, `corrupt data, log marked uncleanable: ${job.corruption}`);
    }
    return this.swapIn(target, state, job, result);
  }

  private async swapIn(target: CleanableLog, state: CleanableState, job: CompactionJobResult, result: CleaningResult): Promise<CleaningResult> {
    const name = partitionName(target.topic, target.partition);
    const replacedBases = new Set(job.cleaned.flatMap((segment) => segment.replacedBaseOffsets));
    for (const baseOffset of job.emptyTrailingBaseOffsets) replacedBases.add(baseOffset);
    const originals = state.segments.filter((segment) => replacedBases.has(segment.baseOffset));
    result.stats = job.stats;
    if (job.cleaned.length === 0) {
      // Every cleanable record is superseded or an expired tombstone: nothing to swap in. The
      // records stay (the log keeps its start) and are tried again later, not at every tick.
      this.retryAfterMs.set(name, this.options.clock.nowMs() + CleanerLimits.failureBackoffMs);
      return result;
    }
    let swapped: boolean;
    try {
      swapped = await target.log.replaceSegments(job.cleaned, originals);
    } catch (error) {
      removeCleanedFiles(target.log.directory);
      return this.failed(result, `swap failed: ${errorMessage(error)}`);
    }
    if (!swapped) {
      if (existsSync(target.log.directory)) removeCleanedFiles(target.log.directory);
      result.outcome = CleaningOutcome.DISCARDED;
      return result;
    }
    result.outcome = CleaningOutcome.SWAPPED;
    result.segmentsReplaced = originals.length;
    result.segmentsWritten = job.cleaned.length;
    result.firstDirtyOffset = job.nextDirtyOffset;
    this.firstDirtyOffsets.set(name, job.nextDirtyOffset);
    this.checkpoint.write(this.firstDirtyOffsets);
    if (job.earliestDeleteHorizonMs === null) this.pendingHorizonsMs.delete(name);
    else this.pendingHorizonsMs.set(name, job.earliestDeleteHorizonMs);
    return result;
  }

  private jobInput(target: CleanableLog, state: CleanableState): CompactionJobInput {
    const { log } = target;
    const options = log.segmentFileOptions;
    return {
      directory: log.directory,
      segments: state.segments.map(({ baseOffset, nextOffset, sizeBytes }) => ({ baseOffset, nextOffset, sizeBytes })),
      firstDirtyOffset: state.firstDirtyOffset,
      nowMs: this.options.clock.nowMs(),
      deleteRetentionMs: log.config.deleteRetentionMs,
      segmentBytes: log.config.segmentBytes,
      indexIntervalBytes: options.indexIntervalBytes,
      maxIndexEntries: options.maxIndexEntries,
      maxBatchSizeBytes: log.maxBatchSizeBytes,
      maxOffsetMapEntries: this.options.maxOffsetMapEntries ?? CleanerLimits.maxOffsetMapEntries,
      maxOffsetMapKeyBytes: this.options.maxOffsetMapKeyBytes ?? CleanerLimits.maxOffsetMapKeyBytes,
    };
  }

  private async runJob(input: CompactionJobInput): Promise<CompactionJobResult> {
    if (this.options.runJob !== undefined) return this.options.runJob(input);
    if (this.closed) throw new Error('the log cleaner is closed');
    // piscina loads on the first job: most nodes never compact, and start-up stays lean.
    const { Piscina: PiscinaPool } = await import('piscina');
    if (this.closed) throw new Error('the log cleaner is closed');
    this.pool ??= new PiscinaPool({
      filename: new URL('./compaction-worker.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: 1,
      idleTimeout: this.options.poolIdleTimeoutMs ?? CleanerLimits.poolIdleTimeoutMs,
    });
    return (await this.pool.run(input)) as CompactionJobResult;
  }

  /** Drops checkpoint entries of partitions this node no longer has (written with the next swap). */
  private forgetAbsentLogs(present: ReadonlySet<string>): void {
    for (const name of this.firstDirtyOffsets.keys()) {
      if (!present.has(name)) this.firstDirtyOffsets.delete(name);
    }
    for (const name of this.pendingHorizonsMs.keys()) {
      if (!present.has(name)) this.pendingHorizonsMs.delete(name);
    }
  }

  private emptyResult(target: CleanableLog, firstDirtyOffset: number): CleaningResult {
    return {
      topic: target.topic,
      partition: target.partition,
      outcome: CleaningOutcome.NOTHING_TO_CLEAN,
      firstDirtyOffset,
      segmentsReplaced: 0,
      segmentsWritten: 0,
      stats: null,
      error: null,
    };
  }

  private failed(result: CleaningResult, message: string): CleaningResult {
    this.logLine(`log cleaner: ${result.topic}-${result.partition}: ${message}`);
    result.outcome = CleaningOutcome.FAILED;
    result.error = message;
    return result;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
