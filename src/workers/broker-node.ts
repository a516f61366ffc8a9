/**
 * One broker node, inside its worker thread: the partition replicas it hosts (a LogManager
 * over its own data dir), the produce path (append from the ring, group-committed fsync, ack),
 * the fetch path (read or park), and the control operations. I/O comes in through the request
 * ring and goes out through the completion ring; the node never touches a socket.
 */
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { assert } from '../runtime/assert.js';
import { batchSizeBytes } from '../protocol/records/batch.js';
import { LOG_OVERHEAD_BYTES } from '../protocol/records/layout.js';
import type { Clock, MonotonicClock } from '../runtime/clock.js';
import { Limits } from '../runtime/limits.js';
import type { Logger } from '../runtime/logger.js';
import { RingReader, RingWriter } from '../runtime/shared-ring.js';
import type { LogConfig } from '../storage/log-config.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { StorageFileOps } from '../storage/file-ops.js';
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
  type PartitionAssignment,
  type ProduceRequest,
} from './node-protocol.js';
import { NodeDurability } from './node-durability.js';
import { PartitionReplica, replicaKey } from './partition-replica.js';
import type { ReplicaHost } from './metadata-publisher.js';

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
/** Ring messages handled before the node lets its event loop run (fsync completions, timers). */
const MAX_MESSAGES_PER_DRAIN = 256;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class BrokerNode implements ReplicaHost {
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
  /** Flushes after each drain, the node journal and its checkpoints. */
  private readonly durability: NodeDurability;
  private running = true;
  /** Inside a ring drain: appends made now are flushed together at its end (flushAfterDrain). */
  private draining = false;
  private backlogDraining = false;
  private lastMaintenanceMs = 0;

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
      (replica) => this.durability.flushSoon(replica, this.draining),
    );
    this.durability = new NodeDurability({
      dataDir: options.dataDir,
      journal: options.journal ?? 'off',
      journalCheckpointIntervalMs: options.journalCheckpointIntervalMs,
      logs: this.logs,
      topicConfigs: this.topicConfigs,
      files: options.files,
      monotonicClock: options.monotonicClock,
      startMs: options.clock.nowMs(),
      logger: options.logger,
      onDurable: (replica) => this.onHighWatermarkMaybeMoved(replica),
    });
    this.lastMaintenanceMs = options.clock.nowMs();
  }

  /**
   * Puts back what the node journal holds beyond the logs (appends acknowledged before a crash
   * whose segment files were not fsynced yet), makes it durable in the logs, and moves the
   * journal's checkpoint to its end. Runs once, before serving.
   */
  recoverFromJournal(): Promise<number> {
    return this.durability.recoverFromJournal();
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
      this.durability.flushAfterDrain();
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
    const journaled = this.durability.journals(request.partitions.length);
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
    if (journaled && replica.waitsForFsync && this.durability.isJournalOffline) {
      // Checked before the log append: a batch must not land in the log unacknowledgeable.
      return produceError(ErrorCode.KAFKA_STORAGE_ERROR, `node ${this.nodeId}: the node journal is offline after a failed flush`);
    }
    try {
      const appended = replica.log.appendAsLeader(records, replica.leaderEpoch);
      this.durability.recordAppend(replica, records, { from: appended.baseOffset, to: appended.lastOffset + 1 }, journaled);
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
        await this.becomeLeader(message.partitions);
        return null;
      case 'stopReplica':
        if (message.deleteData) {
          for (const { topic, partition } of message.partitions) await this.stopReplica(topic, partition, true);
          await this.durability.forceJournalCheckpoint();
        } else {
          await this.stopReplicas(message.partitions);
        }
        return null;
      case 'updateConfig':
        this.updateTopicConfig(message.topic, message.config);
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

  // ---- roles (from the committed metadata log; see MetadataPublisher) ----------------------

  /** Leads these partitions from now, opening their logs; a leader epoch never moves back. */
  async becomeLeader(partitions: readonly PartitionAssignment[]): Promise<void> {
    for (const assignment of partitions) {
      this.topicConfigs.set(assignment.topic, assignment.config);
      const log = this.logs.getOrCreate(assignment.topic, assignment.partition, assignment.config);
      log.config = assignment.config;
      const key = replicaKey(assignment.topic, assignment.partition);
      let replica = this.replicas.get(key);
      if (replica !== undefined) {
        assert(assignment.leaderEpoch >= replica.leaderEpoch, () => `leader epoch of ${assignment.topic}-${assignment.partition} moves back from ${replica!.leaderEpoch} to ${assignment.leaderEpoch}`);
        replica.leaderEpoch = assignment.leaderEpoch;
      } else this.replicas.set(key, (replica = new PartitionReplica(assignment.topic, assignment.partition, log, assignment.leaderEpoch)));
      if (assignment.topic === CONSUMER_OFFSETS_TOPIC) await this.groups.host(replica, assignment.partitionCount);
    }
  }

  /** Stops serving these partitions (another node leads them now); their logs stay. */
  async stopReplicas(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    for (const { topic, partition } of partitions) await this.stopReplica(topic, partition, false);
  }

  private async stopReplica(topic: string, partition: number, deleteData: boolean): Promise<void> {
    this.replicas.delete(replicaKey(topic, partition));
    if (topic === CONSUMER_OFFSETS_TOPIC) this.groups.release(partition);
    for (const parked of this.purgatory.watching(topic, partition)) this.tryCompleteParked(parked, true);
    if (deleteData) await this.logs.delete(topic, partition);
  }

  /** The topic was deleted: every log of it here goes, and the journal never brings them back. */
  async deleteTopic(topic: string): Promise<void> {
    const partitions = this.logs.partitions().filter((entry) => entry.topic === topic).map((entry) => entry.partition);
    for (const replica of this.replicas.values()) if (replica.topic === topic && !partitions.includes(replica.partition)) partitions.push(replica.partition);
    for (const partition of partitions) await this.stopReplica(topic, partition, true);
    this.topicConfigs.delete(topic);
    if (partitions.length > 0) await this.durability.forceJournalCheckpoint();
  }

  updateTopicConfig(topic: string, config: LogConfig): void {
    this.topicConfigs.set(topic, config);
    for (const entry of this.logs.partitions()) if (entry.topic === topic) entry.log.config = config;
  }

  hostedPartitions(): Array<{ topic: string; partition: number }> {
    return [...this.replicas.values()].map((replica) => ({ topic: replica.topic, partition: replica.partition }));
  }

  /** Logs of topics that no longer exist (deleted while this node was down) are removed. */
  async dropStrayLogs(knownTopics: ReadonlySet<string>): Promise<number> {
    for (const replica of [...this.replicas.values()]) {
      if (!knownTopics.has(replica.topic)) await this.stopReplica(replica.topic, replica.partition, false);
    }
    let dropped = 0;
    for (const { topic, partition } of this.logs.partitions()) {
      if (knownTopics.has(topic)) continue;
      this.options.logger.info('deleting log of a topic that no longer exists', { topic, partition });
      await this.logs.delete(topic, partition);
      dropped++;
    }
    // A topic deleted and created again must never get the old topic's journal entries back.
    if (dropped > 0) await this.durability.forceJournalCheckpoint();
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
      await this.durability.maybeCheckpointJournal(nowMs);
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
      if (log.isOffline) continue;
      const replica = this.replicas.get(replicaKey(topic, partition));
      yield { topic, partition, log, uncleanableFromOffset: replica?.lastStableOffset ?? log.recoveryPoint };
    }
  }

  private async shutdown(): Promise<void> {
    this.running = false;
    this.groups.releaseAll();
    if (this.cleanerLoading !== null) await (await this.cleanerLoading).close();
    const journalEnd = this.durability.journalEnd;
    for (const parked of this.purgatory.drainAll()) {
      const { results } = this.readFetch(parked.request);
      this.complete((ring) => writeFetchCompletion(ring, parked.request.requestId, results));
    }
    await this.logs.close();
    await this.durability.close(journalEnd);
  }
}

const EMPTY = Buffer.alloc(0);

function produceError(errorCode: number, errorMessage: string): ProducePartitionResult {
  return { errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, errorMessage };
}

function fetchError(errorCode: number, highWatermark: number, logStartOffset: number): FetchPartitionResult {
  return { errorCode, highWatermark, lastStableOffset: highWatermark, logStartOffset, records: EMPTY };
}
