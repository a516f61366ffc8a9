/**
 * One simulated broker of the replication simulation: per partition the real PartitionState
 * (ISR, high watermark, acks=-1) over a SimReplicaLog, a follower fetcher and an AlterPartition
 * sender, plus the node's metadata log consumer (partition records are published as deltas:
 * a partition changed twice in one fetch shows only its last state, as KRaft's publisher does).
 *
 * Kafka's follower rules: the fetch offset is the log end, with the epoch of the last batch
 * (lastFetchedEpoch) and the leader epoch the follower follows; the leader answers a fetch its
 * epoch cache finds diverging with the divergingEpoch, and the follower truncates to
 * followerTruncationOffset before fetching again; a follower fetches again only once its log
 * is fsynced (the leader reads its fetch offset as its durable end). A restarted node registers
 * first (the controller fences its old incarnation) and acts on partitions once it applied the
 * metadata log up to the offset the registration answered.
 */
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import type { MetadataRecord, PartitionRecord } from '../../src/metadata/records.js';
import { PartitionState, ReplicaRole, type PartitionChange } from '../../src/replication/partition-state.js';
import { SIM_TOPIC } from './replication-controller.js';
import { SimReplicaLog, type SimBatch } from './replication-log.js';
import { CONTROLLER_ID, type AlterPartitionMessage, type AlterPartitionResponse, type FetchRequest, type FetchResponse, type MetadataResponse, type SimMessage } from './replication-messages.js';

/** Times and bounds of the simulated brokers (per-run timings come through NodeEnvironment). */
export const ReplicationSimSettings = {
  tickMs: 10,
  heartbeatIntervalMs: 20,
  checkpointIntervalMs: 50,
  fetchTimeoutMs: 60,
  registerRetryMs: 50,
  emptyFetchBackoffMs: 8,
  ackTimeoutMs: 600,
  maxBatchesPerFetch: 4,
  maxMetadataRecordsPerFetch: 40,
  maxPendingAcksPerPartition: 200,
} as const;

export const MIN_INSYNC_REPLICAS = 2;

/** What a node needs from the simulation around it. */
export interface NodeEnvironment {
  nowMs(): number;
  /** Runs `run` after `delayMs` unless the node crashed in between. */
  after(node: SimNode, delayMs: number, label: string, run: () => void): void;
  send(message: SimMessage): void;
  fsyncDelayMs(node: SimNode): number;
  onAckCompleted(node: SimNode, partition: number, ackId: number, errorCode: number): void;
  onPartitionChange(node: SimNode, partition: number, change: PartitionChange): void;
  /** Per-run timing (chosen from the seed): how often the metadata log is polled, when an AlterPartition is sent again. */
  readonly metadataPollMs: number;
  readonly alterPartitionTimeoutMs: number;
  readonly replicaLagTimeMaxMs: number;
  /** The rule before KIP-101: a restarted replica truncates its log to its checkpointed high watermark. */
  readonly truncateToHighWatermarkOnRestart: boolean;
}

class ReplicaRuntime {
  /** Nonzero while a fetch is in flight or waits to be sent (its timer checks the id). */
  fetchToken = 0;
  alterInFlight: { proposalId: number; attempt: number; message: AlterPartitionMessage } | null = null;

  constructor(readonly state: PartitionState) {}
}

export class SimNode {
  up = false;
  /** Bumped by every start and crash: timers and messages of an older run are dropped. */
  incarnation = 0;
  readonly logs: SimReplicaLog[];
  replicas: ReplicaRuntime[] = [];
  /** Metadata log records applied (fetched); published once registration caught up. */
  private metadataFetched = 0;
  private catchUpOffset = -1;
  published = false;
  private readonly delta = new Map<number, PartitionRecord>();
  private fsyncScheduled = false;
  private nextToken = 1;
  truncations = 0;

  constructor(
    readonly id: number,
    partitionCount: number,
    private readonly env: NodeEnvironment,
  ) {
    this.logs = Array.from({ length: partitionCount }, () => new SimReplicaLog());
  }

  // ---- life cycle ---------------------------------------------------------------------------

  start(): void {
    this.up = true;
    this.incarnation++;
    if (this.env.truncateToHighWatermarkOnRestart) for (const log of this.logs) log.truncateTo(log.checkpointedHighWatermark);
    this.replicas = this.logs.map((_, partition) =>
      new ReplicaRuntime(new PartitionState({ topic: SIM_TOPIC, partition, localNodeId: this.id, replicaLagTimeMaxMs: this.env.replicaLagTimeMaxMs, maxPendingAcks: ReplicationSimSettings.maxPendingAcksPerPartition })));
    this.metadataFetched = 0;
    this.catchUpOffset = -1;
    this.published = false;
    this.delta.clear();
    this.fsyncScheduled = false;
    this.register();
    this.loop('tick', ReplicationSimSettings.tickMs, () => this.tick());
    this.loop('heartbeat', ReplicationSimSettings.heartbeatIntervalMs, () => this.published && this.env.send({ kind: 'heartbeat', from: this.id, to: CONTROLLER_ID, incarnation: this.incarnation }));
    this.loop('checkpoint', ReplicationSimSettings.checkpointIntervalMs, () => this.checkpointHighWatermarks());
  }

  crash(): void {
    this.up = false;
    this.incarnation++;
    for (const log of this.logs) log.crash();
    this.replicas = [];
  }

  private loop(label: string, periodMs: number, run: () => void): void {
    const next = (): void => {
      run();
      this.env.after(this, periodMs, `${label} n${this.id}`, next);
    };
    this.env.after(this, periodMs * (0.2 + 0.8 * ((this.id * 7 + this.incarnation * 3) % 10) / 10), `${label} n${this.id}`, next);
  }

  private register(): void {
    if (this.catchUpOffset >= 0) return;
    this.env.send({ kind: 'register', from: this.id, to: CONTROLLER_ID, incarnation: this.incarnation });
    this.env.after(this, ReplicationSimSettings.registerRetryMs, `register retry n${this.id}`, () => this.register());
  }

  private tick(): void {
    const nowMs = this.env.nowMs();
    for (let partition = 0; partition < this.replicas.length; partition++) {
      this.replicas[partition]!.state.tick(nowMs);
      this.processReady(partition);
    }
  }

  private checkpointHighWatermarks(): void {
    for (let partition = 0; partition < this.replicas.length; partition++) {
      const state = this.replicas[partition]!.state;
      if (state.role !== ReplicaRole.NONE) this.logs[partition]!.checkpointedHighWatermark = state.highWatermark;
    }
  }

  // ---- messages -----------------------------------------------------------------------------

  receive(message: SimMessage): void {
    switch (message.kind) {
      case 'fetch':
        return this.onFetch(message);
      case 'fetchResponse':
        return this.onFetchResponse(message);
      case 'alterPartitionResponse':
        return this.onAlterPartitionResponse(message);
      case 'registerResponse':
        if (message.incarnation !== this.incarnation || this.catchUpOffset >= 0) return;
        this.catchUpOffset = message.catchUpOffset;
        this.loop('metadata poll', this.env.metadataPollMs, () => this.env.send({ kind: 'metadataFetch', from: this.id, to: CONTROLLER_ID, fromOffset: this.metadataFetched }));
        return;
      case 'metadataResponse':
        return this.onMetadata(message);
      default:
        throw new Error(`sim node ${this.id}: unexpected ${message.kind}`);
    }
  }

  private onMetadata(message: MetadataResponse): void {
    if (message.fromOffset !== this.metadataFetched || message.records.length === 0) return;
    for (const record of message.records) this.collect(record);
    this.metadataFetched += message.records.length;
    if (this.catchUpOffset < 0 || this.metadataFetched < this.catchUpOffset) return;
    this.published = true;
    const records = [...this.delta.values()];
    this.delta.clear();
    for (const record of records) this.applyPartitionRecord(record);
  }

  private collect(record: MetadataRecord): void {
    if (record.type === 'partition') this.delta.set(record.partition, record);
  }

  private applyPartitionRecord(record: PartitionRecord): void {
    const partition = record.partition;
    const runtime = this.replicas[partition]!;
    const log = this.logs[partition]!;
    const local = { logEndOffset: log.logEndOffset, durableEndOffset: log.durableEndOffset, highWatermark: log.checkpointedHighWatermark };
    const change = runtime.state.applyPartitionRecord(record, this.env.nowMs(), local);
    if (!runtime.state.isAlterPartitionInFlight) runtime.alterInFlight = null;
    if (change === 'becameLeader') {
      // Kafka's makeLeader: the new epoch starts at the log end in the epoch cache.
      log.epochCache.assign(record.leaderEpoch, log.logEndOffset);
      runtime.fetchToken = 0;
    } else if (change === 'becameFollower') {
      runtime.fetchToken = 0;
      this.maybeFetch(partition);
    }
    this.env.onPartitionChange(this, partition, change);
    this.processReady(partition);
  }

  // ---- produce (leader) ---------------------------------------------------------------------

  /**
   * A produce of `recordCount` records with `acks` -1 (completes through `onAckCompleted`) or 1
   * (answered once written); the error it is refused with, or the batch.
   */
  produce(partition: number, payloadId: number, recordCount: number, ackId: number, acks: -1 | 1 = -1): SimBatch | number {
    const runtime = this.replicas[partition]!;
    const problem = runtime.state.appendProblem(acks, MIN_INSYNC_REPLICAS);
    if (problem !== null) return problem;
    const log = this.logs[partition]!;
    const batch: SimBatch = { baseOffset: log.logEndOffset, lastOffset: log.logEndOffset + recordCount - 1, leaderEpoch: runtime.state.leaderEpoch, payloadId };
    log.append(batch);
    runtime.state.onLocalLogChanged(log.logEndOffset, log.durableEndOffset);
    if (acks === -1) runtime.state.addPendingAck(ackId, log.logEndOffset, this.env.nowMs() + ReplicationSimSettings.ackTimeoutMs, MIN_INSYNC_REPLICAS);
    this.processReady(partition);
    this.requestFsync();
    return batch;
  }

  // ---- fsync --------------------------------------------------------------------------------

  private requestFsync(): void {
    if (this.fsyncScheduled) return;
    this.fsyncScheduled = true;
    this.env.after(this, this.env.fsyncDelayMs(this), `fsync n${this.id}`, () => this.fsync());
  }

  /** One group commit: every partition's log becomes durable up to its end. */
  fsync(): void {
    this.fsyncScheduled = false;
    for (let partition = 0; partition < this.logs.length; partition++) {
      const log = this.logs[partition]!;
      if (!log.fsync()) continue;
      const runtime = this.replicas[partition]!;
      runtime.state.onLocalLogChanged(log.logEndOffset, log.durableEndOffset);
      this.processReady(partition);
      this.maybeFetch(partition);
    }
  }

  // ---- follower fetcher ---------------------------------------------------------------------

  /** Sends the next fetch if this replica follows, none is pending, and its log is fsynced. */
  private maybeFetch(partition: number): void {
    const runtime = this.replicas[partition]!;
    const state = runtime.state;
    const log = this.logs[partition]!;
    if (state.role !== ReplicaRole.FOLLOWER || state.leaderId < 0 || runtime.fetchToken !== 0) return;
    if (!log.isFullyDurable) return this.requestFsync();
    const fetchId = this.nextToken++;
    runtime.fetchToken = fetchId;
    this.env.send({
      kind: 'fetch', from: this.id, to: state.leaderId, partition, fetchId,
      fetchOffset: log.logEndOffset, lastFetchedEpoch: log.epochCache.latestEpoch, currentLeaderEpoch: state.leaderEpoch,
    });
    this.env.after(this, ReplicationSimSettings.fetchTimeoutMs, `fetch timeout n${this.id} p${partition}`, () => this.fetchAgain(partition, fetchId));
  }

  private fetchAgain(partition: number, token: number): void {
    const runtime = this.replicas[partition]!;
    if (runtime.fetchToken !== token) return;
    runtime.fetchToken = 0;
    this.maybeFetch(partition);
  }

  private fetchLater(partition: number, delayMs: number): void {
    const runtime = this.replicas[partition]!;
    const token = this.nextToken++;
    runtime.fetchToken = token;
    this.env.after(this, delayMs, `fetch backoff n${this.id} p${partition}`, () => this.fetchAgain(partition, token));
  }

  private onFetchResponse(response: FetchResponse): void {
    const runtime = this.replicas[response.partition]!;
    const state = runtime.state;
    if (runtime.fetchToken !== response.fetchId) return;
    runtime.fetchToken = 0;
    if (state.role !== ReplicaRole.FOLLOWER || state.leaderEpoch !== response.leaderEpoch) return this.maybeFetch(response.partition);
    if (response.errorCode !== ErrorCode.NONE) return this.fetchLater(response.partition, ReplicationSimSettings.emptyFetchBackoffMs);
    const log = this.logs[response.partition]!;
    if (response.diverging !== null) {
      const offset = log.epochCache.followerTruncationOffset(response.diverging, log.logEndOffset);
      if (!log.truncateTo(offset)) throw new Error(`sim node ${this.id} p${response.partition}: truncation offset ${offset} is inside a batch`);
      this.truncations++;
      state.onTruncated(log.logEndOffset);
      return this.maybeFetch(response.partition);
    }
    for (const batch of response.batches) log.append(batch);
    state.onLocalLogChanged(log.logEndOffset, log.durableEndOffset);
    state.onLeaderHighWatermark(response.highWatermark, log.logEndOffset);
    this.processReady(response.partition);
    if (response.batches.length === 0) this.fetchLater(response.partition, ReplicationSimSettings.emptyFetchBackoffMs);
    else this.maybeFetch(response.partition);
  }

  // ---- leader: serving fetches --------------------------------------------------------------

  private onFetch(request: FetchRequest): void {
    const runtime = this.replicas[request.partition]!;
    const state = runtime.state;
    const log = this.logs[request.partition]!;
    const answer = (errorCode: number, diverging: FetchResponse['diverging'], batches: readonly SimBatch[]): void =>
      this.env.send({
        kind: 'fetchResponse', from: this.id, to: request.from, partition: request.partition, fetchId: request.fetchId,
        leaderEpoch: request.currentLeaderEpoch, errorCode, diverging, batches, highWatermark: state.highWatermark,
      });
    if (state.role !== ReplicaRole.LEADER) return answer(ErrorCode.NOT_LEADER_OR_FOLLOWER, null, []);
    if (request.currentLeaderEpoch < state.leaderEpoch) return answer(ErrorCode.FENCED_LEADER_EPOCH, null, []);
    if (request.currentLeaderEpoch > state.leaderEpoch) return answer(ErrorCode.UNKNOWN_LEADER_EPOCH, null, []);
    let diverging: FetchResponse['diverging'];
    try {
      diverging = log.epochCache.divergence(request.fetchOffset, request.lastFetchedEpoch, log.logEndOffset);
    } catch (error) {
      if (!(error instanceof KafkaError)) throw error;
      throw new Error(`sim node ${this.id} p${request.partition}: fetch from n${request.from} at ${request.fetchOffset} epoch ${request.lastFetchedEpoch}: ${error.message}`);
    }
    if (diverging !== null) return answer(ErrorCode.NONE, diverging, []);
    const batches = log.read(request.fetchOffset, ReplicationSimSettings.maxBatchesPerFetch);
    if (batches === null || request.fetchOffset > log.logEndOffset) {
      throw new Error(`sim node ${this.id} p${request.partition}: undiverged fetch from n${request.from} at ${request.fetchOffset} (log end ${log.logEndOffset}) is not at a batch boundary`);
    }
    state.onFollowerFetch(request.from, request.fetchOffset, this.env.nowMs(), log.logEndOffset);
    this.processReady(request.partition);
    answer(ErrorCode.NONE, null, batches);
  }

  // ---- AlterPartition -----------------------------------------------------------------------

  private processReady(partition: number): void {
    const runtime = this.replicas[partition]!;
    const ready = runtime.state.takeReady();
    for (const ack of ready.completedAcks) this.env.onAckCompleted(this, partition, ack.ackId, ack.errorCode);
    if (ready.alterPartition === null) return;
    const proposalId = this.nextToken++;
    const proposal = ready.alterPartition;
    const message: AlterPartitionMessage = {
      kind: 'alterPartition', from: this.id, to: CONTROLLER_ID, proposalId, attempt: 0,
      request: { topic: SIM_TOPIC, partition, leaderId: this.id, leaderEpoch: proposal.leaderEpoch, partitionEpoch: proposal.partitionEpoch, newIsr: [...proposal.newIsr] },
    };
    runtime.alterInFlight = { proposalId, attempt: 0, message };
    this.sendAlterPartition(partition, proposalId);
  }

  /**
   * Sends (again, after a timeout: Kafka retries an unanswered AlterPartition) while in flight.
   * Each send is a new attempt, and the answer of an older one is ignored, as a timed-out
   * request's answer is in Kafka (request correlation).
   */
  private sendAlterPartition(partition: number, proposalId: number): void {
    const runtime = this.replicas[partition]!;
    const inFlight = runtime.alterInFlight;
    if (inFlight?.proposalId !== proposalId || !runtime.state.isAlterPartitionInFlight) return;
    inFlight.attempt = this.nextToken++;
    this.env.send({ ...inFlight.message, attempt: inFlight.attempt });
    this.env.after(this, this.env.alterPartitionTimeoutMs, `alterPartition retry n${this.id}`, () => this.sendAlterPartition(partition, proposalId));
  }

  private onAlterPartitionResponse(response: AlterPartitionResponse): void {
    const runtime = this.replicas[response.partition]!;
    if (runtime.alterInFlight?.proposalId !== response.proposalId || runtime.alterInFlight.attempt !== response.attempt) return;
    runtime.alterInFlight = null;
    if (response.errorCode !== ErrorCode.NONE) runtime.state.onAlterPartitionFailed(response.errorCode);
    this.processReady(response.partition);
  }
}
