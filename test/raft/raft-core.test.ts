/**
 * The Raft core as scripted scenarios: voters wired by hand, every message routed (or dropped)
 * by the script, persistence acknowledged at once. Each test names the rule it pins.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftCore } from '../../src/raft/raft-core.js';
import { emptyRaftState, MessageType, NO_NODE, RaftRole, type RaftEntry, type RaftMessage, type RaftSnapshot } from '../../src/raft/types.js';
import { SeededRandom } from '../../src/runtime/random.js';

const ELECTION_TICKS = 10;
let storageIds = 0;

class Group {
  readonly cores = new Map<number, RaftCore>();
  readonly applied = new Map<number, RaftEntry[]>();
  readonly restored = new Map<number, RaftSnapshot[]>();
  /** Messages sent and not yet delivered. */
  inFlight: RaftMessage[] = [];
  /** Links cut: `${from}>${to}`. */
  readonly cut = new Set<string>();
  /** Append messages delivered, per recipient. */
  readonly appendsDelivered = new Map<number, number>();

  /** `ids` are every member; those in `observerIds` are observers, the rest voters. */
  constructor(
    readonly ids: number[],
    readonly observerIds: number[] = [],
  ) {
    for (const id of ids) this.add(id);
  }

  get voterIds(): number[] {
    return this.ids.filter((id) => !this.observerIds.includes(id));
  }

  add(id: number, rejoining = false): RaftCore {
    const core = new RaftCore({ nodeId: id, voters: this.voterIds, observers: this.observerIds, electionTicks: ELECTION_TICKS, heartbeatTicks: 2, random: new SeededRandom(id + 1), maxEntriesPerAppend: 4, rejoining, storageId: ++storageIds }, emptyRaftState);
    this.cores.set(id, core);
    this.applied.set(id, []);
    this.restored.set(id, []);
    return core;
  }

  core(id: number): RaftCore {
    return this.cores.get(id)!;
  }

  /** Handles every Ready of every voter: persist (instantly), queue messages, apply. */
  flush(): void {
    for (const [id, core] of this.cores) {
      while (core.hasReady()) {
        const ready = core.ready();
        this.inFlight.push(...ready.messages);
        if (ready.snapshot !== null) this.restored.get(id)!.push(ready.snapshot);
        this.applied.get(id)!.push(...ready.committedEntries);
        core.advance(ready);
      }
    }
  }

  /** Delivers messages until none are left (bounded), dropping those on cut links. */
  deliverAll(filter: (message: RaftMessage) => boolean = () => true): void {
    for (let round = 0; round < 1000; round++) {
      this.flush();
      if (this.inFlight.length === 0) return;
      const batch = this.inFlight;
      this.inFlight = [];
      for (const message of batch) {
        if (this.cut.has(`${message.from}>${message.to}`) || !filter(message)) continue;
        if (message.type === MessageType.append) this.appendsDelivered.set(message.to, (this.appendsDelivered.get(message.to) ?? 0) + 1);
        this.cores.get(message.to)?.step(message);
      }
    }
    throw new Error('messages did not settle in 1000 rounds');
  }

  tick(id: number, times = 1): void {
    for (let count = 0; count < times; count++) {
      this.core(id).tick();
      this.deliverAll();
    }
  }

  /**
   * Lets an election timeout pass on every voter but `id` without them campaigning (each is cut
   * off while its clock runs), so none of them is inside a leader lease any more.
   */
  expireLeases(id: number): void {
    const saved = [...this.cut];
    for (const other of this.ids) {
      if (other === id) continue;
      this.isolate(other);
      for (let count = 0; count < ELECTION_TICKS; count++) this.core(other).tick();
      this.deliverAll();
      this.cut.clear();
      for (const link of saved) this.cut.add(link);
    }
  }

  /** Ticks `id` until it campaigns and wins (everything delivered). */
  elect(id: number): void {
    for (let count = 0; count < 3 * ELECTION_TICKS && !this.core(id).isLeader; count++) this.tick(id);
    assert.equal(this.core(id).role, RaftRole.leader, `n${id} should lead`);
  }

  isolate(id: number): void {
    for (const other of this.ids) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  propose(id: number, text: string): number | null {
    const index = this.core(id).propose(new TextEncoder().encode(text));
    this.deliverAll();
    return index;
  }

  appliedTexts(id: number): string[] {
    return this.applied.get(id)!.filter((entry) => entry.data.length > 0).map((entry) => new TextDecoder().decode(entry.data));
  }
}

test('a single voter elects itself and commits on its own fsync', () => {
  const group = new Group([0]);
  group.elect(0);
  assert.equal(group.core(0).term, 1);
  const index = group.propose(0, 'a');
  assert.equal(index, 2); // 1 is the leader's no-op
  assert.deepEqual(group.appliedTexts(0), ['a']);
});

test('election: the first to time out wins with a majority and followers learn the leader', () => {
  const group = new Group([0, 1, 2]);
  group.elect(0);
  for (const id of [1, 2]) {
    assert.equal(group.core(id).leaderId, 0);
    assert.equal(group.core(id).term, 1);
    assert.equal(group.core(id).votedFor, 0);
  }
  group.propose(0, 'x');
  for (const id of [0, 1, 2]) assert.deepEqual(group.appliedTexts(id), ['x']);
});

test('votes are handed out only after they are persisted: the Ready carries the vote with the hard state', () => {
  const group = new Group([0, 1, 2]);
  const candidate = group.core(0);
  for (let count = 0; count < 3 * ELECTION_TICKS && candidate.role === RaftRole.follower; count++) candidate.tick();
  // Run the pre-vote round, holding back n0's vote request to n1.
  let voteRequest: RaftMessage | undefined;
  group.deliverAll((message) => {
    if (message.type === MessageType.vote && message.to === 1) voteRequest = message;
    return message.type !== MessageType.vote;
  });
  assert.ok(voteRequest !== undefined);
  group.core(1).step(voteRequest);
  const ready = group.core(1).ready();
  assert.equal(ready.mustSync, true);
  assert.equal(ready.hardState?.votedFor, 0);
  assert.ok(ready.messages.some((message) => message.type === MessageType.voteResponse && message.granted));
});

test('pre-vote: a voter cut off from the majority does not raise its term, and its return does not depose the leader', () => {
  const group = new Group([0, 1, 2]);
  group.elect(0);
  group.isolate(2);
  group.tick(2, 5 * ELECTION_TICKS);
  assert.equal(group.core(2).term, 1, 'the isolated voter kept its term');
  assert.notEqual(group.core(2).role, RaftRole.leader);
  group.heal();
  group.tick(2, 2 * ELECTION_TICKS);
  group.tick(0, 2);
  assert.equal(group.core(0).role, RaftRole.leader);
  assert.equal(group.core(0).term, 1);
  assert.equal(group.core(2).leaderId, 0);
});

test('without pre-vote protection a stale log cannot win: a voter behind the others is refused', () => {
  const group = new Group([0, 1, 2]);
  group.elect(0);
  group.isolate(2);
  group.propose(0, 'committed without n2');
  group.heal();
  group.isolate(0);
  group.expireLeases(2);
  // n2 times out first but its log is behind n1's: n1 refuses, so n2 cannot win.
  group.tick(2, 3 * ELECTION_TICKS);
  assert.notEqual(group.core(2).role, RaftRole.leader);
  group.expireLeases(1);
  group.elect(1);
  assert.deepEqual(group.appliedTexts(1), ['committed without n2']);
});

test('check-quorum: a leader that hears from no majority for an election timeout steps down', () => {
  const group = new Group([0, 1, 2]);
  group.elect(0);
  group.isolate(0);
  // The first check passes on the activity of the election itself; the second finds none.
  group.tick(0, ELECTION_TICKS);
  assert.equal(group.core(0).role, RaftRole.leader);
  group.tick(0, ELECTION_TICKS);
  assert.equal(group.core(0).role, RaftRole.follower);
  assert.equal(group.core(0).propose(new Uint8Array([1])), null);
});

test('leader lease: followers that hear from the leader ignore a vote request for a higher term', () => {
  const group = new Group([0, 1, 2]);
  group.elect(0);
  const request: RaftMessage = { type: MessageType.vote, from: 2, to: 1, term: 7, lastLogIndex: 100, lastLogTerm: 7 };
  group.core(1).step(request);
  assert.equal(group.core(1).term, 1);
  assert.equal(group.core(1).hasReady(), false);
});

test('log repair: a follower with a divergent uncommitted suffix is truncated to the leader log (fast backtracking)', () => {
  const group = new Group([0, 1, 2]);
  group.elect(0);
  group.propose(0, 'shared');
  // n0 appends entries nobody else receives, then loses leadership.
  group.isolate(0);
  for (let count = 0; count < 6; count++) group.core(0).propose(new TextEncoder().encode(`lost ${count}`));
  group.deliverAll();
  group.expireLeases(2);
  group.elect(2);
  for (let count = 0; count < 10; count++) group.propose(2, `new ${count}`);
  // n2 goes; n0 returns, and n1 leads term 3 with a log far ahead of n0's.
  group.heal();
  group.isolate(2);
  const appendsBefore = group.appendsDelivered.get(0) ?? 0;
  group.expireLeases(1);
  group.elect(1);
  group.tick(1, 2);
  const appendsToN0 = (group.appendsDelivered.get(0) ?? 0) - appendsBefore;
  const expected = ['shared', ...Array.from({ length: 10 }, (_, count) => `new ${count}`)];
  assert.deepEqual(group.appliedTexts(0), expected);
  assert.equal(group.core(0).log.lastIndex, group.core(1).log.lastIndex);
  // Rejections jump by whole terms: 7 appends here (one per divergent entry would take 16).
  assert.ok(appendsToN0 <= 8, `${appendsToN0} appends to repair n0`);
});

test('snapshot install: a voter that fell behind the leader snapshot gets the snapshot, then the entries after it', () => {
  const group = new Group([0, 1, 2]);
  group.elect(0);
  group.isolate(2);
  for (let count = 0; count < 10; count++) group.propose(0, `e${count}`);
  const leader = group.core(0);
  leader.compact(leader.appliedIndex, new TextEncoder().encode('state at applied'));
  group.propose(0, 'after snapshot');
  group.heal();
  group.tick(0, 2);
  const follower = group.core(2);
  assert.equal(group.restored.get(2)!.length, 1);
  assert.equal(new TextDecoder().decode(group.restored.get(2)![0]!.data), 'state at applied');
  assert.deepEqual(group.appliedTexts(2), ['after snapshot']);
  assert.equal(follower.commitIndex, leader.commitIndex);
});

test('a committed entry is never truncated: the log refuses to drop below the commit index', () => {
  const group = new Group([0, 1, 2]);
  group.elect(0);
  group.propose(0, 'a');
  const follower = group.core(1);
  const forged: RaftMessage = {
    type: MessageType.append, from: 0, to: 1, term: 1, prevLogIndex: 0, prevLogTerm: 0,
    entries: [{ term: 1, index: 1, data: new Uint8Array(0) }, { term: 1, index: 2, data: new Uint8Array([9]) }],
    leaderCommit: 0, rejoinComplete: false,
  };
  // prevLogIndex below the commit index is answered from the commit index, nothing is rewritten.
  follower.step(forged);
  assert.deepEqual([...follower.log.entry(2)!.data], [...new TextEncoder().encode('a')]);
});

test('a rejoining voter (data dir lost) does not vote until a leader says it caught up', () => {
  const group = new Group([0, 1, 2]);
  group.elect(0);
  for (let count = 0; count < 5; count++) group.propose(0, `e${count}`);
  const wiped = group.add(2, true);
  const request: RaftMessage = { type: MessageType.vote, from: 1, to: 2, term: 1, lastLogIndex: 0, lastLogTerm: 0 };
  wiped.step(request);
  const answer = wiped.ready().messages[0]!;
  assert.equal(answer.type, MessageType.voteResponse);
  assert.equal((answer as { granted: boolean }).granted, false);
  assert.equal(wiped.abstaining, true);
  group.tick(0, 4);
  assert.deepEqual(group.appliedTexts(2), ['e0', 'e1', 'e2', 'e3', 'e4']);
  assert.equal(wiped.abstaining, true, 'caught up, but an election timeout has not passed twice since it started');
  group.tick(2, 2 * ELECTION_TICKS);
  group.tick(0, 2);
  assert.equal(wiped.abstaining, false);
  assert.deepEqual(group.appliedTexts(2), ['e0', 'e1', 'e2', 'e3', 'e4']);
});

// ---- observers (etcd raft's learners) ------------------------------------------------------

test('observers: the leader replicates to them, but commit needs a majority of the voters only', () => {
  const group = new Group([0, 1, 2, 3, 4], [3, 4]);
  group.elect(0);
  group.propose(0, 'a');
  for (const id of [0, 1, 2, 3, 4]) assert.deepEqual(group.appliedTexts(id), ['a'], `n${id}`);
  for (const id of [3, 4]) {
    assert.equal(group.core(id).role, RaftRole.observer);
    assert.equal(group.core(id).leaderId, 0);
    assert.equal(group.core(id).term, 1);
  }
  // Both observers gone: two of three voters still commit.
  group.isolate(3);
  group.isolate(4);
  group.propose(0, 'b');
  assert.deepEqual(group.appliedTexts(1), ['a', 'b']);
  group.heal();
  // Two voters gone, both observers there: four of five members hold the entry, none commits it.
  group.isolate(1);
  group.isolate(2);
  group.propose(0, 'c');
  assert.ok(group.core(3).log.lastIndex > group.core(3).commitIndex, 'the observer holds the entry');
  for (const id of [0, 3, 4]) assert.deepEqual(group.appliedTexts(id), ['a', 'b'], `n${id} applied what no voter majority holds`);
});

test('an observer never campaigns: it stays an observer in its term however long the leader is silent', () => {
  const group = new Group([0, 1, 2, 3], [3]);
  group.tick(3, 5 * ELECTION_TICKS);
  assert.equal(group.core(3).role, RaftRole.observer);
  assert.equal(group.core(3).term, 0);
  group.elect(0);
  group.isolate(0);
  group.tick(3, 5 * ELECTION_TICKS);
  assert.equal(group.core(3).role, RaftRole.observer);
  assert.equal(group.core(3).term, 1);
});

test('candidates ask only voters, and a vote request that reaches an observer is dropped unanswered', () => {
  const group = new Group([0, 1, 2, 3, 4], [3, 4]);
  const asked = new Set<number>();
  for (let count = 0; count < 3 * ELECTION_TICKS && !group.core(0).isLeader; count++) {
    group.core(0).tick();
    group.deliverAll((message) => {
      if (message.type === MessageType.preVote || message.type === MessageType.vote) asked.add(message.to);
      return true;
    });
  }
  assert.equal(group.core(0).role, RaftRole.leader);
  assert.deepEqual([...asked].sort(), [1, 2]);
  // Past the leader lease, so only the observer rule can drop the requests.
  group.isolate(4);
  group.tick(4, 2 * ELECTION_TICKS);
  for (const type of [MessageType.preVote, MessageType.vote] as const) {
    const observer = group.core(4);
    observer.step({ type, from: 1, to: 4, term: 9, lastLogIndex: 100, lastLogTerm: 9 });
    assert.equal(observer.term, 1);
    assert.equal(observer.votedFor, NO_NODE);
    assert.equal(observer.hasReady(), false);
  }
});

test('check-quorum counts voters only: a leader that hears only from observers steps down', () => {
  const group = new Group([0, 1, 2, 3, 4], [3, 4]);
  group.elect(0);
  for (const voter of [1, 2]) {
    group.cut.add(`0>${voter}`);
    group.cut.add(`${voter}>0`);
  }
  group.tick(0, 2 * ELECTION_TICKS);
  assert.equal(group.core(0).role, RaftRole.follower);
});

test('an observer behind the leader snapshot gets the snapshot, then the entries after it', () => {
  const group = new Group([0, 1, 2], [2]);
  group.elect(0);
  group.isolate(2);
  for (const text of ['a', 'b', 'c']) group.propose(0, text);
  const leader = group.core(0);
  leader.compact(leader.appliedIndex, new TextEncoder().encode('state'));
  group.heal();
  group.tick(0, 2);
  group.propose(0, 'd');
  assert.equal(group.restored.get(2)!.length, 1);
  assert.deepEqual(group.appliedTexts(2), ['d']);
  assert.equal(group.core(2).commitIndex, leader.commitIndex);
});

test('membership is checked at construction: an observer may not campaign at start, sets are disjoint', () => {
  const base = { electionTicks: ELECTION_TICKS, heartbeatTicks: 2, random: new SeededRandom(1) };
  assert.throws(() => new RaftCore({ ...base, nodeId: 3, voters: [0, 1, 2], observers: [3], campaignAtStart: true }, emptyRaftState), /cannot campaign/);
  assert.throws(() => new RaftCore({ ...base, nodeId: 5, voters: [0, 1, 2], observers: [3] }, emptyRaftState), /neither a voter/);
  assert.throws(() => new RaftCore({ ...base, nodeId: 1, voters: [0, 1, 2], observers: [2] }, emptyRaftState), /overlap/);
  assert.throws(() => new RaftCore({ ...base, nodeId: 0, voters: [], observers: [0] }, emptyRaftState), /at least one voter/);
  assert.equal(new RaftCore({ ...base, nodeId: 3, voters: [0, 1, 2], observers: [3] }, emptyRaftState).role, RaftRole.observer);
});
