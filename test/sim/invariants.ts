/**
 * The safety properties of the simulated Raft group, checked after every event, incrementally
 * (each check reads only what changed): one leader per term, log matching, leader
 * completeness, committed entries never lost or changed on a voter that held or acknowledged
 * them, commit and applied indexes that never move back, and every voter's applied state equal
 * to the committed prefix (a digest chain over the committed entries). With observers: an
 * observer never votes, is never asked, never campaigns or leads, applies only a prefix of the
 * committed log like every member, and no entry commits without a majority of the voters.
 */
import { MessageType, NO_NODE, RaftRole, type RaftEntry, type RaftMessage } from '../../src/raft/types.js';
import type { RaftCore } from '../../src/raft/raft-core.js';
import { chainDigest, type MetadataMachine } from './metadata-machine.js';

/** What the checker remembers about one voter between events. */
export class VoterWatch {
  lastCommitIndex = 0;
  lastAppliedIndex = 0;
  wasLeader = false;
  /** Committed entries [1, heldCommitted] are in this voter's log (or its snapshot). */
  heldCommitted = 0;
  /** The highest index this voter acknowledged to a leader (acks follow an fsync). */
  acknowledgedIndex = 0;

  /** A new process on the same disk: in-memory progress starts again, durability does not. */
  restarted(): void {
    this.lastCommitIndex = 0;
    this.lastAppliedIndex = 0;
    this.wasLeader = false;
  }

  wiped(): void {
    this.restarted();
    this.heldCommitted = 0;
    this.acknowledgedIndex = 0;
  }
}

interface RecordedEntry {
  readonly entry: RaftEntry;
  readonly previousTerm: number;
}

function sameEntry(a: RaftEntry, b: RaftEntry): boolean {
  if (a === b) return true;
  if (a.term !== b.term || a.index !== b.index || a.data.length !== b.data.length) return false;
  for (let index = 0; index < a.data.length; index++) if (a.data[index] !== b.data[index]) return false;
  return true;
}

export class InvariantChecker {
  readonly violations: string[] = [];
  private readonly leaderByTerm = new Map<number, number>();
  /** Every (index, term) seen in any log, with its entry and the term before it. */
  private readonly seenEntries = new Map<number, RecordedEntry>();
  /** committedTerms[i] / committedDigests[i]: the committed entry at index i (index 0 unused). */
  readonly committedEntries: RaftEntry[] = [];
  private readonly committedDigests: number[] = [0];
  /**
   * The term of the voter that first showed entry i committed: an upper bound on the term in
   * which it was committed (only leaders of later terms must hold it).
   */
  private readonly committedInTerm: number[] = [];

  get committedIndex(): number {
    return this.committedEntries.length;
  }

  committedTerm(index: number): number {
    return this.committedEntries[index - 1]!.term;
  }

  private violate(message: string): void {
    if (this.violations.length < 20) this.violations.push(message);
  }

  /** After any event that touched `core`. */
  check(core: RaftCore, machine: MetadataMachine, watch: VoterWatch): void {
    const id = core.nodeId;
    const changedFrom = core.log.takeChangedFrom();
    // A new leader replaced entries this member had acknowledged: those were never committed
    // (checkHeldCommitted says so otherwise), so only the prefix before them stays acknowledged.
    if (changedFrom <= watch.acknowledgedIndex) watch.acknowledgedIndex = Math.max(0, changedFrom - 1);
    this.checkLogMatching(core, changedFrom);
    this.recordCommits(core);
    this.checkHeldCommitted(core, watch, changedFrom);
    this.checkLeader(core, watch);
    if (core.isObserver) this.checkObserver(core);
    if (core.commitIndex < watch.lastCommitIndex) this.violate(`n${id}: commit index moved back from ${watch.lastCommitIndex} to ${core.commitIndex}`);
    if (core.appliedIndex < watch.lastAppliedIndex) this.violate(`n${id}: applied index moved back from ${watch.lastAppliedIndex} to ${core.appliedIndex}`);
    watch.lastCommitIndex = core.commitIndex;
    watch.lastAppliedIndex = core.appliedIndex;
    if (machine.appliedIndex !== core.appliedIndex) this.violate(`n${id}: state machine at ${machine.appliedIndex}, core applied ${core.appliedIndex}`);
    else if (machine.appliedIndex > this.committedIndex) this.violate(`n${id}: applied ${machine.appliedIndex} beyond the committed ${this.committedIndex}`);
    else if (machine.digest !== this.committedDigests[machine.appliedIndex]) this.violate(`n${id}: applied state at ${machine.appliedIndex} differs from the committed prefix`);
  }

  /** An observer stays one: it never campaigns, leads or votes. */
  private checkObserver(core: RaftCore): void {
    if (core.role !== RaftRole.observer) this.violate(`observer n${core.nodeId} became ${core.role} in term ${core.term}`);
    if (core.votedFor !== NO_NODE) this.violate(`observer n${core.nodeId} voted for n${core.votedFor} in term ${core.term}`);
  }

  /** Elections are between voters only: observers neither ask, answer nor are asked. */
  checkElectionMessage(message: RaftMessage, observerIds: readonly number[]): void {
    if (observerIds.length === 0) return;
    const isRequest = message.type === MessageType.preVote || message.type === MessageType.vote;
    const isAnswer = message.type === MessageType.preVoteResponse || message.type === MessageType.voteResponse;
    if ((isRequest || isAnswer) && observerIds.includes(message.from)) this.violate(`observer n${message.from} sent ${message.type} to n${message.to} in term ${message.term}`);
    if (isRequest && observerIds.includes(message.to)) this.violate(`n${message.from} asked observer n${message.to} for a ${message.type} in term ${message.term}`);
  }

  /** Entries from `fromIndex` on just became committed: a majority of the voters must hold each. */
  checkVoterMajority(fromIndex: number, quorum: number, votersHolding: (index: number) => number): void {
    for (let index = fromIndex; index <= this.committedIndex; index++) {
      const holders = votersHolding(index);
      if (holders < quorum) return this.violate(`entry ${index} committed with ${holders} voters holding it, a majority is ${quorum}`);
    }
  }

  private checkLeader(core: RaftCore, watch: VoterWatch): void {
    const isLeader = core.role === RaftRole.leader;
    if (isLeader) {
      const existing = this.leaderByTerm.get(core.term);
      if (existing === undefined) this.leaderByTerm.set(core.term, core.nodeId);
      else if (existing !== core.nodeId) this.violate(`two leaders in term ${core.term}: n${existing} and n${core.nodeId}`);
      if (!watch.wasLeader) this.checkLeaderCompleteness(core);
    }
    watch.wasLeader = isLeader;
  }

  /** A leader of term T holds every entry committed in a term before T (Raft 5.4). */
  private checkLeaderCompleteness(core: RaftCore): void {
    const log = core.log;
    for (let index = log.snapshotIndex + 1; index <= this.committedIndex; index++) {
      if (this.committedInTerm[index - 1]! >= core.term) continue;
      if (log.term(index) !== this.committedTerm(index)) {
        return this.violate(`leader completeness: n${core.nodeId} leads term ${core.term} without entry ${index}, committed by term ${this.committedInTerm[index - 1]}`);
      }
    }
  }

  private checkLogMatching(core: RaftCore, changedFrom: number): void {
    const log = core.log;
    for (let index = Math.max(changedFrom, log.firstIndex); index <= log.lastIndex; index++) {
      const entry = log.entry(index)!;
      const previousTerm = log.term(index - 1) ?? -1;
      const key = index * 1_000_000 + entry.term;
      const recorded = this.seenEntries.get(key);
      if (recorded === undefined) {
        this.seenEntries.set(key, { entry, previousTerm });
        continue;
      }
      if (!sameEntry(recorded.entry, entry)) this.violate(`log matching: n${core.nodeId} holds a different entry at (${index}, term ${entry.term})`);
      if (previousTerm !== -1 && recorded.previousTerm !== -1 && previousTerm !== recorded.previousTerm) {
        this.violate(`log matching: n${core.nodeId} has term ${previousTerm} before (${index}, ${entry.term}), another log has ${recorded.previousTerm}`);
      }
    }
  }

  private recordCommits(core: RaftCore): void {
    const log = core.log;
    const known = Math.min(core.commitIndex, this.committedIndex);
    if (known > log.snapshotIndex && log.term(known) !== this.committedTerm(known)) {
      this.violate(`n${core.nodeId}: committed entry ${known} has term ${log.term(known)}, the committed one ${this.committedTerm(known)}`);
    }
    for (let index = this.committedIndex + 1; index <= core.commitIndex; index++) {
      const entry = log.entry(index);
      if (entry === undefined) return this.violate(`n${core.nodeId}: commit index ${core.commitIndex} covers ${index}, which no log showed committed`);
      this.committedEntries.push(entry);
      this.committedInTerm.push(core.term);
      this.committedDigests.push(chainDigest(this.committedDigests[index - 1]!, entry));
    }
  }

  /** How far from `from` on this log holds the committed entries (snapshots count as held). */
  heldPrefix(core: RaftCore, from: number): number {
    const log = core.log;
    let held = Math.max(from, Math.min(log.snapshotIndex, this.committedIndex));
    while (held < this.committedIndex && log.term(held + 1) === this.committedTerm(held + 1)) held++;
    return held;
  }

  private checkHeldCommitted(core: RaftCore, watch: VoterWatch, changedFrom: number): void {
    const stillHeld = this.heldPrefix(core, Math.min(watch.heldCommitted, changedFrom - 1));
    if (stillHeld < watch.heldCommitted) {
      this.violate(`n${core.nodeId} lost committed entry ${stillHeld + 1} (it held up to ${watch.heldCommitted})`);
    }
    watch.heldCommitted = stillHeld;
  }

  /** After a crash and restart: what the voter acknowledged must have survived. */
  checkRestart(core: RaftCore, watch: VoterWatch): void {
    const mustHold = Math.min(watch.acknowledgedIndex, watch.heldCommitted);
    const held = this.heldPrefix(core, 0);
    if (held < mustHold) this.violate(`n${core.nodeId} restarted without acknowledged committed entry ${held + 1} (acknowledged ${watch.acknowledgedIndex})`);
    watch.heldCommitted = held;
  }
}
