/**
 * One member (voter or observer) of a Raft group, as a pure synchronous state machine in the
 * style of etcd-io/raft: inputs are `step(message)`, `tick()` and `propose(data)`; every effect (messages to send,
 * entries and hard state to persist, entries committed) collects into the next `ready()`, and
 * `advance(ready)` tells the core the caller did what it said. Votes and append acknowledgements
 * sit in a Ready's messages, which the caller sends only after that Ready's writes are durable.
 *
 * Beyond the Raft paper: pre-vote (thesis 9.6: a node asks whether it could win before it bumps
 * its term, so a node cut off from the majority does not disrupt the cluster when it returns),
 * check-quorum (a leader that has not heard from a majority for an election timeout steps down,
 * and voters that hear from a leader ignore vote requests for that long: the leader lease),
 * fast log backtracking by conflicting term, and snapshots.
 *
 * Observers (etcd raft's learners, KRaft's observers): members outside `voters` that the leader
 * replicates to like followers (appends, heartbeats, snapshots) but that never vote, never
 * campaign and never count toward a majority, whether for commit, elections or check-quorum.
 *
 * Time is the count of `tick()` calls; randomness comes from the injected Random. The voter and
 * observer sets are fixed for the life of the group.
 */
import type { Random } from '../runtime/random.js';
import { assert } from '../runtime/assert.js';
import { FollowerProgress, ProgressState } from './progress.js';
import { RaftLog } from './raft-log.js';
import {
  MessageType,
  NO_NODE,
  RaftRole,
  type AppendRequest,
  type AppendResponse,
  type HardState,
  type InstallSnapshotRequest,
  type RaftEntry,
  type RaftInitialState,
  type RaftMessage,
  type RaftSnapshot,
  type Ready,
  type VoteRequest,
  type VoteResponse,
} from './types.js';

export interface RaftConfig {
  nodeId: number;
  /** The members that vote and count toward a majority. */
  voters: readonly number[];
  /** Members that only follow the log (see RaftRole.observer); `nodeId` may be one of them. */
  observers?: readonly number[];
  /** A follower campaigns after a random timeout in [electionTicks, 2 * electionTicks). */
  electionTicks: number;
  /** The leader sends heartbeats every heartbeatTicks. */
  heartbeatTicks: number;
  random: Random;
  /** Entries in one append message. */
  maxEntriesPerAppend?: number;
  /** Entries sent to a follower beyond what it acknowledged. */
  maxInflightEntries?: number;
  /** Proposals refused while this many entries wait for commit. */
  maxUncommittedEntries?: number;
  /**
   * The voter's storage was lost (its data dir wiped) in a cluster that already ran. It may have
   * voted and acknowledged entries it no longer remembers, so it neither votes nor campaigns
   * until (a) a leader says it holds that leader's whole log as of when the leader learned of
   * the loss (which covers every entry its lost acknowledgements helped commit) and (b)
   * 2 * electionTicks passed since start (so any candidacy it voted for before has ended).
   */
  rejoining?: boolean;
  /**
   * Campaign at the first tick instead of after an election timeout (one voter per cluster, so
   * a fresh cluster has a leader in milliseconds; safety never depends on timeouts).
   */
  campaignAtStart?: boolean;
  /**
   * The identity of this voter's storage, new whenever the data dir is created (so a wiped and
   * recreated one has another). Leaders tell a follower's answers from before a loss by it.
   */
  storageId?: number;
}

const DEFAULT_MAX_ENTRIES_PER_APPEND = 256;
const DEFAULT_MAX_INFLIGHT_ENTRIES = 4096;
const DEFAULT_MAX_UNCOMMITTED_ENTRIES = 10_000;
const NO_DATA = new Uint8Array(0);

export class RaftCore {
  readonly nodeId: number;
  readonly voters: readonly number[];
  readonly observers: readonly number[];
  /** This member is an observer: it never votes, campaigns or leads. */
  readonly isObserver: boolean;
  role: RaftRole = RaftRole.follower;
  term = 0;
  votedFor = NO_NODE;
  leaderId = NO_NODE;
  commitIndex = 0;
  /** Committed entries handed out in a Ready (applied once that Ready is advanced). */
  private appliedHandedOut = 0;
  appliedIndex = 0;
  readonly log: RaftLog;
  /** The latest snapshot (sent to followers whose next entry it covers). */
  snapshot: RaftSnapshot | null;
  private pendingSnapshot: RaftSnapshot | null = null;
  /** Term, vote or commit index changed since the last Ready. */
  private hardStateDirty = false;
  /** Term or vote changed since the last Ready: the write needs an fsync before messages go. */
  private termOrVoteDirty = false;
  private messages: RaftMessage[] = [];
  private electionElapsedTicks = 0;
  private heartbeatElapsedTicks = 0;
  private randomizedElectionTicks = 0;
  private readonly votes = new Map<number, boolean>();
  /** See RaftConfig.rejoining. */
  abstaining: boolean;
  private ticksSinceStart = 0;
  private readonly storageId: number;
  private readonly progress = new Map<number, FollowerProgress>();
  /** Every other member, voter or observer: the leader replicates to all of them. */
  private readonly peers: readonly number[];
  /** The other voters: the ones asked for votes. */
  private readonly voterPeers: readonly number[];
  /** A majority of the voters (observers never count). */
  private readonly quorum: number;
  private readonly maxEntriesPerAppend: number;
  private readonly maxInflightEntries: number;
  private readonly maxUncommittedEntries: number;

  constructor(
    private readonly config: RaftConfig,
    initial: RaftInitialState,
  ) {
    const observers = config.observers ?? [];
    assertMembership(config.nodeId, config.voters, observers);
    assert(config.electionTicks > config.heartbeatTicks && config.heartbeatTicks >= 1, 'raft: need electionTicks > heartbeatTicks >= 1');
    this.nodeId = config.nodeId;
    this.voters = [...config.voters];
    this.observers = [...observers];
    this.isObserver = !this.voters.includes(this.nodeId);
    assert(!(this.isObserver && config.campaignAtStart === true), `raft: observer ${this.nodeId} cannot campaign at start`);
    if (this.isObserver) this.role = RaftRole.observer;
    this.voterPeers = this.voters.filter((id) => id !== this.nodeId);
    this.peers = [...this.voterPeers, ...this.observers.filter((id) => id !== this.nodeId)];
    this.quorum = Math.floor(this.voters.length / 2) + 1;
    this.maxEntriesPerAppend = config.maxEntriesPerAppend ?? DEFAULT_MAX_ENTRIES_PER_APPEND;
    this.maxInflightEntries = config.maxInflightEntries ?? DEFAULT_MAX_INFLIGHT_ENTRIES;
    this.maxUncommittedEntries = config.maxUncommittedEntries ?? DEFAULT_MAX_UNCOMMITTED_ENTRIES;
    this.log = RaftLog.restore(initial.snapshot, initial.entries);
    this.snapshot = initial.snapshot;
    this.term = initial.hardState.term;
    this.votedFor = initial.hardState.votedFor;
    // A crash may keep the hard state and lose entries of the same (never acknowledged) write.
    const snapshotIndex = this.log.snapshotIndex;
    this.commitIndex = Math.max(snapshotIndex, Math.min(initial.hardState.commitIndex, this.log.lastIndex));
    this.appliedHandedOut = snapshotIndex;
    this.appliedIndex = snapshotIndex;
    // An observer never votes, so a lost data dir costs it nothing to abstain from.
    this.abstaining = config.rejoining === true && !this.isObserver;
    this.storageId = config.storageId ?? 0;
    this.resetElectionTimer();
    if (config.campaignAtStart === true) this.randomizedElectionTicks = 1;
  }

  get isLeader(): boolean {
    return this.role === RaftRole.leader;
  }

  // ---- inputs ------------------------------------------------------------------------------

  /** One unit of time. */
  tick(): void {
    this.ticksSinceStart++;
    if (this.role === RaftRole.leader) this.tickLeader();
    else this.tickElection();
  }

  /** Appends `data` to the log if this voter leads; returns the entry's index, or null. */
  propose(data: Uint8Array): number | null {
    if (this.role !== RaftRole.leader) return null;
    if (this.log.lastIndex - this.commitIndex >= this.maxUncommittedEntries) return null;
    const index = this.log.lastIndex + 1;
    this.log.append({ term: this.term, index, data });
    this.broadcastAppend();
    return index;
  }

  step(message: RaftMessage): void {
    if (message.to !== this.nodeId || message.from === this.nodeId || !this.accepts(message)) return;
    if (message.term > this.term && !this.acceptHigherTerm(message)) return;
    if (message.term < this.term) {
      this.answerStaleTerm(message);
      return;
    }
    switch (message.type) {
      case MessageType.preVote:
      case MessageType.vote:
        this.handleVoteRequest(message);
        break;
      case MessageType.preVoteResponse:
      case MessageType.voteResponse:
        this.handleVoteResponse(message);
        break;
      case MessageType.append:
        this.followLeader(message);
        this.handleAppend(message);
        break;
      case MessageType.installSnapshot:
        this.followLeader(message);
        this.handleInstallSnapshot(message);
        break;
      case MessageType.appendResponse:
        if (this.role === RaftRole.leader) this.handleAppendResponse(message);
        break;
    }
  }

  /**
   * Only voters take part in elections: an observer drops vote requests (it is never asked; one
   * that arrives is a misconfigured or stale sender), and votes from non-voters are dropped.
   * Replication traffic flows between the leader and every member.
   */
  private accepts(message: RaftMessage): boolean {
    const fromVoter = this.voters.includes(message.from);
    if (!fromVoter && !this.observers.includes(message.from)) return false;
    switch (message.type) {
      case MessageType.preVote:
      case MessageType.vote:
        return fromVoter && !this.isObserver;
      case MessageType.preVoteResponse:
      case MessageType.voteResponse:
      case MessageType.append:
      case MessageType.installSnapshot:
        return fromVoter;
      case MessageType.appendResponse:
        return true;
    }
  }

  /**
   * The state machine was saved as of `index` (applied, durable): entries up to it may go.
   * The caller has already persisted `data` as the snapshot.
   */
  compact(index: number, data: Uint8Array): void {
    assert(index <= this.appliedIndex, `raft: compact to ${index} beyond applied ${this.appliedIndex}`);
    const term = this.log.term(index);
    assert(term !== undefined, `raft: compact to ${index}: not in the log`);
    this.log.compact(index, term);
    this.snapshot = { index, term, data };
  }

  // ---- the Ready contract ------------------------------------------------------------------

  hasReady(): boolean {
    return this.hardStateDirty || this.pendingSnapshot !== null || this.messages.length > 0 || this.log.hasUnstable() || this.committedToHandOut() > this.appliedHandedOut;
  }

  ready(): Ready {
    const hardState: HardState | null = this.hardStateDirty ? { term: this.term, votedFor: this.votedFor, commitIndex: this.commitIndex } : null;
    const snapshot = this.pendingSnapshot;
    const entries = this.log.takeUnstable();
    const mustSync = this.termOrVoteDirty || snapshot !== null || entries.length > 0;
    this.hardStateDirty = false;
    this.termOrVoteDirty = false;
    this.pendingSnapshot = null;
    const messages = this.messages;
    this.messages = [];
    const committedTo = this.committedToHandOut();
    const committedEntries = committedTo > this.appliedHandedOut ? this.log.slice(this.appliedHandedOut + 1, committedTo, Number.MAX_SAFE_INTEGER) : [];
    if (committedTo > this.appliedHandedOut) this.appliedHandedOut = committedTo;
    return { hardState, snapshot, entries, mustSync, messages, committedEntries };
  }

  /** The caller persisted, sent and applied everything in `ready`. */
  advance(ready: Ready): void {
    if (ready.snapshot !== null && ready.snapshot.index > this.appliedIndex) this.appliedIndex = ready.snapshot.index;
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined) this.log.markPersisted(lastEntry.index);
    const lastApplied = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastApplied !== undefined) {
      assert(lastApplied.index > this.appliedIndex, `raft: applied index moves back to ${lastApplied.index}`);
      this.appliedIndex = lastApplied.index;
    }
    if (this.role === RaftRole.leader) this.maybeCommit();
  }

  /**
   * Committed entries are handed out once they are durable here too, so the applied index never
   * passes the persisted one (a snapshot at the applied index is always backed by the log).
   */
  private committedToHandOut(): number {
    return Math.min(this.commitIndex, this.log.persistedIndex);
  }

  // ---- terms and roles ---------------------------------------------------------------------

  /** Returns false when the message must be ignored (a vote request inside the leader lease). */
  private acceptHigherTerm(message: RaftMessage): boolean {
    const isVoteRequest = message.type === MessageType.preVote || message.type === MessageType.vote;
    if (isVoteRequest) {
      const inLease = this.leaderId !== NO_NODE && this.electionElapsedTicks < this.config.electionTicks;
      if (inLease) return false;
    }
    // Pre-votes are asked and granted for a future term without moving to it.
    if (message.type === MessageType.preVote) return true;
    if (message.type === MessageType.preVoteResponse && message.granted) return true;
    const fromLeader = message.type === MessageType.append || message.type === MessageType.installSnapshot;
    this.becomeFollower(message.term, fromLeader ? message.from : NO_NODE);
    return true;
  }

  /** Tell a stale leader or pre-candidate the current term, so it steps down. */
  private answerStaleTerm(message: RaftMessage): void {
    if (message.type === MessageType.append || message.type === MessageType.installSnapshot) {
      this.send({ type: MessageType.appendResponse, from: this.nodeId, to: message.from, term: this.term, success: false, requestPrevLogIndex: -1, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, rejoining: this.abstaining, storageId: this.storageId });
    } else if (message.type === MessageType.preVote) {
      this.send({ type: MessageType.preVoteResponse, from: this.nodeId, to: message.from, term: this.term, granted: false });
    }
  }

  private followLeader(message: AppendRequest | InstallSnapshotRequest): void {
    assert(this.role !== RaftRole.leader, `raft: two leaders in term ${this.term} (${this.nodeId} and ${message.from})`);
    if (this.role === RaftRole.preCandidate || this.role === RaftRole.candidate) this.becomeFollower(this.term, message.from);
    this.leaderId = message.from;
    this.electionElapsedTicks = 0;
  }

  private becomeFollower(term: number, leaderId: number): void {
    if (term > this.term) {
      this.term = term;
      this.votedFor = NO_NODE;
      this.markTermOrVoteChanged();
    }
    this.role = this.isObserver ? RaftRole.observer : RaftRole.follower;
    this.leaderId = leaderId;
    this.progress.clear();
    this.resetElectionTimer();
  }

  private resetElectionTimer(): void {
    this.electionElapsedTicks = 0;
    this.randomizedElectionTicks = this.config.electionTicks + this.config.random.int(0, this.config.electionTicks - 1);
  }

  private tickElection(): void {
    this.electionElapsedTicks++;
    // An observer keeps counting (the leader lease reads it) but never campaigns.
    if (this.abstaining || this.isObserver) return;
    if (this.electionElapsedTicks >= this.randomizedElectionTicks) this.campaign(MessageType.preVote);
  }

  /** Starts a pre-vote round, or (after a won pre-vote) a real election. */
  private campaign(kind: typeof MessageType.preVote | typeof MessageType.vote): void {
    assert(!this.isObserver, `raft: observer ${this.nodeId} campaigns`);
    this.resetElectionTimer();
    this.votes.clear();
    this.leaderId = NO_NODE;
    if (kind === MessageType.preVote) {
      this.role = RaftRole.preCandidate;
    } else {
      this.role = RaftRole.candidate;
      this.term++;
      this.votedFor = this.nodeId;
      this.markTermOrVoteChanged();
    }
    this.votes.set(this.nodeId, true);
    if (this.quorum === 1) return this.wonVote(kind);
    const term = kind === MessageType.preVote ? this.term + 1 : this.term;
    for (const peer of this.voterPeers) {
      this.send({ type: kind, from: this.nodeId, to: peer, term, lastLogIndex: this.log.lastIndex, lastLogTerm: this.log.lastTerm });
    }
  }

  private wonVote(kind: typeof MessageType.preVote | typeof MessageType.vote): void {
    if (kind === MessageType.preVote) this.campaign(MessageType.vote);
    else this.becomeLeader();
  }

  private becomeLeader(): void {
    assert(!this.isObserver, `raft: observer ${this.nodeId} becomes leader`);
    this.role = RaftRole.leader;
    this.leaderId = this.nodeId;
    this.electionElapsedTicks = 0;
    this.heartbeatElapsedTicks = 0;
    this.progress.clear();
    for (const peer of this.peers) this.progress.set(peer, new FollowerProgress(peer, this.log.lastIndex, !this.voters.includes(peer)));
    // An entry of the new term: committing it commits every earlier entry (Raft 5.4.2).
    this.log.append({ term: this.term, index: this.log.lastIndex + 1, data: NO_DATA });
    this.broadcastAppend();
  }

  // ---- votes -------------------------------------------------------------------------------

  private handleVoteRequest(message: VoteRequest): void {
    if (this.abstaining) {
      const type = message.type === MessageType.preVote ? MessageType.preVoteResponse : MessageType.voteResponse;
      return this.send({ type, from: this.nodeId, to: message.from, term: this.term, granted: false });
    }
    const upToDate = message.lastLogTerm > this.log.lastTerm || (message.lastLogTerm === this.log.lastTerm && message.lastLogIndex >= this.log.lastIndex);
    if (message.type === MessageType.preVote) {
      const granted = upToDate && message.term > this.term;
      this.send({ type: MessageType.preVoteResponse, from: this.nodeId, to: message.from, term: granted ? message.term : this.term, granted });
      return;
    }
    const canVote = this.votedFor === message.from || (this.votedFor === NO_NODE && this.leaderId === NO_NODE);
    const granted = canVote && upToDate;
    if (granted && this.votedFor !== message.from) {
      this.votedFor = message.from;
      this.markTermOrVoteChanged();
    }
    if (granted) this.electionElapsedTicks = 0;
    this.send({ type: MessageType.voteResponse, from: this.nodeId, to: message.from, term: this.term, granted });
  }

  private handleVoteResponse(message: VoteResponse): void {
    const kind = message.type === MessageType.preVoteResponse ? MessageType.preVote : MessageType.vote;
    const expectedRole = kind === MessageType.preVote ? RaftRole.preCandidate : RaftRole.candidate;
    if (this.role !== expectedRole) return;
    // A grant counts only for the term this round asked for (drops grants of earlier rounds).
    const askedTerm = kind === MessageType.preVote ? this.term + 1 : this.term;
    if (message.granted && message.term !== askedTerm) return;
    this.votes.set(message.from, message.granted);
    let granted = 0;
    let rejected = 0;
    for (const vote of this.votes.values()) vote ? granted++ : rejected++;
    assert(granted + rejected <= this.voters.length, `raft: ${granted + rejected} votes counted among ${this.voters.length} voters`);
    if (granted >= this.quorum) this.wonVote(kind);
    else if (rejected > this.voters.length - this.quorum) this.becomeFollower(this.term, NO_NODE);
  }

  // ---- the follower side of replication ----------------------------------------------------

  private handleAppend(message: AppendRequest): void {
    const reply = (fields: Pick<AppendResponse, 'success' | 'matchIndex' | 'conflictIndex' | 'conflictTerm'>) =>
      this.send({ type: MessageType.appendResponse, from: this.nodeId, to: message.from, term: this.term, requestPrevLogIndex: message.prevLogIndex, rejoining: this.abstaining, storageId: this.storageId, ...fields });
    if (message.prevLogIndex < this.commitIndex) {
      // Everything up to our commit index matches any current leader's log.
      return reply({ success: true, matchIndex: this.commitIndex, conflictIndex: 0, conflictTerm: 0 });
    }
    const localTerm = this.log.term(message.prevLogIndex);
    if (localTerm !== message.prevLogTerm) {
      if (localTerm === undefined) return reply({ success: false, matchIndex: 0, conflictIndex: this.log.lastIndex + 1, conflictTerm: 0 });
      return reply({ success: false, matchIndex: 0, conflictIndex: this.log.firstIndexOfTerm(message.prevLogIndex), conflictTerm: localTerm });
    }
    const lastNewIndex = this.log.appendFromLeader(message.prevLogIndex, message.entries, this.commitIndex);
    this.commitTo(Math.min(message.leaderCommit, lastNewIndex));
    if (this.abstaining && message.rejoinComplete && this.ticksSinceStart >= 2 * this.config.electionTicks) this.abstaining = false;
    reply({ success: true, matchIndex: lastNewIndex, conflictIndex: 0, conflictTerm: 0 });
  }

  private handleInstallSnapshot(message: InstallSnapshotRequest): void {
    const snapshot = message.snapshot;
    const reply = (matchIndex: number) =>
      this.send({ type: MessageType.appendResponse, from: this.nodeId, to: message.from, term: this.term, success: true, requestPrevLogIndex: snapshot.index, matchIndex, conflictIndex: 0, conflictTerm: 0, rejoining: this.abstaining, storageId: this.storageId });
    if (snapshot.index <= this.commitIndex) return reply(this.commitIndex);
    if (this.log.term(snapshot.index) === snapshot.term) {
      // Our log already holds the snapshot's last entry, so everything before it matches too.
      this.commitTo(snapshot.index);
      return reply(snapshot.index);
    }
    this.log.resetToSnapshot(snapshot);
    this.snapshot = snapshot;
    this.pendingSnapshot = snapshot;
    this.commitIndex = snapshot.index;
    this.appliedHandedOut = snapshot.index;
    this.hardStateDirty = true;
    reply(snapshot.index);
  }

  private markTermOrVoteChanged(): void {
    this.hardStateDirty = true;
    this.termOrVoteDirty = true;
  }

  private commitTo(index: number): void {
    if (index <= this.commitIndex) return;
    this.commitIndex = index;
    this.hardStateDirty = true;
  }

  // ---- the leader side of replication ------------------------------------------------------

  private tickLeader(): void {
    this.heartbeatElapsedTicks++;
    this.electionElapsedTicks++;
    if (this.electionElapsedTicks >= this.config.electionTicks) {
      this.electionElapsedTicks = 0;
      if (!this.checkQuorum()) return this.becomeFollower(this.term, NO_NODE);
    }
    if (this.heartbeatElapsedTicks >= this.config.heartbeatTicks) {
      this.heartbeatElapsedTicks = 0;
      this.heartbeat();
    }
  }

  /** Whether a majority of the voters (this leader included) was heard from since the last check. */
  private checkQuorum(): boolean {
    let active = 1;
    for (const progress of this.progress.values()) {
      if (progress.recentActive && !progress.isObserver) active++;
      progress.recentActive = false;
    }
    return active >= this.quorum;
  }

  /** Every heartbeat resends what is unacknowledged, so lost messages cost one interval. */
  private heartbeat(): void {
    for (const progress of this.progress.values()) {
      if (progress.state === ProgressState.replicate && progress.matchIndex < this.log.lastIndex) progress.probeFrom(progress.matchIndex + 1);
      else progress.paused = false;
      this.sendAppend(progress);
    }
  }

  private broadcastAppend(): void {
    for (const progress of this.progress.values()) this.sendAppend(progress);
  }

  private sendAppend(progress: FollowerProgress): void {
    if (progress.paused) return;
    if (progress.nextIndex <= this.log.snapshotIndex) return this.sendSnapshot(progress);
    const inflight = progress.nextIndex - 1 - progress.matchIndex;
    if (progress.state === ProgressState.replicate && inflight >= this.maxInflightEntries) return;
    const prevLogIndex = progress.nextIndex - 1;
    const entries = this.log.slice(progress.nextIndex, this.log.lastIndex, this.maxEntriesPerAppend);
    this.send({
      type: MessageType.append,
      from: this.nodeId,
      to: progress.nodeId,
      term: this.term,
      prevLogIndex,
      prevLogTerm: this.log.term(prevLogIndex)!,
      entries,
      leaderCommit: this.commitIndex,
      rejoinComplete: progress.rejoinTargetIndex !== null && progress.matchIndex >= progress.rejoinTargetIndex,
    });
    if (progress.state === ProgressState.probe) progress.paused = true;
    else if (entries.length > 0) progress.nextIndex = entries[entries.length - 1]!.index + 1;
  }

  private sendSnapshot(progress: FollowerProgress): void {
    const snapshot = this.snapshot;
    assert(snapshot !== null && snapshot.index === this.log.snapshotIndex, `raft: leader ${this.nodeId} compacted to ${this.log.snapshotIndex} without a snapshot`);
    this.send({ type: MessageType.installSnapshot, from: this.nodeId, to: progress.nodeId, term: this.term, snapshot });
    progress.state = ProgressState.snapshot;
    progress.paused = true;
  }

  private handleAppendResponse(message: AppendResponse): void {
    const progress = this.progress.get(message.from);
    if (progress === undefined) return;
    progress.recentActive = true;
    if (!this.trackRejoin(progress, message)) return;
    if (message.success) {
      if (progress.acknowledge(message.matchIndex)) this.maybeCommit();
      if (progress.nextIndex <= this.log.lastIndex) this.sendAppend(progress);
      return;
    }
    const stale = progress.state === ProgressState.probe ? message.requestPrevLogIndex !== progress.nextIndex - 1 : message.requestPrevLogIndex < progress.matchIndex;
    if (stale || message.requestPrevLogIndex < 0) return;
    // A follower whose log now ends before what it acknowledged lost its data dir (it rejoins
    // with an empty log): forget the old match, or the leader would probe above its log forever.
    if (message.conflictTerm === 0 && message.conflictIndex <= progress.matchIndex) progress.matchIndex = message.conflictIndex - 1;
    let nextIndex = message.conflictIndex;
    if (message.conflictTerm > 0) {
      const lastOfTerm = this.log.lastIndexOfTerm(message.conflictTerm);
      if (lastOfTerm > 0) nextIndex = lastOfTerm + 1;
    }
    progress.probeFrom(Math.min(nextIndex, message.requestPrevLogIndex));
    this.sendAppend(progress);
  }

  /**
   * Follows a follower's storage identity: answers from storage it has since lost are dropped,
   * and a follower that rejoins with new storage must catch up to everything this leader holds
   * now before it votes again (what it acknowledged before counts no more). Returns false for
   * an answer to drop.
   */
  private trackRejoin(progress: FollowerProgress, message: AppendResponse): boolean {
    if (progress.storageId === null) progress.storageId = message.storageId;
    if (message.storageId !== progress.storageId) {
      if (!message.rejoining) return false; // from the storage it lost
      progress.storageId = message.storageId;
      progress.rejoinTargetIndex = null;
    }
    if (message.rejoining && progress.rejoinTargetIndex === null) {
      progress.rejoinTargetIndex = this.log.lastIndex;
      progress.matchIndex = 0;
    } else if (!message.rejoining && progress.rejoinTargetIndex !== null && progress.matchIndex >= progress.rejoinTargetIndex) {
      progress.rejoinTargetIndex = null; // it votes again; a later loss starts over
    }
    return true;
  }

  /** Commits the highest index a majority of the voters holds, if it is of this term (Raft 5.4.2). */
  private maybeCommit(): void {
    const matches = [this.log.persistedIndex];
    for (const progress of this.progress.values()) if (!progress.isObserver) matches.push(progress.matchIndex);
    assert(matches.length === this.voters.length, `raft: commit counted ${matches.length} members, the voters are ${this.voters.length}`);
    matches.sort((a, b) => b - a);
    const majorityIndex = matches[this.quorum - 1]!;
    if (majorityIndex <= this.commitIndex || this.log.term(majorityIndex) !== this.term) return;
    this.commitTo(majorityIndex);
    // Followers learn the new commit index now rather than at the next heartbeat.
    for (const progress of this.progress.values()) if (progress.state === ProgressState.replicate) this.sendAppend(progress);
  }

  private send(message: RaftMessage): void {
    this.messages.push(message);
  }

  /** For status pages and tests. */
  followerProgress(nodeId: number): Readonly<FollowerProgress> | undefined {
    return this.progress.get(nodeId);
  }

  /** Entries [fromIndex, commitIndex] still in the log, for observers that follow the log. */
  committedEntriesFrom(fromIndex: number, maxCount: number): RaftEntry[] {
    return this.log.slice(Math.max(fromIndex, this.log.firstIndex), this.commitIndex, maxCount);
  }
}

/** Voters and observers: disjoint, at least one voter, and `nodeId` is one of the members. */
function assertMembership(nodeId: number, voters: readonly number[], observers: readonly number[]): void {
  assert(voters.length >= 1, 'raft: a group needs at least one voter');
  assert(new Set(voters).size === voters.length && new Set(observers).size === observers.length, 'raft: a member is listed twice');
  assert(!observers.some((id) => voters.includes(id)), `raft: observers ${observers.join(',')} overlap the voters ${voters.join(',')}`);
  assert(voters.includes(nodeId) || observers.includes(nodeId), `raft: node ${nodeId} is neither a voter (${voters.join(',')}) nor an observer (${observers.join(',')})`);
}
