/**
 * The front end's handle on one node worker: starts the thread, writes requests into its
 * request ring and matches completions from its completion ring to the promises waiting for
 * them. When the request ring is full, requests queue here in order and `isBackedUp` tells the
 * front end to stop reading sockets until the node catches up.
 */
import type { Worker } from 'node:worker_threads';
import { Limits } from '../runtime/limits.js';
import type { Logger } from '../runtime/logger.js';
import { Doorbell } from '../runtime/doorbell.js';
import { RingReader, RingWriter } from '../runtime/shared-ring.js';
import { PauseSwitch } from './node-pause.js';
import { spawnNodeWorker, type SpawnedNodeWorker } from './node-spawn.js';
import {
  MessageKind,
  messageKind,
  readControl,
  readFetchCompletion,
  readProduceCompletion,
  writeControl,
  writeFetchRequest,
  writeProduceRequest,
  type ControlRequest,
  type ControlResponse,
  type FetchPartitionResult,
  type FetchRequest,
  type ProducePartitionResult,
  type ProduceRequest,
} from './node-protocol.js';
import type { NodeWorkerCommand, NodeWorkerInit, NodeWorkerMessage } from './node-worker.js';
import type { AlterPartitionRequest } from './broker-node.js';
import { isQuorumEvent, type QuorumCommand, type QuorumEvent } from './quorum-protocol.js';

type Pending = { resolve: (value: never) => void; reject: (error: Error) => void };

/** Requests queued here beyond this share of the ring's capacity stop socket reads. */
const BACKLOG_PAUSE_FRACTION = 0.25;
/** Completions handled per pass before the front end's event loop gets a turn. */
const MAX_COMPLETIONS_PER_DRAIN = 256;

export class NodeHandle {
  readonly nodeId: number;
  /** The node's wake-up cell (its peers' link writers ring it too). */
  readonly doorbell: SharedArrayBuffer;
  private readonly worker: Worker;
  private readonly requests: RingWriter;
  private readonly completions: RingReader;
  private readonly pending = new Map<number, Pending>();
  private readonly backlog: Array<{ write: (ring: RingWriter) => boolean; sizeBytes: number }> = [];
  private backlogBytes = 0;
  private readonly backlogPauseBytes: number;
  private backlogDraining = false;
  private nextRequestId = 1;
  private stopped = false;
  private stopping = false;
  private exited = false;
  /** Terminated by fault injection (`kill`): its exit is expected, not an error. */
  private killed = false;
  private readonly pauseSwitch: PauseSwitch;
  /** Why the worker is gone, once it is. */
  private failure: Error | null = null;
  /** Why the node's data dir went offline (an I/O error there), or null while it is online. */
  logDirOfflineReason: string | null = null;
  private readonly readyPromise: Promise<Extract<NodeWorkerMessage, { type: 'ready' }>>;
  private readonly exitPromise: Promise<number>;
  /** Called whenever the backlog empties, so the front end can resume reading sockets. */
  onDrained: () => void = () => {};
  /** Messages of the node's metadata quorum member (Raft traffic, applied entries, status). */
  onQuorumEvent: (event: QuorumEvent) => void = () => {};
  /** A partition leader on this node proposes an ISR change. */
  onAlterPartition: (request: AlterPartitionRequest) => void = () => {};

  /**
   * Takes over a worker spawned earlier (`spawnNodeWorker`, so it could load its code while the
   * front end loaded its own) or spawns one, and sends it its configuration.
   */
  constructor(
    data: NodeWorkerInit,
    private readonly logger: Logger,
    spawned: SpawnedNodeWorker = spawnNodeWorker(Limits.ringCapacityBytes),
  ) {
    this.nodeId = data.nodeId;
    this.requests = new RingWriter(spawned.requestRing, { doorbell: new Doorbell(spawned.doorbell) });
    this.doorbell = spawned.doorbell;
    this.backlogPauseBytes = spawned.ringCapacityBytes * BACKLOG_PAUSE_FRACTION;
    this.completions = new RingReader(spawned.completionRing);
    this.worker = spawned.worker;
    this.pauseSwitch = new PauseSwitch(spawned.pauseCell);
    const init: NodeWorkerCommand = { type: 'init', data };
    this.worker.postMessage(init);
    this.readyPromise = new Promise((resolve, reject) => {
      if (spawned.earlyError !== null) reject(spawned.earlyError);
      this.worker.on('message', (message: NodeWorkerMessage) => {
        if (message.type === 'ready') resolve(message);
        else if (message.type === 'logDirOffline') this.logDirOfflineReason = message.reason;
      });
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`node ${this.nodeId} exited with code ${code} before it was ready`)));
    });
    this.worker.on('message', (message: NodeWorkerMessage) => {
      if (isQuorumEvent(message)) this.onQuorumEvent(message);
      else if (message.type === 'alterPartition') this.onAlterPartition(message.request);
    });
    this.exitPromise = new Promise((resolve) => this.worker.once('exit', resolve));
    // A node that dies (a bug, or a fatal storage error) must fail its requests, not strand them.
    void this.exitPromise.then((code) => {
      this.exited = true;
      // The completion pump and a backlog writer may be waiting on the rings: the worker will
      // not wake them any more.
      this.completions.wake();
      this.requests.wake();
      if (this.stopped || this.stopping || this.killed) return;
      this.failure ??= new Error(`node ${this.nodeId} exited unexpectedly with code ${code}`);
      this.logger.error('node worker exited', { node: this.nodeId, code });
      this.failAll(this.failure);
    });
    this.worker.on('error', (error) => {
      this.logger.error('node worker crashed', { node: this.nodeId, error: error.stack ?? error.message });
      this.failure ??= new Error(`node ${this.nodeId} crashed: ${error.message}`);
      this.failAll(this.failure);
    });
    void this.pumpCompletions();
  }

  ready(): Promise<Extract<NodeWorkerMessage, { type: 'ready' }>> {
    return this.readyPromise;
  }

  /** Hands the node's quorum member a Raft message or a proposal (dropped once the worker is gone). */
  sendQuorum(command: QuorumCommand): void {
    this.post(command);
  }

  /** Tells the node about a peer's new links, or answers its AlterPartition (dropped once gone). */
  post(command: NodeWorkerCommand): void {
    if (this.exited || this.stopped) return;
    this.worker.postMessage(command);
  }

  get isBackedUp(): boolean {
    return this.backlogBytes >= this.backlogPauseBytes;
  }

  get maxMessageBytes(): number {
    return this.requests.maxMessageBytes;
  }

  /** acks=0 produce: no completion comes back. */
  produceWithoutAck(request: Omit<ProduceRequest, 'requestId'>): void {
    const full: ProduceRequest = { ...request, requestId: 0 };
    this.send((ring) => writeProduceRequest(ring, full), sizeOf(request.partitions));
  }

  produce(request: Omit<ProduceRequest, 'requestId'>): Promise<ProducePartitionResult[]> {
    return this.call((requestId) => (ring) => writeProduceRequest(ring, { ...request, requestId }), sizeOf(request.partitions));
  }

  fetch(request: Omit<FetchRequest, 'requestId'>): Promise<FetchPartitionResult[]> {
    return this.call((requestId) => (ring) => writeFetchRequest(ring, { ...request, requestId }), 64 + request.partitions.length * 64);
  }

  async control<T>(message: ControlRequest): Promise<T> {
    const response = await this.call<ControlResponse>((requestId) => (ring) => writeControl(ring, requestId, message), 1024);
    if (!response.ok) throw new Error(`node ${this.nodeId}: ${message.op} failed: ${response.error}`);
    return response.value as T;
  }

  private call<T>(build: (requestId: number) => (ring: RingWriter) => boolean, sizeBytes: number): Promise<T> {
    if (this.stopped) return Promise.reject(new Error(`node ${this.nodeId} is stopped`));
    if (this.failure !== null) return Promise.reject(this.failure);
    const requestId = this.nextRequestId;
    this.nextRequestId = this.nextRequestId >= 0xfffffff0 ? 1 : this.nextRequestId + 1;
    const promise = new Promise<T>((resolve, reject) => this.pending.set(requestId, { resolve: resolve as (value: never) => void, reject }));
    this.send(build(requestId), sizeBytes);
    return promise;
  }

  private send(write: (ring: RingWriter) => boolean, sizeBytes: number): void {
    if (this.backlog.length === 0 && write(this.requests)) return;
    this.backlog.push({ write, sizeBytes });
    this.backlogBytes += sizeBytes;
    if (!this.backlogDraining) void this.drainBacklog();
  }

  private async drainBacklog(): Promise<void> {
    this.backlogDraining = true;
    while (this.backlog.length > 0 && !this.stopped && !this.exited) {
      const head = this.backlog[0]!;
      const readPositionBefore = this.requests.readPosition();
      if (!head.write(this.requests)) {
        await this.requests.waitForSpace(readPositionBefore);
        continue;
      }
      this.backlog.shift();
      this.backlogBytes -= head.sizeBytes;
    }
    if (this.exited) {
      // Their callers were failed with the node's exit (failAll).
      this.backlog.length = 0;
      this.backlogBytes = 0;
    }
    this.backlogDraining = false;
    this.onDrained();
  }


  private async pumpCompletions(): Promise<void> {
    // Ends with the worker: its exit wakes the wait below, and the next pass sees it.
    while (!this.stopped && this.failure === null) {
      this.completions.drain(this.handleCompletion, MAX_COMPLETIONS_PER_DRAIN);
      if (this.exited) {
        // The worker is gone: whatever it wrote before exiting is all there will be.
        this.completions.drain(this.handleCompletion);
        break;
      }
      // The worker's exit wakes this wait too (see the exit handler).
      if (this.completions.isEmpty) await this.completions.waitForData();
      // Still more: let sockets and other nodes' completions in before the next pass.
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private readonly handleCompletion = (bytes: Buffer, offset: number, length: number): void => {
    const kind = messageKind(bytes, offset);
    let requestId: number;
    let value: unknown;
    if (kind === MessageKind.PRODUCE) ({ requestId, results: value } = readProduceCompletion(bytes, offset) as { requestId: number; results: unknown });
    else if (kind === MessageKind.FETCH) ({ requestId, results: value } = readFetchCompletion(bytes, offset) as { requestId: number; results: unknown });
    else ({ requestId, message: value } = readControl<ControlResponse>(bytes, offset, length) as { requestId: number; message: unknown });
    const pending = this.pending.get(requestId);
    if (pending === undefined) {
      this.logger.error('completion for an unknown request', { node: this.nodeId, requestId, kind });
      return;
    }
    this.pending.delete(requestId);
    pending.resolve(value as never);
  };

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  get isKilled(): boolean {
    return this.killed;
  }

  get isPaused(): boolean {
    return this.pauseSwitch.paused;
  }

  /** Why the worker died on its own (a crash, not `kill` or `stop`), or null while it lives. */
  get crash(): Error | null {
    return this.killed || this.stopping || this.stopped ? null : this.failure;
  }

  /** Fault injection: freezes the worker thread (see node-pause.ts); resolves once it is frozen. */
  pause(timeoutMs: number): Promise<void> {
    return this.pauseSwitch.pause(timeoutMs);
  }

  resume(): void {
    this.pauseSwitch.resume();
  }

  /**
   * Fault injection: terminates the worker at once, like a crash (no flush, no checkpoint).
   * Requests in flight fail with an error saying the node was killed.
   */
  async kill(): Promise<void> {
    if (this.killed || this.stopped) return;
    this.killed = true;
    this.failure ??= new Error(`node ${this.nodeId} was killed`);
    this.failAll(this.failure);
    await this.worker.terminate();
  }

  /** Asks the node to flush and close its logs, then waits for the thread to end. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.stopped || this.stopping || this.killed) return;
    // The worker may exit on its own once its logs are closed, before the reply is read here.
    this.stopping = true;
    // A paused worker could not answer the shutdown.
    this.pauseSwitch.resume();
    try {
      await withTimeout(this.control({ op: 'shutdown' }), timeoutMs);
    } catch (error) {
      this.logger.warn('node did not shut down cleanly', { node: this.nodeId, error: (error as Error).message });
    }
    this.stopped = true;
    this.failAll(new Error(`node ${this.nodeId} stopped`));
    await this.worker.terminate();
  }
}

function sizeOf(partitions: ReadonlyArray<{ topic: string; records: Buffer }>): number {
  let size = 64;
  for (const partition of partitions) size += partition.topic.length * 3 + 16 + partition.records.length;
  return size;
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    }),
  ]);
}
