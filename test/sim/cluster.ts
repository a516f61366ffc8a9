/**
 * A whole simulated Raft metadata quorum in one thread: N members, all voters or (with
 * `voterCount`) some of them observers that follow the log without voting (the real RaftCore and
 * RaftDriver over the real MetadataImage), one seeded scheduler, a network that drops, delays,
 * duplicates and reorders messages and can be cut (symmetric or one way), disks with slow and
 * failing fsyncs that lose unsynced writes on a crash, and a nemesis that crashes, restarts,
 * pauses and wipes voters. Invariants are checked after every event. After the fault phase
 * everything heals, and the group must elect a leader and apply a new entry everywhere within
 * a bounded simulated time.
 */
import { RaftCore } from '../../src/raft/raft-core.js';
import { RaftDriver } from '../../src/raft/raft-driver.js';
import { MessageType, RaftRole, type RaftMessage } from '../../src/raft/types.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { InvariantChecker, VoterWatch } from './invariants.js';
import { imageText, MetadataMachine } from './metadata-machine.js';
import { Scheduler } from './scheduler.js';
import { SimDisk } from './sim-disk.js';
import { SimProposer } from './sim-proposer.js';
import { MetadataImage } from '../../src/metadata/image.js';
import { decodeRecords } from './metadata-machine.js';

export interface SimOptions {
  seed: number;
  /** 1, 3 or 5; chosen from the seed when absent. */
  nodeCount?: number;
  /** Voters among the nodes (which ones comes from the seed); the rest are observers. Default: all. */
  voterCount?: number;
  faultPhaseMs?: number;
  /** Liveness bound: after healing, a new entry must be applied everywhere within this. */
  settleMs?: number;
  trace?: boolean;
}

export interface SimResult {
  seed: number;
  nodeCount: number;
  voterCount: number;
  events: number;
  committed: number;
  elections: number;
  crashes: number;
  wipes: number;
  snapshotInstalls: number;
  violations: string[];
  trace: string[];
}

const TICK_MS = 10;
const ELECTION_TICKS = 10;
const HEARTBEAT_TICKS = 2;
/** Bounds the run whatever happens: no seed loops forever. */
const MAX_EVENTS = 400_000;

class SimVoter {
  core: RaftCore | null = null;
  driver: RaftDriver | null = null;
  machine: MetadataMachine | null = null;
  readonly watch = new VoterWatch();
  pausedUntilMs = 0;
  /** Bumped on crash: ticks and deliveries scheduled for an earlier run are dropped. */
  incarnation = 0;

  constructor(
    readonly id: number,
    readonly disk: SimDisk,
  ) {}

  get up(): boolean {
    return this.driver !== null && !this.driver.isStopped;
  }
}

export class SimCluster {
  readonly random: SeededRandom;
  readonly scheduler = new Scheduler();
  readonly checker = new InvariantChecker();
  readonly voters: SimVoter[] = [];
  readonly nodeCount: number;
  private readonly ids: number[];
  private readonly voterIds: number[];
  private readonly observerIds: number[];
  /** A majority of the voters. */
  private readonly quorum: number;
  /** The highest index each node ever acknowledged, wipes included (for the voter-majority check). */
  private readonly everAcknowledged: number[];
  private readonly proposer: SimProposer;
  /** blocked.has(`${from}>${to}`): messages on that link are dropped. */
  private readonly blocked = new Set<string>();
  private dropProbability: number;
  /** Small appends make logs diverge in more ways (one entry per message, as in Raft's figure 8). */
  private readonly maxEntriesPerAppend: number;
  private duplicateProbability: number;
  private faultsOn = true;
  private events = 0;
  private elections = 0;
  private crashes = 0;
  private wipes = 0;
  readonly trace: string[] = [];

  constructor(private readonly options: SimOptions) {
    this.random = new SeededRandom(options.seed);
    this.nodeCount = options.nodeCount ?? [1, 3, 3, 5][this.random.int(0, 3)]!;
    this.ids = Array.from({ length: this.nodeCount }, (_, id) => id);
    this.dropProbability = this.random.next() * 0.1;
    this.duplicateProbability = this.random.next() * 0.05;
    this.maxEntriesPerAppend = [1, 2, 8, 64][this.random.int(0, 3)]!;
    const faults = { slowFsyncProbability: this.random.next() * 0.1, failedFsyncProbability: this.random.next() < 0.3 ? 0.002 : 0 };
    for (const id of this.ids) this.voters.push(new SimVoter(id, new SimDisk(id, this.scheduler, this.random, faults)));
    this.proposer = new SimProposer(this.random);
    // Drawn last, and only for observer runs, so the all-voter runs of a seed stay as they were.
    const voterCount = options.voterCount ?? this.nodeCount;
    if (voterCount < 1 || voterCount > this.nodeCount) throw new Error(`sim: ${voterCount} voters among ${this.nodeCount} nodes`);
    const shuffled = [...this.ids];
    if (voterCount < this.nodeCount) for (let index = shuffled.length - 1; index > 0; index--) swap(shuffled, index, this.random.int(0, index));
    this.voterIds = shuffled.slice(0, voterCount).sort((a, b) => a - b);
    this.observerIds = this.ids.filter((id) => !this.voterIds.includes(id));
    this.quorum = Math.floor(voterCount / 2) + 1;
    this.everAcknowledged = this.ids.map(() => 0);
  }

  run(): SimResult {
    const faultPhaseMs = this.options.faultPhaseMs ?? 6000;
    const settleMs = this.options.settleMs ?? 3000;
    for (const voter of this.voters) this.start(voter);
    this.scheduleClient(faultPhaseMs);
    this.scheduleNemesis(faultPhaseMs);
    this.scheduler.at(faultPhaseMs, 'heal', () => this.healAll());
    let settled = false;
    while (this.events < MAX_EVENTS) {
      const event = this.scheduler.runNext();
      if (event === null) break;
      this.events++;
      if (this.options.trace === true) this.trace.push(`${this.scheduler.nowMs.toFixed(2).padStart(9)} ${event.label}  ${this.summary()}`);
      if (this.checker.violations.length > 0) break;
      if (this.scheduler.nowMs > faultPhaseMs && this.settledEverywhere()) {
        settled = true;
        break;
      }
      if (this.scheduler.nowMs > faultPhaseMs + settleMs) break;
    }
    if (!settled && this.checker.violations.length === 0) this.checker.violations.push(`liveness: not settled ${settleMs} ms after healing (${this.summary()})`);
    if (this.checker.violations.length === 0) this.checkImages();
    return {
      seed: this.options.seed,
      nodeCount: this.nodeCount,
      voterCount: this.voterIds.length,
      events: this.events,
      committed: this.checker.committedIndex,
      elections: this.elections,
      crashes: this.crashes,
      wipes: this.wipes,
      snapshotInstalls: this.voters.reduce((sum, voter) => sum + (voter.machine?.restores ?? 0), 0),
      violations: this.checker.violations,
      trace: this.trace,
    };
  }

  private summary(): string {
    return this.voters
      .map((voter) => {
        const core = voter.core;
        if (!voter.up || core === null) return `n${voter.id}:down`;
        const role = ROLE_LETTERS[core.role];
        return `n${voter.id}:${role}t${core.term}c${core.commitIndex}a${core.appliedIndex}l${core.log.lastIndex}`;
      })
      .join(' ');
  }

  // ---- voters ------------------------------------------------------------------------------

  private start(voter: SimVoter): void {
    const rejoining = voter.disk.rejoinPending;
    voter.incarnation++;
    const storage = voter.disk.storage();
    const core = new RaftCore(
      { nodeId: voter.id, voters: this.voterIds, observers: this.observerIds, electionTicks: ELECTION_TICKS, heartbeatTicks: HEARTBEAT_TICKS, random: new SeededRandom(this.random.int(0, 2 ** 31)), maxEntriesPerAppend: this.maxEntriesPerAppend, maxInflightEntries: 64, rejoining, storageId: voter.disk.storageId },
      storage.load(),
    );
    const machine = new MetadataMachine();
    const incarnation = voter.incarnation;
    const transport = { send: (message: RaftMessage) => this.send(voter, message) };
    voter.core = core;
    voter.machine = machine;
    voter.disk.afterFsync = () => incarnation === voter.incarnation && voter.up && this.afterEvent(voter);
    voter.driver = new RaftDriver(core, storage, transport, machine, {
      snapshotIntervalEntries: 20,
      onStorageFailure: () =>
        this.scheduler.after(0, `n${voter.id} stops: fsync failed`, () => {
          if (incarnation !== voter.incarnation) return;
          this.crash(voter);
          this.scheduler.after(30 + this.random.next() * 300, `restart n${voter.id}`, () => !voter.up && this.start(voter));
        }),
    });
    if (voter.watch.lastCommitIndex === 0 && voter.watch.heldCommitted > 0) this.checker.checkRestart(core, voter.watch);
    this.afterEvent(voter);
    this.scheduleTick(voter, this.random.next() * TICK_MS);
  }

  private crash(voter: SimVoter): void {
    if (voter.driver === null) return;
    voter.driver.stop();
    voter.driver = null;
    voter.incarnation++;
    voter.disk.crash();
    voter.watch.restarted();
    this.crashes++;
  }

  private scheduleTick(voter: SimVoter, delayMs: number): void {
    const incarnation = voter.incarnation;
    this.scheduler.after(delayMs, `tick n${voter.id}`, () => {
      if (incarnation !== voter.incarnation || !voter.up) return;
      if (this.scheduler.nowMs < voter.pausedUntilMs) return this.scheduleTick(voter, voter.pausedUntilMs - this.scheduler.nowMs);
      voter.driver!.tick();
      this.afterEvent(voter);
      this.scheduleTick(voter, TICK_MS);
    });
  }

  private afterEvent(voter: SimVoter): void {
    const core = voter.core!;
    const wasLeader = voter.watch.wasLeader;
    if (voter.disk.rejoinPending && !core.abstaining) voter.disk.rejoinPending = false;
    const committedBefore = this.checker.committedIndex;
    this.checker.check(core, voter.machine!, voter.watch);
    if (this.checker.committedIndex > committedBefore) this.checker.checkVoterMajority(committedBefore + 1, this.quorum, (index) => this.votersHolding(index));
    if (!wasLeader && core.role === RaftRole.leader) this.elections++;
    this.proposer.observe(voter.id, core, voter.machine!);
  }

  /**
   * Voters that hold entry `index` durably: acknowledged it (or later) to a leader, or persisted
   * it. Counts generously (an ack of an index may be of another term's entry), so a commit it
   * finds short of a voter majority surely was one; observers never count.
   */
  private votersHolding(index: number): number {
    let holders = 0;
    for (const id of this.voterIds) {
      const core = this.voters[id]!.core;
      if (this.everAcknowledged[id]! >= index || (core !== null && core.log.persistedIndex >= index)) holders++;
    }
    return holders;
  }

  // ---- network -----------------------------------------------------------------------------

  private send(from: SimVoter, message: RaftMessage): void {
    if (message.type === MessageType.appendResponse && message.success && message.matchIndex > from.watch.acknowledgedIndex) from.watch.acknowledgedIndex = message.matchIndex;
    if (message.type === MessageType.appendResponse && message.success && message.matchIndex > this.everAcknowledged[from.id]!) this.everAcknowledged[from.id] = message.matchIndex;
    this.checker.checkElectionMessage(message, this.observerIds);
    const to = this.voters[message.to];
    if (to === undefined || this.isBlocked(message.from, message.to)) return;
    if (this.faultsOn && this.random.next() < this.dropProbability) return;
    const copies = this.faultsOn && this.random.next() < this.duplicateProbability ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) {
      const long = this.faultsOn && this.random.next() < 0.02;
      this.deliverLater(to, message, long ? 20 + this.random.next() * 60 : 0.05 + this.random.next() * 2);
    }
  }

  private deliverLater(to: SimVoter, message: RaftMessage, delayMs: number): void {
    const incarnation = to.incarnation;
    this.scheduler.after(delayMs, `${message.type} n${message.from}>n${message.to} t${message.term}`, () => {
      if (incarnation !== to.incarnation || !to.up || this.isBlocked(message.from, message.to)) return;
      if (this.scheduler.nowMs < to.pausedUntilMs) return this.deliverLater(to, message, to.pausedUntilMs - this.scheduler.nowMs);
      to.driver!.step(message);
      this.afterEvent(to);
    });
  }

  private isBlocked(from: number, to: number): boolean {
    return this.blocked.size > 0 && this.blocked.has(`${from}>${to}`);
  }

  // ---- client and nemesis ------------------------------------------------------------------

  private scheduleClient(untilMs: number): void {
    const next = () => {
      const voter = this.voters[this.random.int(0, this.nodeCount - 1)]!;
      if (voter.up && voter.core!.role === RaftRole.leader) {
        this.proposer.proposeRandom(voter.id, voter.driver!, voter.core!, voter.machine!);
        this.afterEvent(voter);
      }
      if (this.scheduler.nowMs < untilMs) this.scheduler.after(1 + this.random.next() * 9, 'client', next);
    };
    this.scheduler.after(5, 'client', next);
    const marker = () => {
      for (const voter of this.voters) {
        if (voter.up && voter.core!.role === RaftRole.leader) {
          this.proposer.proposeMarker(voter.id, voter.driver!, voter.core!, voter.machine!);
          this.afterEvent(voter);
        }
      }
      this.scheduler.after(50, 'marker', marker);
    };
    this.scheduler.at(untilMs + 1, 'marker', marker);
  }

  private scheduleNemesis(untilMs: number): void {
    const next = () => {
      if (this.scheduler.nowMs >= untilMs) return;
      this.injectFault();
      this.scheduler.after(20 + this.random.next() * 150, 'nemesis', next);
    };
    this.scheduler.after(50 + this.random.next() * 200, 'nemesis', next);
  }

  private injectFault(): void {
    const voter = this.voters[this.random.int(0, this.nodeCount - 1)]!;
    const choice = this.random.int(0, 9);
    if (choice <= 2 && voter.up) {
      this.note(`crash n${voter.id}`);
      this.crash(voter);
      this.scheduler.after(30 + this.random.next() * 400, `restart n${voter.id}`, () => !voter.up && this.start(voter));
    } else if (choice === 3 && voter.up && this.mayWipe(voter) && this.voters.every((other) => other.up && !other.core!.abstaining)) {
      this.note(`wipe n${voter.id}`);
      this.crash(voter);
      voter.disk.wipe();
      voter.watch.wiped();
      this.wipes++;
      this.scheduler.after(30 + this.random.next() * 300, `restart wiped n${voter.id}`, () => !voter.up && this.start(voter));
    } else if (choice === 4 && voter.up) {
      this.note(`pause n${voter.id}`);
      voter.pausedUntilMs = this.scheduler.nowMs + 20 + this.random.next() * 300;
    } else if (choice <= 6) {
      this.partition();
    } else if (choice === 7) {
      this.note('heal network');
      this.blocked.clear();
    } else if (choice === 8 && this.nodeCount > 1) {
      const other = (voter.id + this.random.int(1, this.nodeCount - 1)) % this.nodeCount;
      this.note(`cut link n${voter.id}>n${other}`);
      this.blocked.add(`${voter.id}>${other}`);
    }
  }

  /**
   * A voter's data dir is lost only where the other voters can catch it up (3 or more); an
   * observer's always may be (it never voted, and a leader sends it everything again).
   */
  private mayWipe(voter: SimVoter): boolean {
    return this.observerIds.includes(voter.id) || this.voterIds.length >= 3;
  }

  /** Splits the voters into two groups that cannot reach each other. */
  private partition(): void {
    this.blocked.clear();
    const side = this.ids.map(() => this.random.next() < 0.5);
    for (const from of this.ids) for (const to of this.ids) if (side[from] !== side[to]) this.blocked.add(`${from}>${to}`);
    this.note(`partition ${this.ids.filter((id) => side[id]).join(',')} | ${this.ids.filter((id) => !side[id]).join(',')}`);
  }

  private note(text: string): void {
    if (this.options.trace === true) this.trace.push(`${this.scheduler.nowMs.toFixed(2).padStart(9)} nemesis: ${text}`);
  }

  private healAll(): void {
    this.faultsOn = false;
    this.blocked.clear();
    for (const voter of this.voters) {
      voter.disk.faults.failedFsyncProbability = 0;
      voter.pausedUntilMs = 0;
      if (!voter.up) this.start(voter);
    }
  }

  // ---- the end -----------------------------------------------------------------------------

  private settledEverywhere(): boolean {
    const marker = this.proposer.marker;
    if (marker === null || this.checker.committedIndex < marker.index || this.checker.committedTerm(marker.index) !== marker.term) return false;
    return this.voters.every((voter) => voter.up && voter.core!.appliedIndex >= marker.index);
  }

  /** Every voter's image equals the image built from the committed prefix it applied. */
  private checkImages(): void {
    const reference = new MetadataImage();
    const texts = new Map<number, string>();
    const wanted = new Set(this.voters.map((voter) => voter.machine!.appliedIndex));
    for (const [position, entry] of this.checker.committedEntries.entries()) {
      reference.applyEntry(decodeRecords(entry.data));
      if (wanted.has(position + 1)) texts.set(position + 1, imageText(reference));
    }
    for (const voter of this.voters) {
      const machine = voter.machine!;
      if (imageText(machine.image) !== texts.get(machine.appliedIndex)) this.checker.violations.push(`n${voter.id}: metadata image differs from the committed prefix at ${machine.appliedIndex}`);
    }
  }
}

const ROLE_LETTERS: Record<RaftRole, string> = { leader: 'L', follower: 'F', observer: 'O', candidate: 'C', preCandidate: 'P' };

function swap(values: number[], a: number, b: number): void {
  const held = values[a]!;
  values[a] = values[b]!;
  values[b] = held;
}

export function runSimulation(options: SimOptions): SimResult {
  return new SimCluster(options).run();
}
