/**
 * One classic consumer group: its members, its state machine, its committed offsets. Data and
 * invariants only; the decisions (when to rebalance, what to answer) live in
 * `group-coordinator.ts`. Mirrors Kafka's GroupMetadata / MemberMetadata.
 *
 * States (Kafka spells them exactly so in DescribeGroups):
 *   Empty               no members; offsets may linger until they expire. Join → PreparingRebalance
 *   PreparingRebalance  collecting JoinGroups until every known member rejoined or the rebalance
 *                       timeout passed → CompletingRebalance (or Empty if nobody is left)
 *   CompletingRebalance generation bumped, waiting for the leader's SyncGroup → Stable
 *   Stable              assignment handed out; a join, leave or expiry → PreparingRebalance
 *   Dead                deleted, expired or unloaded; never leaves this state
 */
import { consumerProtocolType, subscriptionTopics } from './consumer-protocol.js';
import type { JoinGroupReply, JoinGroupResponseMember, SyncGroupReply } from './types.js';

export const GroupState = {
  Empty: 'Empty',
  PreparingRebalance: 'PreparingRebalance',
  CompletingRebalance: 'CompletingRebalance',
  Stable: 'Stable',
  Dead: 'Dead',
} as const;

export type GroupStateName = (typeof GroupState)[keyof typeof GroupState];

const validPreviousStates: Readonly<Record<GroupStateName, readonly GroupStateName[]>> = {
  Empty: [GroupState.PreparingRebalance],
  PreparingRebalance: [GroupState.Stable, GroupState.CompletingRebalance, GroupState.Empty],
  CompletingRebalance: [GroupState.PreparingRebalance],
  Stable: [GroupState.CompletingRebalance],
  Dead: [
    GroupState.Stable,
    GroupState.PreparingRebalance,
    GroupState.CompletingRebalance,
    GroupState.Empty,
    GroupState.Dead,
  ],
};

const emptyBuffer: Buffer = Buffer.alloc(0);

export interface MemberProtocol {
  readonly name: string;
  readonly metadata: Buffer;
}

export interface MemberInit {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly protocolType: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  /** In the member's order of preference. */
  readonly protocols: readonly MemberProtocol[];
}

export class GroupMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly protocolType: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocols: readonly MemberProtocol[];
  assignment: Buffer = emptyBuffer;
  /** The parked JoinGroup reply while the member waits for the rebalance to complete. */
  awaitingJoin: JoinGroupReply | null = null;
  /** The parked SyncGroup reply while the member waits for the leader's assignment. */
  awaitingSync: SyncGroupReply | null = null;
  /** Joined but not yet part of a completed generation (Kafka's isNew). */
  isNew = false;
  /** The session expires at this time unless the member heartbeats (see `canExpire`). */
  heartbeatDeadlineMs = 0;

  constructor(init: MemberInit) {
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.protocolType = init.protocolType;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.protocols = init.protocols;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  /**
   * Kafka's !hasSatisfiedHeartbeat precondition: a member parked in JoinGroup or SyncGroup cannot
   * heartbeat, so its session does not run, except for a new member, whose first JoinGroup has
   * its own deadline (the client may have given up on it).
   */
  canExpire(): boolean {
    return this.isNew || (this.awaitingJoin === null && this.awaitingSync === null);
  }

  supports(protocolName: string): boolean {
    return this.protocols.some((protocol) => protocol.name === protocolName);
  }

  metadataFor(protocolName: string): Buffer {
    const protocol = this.protocols.find((candidate) => candidate.name === protocolName);
    if (protocol === undefined) {
      throw new Error(`member ${this.memberId} does not support protocol ${protocolName}`);
    }
    return protocol.metadata;
  }

  /** The member's most preferred protocol among `candidates`. */
  vote(candidates: ReadonlySet<string>): string {
    const choice = this.protocols.find((protocol) => candidates.has(protocol.name));
    if (choice === undefined) throw new Error(`member ${this.memberId} supports no candidate protocol`);
    return choice.name;
  }

  /** Same protocols, in the same order, with byte-identical metadata. */
  matches(protocols: readonly MemberProtocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    for (let index = 0; index < protocols.length; index++) {
      const mine = this.protocols[index]!;
      const theirs = protocols[index]!;
      if (mine.name !== theirs.name || !mine.metadata.equals(theirs.metadata)) return false;
    }
    return true;
  }
}

export interface CommittedOffset {
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestampMs: number;
  /** -1 unless the commit set its own retention (OffsetCommit v2-4 retentionTimeMs). */
  readonly expireTimestampMs: number;
  /** Order of the append that wrote it (0 = loaded from the log); a late older append never wins. */
  readonly appendSequence: number;
}

export interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}

/** The pending end of PreparingRebalance. */
export interface JoinTimer {
  readonly deadlineMs: number;
  /** Kafka's InitialDelayedJoin: completes only on expiry, and may extend itself. */
  readonly initialDelay: boolean;
  /** Initial delay only: how much more the delay may still be extended. */
  readonly remainingMs: number;
}

/** Deadline for every member of a new generation to send SyncGroup (Kafka's DelayedSync). */
export interface SyncTimer {
  readonly deadlineMs: number;
  readonly generationId: number;
}

export class ClassicGroup {
  readonly groupId: string;
  private currentState: GroupStateName = GroupState.Empty;
  /** When the group entered its current state; null when loaded from a v0-1 record. */
  currentStateTimestampMs: number | null;
  /** Set by the first member; kept while Empty so ListGroups and expiry can see it. */
  protocolType: string | null = null;
  protocolName: string | null = null;
  generationId = 0;
  leaderId: string | null = null;
  /** In join order; the first is the fallback leader. */
  readonly members = new Map<string, GroupMember>();
  /** group.instance.id → current member id. */
  private readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, with the time they lapse. */
  readonly pendingMembers = new Map<string, number>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  /** Topics the members subscribe to (protocol type "consumer"); null = unknown. */
  subscribedTopics: ReadonlySet<string> | null = null;
  /** A member joined during the initial delay of generation 0, so the delay may be extended. */
  newMemberAdded = false;
  joinTimer: JoinTimer | null = null;
  syncTimer: SyncTimer | null = null;
  /** topic → partition → committed offset. */
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();
  /** topic → partition → sequence of the newest append not yet durable. */
  readonly pendingOffsetCommits = new Map<string, Map<number, number>>();

  constructor(groupId: string, nowMs: number) {
    this.groupId = groupId;
    this.currentStateTimestampMs = nowMs;
  }

  get state(): GroupStateName {
    return this.currentState;
  }

  is(state: GroupStateName): boolean {
    return this.currentState === state;
  }

  transitionTo(state: GroupStateName, nowMs: number): void {
    if (!validPreviousStates[state].includes(this.currentState)) {
      throw new Error(`group ${this.groupId}: illegal transition ${this.currentState} -> ${state}`);
    }
    this.currentState = state;
    this.currentStateTimestampMs = nowMs;
  }

  /** Used only when rebuilding a group from the log. */
  restoreState(state: typeof GroupState.Empty | typeof GroupState.Stable, timestampMs: number | null): void {
    this.currentState = state;
    this.currentStateTimestampMs = timestampMs;
  }

  canRebalance(): boolean {
    return validPreviousStates.PreparingRebalance.includes(this.currentState);
  }

  get size(): number {
    return this.members.size;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): GroupMember {
    const member = this.members.get(memberId);
    if (member === undefined) throw new Error(`group ${this.groupId} has no member ${memberId}`);
    return member;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  get isConsumerGroup(): boolean {
    return this.protocolType === consumerProtocolType;
  }

  add(member: GroupMember, reply: JoinGroupReply | null): void {
    if (this.members.has(member.memberId)) throw new Error(`member ${member.memberId} added twice`);
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) {
        throw new Error(`static member ${member.groupInstanceId} is already in group ${this.groupId}`);
      }
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.protocolType !== member.protocolType) throw new Error('member protocol type differs from the group');
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    member.awaitingJoin = reply;
    this.pendingMembers.delete(member.memberId);
  }

  /** Removes the member (parked replies are the caller's business) and re-elects a leader. */
  remove(memberId: string): GroupMember | undefined {
    const member = this.members.get(memberId);
    if (member !== undefined) {
      this.members.delete(memberId);
      if (member.groupInstanceId !== null) this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) {
      const next = this.members.keys().next();
      this.leaderId = next.done === true ? null : next.value;
    }
    this.pendingMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    return member;
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  /** A static member restarted with a new member id: same member, new id. */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): GroupMember {
    const member = this.get(oldMemberId);
    if (member.groupInstanceId !== groupInstanceId) throw new Error('instance id does not match member');
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return member;
  }

  numAwaitingJoin(): number {
    let count = 0;
    for (const member of this.members.values()) if (member.awaitingJoin !== null) count++;
    return count;
  }

  hasAllMembersJoined(): boolean {
    return this.numAwaitingJoin() === this.members.size && this.pendingMembers.size === 0;
  }

  /** Keeps the leader if it rejoined, else picks a member that did; false if none did. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    if (this.get(this.leaderId).awaitingJoin !== null) return true;
    for (const member of this.members.values()) {
      if (member.awaitingJoin !== null) {
        this.leaderId = member.memberId;
        return true;
      }
    }
    return false;
  }

  /** The longest rebalance timeout of any member: how long a rebalance may wait. */
  rebalanceTimeoutMs(): number {
    let timeoutMs = 0;
    for (const member of this.members.values()) timeoutMs = Math.max(timeoutMs, member.rebalanceTimeoutMs);
    return timeoutMs;
  }

  /** How many members support each protocol. */
  private protocolSupportCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const member of this.members.values()) {
      for (const protocol of member.protocols) counts.set(protocol.name, (counts.get(protocol.name) ?? 0) + 1);
    }
    return counts;
  }

  /** Protocols every member supports. */
  candidateProtocols(): Set<string> {
    const candidates = new Set<string>();
    for (const [name, count] of this.protocolSupportCounts()) if (count === this.members.size) candidates.add(name);
    return candidates;
  }

  /**
   * Whether a member with these protocols may join (Kafka's supportsProtocols): one of them must
   * be supported by every current member. With no members left (a rebalance whose members all
   * went away) any protocol qualifies, as in Kafka, where the count 0 equals the size 0.
   */
  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.is(GroupState.Empty)) return protocolType !== '' && protocolNames.length > 0;
    if (this.protocolType !== protocolType) return false;
    const counts = this.protocolSupportCounts();
    return protocolNames.some((name) => (counts.get(name) ?? 0) === this.members.size);
  }

  /**
   * Every member votes for its most preferred protocol that all members support; most votes
   * wins. Kafka breaks ties by hash order; we pick the earliest voter's choice (join order).
   */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`cannot select a protocol for empty group ${this.groupId}`);
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const member of this.members.values()) {
      const choice = member.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let winner = '';
    let winnerVotes = 0;
    for (const [name, count] of votes) {
      if (count > winnerVotes) {
        winner = name;
        winnerVotes = count;
      }
    }
    return winner;
  }

  updateMember(
    member: GroupMember,
    protocols: readonly MemberProtocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    reply: JoinGroupReply | null,
  ): void {
    member.protocols = protocols;
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    member.awaitingJoin = reply;
  }

  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo(GroupState.CompletingRebalance, nowMs);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo(GroupState.Empty, nowMs);
    }
    this.pendingSyncMembers.clear();
  }

  /** What the leader receives in its JoinGroup response. */
  currentMemberMetadata(): JoinGroupResponseMember[] {
    const protocolName = this.protocolName;
    if (protocolName === null || this.is(GroupState.PreparingRebalance) || this.is(GroupState.Dead)) {
      throw new Error(`group ${this.groupId} has no member metadata in state ${this.state}`);
    }
    const result: JoinGroupResponseMember[] = [];
    for (const member of this.members.values()) {
      result.push({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        metadata: member.metadataFor(protocolName),
      });
    }
    return result;
  }

  /** Kafka's computeSubscribedTopics: null when unknown (not a consumer group, unparsable). */
  computeSubscribedTopics(): ReadonlySet<string> | null {
    if (!this.isConsumerGroup) return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const member of this.members.values()) {
      const memberTopics = subscriptionTopics(member.metadataFor(this.protocolName));
      if (memberTopics === null) return null;
      for (const topic of memberTopics) topics.add(topic);
    }
    return topics;
  }

  /** When unknown, assume subscribed: the safe answer for OffsetDelete. */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null || this.subscribedTopics.has(topic);
  }

  // ---- offsets ----

  committedOffset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  numOffsets(): number {
    let count = 0;
    for (const partitions of this.offsets.values()) count += partitions.size;
    return count;
  }

  hasOffsets(): boolean {
    return this.offsets.size > 0 || this.pendingOffsetCommits.size > 0;
  }

  /** Marks an append of this offset as in flight. */
  prepareOffsetCommit(topic: string, partition: number, appendSequence: number): void {
    setNested(this.pendingOffsetCommits, topic, partition, appendSequence);
  }

  /** The append is durable: the offset becomes visible unless deleted or overtaken meanwhile. */
  completeOffsetCommit(topic: string, partition: number, offset: CommittedOffset): void {
    const pendingSequence = this.pendingOffsetCommits.get(topic)?.get(partition);
    if (pendingSequence === undefined) return; // deleted while the append was in flight
    const current = this.committedOffset(topic, partition);
    if (current === undefined || current.appendSequence < offset.appendSequence) {
      setNested(this.offsets, topic, partition, offset);
    }
    if (pendingSequence === offset.appendSequence) deleteNested(this.pendingOffsetCommits, topic, partition);
  }

  failOffsetCommit(topic: string, partition: number, appendSequence: number): void {
    if (this.pendingOffsetCommits.get(topic)?.get(partition) === appendSequence) {
      deleteNested(this.pendingOffsetCommits, topic, partition);
    }
  }

  /** Loaded from the log: already durable. */
  restoreOffset(topic: string, partition: number, offset: CommittedOffset): void {
    setNested(this.offsets, topic, partition, offset);
  }

  /** Removes committed and in-flight offsets; returns the committed ones that existed. */
  removeOffsets(partitions: readonly TopicPartitionRef[]): TopicPartitionRef[] {
    const removed: TopicPartitionRef[] = [];
    for (const { topic, partition } of partitions) {
      deleteNested(this.pendingOffsetCommits, topic, partition);
      if (deleteNested(this.offsets, topic, partition)) removed.push({ topic, partition });
    }
    return removed;
  }

  /** Removes every offset, in flight or not; returns the committed ones that existed. */
  removeAllOffsets(): TopicPartitionRef[] {
    const removed = this.allOffsetPartitions();
    this.offsets.clear();
    this.pendingOffsetCommits.clear();
    return removed;
  }

  allOffsetPartitions(): TopicPartitionRef[] {
    const result: TopicPartitionRef[] = [];
    for (const [topic, partitions] of this.offsets) {
      for (const partition of partitions.keys()) result.push({ topic, partition });
    }
    return result;
  }

  /** Kafka's removeExpiredOffsets (KIP-211): which offsets may expire depends on the state. */
  removeExpiredOffsets(nowMs: number, retentionMs: number): TopicPartitionRef[] {
    let baseTimestampMs: (offset: CommittedOffset) => number;
    let keepTopics: ReadonlySet<string> | null = null;
    if (this.protocolType !== null && this.is(GroupState.Empty)) {
      // Counted from when the group became empty (or from the commit for old metadata).
      const emptySinceMs = this.currentStateTimestampMs;
      baseTimestampMs = (offset) => emptySinceMs ?? offset.commitTimestampMs;
    } else if (this.isConsumerGroup && this.subscribedTopics !== null && this.is(GroupState.Stable)) {
      // A live consumer group forgets only topics nobody subscribes to any more.
      baseTimestampMs = (offset) => offset.commitTimestampMs;
      keepTopics = this.subscribedTopics;
    } else if (this.protocolType === null) {
      // Simple consumers (commits only): counted from each commit.
      baseTimestampMs = (offset) => offset.commitTimestampMs;
    } else {
      return [];
    }
    const expired: TopicPartitionRef[] = [];
    for (const [topic, partitions] of this.offsets) {
      if (keepTopics?.has(topic) === true) continue;
      for (const [partition, offset] of partitions) {
        if (this.pendingOffsetCommits.get(topic)?.has(partition) === true) continue;
        const isExpired =
          offset.expireTimestampMs >= 0
            ? nowMs >= offset.expireTimestampMs
            : nowMs - baseTimestampMs(offset) >= retentionMs;
        if (isExpired) expired.push({ topic, partition });
      }
    }
    return this.removeOffsets(expired);
  }
}

function setNested<V>(map: Map<string, Map<number, V>>, topic: string, partition: number, value: V): void {
  let partitions = map.get(topic);
  if (partitions === undefined) {
    partitions = new Map();
    map.set(topic, partitions);
  }
  partitions.set(partition, value);
}

function deleteNested<V>(map: Map<string, Map<number, V>>, topic: string, partition: number): boolean {
  const partitions = map.get(topic);
  if (partitions === undefined || !partitions.delete(partition)) return false;
  if (partitions.size === 0) map.delete(topic);
  return true;
}
