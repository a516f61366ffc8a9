/**
 * Runs a RaftCore against injected Storage, Transport and state machine: the loop etcd calls
 * the "Ready handling" (persist, then send, then apply, then advance). One Ready is in flight at
 * a time; everything stepped while its fsync runs collects into the next one, which is what
 * makes Raft writes group-committed. The driver takes snapshots of the state machine every
 * `snapshotIntervalEntries` applied entries and lets the core drop the log behind them.
 *
 * Pure in the same sense as the core: it only calls its injected interfaces, so the
 * deterministic simulation runs this very loop with a simulated disk and network.
 */
import type { RaftCore } from './raft-core.js';
import type { Storage } from '../runtime/storage.js';
import type { Transport } from '../runtime/transport.js';
import type { RaftEntry, RaftInitialState, RaftMessage, RaftSnapshot, Ready } from './types.js';

/**
 * A voter's storage: `load` what it stored before (empty on first start); `persist` a Ready's
 * snapshot, entries (replacing stored entries from `entries[0].index` on) and hard state,
 * `done` once durable (or, when `mustSync` is false, once written).
 */
export interface RaftStorage extends Storage<RaftInitialState, Ready> {
  /** Stores a snapshot of the applied state and drops the entries it covers. */
  saveSnapshot(snapshot: RaftSnapshot, done: (error: Error | null) => void): void;
}

export type RaftTransport = Transport<RaftMessage>;

export interface RaftStateMachine {
  apply(entry: RaftEntry): void;
  /** Replaces the whole state by a snapshot's. */
  restore(snapshot: RaftSnapshot): void;
  /** The state as of the last applied entry. */
  snapshotData(): Uint8Array;
}

export interface RaftDriverOptions {
  /** A snapshot is taken once this many entries were applied since the last one. */
  snapshotIntervalEntries: number;
  /** Called when storage fails: the voter stops (a voter that cannot write must not vote). */
  onStorageFailure: (error: Error) => void;
}

export class RaftDriver {
  private persisting = false;
  private pumping = false;
  private snapshotting = false;
  private stopped = false;

  constructor(
    readonly core: RaftCore,
    private readonly storage: RaftStorage,
    private readonly transport: RaftTransport,
    private readonly stateMachine: RaftStateMachine,
    private readonly options: RaftDriverOptions,
  ) {
    if (core.snapshot !== null) stateMachine.restore(core.snapshot);
  }

  tick(): void {
    if (this.stopped) return;
    this.core.tick();
    this.pump();
  }

  step(message: RaftMessage): void {
    if (this.stopped) return;
    this.core.step(message);
    this.pump();
  }

  /** Proposes an entry; returns its index, or null when this voter does not lead. */
  propose(data: Uint8Array): number | null {
    if (this.stopped) return null;
    const index = this.core.propose(data);
    this.pump();
    return index;
  }

  /** Stops handling anything (the node crashed or shuts down); in-flight callbacks are dropped. */
  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.persisting && !this.stopped && this.core.hasReady()) this.startReady();
    } finally {
      this.pumping = false;
    }
  }

  private startReady(): void {
    const ready = this.core.ready();
    this.persisting = true;
    this.storage.persist(ready, (error) => this.finishReady(ready, error));
  }

  private finishReady(ready: Ready, error: Error | null): void {
    if (this.stopped) return;
    this.persisting = false;
    if (error !== null) return this.fail(error);
    for (const message of ready.messages) this.transport.send(message);
    if (ready.snapshot !== null) this.stateMachine.restore(ready.snapshot);
    for (const entry of ready.committedEntries) this.stateMachine.apply(entry);
    this.core.advance(ready);
    this.maybeSnapshot();
    this.pump();
  }

  private maybeSnapshot(): void {
    const applied = this.core.appliedIndex;
    if (this.snapshotting || applied - this.core.log.snapshotIndex < this.options.snapshotIntervalEntries) return;
    const term = this.core.log.term(applied);
    if (term === undefined) return;
    const snapshot: RaftSnapshot = { index: applied, term, data: this.stateMachine.snapshotData() };
    this.snapshotting = true;
    this.storage.saveSnapshot(snapshot, (error) => {
      if (this.stopped) return;
      this.snapshotting = false;
      if (error !== null) return this.fail(error);
      // A snapshot from the leader may have replaced the log meanwhile; then this one is old.
      if (snapshot.index > this.core.log.snapshotIndex && this.core.log.term(snapshot.index) === snapshot.term) this.core.compact(snapshot.index, snapshot.data);
      this.pump();
    });
  }

  private fail(error: Error): void {
    this.stopped = true;
    this.options.onStorageFailure(error);
  }
}
