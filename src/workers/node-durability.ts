/**
 * How a node makes its appends durable: after each ring drain, one group-committed flush per
 * log appended to (inline on the node thread when it is the only one, see InlineFlushPolicy),
 * or one fdatasync of the node journal for every log appended to through it; then the
 * journal's checkpoints, which fsync the journaled logs in their own files and cut the journal
 * back; and, after a crash, the journal's replay. The node tells it what it appended and hears
 * back which replicas' durable end may have moved.
 */
import { join } from 'node:path';
import { KafkaError } from '../protocol/errors.js';
import type { MonotonicClock } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import type { StorageFileOps } from '../storage/file-ops.js';
import type { LogConfig } from '../storage/log-config.js';
import type { OffsetRange } from '../storage/log-durability.js';
import type { LogManager } from '../storage/log-manager.js';
import { JournalEntryKind, NodeJournal, type JournalEntry, type JournalPosition } from '../storage/node-journal.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { InlineFlushPolicy } from './inline-flush-policy.js';
import type { PartitionReplica } from './partition-replica.js';

const JOURNAL_DIRECTORY = 'journal';
/** The node journal rolls to a new file at this size; checkpoints delete the old ones. */
const JOURNAL_FILE_BYTES = 64 * 1024 * 1024;
const DEFAULT_JOURNAL_CHECKPOINT_INTERVAL_MS = 1000;
/** A checkpoint also starts once this much was journaled since the last (bounds replay time). */
const JOURNAL_CHECKPOINT_BYTES = 256 * 1024 * 1024;
/**
 * Segment fsyncs a journal checkpoint runs at once: they share libuv's threadpool with the
 * journal's own fdatasync, which acknowledgements wait for, so they must not fill it.
 */
const CHECKPOINT_FLUSH_CONCURRENCY = 4;

export interface NodeDurabilityOptions {
  readonly dataDir: string;
  /** 'auto' journals multi-partition produce requests, 'always' every produce append, 'off' none. */
  readonly journal: 'off' | 'auto' | 'always';
  readonly journalCheckpointIntervalMs: number | undefined;
  readonly logs: LogManager;
  /** Topic configs by name, for logs the journal replay has to create. */
  readonly topicConfigs: ReadonlyMap<string, LogConfig>;
  readonly files: StorageFileOps | undefined;
  readonly monotonicClock: MonotonicClock;
  readonly startMs: number;
  readonly logger: Logger;
  /** The durable end of `replica`'s log may have moved (its high watermark may follow). */
  readonly onDurable: (replica: PartitionReplica) => void;
}

/** Appends the journal holds for one log in a drain: contiguous runs of offsets. */
type JournaledAppends = [PartitionReplica, OffsetRange[]];

/** Flushes `logs`, `concurrency` at a time; resolves with how many failed (each is offline then). */
async function flushWithLimit(logs: readonly PartitionLog[], concurrency: number): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < logs.length) await logs[next++]!.flush().catch(() => failed++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, logs.length) }, worker));
  return failed;
}

export class NodeDurability {
  /** The node journal when enabled (log.journal). */
  readonly journal: NodeJournal | null;
  /** Logs appended to in the current drain without the journal: one flush each afterwards. */
  private readonly logsToFlush = new Set<PartitionReplica>();
  /**
   * Logs appended to through the journal in the current drain, with the offset ranges the
   * journal holds for them (contiguous runs only: a log may also take non-journaled appends).
   */
  private readonly journaledThisDrain = new Map<PartitionReplica, OffsetRange[]>();
  /** Logs the journal holds appends of since its last checkpoint. */
  private readonly journaledSinceCheckpoint = new Set<PartitionLog>();
  /** Whether a drain's single flush runs on this thread (off while fsyncs are slow). */
  private readonly inlineFlushes = new InlineFlushPolicy();
  private checkpointing: Promise<void> | null = null;
  private lastJournalCheckpointMs: number;

  constructor(private readonly options: NodeDurabilityOptions) {
    this.journal =
      options.journal !== 'off' ? NodeJournal.open(join(options.dataDir, JOURNAL_DIRECTORY), JOURNAL_FILE_BYTES, options.files, options.logs.logDir) : null;
    this.lastJournalCheckpointMs = options.startMs;
  }

  /** Whether a produce request for `partitionCount` partitions goes through the journal. */
  journals(partitionCount: number): boolean {
    return this.journal !== null && (this.options.journal === 'always' || partitionCount > 1);
  }

  /** The journal failed (or its dir is offline): requests that need it must be refused. */
  get isJournalOffline(): boolean {
    return this.journal?.isOffline === true;
  }

  /**
   * Records an append of `records` (offsets `appended`) to `replica` in the current drain:
   * through the journal when `journaled` and the log waits for fsync, else for its own flush.
   * Throws KAFKA_STORAGE_ERROR when the journal write fails.
   */
  recordAppend(replica: PartitionReplica, records: Buffer, appended: OffsetRange, journaled: boolean): void {
    if (replica.waitsForFsync && journaled && this.journal !== null) {
      // The batch is patched in place with its offsets: the journal holds what the log holds.
      this.journal.append(replica.topic, replica.partition, records);
      this.journaledSinceCheckpoint.add(replica.log);
      this.recordJournaledRange(replica, appended);
    } else {
      this.logsToFlush.add(replica);
    }
  }

  /**
   * Truncates `replica`'s log to `offset` (a diverged follower) so that no replay brings the
   * removed batches back: the journal replays by offset only, and after a crash it would
   * re-append them at the log end, ahead of (and so in place of) whatever was appended at those
   * offsets since. The truncation goes into the journal as an entry of its own, in order among
   * the appends (see NodeJournal), and is fsynced before this resolves; a forced checkpoint
   * instead would leave them replayable until the checkpoint lands, and cost an fsync of every
   * journaled log. The caller appends nothing to the replica until this resolves.
   */
  async truncateLog(replica: PartitionReplica, offset: number): Promise<void> {
    const journal = this.journal;
    // Journal flushes under way acknowledge ranges by offset: they must land before those
    // offsets can name other batches.
    if (journal !== null && !journal.isOffline) await journal.flush();
    const log = replica.log;
    const endBefore = log.logEndOffset;
    await log.truncateTo(offset);
    const logEndOffset = log.logEndOffset;
    if (logEndOffset >= endBefore) return;
    this.forgetJournaledPast(replica, logEndOffset);
    if (journal === null) return;
    journal.appendTruncation(replica.topic, replica.partition, logEndOffset);
    await journal.flush();
  }

  /** Journaled appends of this drain at or past `logEndOffset` were truncated: never acknowledge them. */
  private forgetJournaledPast(replica: PartitionReplica, logEndOffset: number): void {
    const ranges = this.journaledThisDrain.get(replica);
    if (ranges === undefined) return;
    const kept = ranges.filter((range) => range.from < logEndOffset).map((range) => ({ from: range.from, to: Math.min(range.to, logEndOffset) }));
    if (kept.length > 0) this.journaledThisDrain.set(replica, kept);
    else this.journaledThisDrain.delete(replica);
  }

  /**
   * A log appended to outside the produce path (group coordinator records) needs its flush:
   * during a drain it joins the drain's flush, otherwise it flushes now on the threadpool.
   */
  flushSoon(replica: PartitionReplica, draining: boolean): void {
    if (draining) {
      this.logsToFlush.add(replica);
      return;
    }
    this.flushOnThreadpool(replica);
  }

  /**
   * After a drain: one group-committed flush per log appended to, then the high watermark
   * moves and parked fetches wake. Under interval/never the watermark moves at once.
   */
  flushAfterDrain(): void {
    if (this.flushInlineIfSingle()) return;
    if (this.journal !== null && this.journaledThisDrain.size > 0) this.flushThroughJournal(this.journal);
    if (this.logsToFlush.size === 0) return;
    for (const replica of this.logsToFlush) {
      if (replica.waitsForFsync) this.flushOnThreadpool(replica);
      else this.options.onDurable(replica);
    }
    this.logsToFlush.clear();
  }

  private flushOnThreadpool(replica: PartitionReplica): void {
    replica.log.flush().then(
      () => this.options.onDurable(replica),
      (error: unknown) => this.options.logger.error('flush failed', { topic: replica.topic, partition: replica.partition, error: String(error) }),
    );
  }

  /**
   * When a drain left exactly one file to fdatasync (one log, or only the journal) and no
   * flush of it is already running, the node thread fsyncs it itself, now: it would only wait
   * for that flush anyway, and skipping the threadpool hand-off and the wake-up after it saves
   * about a fifth of a produce round trip (on the dev box, 1 partition at 16 KiB batches:
   * 650 k -> 780-920 k msgs/s). Requests arriving meanwhile wait in the ring and share the next
   * flush. Several files go to the threadpool, where their fsyncs overlap; so does everything
   * while inline fsyncs are slow (InlineFlushPolicy: a slow disk must not stall the thread).
   */
  private flushInlineIfSingle(): boolean {
    const clock = this.options.monotonicClock;
    const startedMs = clock.monotonicNowMs();
    if (!this.inlineFlushes.allows(startedMs)) return false;
    const journal = this.journal;
    const journaled = journal !== null && this.journaledThisDrain.size > 0;
    let onlyLogToFlush: PartitionReplica | null = null;
    for (const replica of this.logsToFlush) {
      if (!replica.waitsForFsync) continue;
      if (journaled || onlyLogToFlush !== null) return false;
      onlyLogToFlush = replica;
    }
    if (journaled) {
      if (journal.isFlushing) return false;
      this.flushJournalNow(journal);
    } else if (onlyLogToFlush !== null) {
      // A replicated partition's fsync goes to the threadpool: blocking the node thread would
      // hold back the follower fetches (and with them acks=all) of every partition it leads.
      if (onlyLogToFlush.log.isFlushing || onlyLogToFlush.state.replicas.length > 1) return false;
      this.flushLogNow(onlyLogToFlush);
    } else if (this.logsToFlush.size === 0) {
      return false;
    }
    if (journaled || onlyLogToFlush !== null) {
      const endedMs = clock.monotonicNowMs();
      this.inlineFlushes.record(endedMs - startedMs, endedMs);
    }
    for (const replica of this.logsToFlush) this.options.onDurable(replica);
    this.logsToFlush.clear();
    return true;
  }

  private flushJournalNow(journal: NodeJournal): void {
    const journaledAppends = [...this.journaledThisDrain];
    this.journaledThisDrain.clear();
    try {
      journal.flushNow();
    } catch (error) {
      this.journalFailed(journaledAppends, error);
      return;
    }
    this.acknowledgeJournaled(journaledAppends);
  }

  private flushLogNow(replica: PartitionReplica): void {
    try {
      replica.log.flushNow();
    } catch (error) {
      // The log is offline now and its waiters were rejected with KAFKA_STORAGE_ERROR.
      this.options.logger.error('flush failed', { topic: replica.topic, partition: replica.partition, error: String(error) });
    }
  }

  private recordJournaledRange(replica: PartitionReplica, appended: OffsetRange): void {
    let ranges = this.journaledThisDrain.get(replica);
    if (ranges === undefined) this.journaledThisDrain.set(replica, (ranges = []));
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.to === appended.from) last.to = appended.to;
    else ranges.push({ from: appended.from, to: appended.to });
  }

  /** One journal fdatasync covers every log appended to through it in this drain. */
  private flushThroughJournal(journal: NodeJournal): void {
    const journaledAppends = [...this.journaledThisDrain];
    this.journaledThisDrain.clear();
    journal.flush().then(
      () => this.acknowledgeJournaled(journaledAppends),
      (error: unknown) => this.journalFailed(journaledAppends, error),
    );
  }

  /**
   * The journal failed to fsync appends it held: their logs cannot acknowledge them, so they go
   * offline (their waiting produce requests get KAFKA_STORAGE_ERROR), and the journal takes no
   * more appends (see NodeJournal.fail); the data dir goes offline with it.
   */
  private journalFailed(journaledAppends: readonly JournaledAppends[], error: unknown): void {
    const cause = error instanceof Error ? error : new Error(String(error));
    this.options.logger.error('node journal flush failed; its logs go offline', { error: cause.message, logs: journaledAppends.length });
    for (const [replica] of journaledAppends) replica.log.takeOffline(cause);
  }

  private acknowledgeJournaled(journaledAppends: readonly JournaledAppends[]): void {
    for (const [replica, ranges] of journaledAppends) {
      for (const range of ranges) replica.log.acknowledgeDurable(range.from, range.to);
      this.options.onDurable(replica);
    }
  }

  // ---- journal recovery and checkpoints --------------------------------------------------

  /**
   * Puts back what the node journal holds beyond the logs (appends acknowledged before a crash
   * whose segment files were not fsynced yet), makes it durable in the logs, and moves the
   * journal's checkpoint to its end. Runs once, before serving.
   */
  async recoverFromJournal(): Promise<number> {
    if (this.journal === null) return 0;
    const { logs } = this.options;
    const replayed = new Set<PartitionLog>();
    /** Each log's end offset before the replay touched it: what its segment files held. */
    const endsBeforeReplay = new Map<PartitionLog, number>();
    let batches = 0;
    let truncations = 0;
    try {
      for (const entry of this.journal.replay()) {
        const log = this.logToReplayInto(entry);
        if (log === undefined) continue; // the topic was deleted
        if (!endsBeforeReplay.has(log)) endsBeforeReplay.set(log, log.logEndOffset);
        const changed =
          entry.kind === JournalEntryKind.RECORDS
            ? log.appendRecovered(entry.records)
            : await this.replayTruncation(log, entry.logEndOffset, endsBeforeReplay.get(log)!);
        if (changed === 0) continue;
        replayed.add(log);
        if (entry.kind === JournalEntryKind.RECORDS) batches += changed;
        else truncations++;
      }
      await Promise.all([...replayed].map((log) => log.flush()));
      this.journal.checkpoint(this.journal.position);
    } catch (error) {
      // Still full: the node serves with its dir offline, and the journal keeps what it holds.
      if (!(error instanceof KafkaError && logs.logDir.isOffline)) throw error;
    }
    if (replayed.size > 0) this.options.logger.info('replayed the node journal', { batches, truncations, logs: replayed.size });
    return batches;
  }

  private logToReplayInto(entry: JournalEntry): PartitionLog | undefined {
    const { logs, topicConfigs } = this.options;
    const log = logs.get(entry.topic, entry.partition);
    if (log !== undefined || entry.kind === JournalEntryKind.TRUNCATION) return log;
    const config = topicConfigs.get(entry.topic);
    return config === undefined ? undefined : logs.getOrCreate(entry.topic, entry.partition, config);
  }

  /**
   * A journaled truncation to `logEndOffset`: takes back what this replay re-appended at or
   * past it (batches the truncation had removed), so the appends journaled after it land in
   * their place. What the segment files held before the replay stays: appends after the
   * truncation that reached the files without the journal look the same as truncated batches
   * whose removal the crash undid, and replication's divergence check settles the latter.
   * Returns 1 if it truncated, else 0.
   */
  private async replayTruncation(log: PartitionLog, logEndOffset: number, endBeforeReplay: number): Promise<number> {
    const keepBelow = Math.max(logEndOffset, endBeforeReplay);
    if (log.logEndOffset <= keepBelow) return 0;
    await log.truncateTo(keepBelow);
    return 1;
  }

  /** Checkpoints the journal when its interval passed or it grew large (from the node's tick). */
  async maybeCheckpointJournal(nowMs: number): Promise<void> {
    const intervalMs = this.options.journalCheckpointIntervalMs ?? DEFAULT_JOURNAL_CHECKPOINT_INTERVAL_MS;
    const journalDue = nowMs - this.lastJournalCheckpointMs >= intervalMs;
    if (!journalDue && (this.journal?.bytesSinceCheckpoint ?? 0) < JOURNAL_CHECKPOINT_BYTES) return;
    this.lastJournalCheckpointMs = nowMs;
    await this.checkpointJournal();
  }

  /** A checkpoint covering everything journaled so far (after deletions: never replay them). */
  async forceJournalCheckpoint(): Promise<void> {
    if (this.journal === null || this.journal.isOffline) return;
    await this.checkpointing;
    await this.checkpointJournal();
  }

  /**
   * Makes the journaled logs durable in their own files, then moves the journal checkpoint past
   * everything they hold; the journal files before it are deleted.
   */
  private checkpointJournal(): Promise<void> {
    const journal = this.journal;
    if (journal === null || this.checkpointing !== null || journal.bytesSinceCheckpoint === 0) return this.checkpointing ?? Promise.resolve();
    const position = journal.position;
    const logs = [...this.journaledSinceCheckpoint];
    this.journaledSinceCheckpoint.clear();
    this.checkpointing = flushWithLimit(logs, CHECKPOINT_FLUSH_CONCURRENCY)
      .then((failed) => {
        // A log that failed its flush holds journaled appends only the journal has: keep them.
        if (failed === 0 && !journal.isOffline) journal.checkpoint(position);
      })
      .catch((error: unknown) => {
        if (!(error instanceof KafkaError)) throw error; // the dir went offline meanwhile
      })
      .finally(() => (this.checkpointing = null));
    return this.checkpointing;
  }

  /** Where the journal ends now; `close` checkpoints there once the logs are flushed and closed. */
  get journalEnd(): JournalPosition | undefined {
    return this.journal?.position;
  }

  /**
   * After the logs closed (flushed): nothing before `journalEnd` needs replaying, unless a log
   * or the dir is offline; then the journal is what puts their acknowledged appends back.
   */
  async close(journalEnd: JournalPosition | undefined): Promise<void> {
    const journal = this.journal;
    if (journal === null || journalEnd === undefined) return;
    await this.checkpointing;
    const allFlushed = !journal.isOffline && this.options.logs.partitions().every(({ log }) => !log.isOffline);
    if (allFlushed) {
      try {
        journal.checkpoint(journalEnd);
      } catch (error) {
        if (!(error instanceof KafkaError)) throw error; // the dir is offline: replay at restart
      }
    }
    await journal.close();
  }
}
