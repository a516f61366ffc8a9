/**
 * The deterministic simulation of partition replication: 3 or 5 simulated brokers (SimNode:
 * the real PartitionState and LeaderEpochCache over in-memory logs with explicit fsyncs), the
 * simulated controller (the real decision code of src/controller), one seeded scheduler and a
 * network that delays, drops and reorders every message and can cut nodes off. A nemesis
 * crashes (losing unsynced writes) and restarts nodes, isolates nodes (often a leader) from the
 * controller and the other nodes, cuts nodes off the controller only and slows disks; a client
 * produces with acks=-1 to whichever node believes it leads. Invariants (replication-invariants)
 * are checked after every event. After the fault phase everything heals; every partition must
 * then settle (a leader, the full ISR, equal logs fully replicated) within a bounded time.
 *
 * Scripted runs (the KIP-101 scenarios) use the same class with faults off: `runUntil`,
 * `crash`, `restart`, `produce`, `holdFsync`, `finish`.
 */
import { InvariantError } from '../../src/runtime/assert.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ReplicaRole } from '../../src/replication/partition-state.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { SimController } from './replication-controller.js';
import { ReplicationChecker } from './replication-invariants.js';
import type { SimBatch } from './replication-log.js';
import { CONTROLLER_ID, type SimMessage } from './replication-messages.js';
import { ReplicationSimSettings, SimNode, type NodeEnvironment } from './replication-node.js';
import { ReplicationNemesis } from './replication-nemesis.js';
import { Scheduler } from './scheduler.js';

export interface ReplicationSimOptions {
  seed: number;
  /** 3 or 5; chosen from the seed when absent. */
  nodeCount?: number;
  partitionCount?: number;
  faultPhaseMs?: number;
  settleMs?: number;
  /** false: no nemesis, no random client, no drops (scripted scenarios). */
  faults?: boolean;
  /** The run starts as a whole-cluster restart (see SimController); chosen from the seed when absent. */
  clusterRestart?: boolean;
  /** replica.lag.time.max.ms; chosen from the seed when absent (from a stream of its own). */
  replicaLagTimeMaxMs?: number;
  /** Pre-KIP-101 nodes (see NodeEnvironment): only to show that the scenarios catch the old bug. */
  truncateToHighWatermarkOnRestart?: boolean;
  trace?: boolean;
}

export interface ReplicationSimResult {
  seed: number;
  nodeCount: number;
  partitionCount: number;
  events: number;
  produced: number;
  acknowledged: number;
  ackErrors: number;
  elections: number;
  fencings: number;
  crashes: number;
  isolations: number;
  truncations: number;
  alterPartitionsAccepted: number;
  alterPartitionsRefused: number;
  violations: string[];
  trace: string[];
}

const SESSION_TIMEOUT_MS = 200;
const LIVENESS_CHECK_MS = 10;
/** Bounds the run whatever happens: no seed loops forever. */
const MAX_EVENTS = 300_000;

interface PendingProduce {
  readonly partition: number;
  /** Null while the produce call runs. */
  batch: SimBatch | null;
}

export class ReplicationCluster {
  readonly random: SeededRandom;
  readonly scheduler = new Scheduler();
  readonly nodes: SimNode[] = [];
  readonly controller: SimController;
  readonly checker: ReplicationChecker;
  readonly nodeCount: number;
  readonly partitionCount: number;
  /** blocked.has(`${from}>${to}`): messages on that link are dropped (CONTROLLER_ID included). */
  private readonly blocked = new Set<string>();
  private readonly heldFsync = new Set<number>();
  /** Nodes whose metadata log consumer is stalled (they keep serving and answering otherwise). */
  private readonly metadataStalled = new Set<number>();
  private readonly dropProbability: number;
  private readonly metadataPollMs: number;
  private readonly alterPartitionTimeoutMs: number;
  private readonly replicaLagTimeMaxMs: number;
  /** Until then the controller's answers are lost (a controller failover: what it committed stays). */
  private controllerAnswersLostUntilMs = 0;
  private readonly lastAlterPartitionAtMs: number[] = [];
  faultsOn: boolean;
  private readonly produces = new Map<number, PendingProduce>();
  private nextAckId = 1;
  private nextPayloadId = 1;
  private events = 0;
  private crashes = 0;
  private isolations = 0;
  private ackErrors = 0;
  private appended = 0;
  readonly trace: string[] = [];
  private stopped = false;

  constructor(private readonly options: ReplicationSimOptions) {
    this.random = new SeededRandom(options.seed ^ 0x5eed);
    this.nodeCount = options.nodeCount ?? [3, 3, 5][this.random.int(0, 2)]!;
    this.partitionCount = options.partitionCount ?? this.random.int(2, 4);
    this.faultsOn = options.faults !== false;
    this.dropProbability = this.faultsOn ? this.random.next() * 0.08 : 0;
    this.metadataPollMs = this.faultsOn ? [5, 15, 40, 100][this.random.int(0, 3)]! : 15;
    this.alterPartitionTimeoutMs = this.faultsOn ? [20, 80, 200][this.random.int(0, 2)]! : 80;
    // Drawn apart, so adding it left the main stream (and the seeds that found bugs) as they were.
    this.replicaLagTimeMaxMs = options.replicaLagTimeMaxMs ?? (this.faultsOn ? [40, 150, 150, 400][new SeededRandom(options.seed * 31 + 7).int(0, 3)]! : 150);
    this.controller = new SimController({ nodeCount: this.nodeCount, partitionCount: this.partitionCount, replicationFactor: 3, sessionTimeoutMs: SESSION_TIMEOUT_MS, fenceFirstRegistrations: options.clusterRestart ?? this.random.next() < 0.5 });
    const env = this.environment();
    for (let id = 0; id < this.nodeCount; id++) this.nodes.push(new SimNode(id, this.partitionCount, env));
    this.checker = new ReplicationChecker(this.nodes, this.partitionCount);
    for (const record of this.controller.metadataLog) if (record.type === 'partition') this.checker.onControllerRecord(record);
    this.controller.onPartitionRecord.push((record) => this.checker.onControllerRecord(record));
    for (const node of this.nodes) node.start();
    this.scheduleLivenessChecks();
  }

  private environment(): NodeEnvironment {
    return {
      nowMs: () => this.scheduler.nowMs,
      after: (node, delayMs, label, run) => {
        const incarnation = node.incarnation;
        this.scheduler.after(delayMs, label, () => node.up && node.incarnation === incarnation && run());
      },
      send: (message) => this.send(message),
      fsyncDelayMs: (node) => this.fsyncDelayMs(node.id),
      onAckCompleted: (node, partition, ackId, errorCode) => this.onAckCompleted(node, partition, ackId, errorCode),
      onPartitionChange: (node, partition, change) => change === 'becameLeader' && this.checker.onBecameLeader(node, partition),
      truncateToHighWatermarkOnRestart: this.options.truncateToHighWatermarkOnRestart === true,
      metadataPollMs: this.metadataPollMs,
      alterPartitionTimeoutMs: this.alterPartitionTimeoutMs,
      replicaLagTimeMaxMs: this.replicaLagTimeMaxMs,
    };
  }

  private fsyncDelayMs(nodeId: number): number {
    if (this.heldFsync.has(nodeId)) return 1e9;
    if (this.faultsOn && this.random.next() < 0.05) return 20 + this.random.next() * 60;
    return 0.5 + this.random.next() * 4;
  }

  private scheduleLivenessChecks(): void {
    const next = (): void => {
      this.controller.checkLiveness(this.scheduler.nowMs);
      this.scheduler.after(LIVENESS_CHECK_MS, 'liveness check', next);
    };
    this.scheduler.after(LIVENESS_CHECK_MS, 'liveness check', next);
  }

  // ---- network ------------------------------------------------------------------------------

  private send(message: SimMessage): void {
    if (this.isBlocked(message.from, message.to)) return;
    if (message.kind === 'metadataResponse' && this.metadataStalled.has(message.to)) return;
    if (message.from === CONTROLLER_ID && this.scheduler.nowMs < this.controllerAnswersLostUntilMs) return;
    if (this.faultsOn && this.random.next() < this.dropProbability) return;
    const long = this.faultsOn && this.random.next() < 0.03;
    const delayMs = long ? 15 + this.random.next() * 50 : 0.05 + this.random.next() * 2;
    const target = message.to === CONTROLLER_ID ? null : this.nodes[message.to]!;
    const incarnation = target?.incarnation ?? 0;
    let atMs = this.scheduler.nowMs + delayMs;
    if (message.kind === 'alterPartition') {
      // One connection (TCP): the controller reads a leader's AlterPartition attempts in order.
      atMs = Math.max(atMs, this.lastAlterPartitionAtMs[message.from] ?? 0);
      this.lastAlterPartitionAtMs[message.from] = atMs;
    }
    this.scheduler.at(atMs, `${message.kind} ${message.from}>${message.to}`, () => {
      if (this.isBlocked(message.from, message.to)) return;
      if (target === null) return this.controllerReceive(message);
      if (target.up && target.incarnation === incarnation) target.receive(message);
    });
  }

  private isBlocked(from: number, to: number): boolean {
    return this.blocked.size > 0 && this.blocked.has(`${from}>${to}`);
  }

  private controllerReceive(message: SimMessage): void {
    const nowMs = this.scheduler.nowMs;
    switch (message.kind) {
      case 'register': {
        const catchUpOffset = this.controller.register(message.from, message.incarnation);
        return this.send({ kind: 'registerResponse', from: CONTROLLER_ID, to: message.from, incarnation: message.incarnation, catchUpOffset });
      }
      case 'heartbeat':
        return this.controller.heartbeat(message.from, message.incarnation, nowMs);
      case 'alterPartition': {
        const errorCode = this.controller.alterPartition(message.request);
        return this.send({ kind: 'alterPartitionResponse', from: CONTROLLER_ID, to: message.from, partition: message.request.partition, proposalId: message.proposalId, attempt: message.attempt, errorCode });
      }
      case 'metadataFetch': {
        const records = this.controller.metadataLog.slice(message.fromOffset, message.fromOffset + ReplicationSimSettings.maxMetadataRecordsPerFetch);
        return this.send({ kind: 'metadataResponse', from: CONTROLLER_ID, to: message.from, fromOffset: message.fromOffset, records });
      }
      default:
        throw new Error(`sim controller: unexpected ${message.kind}`);
    }
  }

  /** Cuts the link between two nodes both ways. */
  cutLink(a: number, b: number): void {
    this.note(`cut n${a}<>n${b}`);
    this.blocked.add(`${a}>${b}`);
    this.blocked.add(`${b}>${a}`);
  }

  /** A controller failover: its answers are lost for `durationMs` (what it committed stays). */
  loseControllerAnswers(durationMs: number): void {
    this.note('controller failover: its answers are lost for a while');
    this.controllerAnswersLostUntilMs = this.scheduler.nowMs + durationMs;
  }

  /** Cuts `nodeId` off the controller, and off the other nodes unless `controllerOnly`. */
  isolate(nodeId: number, controllerOnly = false): void {
    this.isolations++;
    this.note(`isolate n${nodeId}${controllerOnly ? ' from the controller' : ''}`);
    const peers = controllerOnly ? [CONTROLLER_ID] : [CONTROLLER_ID, ...this.nodes.map((node) => node.id).filter((id) => id !== nodeId)];
    for (const peer of peers) {
      this.blocked.add(`${nodeId}>${peer}`);
      this.blocked.add(`${peer}>${nodeId}`);
    }
  }

  /** The node's metadata log consumer stalls (as a broker behind on the metadata log) until healed. */
  stallMetadata(nodeId: number): void {
    this.note(`stall metadata on n${nodeId}`);
    this.metadataStalled.add(nodeId);
  }

  heal(): void {
    this.note('heal network');
    this.blocked.clear();
    this.metadataStalled.clear();
  }

  // ---- nodes and clients --------------------------------------------------------------------

  /** Crashes a node; the supervisor sees it exit (and the controller fences it at once) unless `silent`. */
  crash(nodeId: number, silent = this.faultsOn && this.random.next() < 0.5): void {
    const node = this.nodes[nodeId]!;
    if (!node.up) return;
    this.note(`crash n${nodeId}${silent ? ' (silently: its session times out)' : ''}`);
    node.crash();
    this.checker.onCrash(node);
    this.crashes++;
    if (!silent) this.scheduler.after(1 + this.random.next() * 10, `n${nodeId} gone`, () => !node.up && this.controller.markGone(nodeId));
  }

  /**
   * A clean shutdown: the controller moves the node out of every ISR and leadership first, then
   * the node fsyncs and stops (as a crash that loses nothing); it restarts after `downMs`.
   */
  shutDown(nodeId: number, downMs: number): void {
    const node = this.nodes[nodeId]!;
    if (!node.up) return;
    this.note(`controlled shutdown n${nodeId}`);
    this.controller.controlledShutdown(nodeId);
    const incarnation = node.incarnation;
    this.scheduler.after(5 + this.random.next() * 30, `stop n${nodeId}`, () => {
      // Once everything healed, the node stays (its heartbeats unfence it).
      if (!node.up || node.incarnation !== incarnation || !this.faultsOn) return;
      node.fsync();
      this.crash(nodeId, true);
      this.scheduler.after(downMs, `restart n${nodeId}`, () => this.faultsOn && this.restart(nodeId));
    });
  }

  restart(nodeId: number): void {
    const node = this.nodes[nodeId]!;
    if (node.up) return;
    this.note(`restart n${nodeId}`);
    node.start();
  }

  /** While held, the node's fsyncs take (practically) forever: its unsynced writes wait for a crash. */
  holdFsync(nodeId: number, held: boolean): void {
    if (held) return void this.heldFsync.add(nodeId);
    if (!this.heldFsync.delete(nodeId)) return;
    // The held fsync completes now (the one scheduled far away then finds nothing to do).
    const node = this.nodes[nodeId]!;
    const incarnation = node.incarnation;
    this.scheduler.after(this.fsyncDelayMs(nodeId), `fsync n${nodeId}`, () => node.up && node.incarnation === incarnation && node.fsync());
  }

  /**
   * A produce on `nodeId` (by default any node that believes it leads) with acks -1 (tracked
   * until its ack completes) or 1; the batch, or null when refused or no node leads.
   */
  produce(partition: number, nodeId?: number, acks: -1 | 1 = -1): SimBatch | null {
    const candidates = this.nodes.filter((node) => node.up && node.replicas[partition]!.state.role === ReplicaRole.LEADER && (nodeId === undefined || node.id === nodeId));
    if (candidates.length === 0) return null;
    const node = candidates[this.random.int(0, candidates.length - 1)]!;
    const ackId = this.nextAckId++;
    // Registered first: an ack may complete (refused as too many waiting) within the produce.
    const pending: PendingProduce = { partition, batch: null };
    if (acks === -1) this.produces.set(ackId, pending);
    const outcome = node.produce(partition, this.nextPayloadId++, this.random.int(1, 3), ackId, acks);
    if (typeof outcome === 'number') {
      this.produces.delete(ackId);
      this.ackErrors++;
      return null;
    }
    pending.batch = outcome;
    this.appended++;
    return outcome;
  }

  private onAckCompleted(node: SimNode, partition: number, ackId: number, errorCode: number): void {
    const produce = this.produces.get(ackId);
    if (produce === undefined || produce.partition !== partition) {
      this.checker.violations.push(`n${node.id} p${partition}: ack ${ackId} completed twice or never produced`);
      return;
    }
    this.produces.delete(ackId);
    if (errorCode !== ErrorCode.NONE) this.ackErrors++;
    if (produce.batch !== null) this.checker.onAckCompleted(node, partition, produce.batch, errorCode);
    else if (errorCode === ErrorCode.NONE) this.checker.violations.push(`n${node.id} p${partition}: ack ${ackId} completed NONE within its produce`);
  }

  note(text: string): void {
    if (this.options.trace === true) this.trace.push(`${this.scheduler.nowMs.toFixed(2).padStart(9)} ${text}`);
  }

  // ---- running ------------------------------------------------------------------------------

  /** Runs events until `done` holds (true), `limitMs` of simulated time passed or a violation (false). */
  runUntil(done: () => boolean, limitMs: number): boolean {
    const endMs = this.scheduler.nowMs + limitMs;
    while (this.events < MAX_EVENTS && !this.stopped) {
      if (done()) return true;
      if (this.scheduler.nowMs > endMs) return false;
      if (!this.step()) return false;
    }
    return false;
  }

  runFor(durationMs: number): void {
    const endMs = this.scheduler.nowMs + durationMs;
    this.runUntil(() => this.scheduler.nowMs >= endMs, durationMs + 1);
  }

  /** One event, then the invariants; false once a violation stopped the run. */
  private step(): boolean {
    try {
      const event = this.scheduler.runNext();
      if (event === null) return false;
      this.events++;
      if (this.options.trace === true) this.trace.push(`${this.scheduler.nowMs.toFixed(2).padStart(9)} ${event.label}  ${this.summary()}`);
      this.checker.checkAll();
    } catch (error) {
      const kind = error instanceof InvariantError ? 'core invariant' : 'simulation error';
      const label = this.scheduler.current?.label ?? 'the checks';
      this.checker.violations.push(`${kind} at ${this.scheduler.nowMs.toFixed(2)} ms (${label}): ${(error as Error).message}`);
    }
    if (this.checker.violations.length > 0) this.stopped = true;
    return !this.stopped;
  }

  /** The random run: faults, then healing, then settling. */
  run(): ReplicationSimResult {
    const faultPhaseMs = this.options.faultPhaseMs ?? 3000;
    const settleMs = this.options.settleMs ?? 3000;
    const nemesis = new ReplicationNemesis(this);
    nemesis.scheduleClient(faultPhaseMs);
    nemesis.scheduleFaults(faultPhaseMs);
    this.runFor(faultPhaseMs);
    this.healAll();
    this.finish(settleMs);
    return this.result();
  }

  /** Heals everything and waits for every partition to settle; then the final checks. */
  finish(settleMs: number): void {
    if (this.stopped) return;
    this.healAll();
    const settled = this.runUntil(() => this.isSettled(), settleMs);
    if (this.stopped) return;
    if (!settled) {
      this.checker.violations.push(`liveness: not settled ${settleMs} ms after healing (${this.summary()})`);
      return;
    }
    const leaders = this.finalLeaders();
    this.checker.checkFinal(leaders, (partition) => this.controller.image.partition('sim', partition)!.replicas);
  }

  private healAll(): void {
    this.faultsOn = false;
    for (const nodeId of [...this.heldFsync]) this.holdFsync(nodeId, false);
    this.heal();
    for (const node of this.nodes) this.restart(node.id);
  }

  private finalLeaders(): Array<SimNode | null> {
    return Array.from({ length: this.partitionCount }, (_, partition) => {
      const image = this.controller.image.partition('sim', partition)!;
      return image.leader >= 0 ? this.nodes[image.leader]! : null;
    });
  }

  /** Every partition: led by the controller's leader, full ISR, every replica at the leader's log end and high watermark. */
  isSettled(): boolean {
    if (this.nodes.some((node) => !node.up)) return false;
    for (let partition = 0; partition < this.partitionCount; partition++) {
      const image = this.controller.image.partition('sim', partition)!;
      if (image.leader < 0 || image.isr.length !== image.replicas.length) return false;
      const leaderState = this.nodes[image.leader]!.replicas[partition]!.state;
      if (leaderState.role !== ReplicaRole.LEADER || leaderState.leaderEpoch !== image.leaderEpoch) return false;
      const endOffset = this.nodes[image.leader]!.logs[partition]!.logEndOffset;
      for (const nodeId of image.replicas) {
        const node = this.nodes[nodeId]!;
        const log = node.logs[partition]!;
        const state = node.replicas[partition]!.state;
        if (log.logEndOffset !== endOffset || log.durableEndOffset !== endOffset || state.highWatermark !== endOffset || state.partitionEpoch !== image.partitionEpoch) return false;
      }
    }
    return true;
  }

  summary(): string {
    const parts: string[] = [];
    for (const node of this.nodes) {
      if (!node.up) {
        parts.push(`n${node.id}:down`);
        continue;
      }
      const partitions = node.replicas.map((runtime, partition) => {
        const state = runtime.state;
        const log = node.logs[partition]!;
        return `${state.role === ReplicaRole.LEADER ? 'L' : state.role === ReplicaRole.FOLLOWER ? 'F' : '-'}e${state.leaderEpoch}h${state.highWatermark}l${log.logEndOffset}d${log.durableEndOffset}`;
      });
      parts.push(`n${node.id}:${partitions.join(',')}`);
    }
    return parts.join(' ');
  }

  result(): ReplicationSimResult {
    return {
      seed: this.options.seed,
      nodeCount: this.nodeCount,
      partitionCount: this.partitionCount,
      events: this.events,
      produced: this.appended,
      acknowledged: this.checker.acknowledged.length,
      ackErrors: this.ackErrors,
      elections: this.controller.elections,
      fencings: this.controller.fencings,
      crashes: this.crashes,
      isolations: this.isolations,
      truncations: this.nodes.reduce((sum, node) => sum + node.truncations, 0),
      alterPartitionsAccepted: this.controller.alterPartitionsAccepted,
      alterPartitionsRefused: this.controller.alterPartitionsRefused,
      violations: this.checker.violations,
      trace: this.trace,
    };
  }
}

export function runReplicationSimulation(options: ReplicationSimOptions): ReplicationSimResult {
  return new ReplicationCluster(options).run();
}
