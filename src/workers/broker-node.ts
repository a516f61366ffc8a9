/**
 * One broker node, inside its worker thread: the partition replicas it hosts (a LogManager
 * over its own data dir), the produce path (append from the ring, group-committed fsync, ack),
 * the fetch path (read or park), and the control operations. I/O comes in through the request
 * ring and goes out through the completion ring; the node never touches a socket.
 */
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { batchSizeBytes } from '../protocol/records/batch.js';
import { LOG_OVERHEAD_BYTES } from '../protocol/records/layout.js';
import type { Clock, MonotonicClock } from '../runtime/clock.js';
import { Limits } from '../runtime/limits.js';
import type { Logger } from '../runtime/logger.js';
import { RingReader, RingWriter } from '../runtime/shared-ring.js';
import type { LogConfig } from '../storage/log-config.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { NodeJournal, type JournalPosition } from '../storage/node-journal.js';
import type { StorageFileOps } from '../storage/file-ops.js';
import { join } from 'node:path';
import { LogManager } from '../storage/log-manager.js';
import type { LogCleaner } from '../storage/cleaner/log-cleaner.js';
import { FetchPurgatory, type ParkedFetch } from './fetch-purgatory.js';
import type { GroupCoordinatorConfig } from '../group/index.js';
import { GroupCoordinators, type ForwardedGroupRequest } from './group-coordinators.js';
import {
  MessageKind,
  messageKind,
  readControl,
  readFetchRequest,
  readProduceRequest,
  writeControl,
  fetchCompletionFieldBytes,
  writeFetchCompletion,
  writeProduceCompletion,
  type ControlRequest,
  type ControlResponse,
  type DeleteRecordsResult,
  type FetchPartitionResult,
  type FetchRequest,
  type ListOffsetsResult,
  type ProducePartitionResult,
  type ProduceRequest,
} from './node-protocol.js';
import { InlineFlushPolicy } from './inline-flush-policy.js';
import { PartitionReplica, replicaKey } from './partition-replica.js';

export interface BrokerNodeOptions {
  nodeId: number;
  dataDir: string;
  requestRing: SharedArrayBuffer;
  completionRing: SharedArrayBuffer;
  /** Storage config per topic known at start (logs found on disk are opened with it). */
  topicConfigs: Record<string, LogConfig>;
  defaultLogConfig: LogConfig;
  retentionCheckIntervalMs: number;
  checkpointIntervalMs: number;
  groupConfig: Partial<GroupCoordinatorConfig>;
  /**
   * The node journal: 'auto' sends multi-partition produce requests through it (one fsync for
   * all their partitions), 'always' every produce append, 'off' none.
   */
  journal?: 'off' | 'auto' | 'always';
  /** How often the journaled logs are fsynced and the journal cut back (default 1 s). */
  journalCheckpointIntervalMs?: number;
  clock: Clock;
  /** Times inline fsyncs for the InlineFlushPolicy. */
  monotonicClock: MonotonicClock;
  logger: Logger;
  /** The file system calls that write the data dir (default node:fs); tests inject faults. */
  files?: StorageFileOps;
  /** Told once when the data dir goes offline after an I/O error (the front end's Metadata). */
  onLogDirOffline?: (reason: string) => void;
}

const ISOLATION_READ_COMMITTED = 1;
const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';
const LATEST_TIMESTAMP = -1;
const EARLIEST_TIMESTAMP = -2;
const MAINTENANCE_INTERVAL_MS = 1000;
const JOURNAL_DIRECTORY = 'journal';
/** The node journal rolls to a new file at this size; checkpoints delete the old ones. */
const JOURNAL_FILE_BYTES = 64 * 1024 * 1024;
const DEFAULT_JOURNAL_CHECKPOINT_INTERVAL_MS = 1000;
/** A checkpoint also starts once this much was journaled since the last (bounds replay time). */
const JOURNAL_CHECKPOINT_BYTES = 256 * 1024 * 1024;
/** Ring messages handled before the node lets its event loop run (fsync completions, timers). */
const MAX_MESSAGES_PER_DRAIN = 256;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Segment fsyncs a journal checkpoint runs at once: they share libuv's threadpool with the
 * journal's own fdatasync, which acknowledgements wait for, so they must not fill it.
 */
const CHECKPOINT_FLUSH_CONCURRENCY = 4;

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

export class BrokerNode {
  readonly nodeId: number;
  private readonly requests: RingReader;
  private readonly completions: RingWriter;
  private readonly logs: LogManager;
  private readonly replicas = new Map<string, PartitionReplica>();
  private readonly purgatory = new FetchPurgatory();
  private readonly groups: GroupCoordinators;
  /**
   * Log compaction for compacted topics (cleanup.policy=compact), in a piscina pool. Loaded at
   * the first maintenance tick, not at start: start-up time is paid by every node.
   */
  private cleaner: LogCleaner | null = null;
  private cleanerLoading: Promise<LogCleaner> | null = null;
  /** Completions that did not fit the ring yet, in order. */
  private readonly backlog: Array<(ring: RingWriter) => boolean> = [];
  private readonly topicConfigs: Map<string, LogConfig>;
  /** Logs appended to in the current drain without the journal: one flush each afterwards. */
  private readonly touched = new Set<PartitionReplica>();
  /**
   * Logs appended to through the journal in the current drain, with the offset ranges the
   * journal holds for them (contiguous runs only: a log may also take non-journaled appends).
   */
  private readonly journaledThisDrain = new Map<PartitionReplica, Array<{ from: number; to: number }>>();
  private running = true;
  /** Inside a ring drain: appends made now are flushed together at its end (flushTouched). */
  private draining = false;
  private backlogDraining = false;
  private lastMaintenanceMs = 0;
  /** The node journal when enabled (log.journal.enable), and the logs it covers since its checkpoint. */
  private readonly journal: NodeJournal | null;
  private readonly journaledSinceCheckpoint = new Set<PartitionLog>();
  /** Whether a drain's single flush runs on this thread (off while fsyncs are slow). */
  private readonly inlineFlushes = new InlineFlushPolicy();
  private checkpointing: Promise<void> | null = null;
  private lastJournalCheckpointMs: number;

  constructor(private readonly options: BrokerNodeOptions) {
    this.nodeId = options.nodeId;
    this.requests = new RingReader(options.requestRing);
    this.completions = new RingWriter(options.completionRing);
    this.topicConfigs = new Map(Object.entries(options.topicConfigs));
    this.logs = LogManager.open({
      dataDir: options.dataDir,
      clock: options.clock,
      configFor: (topic) => this.topicConfigs.get(topic) ?? options.defaultLogConfig,
      retentionCheckIntervalMs: options.retentionCheckIntervalMs,
      checkpointIntervalMs: options.checkpointIntervalMs,
      ...(options.files === undefined ? {} : { files: options.files }),
      log: (message) => options.logger.warn(message),
    });
    this.logs.logDir.onOffline((cause, operation) => this.onLogDirOffline(cause, operation));
    this.groups = new GroupCoordinators(
      options.clock,
      options.logger.child(`node-${options.nodeId}-groups`),
      options.groupConfig,
      (replica) => this.onHighWatermarkMaybeMoved(replica),
      (replica) => this.flushSoon(replica),
    );
    this.journal =
      (options.journal ?? 'off') !== 'off' ? NodeJournal.open(join(options.dataDir, JOURNAL_DIRECTORY), JOURNAL_FILE_BYTES, options.files, this.logs.logDir) : null;
    this.lastMaintenanceMs = options.clock.nowMs();
    this.lastJournalCheckpointMs = options.clock.nowMs();
  }

  /**
   * Puts back what the node journal holds beyond the logs (appends acknowledged before a crash
   * whose segment files were not fsynced yet), makes it durable in the logs, and moves the
   * journal's checkpoint to its end. Runs once, before serving.
   */
  async recoverFromJournal(): Promise<number> {
    if (this.journal === null) return 0;
    const replayed = new Set<PartitionLog>();
    let batches = 0;
    try {
      for (const entry of this.journal.replay()) {
        const config = this.topicConfigs.get(entry.topic);
        const log = this.logs.get(entry.topic, entry.partition) ?? (config === undefined ? undefined : this.logs.getOrCreate(entry.topic, entry.partition, config));
        if (log === undefined) continue; // the topic was deleted
        const appended = log.appendRecovered(entry.records);
        if (appended > 0) replayed.add(log);
        batches += appended;
      }
      await Promise.all([...replayed].map((log) => log.flush()));
      this.journal.checkpoint(this.journal.position);
    } catch (error) {
      // Still full: the node serves with its dir offline, and the journal keeps what it holds.
      if (!(error instanceof KafkaError && this.logs.logDir.isOffline)) throw error;
    }
    if (batches > 0) this.options.logger.info('replayed the node journal', { batches, logs: replayed.size });
    return batches;
  }

  /**
   * The data dir failed a write (a full disk, an I/O error): every log in it is offline now and
   * its waiting acknowledgements failed. Parked fetches for its partitions answer at once, the
   * front end is told (Metadata reports the partitions offline), and the operator learns what
   * to do. Nothing acknowledged is lost: it is fsynced in the segments or the node journal.
   */
  private onLogDirOffline(cause: Error, operation: string): void {
    const code = (cause as NodeJS.ErrnoException).code ?? 'an error';
    const reason = `${operation} failed with ${code}: ${cause.message}`;
    this.options.logger.error(
      `log dir ${this.options.dataDir} of node ${this.nodeId} is offline: ${reason}. Its partitions answer KAFKA_STORAGE_ERROR to produce and fetch; ` +
        'the other nodes keep serving. Acknowledged records are safe on disk. Free space on that filesystem (or replace the failing disk) and restart the broker.',
      { node: this.nodeId, dataDir: this.options.dataDir, code },
    );
    this.options.onLogDirOffline?.(reason);
    for (const replica of this.replicas.values()) {
      for (const parked of this.purgatory.watching(replica.topic, replica.partition)) this.tryCompleteParked(parked, true);
    }
  }

  get openedAfterCleanShutdown(): boolean {
    return this.logs.openedAfterCleanShutdown;
  }

  get partitionCount(): number {
    return this.logs.partitions().length;
  }

  /**
   * Serves the request ring until shutdown. Each pass handles a bounded number of messages and
   * then yields, so fsync completions, timers and parked fetches run even while a producer
   * keeps the ring full (acks=0 senders do not wait for anything).
   */
  async serve(): Promise<void> {
    while (this.running) {
      this.draining = true;
      try {
        this.requests.drain(this.handleMessage, MAX_MESSAGES_PER_DRAIN);
      } finally {
        this.draining = false;
      }
      this.flushTouched();
      if (!this.running) break;
      if (this.requests.isEmpty) await this.requests.waitForData();
      else await yieldToEventLoop();
    }
  }

  private readonly handleMessage = (bytes: Buffer, offset: number, length: number): void => {
    switch (messageKind(bytes, offset)) {
      case MessageKind.PRODUCE:
        this.handleProduce(readProduceRequest(bytes, offset));
        break;
      case MessageKind.FETCH:
        this.handleFetch(readFetchRequest(bytes, offset));
        break;
      case MessageKind.CONTROL: {
        const { requestId, message } = readControl<ControlRequest>(bytes, offset, length);
        void this.handleControl(requestId, message);
        break;
      }
      default:
        throw new Error(`node ${this.nodeId}: unknown ring message kind ${messageKind(bytes, offset)}`);
    }
  };

  // ---- produce ----------------------------------------------------------------------------

  private handleProduce(request: ProduceRequest): void {
    const results: ProducePartitionResult[] = [];
    const durable: Array<Promise<void>> = [];
    // A request for several partitions goes through the journal (one fsync instead of one per
    // partition); a single-partition request fsyncs its own log and skips the journal.
    const journaled = this.journal !== null && (this.options.journal === 'always' || request.partitions.length > 1);
    for (const partition of request.partitions) {
      const replica = this.replicas.get(replicaKey(partition.topic, partition.partition));
      results.push(this.appendPartition(replica, partition.topic, partition.partition, partition.records, request.acks, durable, journaled));
    }
    if (request.acks === 0) return;
    if (durable.length === 0) {
      this.complete((ring) => writeProduceCompletion(ring, request.requestId, results));
      return;
    }
    Promise.all(durable).then(
      () => this.complete((ring) => writeProduceCompletion(ring, request.requestId, results)),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        for (const result of results) {
          if (result.errorCode === ErrorCode.NONE) Object.assign(result, { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, baseOffset: -1, errorMessage: message });
        }
        this.complete((ring) => writeProduceCompletion(ring, request.requestId, results));
      },
    );
  }

  private appendPartition(
    replica: PartitionReplica | undefined,
    topic: string,
    partition: number,
    records: Buffer,
    acks: number,
    durable: Array<Promise<void>>,
    journaled: boolean,
  ): ProducePartitionResult {
    if (replica === undefined) {
      return produceError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `node ${this.nodeId} does not lead ${topic}-${partition}`);
    }
    if (records.length >= LOG_OVERHEAD_BYTES && batchSizeBytes(records, 0) < records.length) {
      // Kafka: Produce v3+ carries exactly one record batch per partition.
      return produceError(ErrorCode.INVALID_RECORD, 'produce requests may carry only one record batch per partition');
    }
    if (replica.log.isOffline) {
      return produceError(ErrorCode.KAFKA_STORAGE_ERROR, `node ${this.nodeId}: ${topic}-${partition} is offline after a storage error`);
    }
    if (journaled && replica.waitsForFsync && this.journal?.isOffline === true) {
      // Checked before the log append: a batch must not land in the log unacknowledgeable.
      return produceError(ErrorCode.KAFKA_STORAGE_ERROR, `node ${this.nodeId}: the node journal is offline after a failed flush`);
    }
    try {
      const appended = replica.log.appendAsLeader(records, replica.leaderEpoch);
      if (replica.waitsForFsync && journaled && this.journal !== null) {
        // The batch is patched in place with its offsets: the journal holds what the log holds.
        this.journal.append(topic, partition, records);
        this.journaledSinceCheckpoint.add(replica.log);
        this.recordJournaledRange(replica, appended.baseOffset, appended.lastOffset + 1);
      } else {
        this.touched.add(replica);
      }
      if (acks !== 0 && replica.waitsForFsync) durable.push(replica.log.whenDurable(appended.lastOffset));
      return { errorCode: ErrorCode.NONE, baseOffset: appended.baseOffset, logAppendTimeMs: appended.logAppendTimeMs, logStartOffset: replica.log.logStartOffset, errorMessage: '' };
    } catch (error) {
      if (error instanceof KafkaError) {
        this.options.logger.debug('produce rejected', { topic, partition, code: error.code, reason: error.message });
        return produceError(error.code, error.message);
      }
      throw error;
    }
  }

  /**
   * After a drain: one group-committed flush per log appended to, then the high watermark
   * moves and parked fetches wake. Under interval/never the watermark moves at once.
   */
  private flushTouched(): void {
    if (this.flushInlineIfAlone()) return;
    if (this.journal !== null && this.journaledThisDrain.size > 0) this.flushThroughJournal(this.journal);
    if (this.touched.size === 0) return;
    for (const replica of this.touched) {
      if (replica.waitsForFsync) {
        replica.log.flush().then(
          () => this.onHighWatermarkMaybeMoved(replica),
          (error: unknown) => this.options.logger.error('flush failed', { topic: replica.topic, partition: replica.partition, error: String(error) }),
        );
      } else {
        this.onHighWatermarkMaybeMoved(replica);
      }
    }
    this.touched.clear();
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
  private flushInlineIfAlone(): boolean {
    const startedMs = this.options.monotonicClock.monotonicNowMs();
    if (!this.inlineFlushes.allows(startedMs)) return false;
    const journal = this.journal;
    const journaled = journal !== null && this.journaledThisDrain.size > 0;
    let alone: PartitionReplica | null = null;
    for (const replica of this.touched) {
      if (!replica.waitsForFsync) continue;
      if (journaled || alone !== null) return false;
      alone = replica;
    }
    if (journaled) {
      if (journal.isFlushing) return false;
      const covered = [...this.journaledThisDrain];
      this.journaledThisDrain.clear();
      let flushed = true;
      try {
        journal.flushNow();
      } catch (error) {
        flushed = false;
        this.journalFailed(covered, error);
      }
      if (flushed) this.acknowledgeJournaled(covered);
    } else if (alone !== null) {
      if (alone.log.isFlushing) return false;
      try {
        alone.log.flushNow();
      } catch (error) {
        // The log is offline now and its waiters were rejected with KAFKA_STORAGE_ERROR.
        this.options.logger.error('flush failed', { topic: alone.topic, partition: alone.partition, error: String(error) });
      }
    } else if (this.touched.size === 0) {
      return false;
    }
    if (journaled || alone !== null) {
      const endedMs = this.options.monotonicClock.monotonicNowMs();
      this.inlineFlushes.record(endedMs - startedMs, endedMs);
    }
    for (const replica of this.touched) this.onHighWatermarkMaybeMoved(replica);
    this.touched.clear();
    return true;
  }


  /**
   * A log appended to outside the produce path (group coordinator records) needs its flush:
   * during a drain it joins the drain's flush, otherwise it flushes now on the threadpool.
   */
  private flushSoon(replica: PartitionReplica): void {
    if (this.draining) {
      this.touched.add(replica);
      return;
    }
    replica.log.flush().then(
      () => this.onHighWatermarkMaybeMoved(replica),
      (error: unknown) => this.options.logger.error('flush failed', { topic: replica.topic, partition: replica.partition, error: String(error) }),
    );
  }

  private recordJournaledRange(replica: PartitionReplica, from: number, to: number): void {
    let ranges = this.journaledThisDrain.get(replica);
    if (ranges === undefined) this.journaledThisDrain.set(replica, (ranges = []));
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.to === from) last.to = to;
    else ranges.push({ from, to });
  }

  /** One journal fdatasync covers every log appended to through it in this drain. */
  private flushThroughJournal(journal: NodeJournal): void {
    const covered = [...this.journaledThisDrain];
    this.journaledThisDrain.clear();
    journal.flush().then(
      () => this.acknowledgeJournaled(covered),
      (error: unknown) => this.journalFailed(covered, error),
    );
  }


  /**
   * The journal failed to fsync appends it held: their logs cannot acknowledge them, so they go
   * offline (their waiting produce requests get KAFKA_STORAGE_ERROR), and the journal takes no
   * more appends (see NodeJournal.fail): requests that need it are refused with the same code,
   * while single-partition requests go on fsyncing their own logs.
   */
  private journalFailed(covered: ReadonlyArray<[PartitionReplica, unknown]>, error: unknown): void {
    const cause = error instanceof Error ? error : new Error(String(error));
    this.options.logger.error('node journal flush failed; its logs go offline', { error: cause.message, logs: covered.length });
    for (const [replica] of covered) replica.log.takeOffline(cause);
  }

  private acknowledgeJournaled(covered: ReadonlyArray<[PartitionReplica, ReadonlyArray<{ from: number; to: number }>]>): void {
    for (const [replica, ranges] of covered) {
      for (const range of ranges) replica.log.acknowledgeDurable(range.from, range.to);
      this.onHighWatermarkMaybeMoved(replica);
    }
  }

  /** A checkpoint covering everything journaled so far (after deletions: never replay them). */
  private async forceJournalCheckpoint(): Promise<void> {
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


  private onHighWatermarkMaybeMoved(replica: PartitionReplica): void {
    if (!replica.refreshHighWatermark()) return;
    for (const parked of this.purgatory.watching(replica.topic, replica.partition)) this.tryCompleteParked(parked, false);
  }

  // ---- fetch ------------------------------------------------------------------------------

  private handleFetch(request: FetchRequest): void {
    const { results, bytes, anyError } = this.readFetch(request);
    const satisfied = anyError || bytes >= request.minBytes || request.maxWaitMs <= 0 || bytes >= request.maxBytes;
    if (satisfied || this.purgatory.isFull) {
      this.complete((ring) => writeFetchCompletion(ring, request.requestId, results));
      return;
    }
    this.purgatory.park(request, this.options.clock.nowMs());
  }

  private tryCompleteParked(parked: ParkedFetch, expired: boolean): void {
    if (parked.done) return;
    const { results, bytes, anyError } = this.readFetch(parked.request);
    if (!expired && !anyError && bytes < parked.request.minBytes) return;
    this.purgatory.remove(parked);
    this.complete((ring) => writeFetchCompletion(ring, parked.request.requestId, results));
  }

  /**
   * Reads every partition of a fetch, honouring max_bytes, partition_max_bytes and KIP-74 (the
   * first batch found comes whole even when larger than max_bytes, later ones only while they
   * fit), within what one completion can carry through the ring.
   */
  private readFetch(request: FetchRequest): { results: FetchPartitionResult[]; bytes: number; anyError: boolean } {
    const results: FetchPartitionResult[] = [];
    const carryBytes = this.completionRecordBytes(request.partitions.length);
    let remaining = Math.min(request.maxBytes, Limits.maxFetchResponseBytes, carryBytes);
    let bytes = 0;
    let anyError = false;
    for (const partition of request.partitions) {
      const replica = this.replicas.get(replicaKey(partition.topic, partition.partition));
      let result = this.readPartition(replica, partition.fetchOffset, Math.min(partition.partitionMaxBytes, remaining), bytes === 0, request.isolationLevel);
      if (bytes + result.records.length > carryBytes) result = this.tooLargeToCarry(partition.topic, partition.partition, result, carryBytes - bytes);
      if (result.errorCode !== ErrorCode.NONE) anyError = true;
      bytes += result.records.length;
      remaining = Math.max(0, remaining - result.records.length);
      results.push(result);
    }
    return { results, bytes, anyError };
  }

  /** Record bytes one fetch completion for `partitionCount` partitions may carry. */
  private completionRecordBytes(partitionCount: number): number {
    const messageBytes = Math.min(Limits.maxRingMessageBytes, this.completions.maxMessageBytes);
    return Math.max(0, messageBytes - fetchCompletionFieldBytes(partitionCount));
  }

  /**
   * Only a first batch larger than the completion ring can carry gets here (KIP-74 hands it
   * out whole): the limits checked at config load keep batches smaller, unless a fetch names
   * so many partitions that their fields crowd it out. It is left for a later fetch.
   */
  private tooLargeToCarry(topic: string, partition: number, result: FetchPartitionResult, roomBytes: number): FetchPartitionResult {
    this.options.logger.warn('fetch: first batch does not fit a completion; answering no records for it', { topic, partition, batchBytes: result.records.length, roomBytes });
    return { ...result, records: EMPTY };
  }

  private readPartition(replica: PartitionReplica | undefined, fetchOffset: number, maxBytes: number, minOneBatch: boolean, isolationLevel: number): FetchPartitionResult {
    if (replica === undefined) return fetchError(ErrorCode.NOT_LEADER_OR_FOLLOWER, -1, -1);
    const log = replica.log;
    if (log.isOffline) return fetchError(ErrorCode.KAFKA_STORAGE_ERROR, -1, -1);
    const upperBound = isolationLevel === ISOLATION_READ_COMMITTED ? replica.lastStableOffset : replica.highWatermark;
    const base = { errorCode: ErrorCode.NONE, highWatermark: replica.highWatermark, lastStableOffset: replica.lastStableOffset, logStartOffset: log.logStartOffset };
    if (fetchOffset < log.logStartOffset || fetchOffset > log.logEndOffset) {
      return fetchError(ErrorCode.OFFSET_OUT_OF_RANGE, replica.highWatermark, log.logStartOffset);
    }
    if (maxBytes <= 0 && !minOneBatch) return { ...base, records: EMPTY };
    const { records } = log.read(fetchOffset, Math.max(maxBytes, 0), upperBound, minOneBatch);
    return { ...base, records };
  }

  // ---- control ----------------------------------------------------------------------------

  private async handleControl(requestId: number, message: ControlRequest): Promise<void> {
    let response: ControlResponse;
    try {
      response = { ok: true, value: await this.runControl(message) };
    } catch (error) {
      this.options.logger.error('control operation failed', { op: message.op, error: error instanceof Error ? error.stack ?? error.message : String(error) });
      response = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    this.complete((ring) => writeControl(ring, requestId, response));
  }

  private async runControl(message: ControlRequest): Promise<unknown> {
    switch (message.op) {
      case 'becomeLeader':
        for (const assignment of message.partitions) {
          this.topicConfigs.set(assignment.topic, assignment.config);
          const log = this.logs.getOrCreate(assignment.topic, assignment.partition, assignment.config);
          log.config = assignment.config;
          const key = replicaKey(assignment.topic, assignment.partition);
          let replica = this.replicas.get(key);
          if (replica !== undefined) replica.leaderEpoch = assignment.leaderEpoch;
          else this.replicas.set(key, (replica = new PartitionReplica(assignment.topic, assignment.partition, log, assignment.leaderEpoch)));
          if (assignment.topic === CONSUMER_OFFSETS_TOPIC) await this.groups.host(replica, assignment.partitionCount);
        }
        return null;
      case 'stopReplica':
        for (const { topic, partition } of message.partitions) {
          const key = replicaKey(topic, partition);
          this.replicas.delete(key);
          if (topic === CONSUMER_OFFSETS_TOPIC) this.groups.release(partition);
          for (const parked of this.purgatory.watching(topic, partition)) this.tryCompleteParked(parked, true);
          if (message.deleteData) await this.logs.delete(topic, partition);
        }
        if (message.deleteData) await this.forceJournalCheckpoint();
        return null;
      case 'updateConfig':
        this.topicConfigs.set(message.topic, message.config);
        for (const { topic, log } of this.logs.partitions()) if (topic === message.topic) log.config = message.config;
        return null;
      case 'dropStrayLogs':
        return this.dropStrayLogs(new Set(message.knownTopics));
      case 'listOffsets':
        return message.partitions.map((partition) => this.listOffset(partition.topic, partition.partition, partition.timestamp, message.isolationLevel));
      case 'deleteRecords':
        return this.deleteRecords(message.partitions);
      case 'group':
        return this.groups.handle(message as ForwardedGroupRequest);
      case 'listGroups':
        return this.groups.listGroups();
      case 'shutdown':
        await this.shutdown();
        return null;
    }
  }

  /** Logs of topics that no longer exist (deleted while this node was down) are removed. */
  private async dropStrayLogs(knownTopics: ReadonlySet<string>): Promise<number> {
    for (const replica of [...this.replicas.values()]) {
      if (knownTopics.has(replica.topic)) continue;
      this.replicas.delete(replicaKey(replica.topic, replica.partition));
      if (replica.topic === CONSUMER_OFFSETS_TOPIC) this.groups.release(replica.partition);
      for (const parked of this.purgatory.watching(replica.topic, replica.partition)) this.tryCompleteParked(parked, true);
    }
    let dropped = 0;
    for (const { topic, partition } of this.logs.partitions()) {
      if (knownTopics.has(topic)) continue;
      this.options.logger.info('deleting log of a topic that no longer exists', { topic, partition });
      await this.logs.delete(topic, partition);
      dropped++;
    }
    // A topic deleted and created again must never get the old topic's journal entries back.
    if (dropped > 0) await this.forceJournalCheckpoint();
    return dropped;
  }

  private listOffset(topic: string, partition: number, timestamp: number, isolationLevel: number): ListOffsetsResult {
    const replica = this.replicas.get(replicaKey(topic, partition));
    if (replica === undefined) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, offset: -1, timestamp: -1 };
    if (replica.log.isOffline) return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, offset: -1, timestamp: -1 };
    const bound = isolationLevel === ISOLATION_READ_COMMITTED ? replica.lastStableOffset : replica.highWatermark;
    if (timestamp === LATEST_TIMESTAMP) return { errorCode: ErrorCode.NONE, offset: bound, timestamp: -1 };
    if (timestamp === EARLIEST_TIMESTAMP) return { errorCode: ErrorCode.NONE, offset: replica.log.logStartOffset, timestamp: -1 };
    if (timestamp < 0) return { errorCode: ErrorCode.INVALID_REQUEST, offset: -1, timestamp: -1 };
    const found = replica.log.offsetForTimestamp(timestamp);
    if (found === null || found.offset >= bound) return { errorCode: ErrorCode.NONE, offset: -1, timestamp: -1 };
    return { errorCode: ErrorCode.NONE, offset: found.offset, timestamp: found.timestampMs };
  }

  private async deleteRecords(partitions: Array<{ topic: string; partition: number; offset: number }>): Promise<DeleteRecordsResult[]> {
    const results: DeleteRecordsResult[] = [];
    for (const { topic, partition, offset } of partitions) {
      const replica = this.replicas.get(replicaKey(topic, partition));
      if (replica === undefined) {
        results.push({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, lowWatermark: -1 });
        continue;
      }
      const target = offset === -1 ? replica.highWatermark : offset;
      if (target < 0 || target > replica.highWatermark) {
        results.push({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, lowWatermark: -1 });
        continue;
      }
      results.push({ errorCode: ErrorCode.NONE, lowWatermark: await replica.log.deleteRecordsBefore(target) });
    }
    this.logs.writeCheckpoints();
    return results;
  }

  // ---- completions, tick, shutdown ----------------------------------------------------------

  /** Writes a completion, or queues it behind earlier ones when the ring is full. */
  private complete(write: (ring: RingWriter) => boolean): void {
    if (this.backlog.length === 0 && write(this.completions)) return;
    this.backlog.push(write);
    if (!this.backlogDraining) void this.drainBacklog();
  }

  private async drainBacklog(): Promise<void> {
    this.backlogDraining = true;
    while (this.backlog.length > 0) {
      await this.completions.writeWhenSpace(this.backlog[0]!);
      this.backlog.shift();
    }
    this.backlogDraining = false;
  }


  /** Expires parked fetches; runs retention and checkpoints now and then. */
  async tick(): Promise<void> {
    const nowMs = this.options.clock.nowMs();
    for (const parked of this.purgatory.expired(nowMs)) this.tryCompleteParked(parked, true);
    this.groups.tick();
    if (nowMs - this.lastMaintenanceMs >= MAINTENANCE_INTERVAL_MS) {
      this.lastMaintenanceMs = nowMs;
      await this.logs.tick();
      const journalDue = nowMs - this.lastJournalCheckpointMs >= (this.options.journalCheckpointIntervalMs ?? DEFAULT_JOURNAL_CHECKPOINT_INTERVAL_MS);
      if (journalDue || (this.journal?.bytesSinceCheckpoint ?? 0) >= JOURNAL_CHECKPOINT_BYTES) {
        this.lastJournalCheckpointMs = nowMs;
        await this.checkpointJournal();
      }
      const cleaner = this.cleaner ?? (await this.loadCleaner());
      void cleaner.maybeClean(this.cleanableLogs());
    }
  }

  private loadCleaner(): Promise<LogCleaner> {
    this.cleanerLoading ??= import('../storage/cleaner/log-cleaner.js').then(({ LogCleaner: Cleaner }) => {
      const options = this.options;
      this.cleaner = new Cleaner({ dataDir: options.dataDir, clock: options.clock, log: (message) => options.logger.info(message) });
      return this.cleaner;
    });
    return this.cleanerLoading;
  }

  /** Every log of this data dir; compaction never passes a replica's high watermark. */
  private *cleanableLogs(): Generator<{ topic: string; partition: number; log: PartitionLog; uncleanableFromOffset?: number }> {
    for (const { topic, partition, log } of this.logs.partitions()) {
      const replica = this.replicas.get(replicaKey(topic, partition));
      yield { topic, partition, log, uncleanableFromOffset: replica?.lastStableOffset ?? log.recoveryPoint };
    }
  }

  private async shutdown(): Promise<void> {
    this.running = false;
    this.groups.releaseAll();
    if (this.cleanerLoading !== null) await (await this.cleanerLoading).close();
    const journalEnd = this.journal?.position;
    for (const parked of this.purgatory.drainAll()) {
      const { results } = this.readFetch(parked.request);
      this.complete((ring) => writeFetchCompletion(ring, parked.request.requestId, results));
    }
    await this.logs.close();
    // Every log is flushed now: nothing before the journal's end needs replaying (unless a log
    // or the dir is offline: then the journal is what puts their acknowledged appends back).
    if (this.journal !== null && journalEnd !== undefined) {
      await this.checkpointing;
      const allFlushed = !this.journal.isOffline && this.logs.partitions().every(({ log }) => !log.isOffline);
      if (allFlushed) this.checkpointJournalAtShutdown(this.journal, journalEnd);
      await this.journal.close();
    }
  }

  private checkpointJournalAtShutdown(journal: NodeJournal, position: JournalPosition): void {
    try {
      journal.checkpoint(position);
    } catch (error) {
      if (!(error instanceof KafkaError)) throw error; // the dir is offline: replay at restart
    }
  }
}

const EMPTY = Buffer.alloc(0);

function produceError(errorCode: number, errorMessage: string): ProducePartitionResult {
  return { errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, errorMessage };
}

function fetchError(errorCode: number, highWatermark: number, logStartOffset: number): FetchPartitionResult {
  return { errorCode, highWatermark, lastStableOffset: highWatermark, logStartOffset, records: EMPTY };
}
