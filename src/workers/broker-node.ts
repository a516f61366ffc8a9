/**
 * One broker node, inside its worker thread: the partition replicas it hosts (a LogManager
 * over its own data dir), leaders and followers alike; the produce path (append from the ring,
 * group-committed fsync, acks=1 at the durable append, acks=all once the high watermark covers
 * it); the fetch path (read or park); the leader's side of follower fetches and the follower's
 * fetchers, over the node-to-node links; and the control operations. I/O comes in through the
 * inbound rings (the front end's and one per peer) and goes out through the completion ring and
 * the peers' rings; the node never touches a socket.
 */
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { batchSizeBytes } from '../protocol/records/batch.js';
import { BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, PRODUCER_ID_OFFSET } from '../protocol/records/layout.js';
import { readProducerHeader, type ProducerBatchHeader } from '../txn/producer-state.js';
import type { Clock, MonotonicClock } from '../runtime/clock.js';
import { Limits } from '../runtime/limits.js';
import type { Logger } from '../runtime/logger.js';
import { RingWriter } from '../runtime/shared-ring.js';
import { FRONT_SOURCE_ID } from '../runtime/ring-set.js';
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
import { NodeLinks, type NodeLinkInit, type PeerLink } from './node-links.js';
import { NodeReplication } from './node-replication.js';
import { offsetsForLeaderEpoch } from './leader-epoch-queries.js';
import { readReplicaFetch, readReplicaFetchResponse } from './replica-protocol.js';
import type { CompletedAck, PartitionRecordState } from '../replication/partition-state.js';
import { readHighWatermarks, writeHighWatermarks } from '../storage/high-watermark-checkpoint.js';
import { partitionName } from '../storage/checkpoint-file.js';

export interface BrokerNodeOptions {
  nodeId: number;
  dataDir: string;
  requestRing: SharedArrayBuffer;
  completionRing: SharedArrayBuffer;
  /** The wake-up cell of every ring this node reads (the front end's writer rings it too). */
  doorbell: SharedArrayBuffer;
  /** The rings to and from the other nodes (null: a node on its own, as in unit tests). */
  links?: NodeLinkInit | null;
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
  /** replica.lag.time.max.ms (default 10 s). */
  replicaLagTimeMaxMs?: number;
  clock: Clock;
  /** Times inline fsyncs for the InlineFlushPolicy. */
  monotonicClock: MonotonicClock;
  logger: Logger;
  /** The file system calls that write the data dir (default node:fs); tests inject faults. */
  files?: StorageFileOps;
  /** Told once when the data dir goes offline after an I/O error (the front end's Metadata). */
  onLogDirOffline?: (reason: string) => void;
  /** A leader's ISR change for the controller (AlterPartition); its answer comes back to onAlterPartitionAnswer. */
  onAlterPartition?: (request: AlterPartitionRequest) => void;
}

/** A leader's proposed ISR change, as the controller takes it (see replication-control.ts). */
export interface AlterPartitionRequest {
  topic: string;
  partition: number;
  leaderId: number;
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: number[];
}

const ISOLATION_READ_COMMITTED = 1;
const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';
const LATEST_TIMESTAMP = -1;
const EARLIEST_TIMESTAMP = -2;
const MAINTENANCE_INTERVAL_MS = 1000;
/** replica.high.watermark.checkpoint.interval.ms (Kafka's default). */
const HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS = 5000;
/** How often leaders' replication states tick (ISR shrink, acks=all timeouts). */
const REPLICATION_TICK_INTERVAL_MS = 50;
const DEFAULT_REPLICA_LAG_TIME_MAX_MS = 10_000;
/** How often built producer states expire idle producers and are snapshotted. */
const PRODUCER_SNAPSHOT_INTERVAL_MS = 30_000;
/** Ring messages handled before the node lets its event loop run (fsync completions, timers). */
const MAX_MESSAGES_PER_DRAIN = 256;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A produce request waiting for its partitions' acks (acks=all) or fsyncs (acks=1). */
interface PendingProduce {
  readonly requestId: number;
  readonly results: ProducePartitionResult[];
  remaining: number;
  /** Answered already (a failed fsync answers at once; later acks change nothing). */
  done: boolean;
}

export class BrokerNode implements ReplicaHost {
  readonly nodeId: number;
  private readonly links: NodeLinks;
  private readonly completions: RingWriter;
  private readonly logs: LogManager;
  private readonly replicas = new Map<string, PartitionReplica>();
  private readonly purgatory = new FetchPurgatory();
  /** Follower fetches served as leader, fetch sessions run as follower. */
  private readonly replication: NodeReplication;
  private readonly groups: GroupCoordinators;
  /** acks=all appends waiting, by ack id (PartitionState completes them with an error code). */
  private readonly pendingAcks = new Map<number, (errorCode: number) => void>();
  private nextAckId = 1;
  /** High watermarks checkpointed before this start, by partition name. */
  private readonly checkpointedHighWatermarks: Map<string, number>;
  private highWatermarksDirty = false;
  private lastHighWatermarkCheckpointMs = 0;
  private lastReplicationTickMs = 0;
  private lastProducerSnapshotMs = 0;
  /** The controller's fenced nodes, as this node's metadata log last said. */
  private fencedNodes: ReadonlySet<number> = new Set();
  private readonly replicaLagTimeMaxMs: number;
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
    this.links = new NodeLinks(options.nodeId, options.doorbell, options.requestRing, options.links ?? null);
    this.completions = new RingWriter(options.completionRing);
    this.topicConfigs = new Map(Object.entries(options.topicConfigs));
    this.replicaLagTimeMaxMs = options.replicaLagTimeMaxMs ?? DEFAULT_REPLICA_LAG_TIME_MAX_MS;
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
    this.checkpointedHighWatermarks = readHighWatermarks(options.dataDir, (message) => options.logger.warn(message));
    this.groups = new GroupCoordinators(
      options.clock,
      options.logger.child(`node-${options.nodeId}-groups`),
      options.groupConfig,
      (replica) => this.onLocalLogChanged(replica),
      (replica) => this.durability.flushSoon(replica, this.draining),
      (replica, requiredOffset, timeoutMs) => new Promise((resolve) => this.awaitHighWatermark(replica, requiredOffset, timeoutMs, resolve)),
      (replica) => this.leaderAppended(replica),
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
      onDurable: (replica) => this.onLocalLogChanged(replica),
    });
    this.replication = new NodeReplication({
      nodeId: options.nodeId,
      clock: options.clock,
      logger: options.logger,
      links: this.links,
      durability: this.durability,
      replicas: this.replicas,
      processReady: (replica) => this.processReady(replica),
    });
    this.lastMaintenanceMs = this.lastHighWatermarkCheckpointMs = options.clock.nowMs();
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
    for (const replica of this.replicas.values()) this.wakeParked(replica, true);
  }

  get openedAfterCleanShutdown(): boolean {
    return this.logs.openedAfterCleanShutdown;
  }

  get partitionCount(): number {
    return this.logs.partitions().length;
  }

  /**
   * Serves the inbound rings until shutdown. Each pass handles a bounded number of messages and
   * then yields, so fsync completions, timers and parked fetches run even while a producer
   * keeps the rings full (acks=0 senders do not wait for anything).
   */
  async serve(): Promise<void> {
    while (this.running) {
      this.draining = true;
      try {
        this.links.drain(this.handleMessage, MAX_MESSAGES_PER_DRAIN);
      } finally {
        this.draining = false;
      }
      this.durability.flushAfterDrain();
      this.replication.wakeAfterDrain();
      if (!this.running) break;
      if (this.links.isEmpty) await this.links.waitForAny();
      else await yieldToEventLoop();
    }
  }

  private readonly handleMessage = (sourceId: number, bytes: Buffer, offset: number, length: number): void => {
    const kind = messageKind(bytes, offset);
    if (sourceId !== FRONT_SOURCE_ID) {
      if (kind === MessageKind.REPLICA_FETCH) this.replication.handleFetch(sourceId, readReplicaFetch(bytes, offset));
      else if (kind === MessageKind.REPLICA_FETCH_RESPONSE) {
        const { fetchId, results } = readReplicaFetchResponse(bytes, offset);
        this.replication.handleResponse(sourceId, fetchId, results);
      } else throw new Error(`node ${this.nodeId}: unknown message kind ${kind} from node ${sourceId}`);
      return;
    }
    switch (kind) {
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
        throw new Error(`node ${this.nodeId}: unknown ring message kind ${kind}`);
    }
  };

  // ---- produce ----------------------------------------------------------------------------

  private handleProduce(request: ProduceRequest): void {
    const produce: PendingProduce = { requestId: request.requestId, results: [], remaining: 0, done: false };
    const durable: Array<Promise<void>> = [];
    const waitingAcks: Array<[PartitionReplica, number, number]> = [];
    // A request for several partitions goes through the journal (one fsync instead of one per
    // partition); a single-partition request fsyncs its own log and skips the journal.
    const journaled = this.durability.journals(request.partitions.length);
    for (const partition of request.partitions) {
      const replica = this.replicas.get(replicaKey(partition.topic, partition.partition));
      const { result, lastOffset } = this.appendPartition(replica, partition.topic, partition.partition, partition.records, request.acks, journaled);
      produce.results.push(result);
      if (lastOffset < 0) continue;
      if (request.acks === -1) waitingAcks.push([replica!, produce.results.length - 1, lastOffset + 1]);
      // acks=all waits for this too: the high watermark implies it, but only this fails on a storage error.
      if (request.acks !== 0 && replica!.waitsForFsync) durable.push(replica!.log.whenDurable(lastOffset));
    }
    if (request.acks === 0) return;
    produce.remaining = waitingAcks.length + (durable.length > 0 ? 1 : 0);
    if (produce.remaining === 0) {
      this.completeProduce(produce);
      return;
    }
    for (const [replica, index, requiredOffset] of waitingAcks) {
      this.awaitHighWatermark(replica, requiredOffset, request.timeoutMs, (errorCode) => this.producePartAcked(produce, index, errorCode));
    }
    if (durable.length === 0) return;
    Promise.all(durable).then(
      () => this.producePartDone(produce),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        for (const result of produce.results) {
          if (result.errorCode === ErrorCode.NONE) Object.assign(result, { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, baseOffset: -1, errorMessage: message });
        }
        this.completeProduce(produce);
      },
    );
  }

  private producePartDone(produce: PendingProduce): void {
    produce.remaining--;
    if (produce.remaining === 0) this.completeProduce(produce);
  }

  private completeProduce(produce: PendingProduce): void {
    if (produce.done) return;
    produce.done = true;
    this.complete((ring) => writeProduceCompletion(ring, produce.requestId, produce.results));
  }

  private producePartAcked(produce: PendingProduce, index: number, errorCode: number): void {
    if (produce.done) return;
    if (errorCode !== ErrorCode.NONE) produce.results[index] = produceError(errorCode, ackErrorMessage(errorCode));
    this.producePartDone(produce);
  }

  /**
   * Calls `done` once the high watermark reaches `requiredOffset` (NONE), or with why not:
   * REQUEST_TIMED_OUT after `timeoutMs`, NOT_ENOUGH_REPLICAS_AFTER_APPEND, NOT_LEADER_OR_FOLLOWER.
   */
  private awaitHighWatermark(replica: PartitionReplica, requiredOffset: number, timeoutMs: number, done: (errorCode: number) => void): void {
    const ackId = this.nextAckId;
    this.nextAckId = this.nextAckId >= Number.MAX_SAFE_INTEGER ? 1 : this.nextAckId + 1;
    this.pendingAcks.set(ackId, done);
    replica.state.addPendingAck(ackId, requiredOffset, this.options.clock.nowMs() + Math.max(0, timeoutMs), replica.log.config.minInsyncReplicas);
    this.processReady(replica);
  }

  private ackCompleted(ack: CompletedAck): void {
    const done = this.pendingAcks.get(ack.ackId);
    if (done === undefined) return;
    this.pendingAcks.delete(ack.ackId);
    done(ack.errorCode);
  }

  /** Appends one partition's batch; `lastOffset` is -1 when nothing was appended. */
  private appendPartition(
    replica: PartitionReplica | undefined,
    topic: string,
    partition: number,
    records: Buffer,
    acks: number,
    journaled: boolean,
  ): { result: ProducePartitionResult; lastOffset: number } {
    const refuse = (errorCode: number, message: string) => ({ result: produceError(errorCode, message), lastOffset: -1 });
    if (replica === undefined || !replica.isLeader) {
      return refuse(ErrorCode.NOT_LEADER_OR_FOLLOWER, `node ${this.nodeId} does not lead ${topic}-${partition}`);
    }
    if (records.length >= LOG_OVERHEAD_BYTES && batchSizeBytes(records, 0) < records.length) {
      // Kafka: Produce v3+ carries exactly one record batch per partition.
      return refuse(ErrorCode.INVALID_RECORD, 'produce requests may carry only one record batch per partition');
    }
    if (replica.log.isOffline) {
      return refuse(ErrorCode.KAFKA_STORAGE_ERROR, `node ${this.nodeId}: ${topic}-${partition} is offline after a storage error`);
    }
    if (journaled && replica.waitsForFsync && this.durability.isJournalOffline) {
      // Checked before the log append: a batch must not land in the log unacknowledgeable.
      return refuse(ErrorCode.KAFKA_STORAGE_ERROR, `node ${this.nodeId}: the node journal is offline after a failed flush`);
    }
    const problem = replica.state.appendProblem(acks, replica.log.config.minInsyncReplicas);
    if (problem !== null) {
      return refuse(problem, `${topic}-${partition} has ${replica.state.isr.length} in-sync replicas, fewer than min.insync.replicas=${replica.log.config.minInsyncReplicas}`);
    }
    try {
      const producer = idempotentProducerHeader(records);
      if (producer !== null) {
        const check = replica.producers.current().checkLeaderAppend(producer);
        if (check.kind === 'error') return refuse(check.errorCode, check.message);
        if (check.kind === 'duplicate') {
          // A retry of a batch already in the log: its original offsets, no second copy (KIP-98).
          const result = { errorCode: ErrorCode.NONE, baseOffset: check.baseOffset, logAppendTimeMs: -1, logStartOffset: replica.log.logStartOffset, errorMessage: '' };
          return { result, lastOffset: check.lastOffset };
        }
      }
      const appended = replica.log.appendAsLeader(records, replica.leaderEpoch);
      if (producer !== null || replica.producers.isBuilt) replica.producers.onAppended(records, true);
      this.durability.recordAppend(replica, records, { from: appended.baseOffset, to: appended.lastOffset + 1 }, journaled);
      this.onLocalLogChanged(replica);
      this.replication.appended(replica);
      const result = { errorCode: ErrorCode.NONE, baseOffset: appended.baseOffset, logAppendTimeMs: appended.logAppendTimeMs, logStartOffset: replica.log.logStartOffset, errorMessage: '' };
      return { result, lastOffset: appended.lastOffset };
    } catch (error) {
      if (error instanceof KafkaError) {
        this.options.logger.debug('produce rejected', { topic, partition, code: error.code, reason: error.message });
        return refuse(error.code, error.message);
      }
      throw error;
    }
  }

  /** The log grew or became more durable: the replication state hears it, its effects run. */
  private onLocalLogChanged(replica: PartitionReplica): void {
    if (replica.state.role === 'none') return;
    replica.syncLocalLog();
    this.processReady(replica);
  }

  /** Runs what the replication state decided: finished acks, an ISR change, a moved high watermark. */
  private processReady(replica: PartitionReplica): void {
    const ready = replica.state.takeReady();
    for (const ack of ready.completedAcks) this.ackCompleted(ack);
    if (ready.alterPartition !== null) {
      const proposal = ready.alterPartition;
      this.options.logger.info('proposing an ISR change', { topic: replica.topic, partition: replica.partition, isr: proposal.newIsr.join(','), leaderEpoch: proposal.leaderEpoch });
      if (this.options.onAlterPartition === undefined) replica.state.onAlterPartitionFailed(ErrorCode.NOT_CONTROLLER);
      else this.options.onAlterPartition({ topic: replica.topic, partition: replica.partition, leaderId: this.nodeId, leaderEpoch: proposal.leaderEpoch, partitionEpoch: proposal.partitionEpoch, newIsr: [...proposal.newIsr] });
    }
    if (ready.highWatermarkMoved) {
      this.highWatermarksDirty = true;
      for (const parked of this.purgatory.watching(replica.topic, replica.partition)) this.tryCompleteParked(parked, false);
    }
  }

  /** The controller's answer to an AlterPartition this node sent (a refusal drops the proposal). */
  onAlterPartitionAnswer(topic: string, partition: number, partitionEpoch: number, errorCode: number): void {
    const replica = this.replicas.get(replicaKey(topic, partition));
    if (replica === undefined || errorCode === ErrorCode.NONE) return;
    if (!replica.state.isAlterPartitionInFlight || replica.state.partitionEpoch !== partitionEpoch) return;
    this.options.logger.info('ISR change refused', { topic, partition, code: errorCode });
    replica.state.onAlterPartitionFailed(errorCode);
    this.processReady(replica);
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
    if (replica === undefined || !replica.isLeader) return fetchError(ErrorCode.NOT_LEADER_OR_FOLLOWER, -1, -1);
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

  /** Parked fetches of a partition whose role or log changed answer now (`force`) or when they can. */
  private wakeParked(replica: PartitionReplica, force: boolean): void {
    for (const parked of this.purgatory.watching(replica.topic, replica.partition)) this.tryCompleteParked(parked, force);
    this.replication.wake(replica, force);
  }

  /** A leader append outside the produce path (group coordinator records): followers fetch it now or after the drain. */
  private leaderAppended(replica: PartitionReplica): void {
    this.replication.appended(replica);
    this.onLocalLogChanged(replica);
    if (!this.draining) this.replication.wakeAfterDrain();
  }

  /** A peer restarted: its links are new, and what was in flight to or from it is gone. */
  replacePeerLink(link: PeerLink): void {
    this.replication.replacePeerLink(link);
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
      case 'offsetsForLeaderEpoch':
        return offsetsForLeaderEpoch(message.partitions, (topic, partition) => this.replicas.get(replicaKey(topic, partition)));
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

  /** Leads these partitions alone from now (a single-replica record each); tests and tools. */
  async becomeLeader(partitions: readonly PartitionAssignment[]): Promise<void> {
    for (const assignment of partitions) {
      const record = { leader: this.nodeId, leaderEpoch: assignment.leaderEpoch, partitionEpoch: assignment.leaderEpoch, replicas: [this.nodeId], isr: [this.nodeId] };
      await this.applyPartition(assignment, record);
    }
  }

  /**
   * A committed partition record: this node leads it, follows it, or no longer hosts it. The
   * replication state decides (a leader epoch never moves back); the node opens the log, starts
   * the epoch in its leader-epoch cache, starts or stops fetching, hosts or releases groups.
   */
  async applyPartition(assignment: PartitionAssignment, record: PartitionRecordState): Promise<void> {
    const { topic, partition } = assignment;
    let replica = this.replicas.get(replicaKey(topic, partition));
    if (!record.replicas.includes(this.nodeId)) {
      if (replica !== undefined) await this.stopReplica(topic, partition, false);
      return;
    }
    this.topicConfigs.set(topic, assignment.config);
    if (replica === undefined) {
      const log = this.logs.getOrCreate(topic, partition, assignment.config);
      const checkpointed = this.checkpointedHighWatermarks.get(partitionName(topic, partition)) ?? 0;
      replica = new PartitionReplica(topic, partition, log, this.nodeId, this.replicaLagTimeMaxMs, checkpointed, this.options.files, (message) => this.options.logger.warn(message));
      replica.state.setFencedNodes(this.fencedNodes);
      this.replicas.set(replicaKey(topic, partition), replica);
    }
    replica.log.config = assignment.config;
    const change = replica.state.applyPartitionRecord(record, this.options.clock.nowMs(), replica.localPosition());
    if (change === 'becameLeader') {
      replica.log.startLeaderEpoch(record.leaderEpoch);
      this.replication.unfollow(replica);
      if (topic === CONSUMER_OFFSETS_TOPIC) await this.groups.host(replica, assignment.partitionCount);
    } else if (change === 'becameFollower') {
      if (topic === CONSUMER_OFFSETS_TOPIC) this.groups.release(partition);
      this.replication.follow(replica, record.leader);
    }
    this.processReady(replica);
    if (change !== 'unchanged') this.wakeParked(replica, change !== 'updated');
  }

  /** Stops serving these partitions (another node leads them now); their logs stay. */
  async stopReplicas(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    for (const { topic, partition } of partitions) await this.stopReplica(topic, partition, false);
  }

  private async stopReplica(topic: string, partition: number, deleteData: boolean): Promise<void> {
    const replica = this.replicas.get(replicaKey(topic, partition));
    this.replicas.delete(replicaKey(topic, partition));
    if (topic === CONSUMER_OFFSETS_TOPIC) this.groups.release(partition);
    if (replica !== undefined) {
      replica.state.stop();
      if (!deleteData) this.snapshotProducers(replica);
      this.processReady(replica);
      this.replication.unfollow(replica);
      this.wakeParked(replica, true);
    }
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

  setFencedNodes(fenced: ReadonlySet<number>): void {
    this.fencedNodes = new Set(fenced);
    for (const replica of this.replicas.values()) {
      replica.state.setFencedNodes(this.fencedNodes);
      this.processReady(replica);
    }
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
    if (replica === undefined || !replica.isLeader) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, offset: -1, timestamp: -1 };
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
      if (replica === undefined || !replica.isLeader) {
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

  /** Expires parked fetches and acks, keeps followers fetching; retention and checkpoints now and then. */
  async tick(): Promise<void> {
    const nowMs = this.options.clock.nowMs();
    for (const parked of this.purgatory.expired(nowMs)) this.tryCompleteParked(parked, true);
    this.replication.tick(nowMs);
    if (nowMs - this.lastReplicationTickMs >= REPLICATION_TICK_INTERVAL_MS) {
      this.lastReplicationTickMs = nowMs;
      for (const replica of this.replicas.values()) {
        if (!replica.isLeader) continue;
        replica.state.tick(nowMs);
        this.processReady(replica);
      }
    }
    this.groups.tick();
    if (nowMs - this.lastMaintenanceMs >= MAINTENANCE_INTERVAL_MS) {
      this.lastMaintenanceMs = nowMs;
      await this.logs.tick();
      await this.durability.maybeCheckpointJournal(nowMs);
      if (nowMs - this.lastHighWatermarkCheckpointMs >= HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS) this.checkpointHighWatermarks(nowMs);
      if (nowMs - this.lastProducerSnapshotMs >= PRODUCER_SNAPSHOT_INTERVAL_MS) this.maintainProducers(nowMs);
      const cleaner = this.cleaner ?? (await this.loadCleaner());
      void cleaner.maybeClean(this.cleanableLogs());
    }
  }

  /** Kafka's replication-offset-checkpoint: where each replica's high watermark resumes after a restart. */
  private checkpointHighWatermarks(nowMs: number): void {
    this.lastHighWatermarkCheckpointMs = nowMs;
    if (!this.highWatermarksDirty || this.logs.logDir.isOffline) return;
    this.highWatermarksDirty = false;
    const entries = [...this.replicas.values()].map((replica) => ({ topic: replica.topic, partition: replica.partition, highWatermark: replica.highWatermark }));
    try {
      writeHighWatermarks(this.options.dataDir, entries, this.options.files);
    } catch (error) {
      this.options.logger.warn('high watermark checkpoint failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Expires idle producers (producer.id.expiration.ms) and snapshots the producer states that moved. */
  private maintainProducers(nowMs: number): void {
    this.lastProducerSnapshotMs = nowMs;
    for (const replica of this.replicas.values()) {
      if (!replica.producers.isBuilt || replica.log.isOffline) continue;
      replica.producers.current().expire(nowMs);
      this.snapshotProducers(replica);
    }
  }

  private snapshotProducers(replica: PartitionReplica): void {
    if (!replica.producers.isBuilt || replica.log.isOffline) return;
    try {
      replica.producers.current();
      replica.producers.writeSnapshot();
    } catch (error) {
      this.options.logger.warn('producer state snapshot failed', { topic: replica.topic, partition: replica.partition, error: error instanceof Error ? error.message : String(error) });
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
    this.replication.dropParked();
    for (const replica of this.replicas.values()) this.snapshotProducers(replica);
    this.highWatermarksDirty = true;
    this.checkpointHighWatermarks(this.options.clock.nowMs());
    await this.logs.close();
    await this.durability.close(journalEnd);
    this.links.wake();
  }
}

const EMPTY = Buffer.alloc(0);

function produceError(errorCode: number, errorMessage: string): ProducePartitionResult {
  return { errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, errorMessage };
}

/**
 * The producer fields of an idempotent batch, or null for a plain one (producer id -1). A
 * transactional batch is refused: transactions are not served yet (no AddPartitionsToTxn).
 */
function idempotentProducerHeader(records: Buffer): ProducerBatchHeader | null {
  if (records.length < BATCH_HEADER_BYTES) return null;
  const producerId = records.readBigInt64BE(PRODUCER_ID_OFFSET);
  if (producerId === -1n) return null;
  if (producerId < 0n || producerId > BigInt(Number.MAX_SAFE_INTEGER)) throw new KafkaError(ErrorCode.INVALID_RECORD, `producer id ${producerId} is out of range`);
  const header = readProducerHeader(records, 0);
  if (header.isTransactional) throw new KafkaError(ErrorCode.INVALID_TXN_STATE, 'transactional batches need AddPartitionsToTxn, which this broker does not serve yet');
  return header;
}

function ackErrorMessage(errorCode: number): string {
  if (errorCode === ErrorCode.REQUEST_TIMED_OUT) return 'the in-sync replicas did not all have the records within the request timeout';
  if (errorCode === ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND) return 'the records were written, but the ISR shrank below min.insync.replicas before they were replicated';
  if (errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER) return 'leadership moved before the records were replicated';
  return 'the append failed';
}

function fetchError(errorCode: number, highWatermark: number, logStartOffset: number): FetchPartitionResult {
  return { errorCode, highWatermark, lastStableOffset: highWatermark, logStartOffset, records: EMPTY };
}
