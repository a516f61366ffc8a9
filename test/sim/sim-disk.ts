/**
 * A simulated data dir for one voter's Raft storage. Writes land in the page cache at once
 * and become durable only when an fsync completes (after a simulated, sometimes slow, delay).
 * A crash keeps the durable state plus a random prefix of the writes not yet fsynced (the disk
 * may have written some of them on its own); a wipe loses everything.
 */
import type { RaftStorage } from '../../src/raft/raft-driver.js';
import { emptyRaftState, type HardState, type RaftEntry, type RaftInitialState, type RaftSnapshot, type Ready } from '../../src/raft/types.js';
import type { SeededRandom } from '../../src/runtime/random.js';
import type { Scheduler } from './scheduler.js';

interface StoredState {
  hardState: HardState;
  snapshot: RaftSnapshot | null;
  entries: RaftEntry[];
}

type Write = (state: StoredState) => void;

export interface DiskFaults {
  /** Probability that an fsync takes 20-80 ms instead of 0.1-2 ms. */
  slowFsyncProbability: number;
  /** Probability that an fsync fails (EIO): the voter stops. */
  failedFsyncProbability: number;
}

function copyState(state: StoredState): StoredState {
  return { hardState: state.hardState, snapshot: state.snapshot, entries: [...state.entries] };
}

export class SimDisk {
  private durable: StoredState = copyState({ ...emptyRaftState, entries: [] });
  private cached: StoredState = copyState(this.durable);
  private unsynced: Write[] = [];
  /** Bumped on crash: fsyncs issued before it never complete. */
  private incarnation = 0;
  fsyncs = 0;
  /**
   * Set by a wipe and kept across crashes until the voter has caught up (a real data dir keeps
   * this as a marker file): a voter that restarts before then still rejoins.
   */
  rejoinPending = false;
  /** A new data dir gets a new identity (RaftConfig.storageId). */
  storageId: number;
  /** Called after every fsync completion has run (the cluster checks invariants then). */
  afterFsync: () => void = () => undefined;

  constructor(
    private readonly nodeId: number,
    private readonly scheduler: Scheduler,
    private readonly random: SeededRandom,
    readonly faults: DiskFaults,
  ) {
    this.storageId = random.int(1, 2 ** 30);
  }

  /** Storage for one run of the voter (until the next crash). */
  storage(): RaftStorage {
    const incarnation = this.incarnation;
    return {
      load: (): RaftInitialState => {
        const state = copyState(this.cached);
        return { hardState: state.hardState, snapshot: state.snapshot, entries: state.entries };
      },
      persist: (ready: Ready, done) => {
        this.write((state) => applyReady(state, ready));
        if (ready.mustSync) this.fsync(incarnation, done);
        else done(null);
      },
      saveSnapshot: (snapshot: RaftSnapshot, done) => {
        this.write((state) => {
          state.snapshot = snapshot;
          state.entries = state.entries.filter((entry) => entry.index > snapshot.index);
        });
        this.fsync(incarnation, done);
      },
    };
  }

  private write(change: Write): void {
    change(this.cached);
    this.unsynced.push(change);
  }

  private fsync(incarnation: number, done: (error: Error | null) => void): void {
    const covered = this.unsynced.length;
    const slow = this.random.next() < this.faults.slowFsyncProbability;
    const delayMs = slow ? 20 + this.random.next() * 60 : 0.1 + this.random.next() * 1.9;
    const fails = this.random.next() < this.faults.failedFsyncProbability;
    this.scheduler.after(delayMs, `fsync n${this.nodeId}`, () => {
      if (incarnation !== this.incarnation) return;
      if (fails && this.faults.failedFsyncProbability > 0) {
        done(new Error('EIO: simulated fsync failure'));
        return this.afterFsync();
      }
      this.makeDurable(covered);
      this.fsyncs++;
      done(null);
      this.afterFsync();
    });
  }

  private makeDurable(count: number): void {
    const writes = this.unsynced.splice(0, count);
    for (const write of writes) write(this.durable);
  }

  /** The process dies: writes not fsynced survive only as a random prefix. */
  crash(): void {
    this.incarnation++;
    const kept = this.random.int(0, this.unsynced.length);
    this.makeDurable(kept);
    this.unsynced = [];
    this.cached = copyState(this.durable);
  }

  wipe(): void {
    this.incarnation++;
    this.rejoinPending = true;
    this.storageId = this.random.int(1, 2 ** 30);
    this.unsynced = [];
    this.durable = copyState({ ...emptyRaftState, entries: [] });
    this.cached = copyState(this.durable);
  }

  /** The durable log, for the invariant that acknowledged committed entries survive. */
  durableState(): Readonly<StoredState> {
    return this.durable;
  }
}

function applyReady(state: StoredState, ready: Ready): void {
  if (ready.snapshot !== null) {
    state.snapshot = ready.snapshot;
    state.entries = [];
  }
  const first = ready.entries[0];
  if (first !== undefined) state.entries = state.entries.filter((entry) => entry.index < first.index).concat(ready.entries);
  if (ready.hardState !== null) state.hardState = ready.hardState;
}
