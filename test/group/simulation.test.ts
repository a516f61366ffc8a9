/**
 * Seeded simulation: a handful of simulated consumers (dynamic and static) drive one group with
 * the client behaviour of kafkajs/librdkafka (rejoin on REBALANCE_IN_PROGRESS, reset the member
 * id on UNKNOWN_MEMBER_ID, stop on FENCED_INSTANCE_ID), while time jumps, appends are delayed,
 * reordered within the log's order, or fail, and clients crash, restart and leave. After every
 * step the group's invariants are checked; at the end every request must have been answered
 * exactly once. A failing seed replays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import type {
  HeartbeatResponse,
  JoinGroupResponse,
  LeaveGroupResponse,
  OffsetCommitResponse,
  SyncGroupResponse,
} from '../../src/group/types.js';
import { SeededRandom } from '../helpers/random.js';
import { assignment, commitRequest, commitTopic, Harness, joinRequest, subscription } from './harness.js';

/** Clients in one simulation, duplicates of static members included. */
const maxClients = 8;

type ClientPhase = 'idle' | 'waiting' | 'member' | 'gone';

class SimClient {
  memberId = '';
  generationId = -1;
  phase: ClientPhase = 'idle';
  constructor(
    readonly name: string,
    readonly groupInstanceId: string | null,
  ) {}
}

/** Error codes seen in replies over all seeds, to show the simulation reaches the edge cases. */
const seenErrorCodes = new Map<number, number>();

function tally(errorCode: number): void {
  seenErrorCodes.set(errorCode, (seenErrorCodes.get(errorCode) ?? 0) + 1);
}

class Simulation {
  readonly random: SeededRandom;
  readonly h: Harness;
  readonly clients: SimClient[] = [];
  /** Replies delivered to clients later, as a network would. */
  private readonly inbox: Array<() => void> = [];
  private readonly replyCounts: number[] = [];
  private lastGenerationId = 0;

  constructor(seed: number) {
    this.random = new SeededRandom(seed);
    this.h = new Harness({ config: { groupInitialRebalanceDelayMs: this.random.int(0, 1) * 100 } });
    for (let index = 0; index < 5; index++) {
      this.clients.push(new SimClient(`c${index}`, index < 2 ? `instance-${index}` : null));
    }
  }

  /** Sends a request; its reply must come exactly once; the client sees it later. */
  private send<T>(client: SimClient, call: (reply: (value: T) => void) => void, onReply: (value: T) => void): void {
    const requestId = this.replyCounts.length;
    this.replyCounts.push(0);
    client.phase = client.phase === 'member' ? 'member' : 'waiting';
    call((value) => {
      this.replyCounts[requestId]!++;
      assert.equal(this.replyCounts[requestId], 1, `request ${requestId} answered twice`);
      this.inbox.push(() => onReply(value));
    });
  }

  step(): void {
    const roll = this.random.next();
    if (roll < 0.55) this.act(this.clients[this.random.int(0, this.clients.length - 1)]!);
    else if (roll < 0.75) this.deliver(this.random.int(1, 4));
    else if (roll < 0.9) this.h.advance(this.random.int(0, 4000));
    else if (roll < 0.95) this.h.persistMode = this.random.next() < 0.5 ? 'hold' : 'durable';
    else this.completeSomeAppends();
    this.checkInvariants();
  }

  private deliver(count: number): void {
    for (let index = 0; index < count && this.inbox.length > 0; index++) this.inbox.shift()!();
  }

  private completeSomeAppends(): void {
    const failure = this.random.next() < 0.3 ? new Error('injected append failure') : null;
    const held = this.h.held.splice(0, this.random.int(1, 3));
    for (const append of held) append.done(failure);
  }

  private act(client: SimClient): void {
    if (client.phase === 'gone') {
      // A static member restarts with a fresh process (no member id); dynamic ones start over.
      if (this.random.next() < 0.05) {
        client.phase = 'idle';
        client.memberId = '';
      }
      return;
    }
    if (client.phase === 'idle') return this.join(client);
    if (client.phase !== 'member') return;
    const roll = this.random.next();
    if (roll < 0.7) this.heartbeat(client);
    else if (roll < 0.85) this.commit(client);
    else if (roll < 0.9) this.join(client); // e.g. the leader noticed new partitions
    else if (roll < 0.92 && client.groupInstanceId !== null && this.clients.length < maxClients) {
      // A second process with the same group.instance.id: it takes over, this one gets fenced.
      this.clients.push(new SimClient(`${client.name}'`, client.groupInstanceId));
    } else if (roll < 0.95) this.leave(client);
    else client.phase = 'gone'; // crash: silent from now on
  }

  private join(client: SimClient): void {
    const request = joinRequest({
      memberId: client.memberId,
      groupInstanceId: client.groupInstanceId,
      clientId: client.name,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 15_000,
      protocols: [{ name: 'range', metadata: subscription(['t']) }],
    });
    this.send<JoinGroupResponse>(
      client,
      (reply) => this.h.coordinator.joinGroup(5, request, client.name, '/sim', reply),
      (response) => this.onJoin(client, response),
    );
  }

  private onJoin(client: SimClient, response: JoinGroupResponse): void {
    tally(response.errorCode);
    switch (response.errorCode) {
      case ErrorCode.NONE: {
        client.memberId = response.memberId;
        client.generationId = response.generationId;
        const isLeader = response.leader === response.memberId;
        const assignments = isLeader ? response.members.map((member) => ({ memberId: member.memberId, assignment: assignment(member.memberId) })) : [];
        const request = {
          groupId: 'group',
          generationId: response.generationId,
          memberId: response.memberId,
          groupInstanceId: client.groupInstanceId,
          assignments,
        };
        this.send<SyncGroupResponse>(
          client,
          (reply) => this.h.coordinator.syncGroup(3, request, reply),
          (sync) => this.onSync(client, sync),
        );
        return;
      }
      case ErrorCode.MEMBER_ID_REQUIRED:
        client.memberId = response.memberId;
        client.phase = 'idle';
        return;
      default:
        this.onError(client, response.errorCode);
    }
  }

  private onSync(client: SimClient, response: SyncGroupResponse): void {
    tally(response.errorCode);
    if (response.errorCode === ErrorCode.NONE) client.phase = 'member';
    else this.onError(client, response.errorCode);
  }

  private heartbeat(client: SimClient): void {
    const request = { groupId: 'group', generationId: client.generationId, memberId: client.memberId, groupInstanceId: client.groupInstanceId };
    this.send<HeartbeatResponse>(
      client,
      (reply) => this.h.coordinator.heartbeat(3, request, reply),
      (response) => {
        tally(response.errorCode);
        if (client.phase === 'member' && response.errorCode !== ErrorCode.NONE) this.onError(client, response.errorCode);
      },
    );
  }

  private commit(client: SimClient): void {
    const request = commitRequest({
      generationId: client.generationId,
      memberId: client.memberId,
      groupInstanceId: client.groupInstanceId,
      topics: [commitTopic('t', [[this.random.int(0, 3), BigInt(this.random.int(0, 1000))]])],
    });
    this.send<OffsetCommitResponse>(client, (reply) => this.h.coordinator.offsetCommit(7, request, reply), () => undefined);
  }

  private leave(client: SimClient): void {
    const memberId = client.memberId;
    this.send<LeaveGroupResponse>(
      client,
      (reply) =>
        this.h.coordinator.leaveGroup(3, { groupId: 'group', memberId: '', members: [{ memberId, groupInstanceId: client.groupInstanceId }] }, reply),
      () => undefined,
    );
    client.phase = 'gone';
    client.memberId = '';
  }

  /** What kafkajs / librdkafka do with a group error. */
  private onError(client: SimClient, errorCode: number): void {
    if (client.phase === 'gone') return;
    if (errorCode === ErrorCode.FENCED_INSTANCE_ID) {
      client.phase = 'gone'; // fatal for a static member
      return;
    }
    if (errorCode === ErrorCode.UNKNOWN_MEMBER_ID) client.memberId = '';
    client.phase = 'idle';
  }

  checkInvariants(): void {
    const group = this.h.coordinator.groupSnapshot('group');
    if (group === null) return;
    assert.ok(group.generationId >= this.lastGenerationId, 'generation never goes back');
    this.lastGenerationId = group.generationId;
    const memberIds = group.members.map((member) => member.memberId);
    assert.equal(new Set(memberIds).size, memberIds.length);
    const instances = group.members.flatMap((member) => (member.groupInstanceId === null ? [] : [member.groupInstanceId]));
    assert.equal(new Set(instances).size, instances.length, 'one member per group.instance.id');
    if (group.members.length > 0) assert.ok(memberIds.includes(group.leaderId!), 'the leader is a member');
    switch (group.state) {
      case 'Empty':
        assert.equal(group.members.length, 0);
        break;
      case 'PreparingRebalance':
        assert.ok(group.members.every((member) => !member.awaitingSync));
        break;
      case 'CompletingRebalance':
        assert.ok(group.members.every((member) => !member.awaitingJoin));
        assert.notEqual(group.protocolName, null);
        break;
      case 'Stable':
        assert.ok(group.members.every((member) => !member.awaitingSync));
        // Only a restarted static member waits (for its new id to be durable).
        assert.ok(group.members.every((member) => !member.awaitingJoin || member.groupInstanceId !== null));
        assert.notEqual(group.protocolName, null);
        break;
      default:
        assert.fail(`unexpected state ${group.state}`);
    }
  }

  /** Drains everything, unloads, and checks that every request got exactly one reply. */
  finish(): void {
    this.h.persistMode = 'durable';
    const maxRounds = 100;
    for (let round = 0; round < maxRounds && (this.h.held.length > 0 || this.inbox.length > 0); round++) {
      this.h.completeHeld();
      this.deliver(this.inbox.length);
    }
    this.h.coordinator.unload();
    this.deliver(this.inbox.length);
    const unanswered = this.replyCounts.flatMap((count, requestId) => (count === 1 ? [] : [requestId]));
    assert.deepEqual(unanswered, [], 'every request answered exactly once');
  }
}

test('simulated consumers: invariants hold and every request is answered exactly once', (context) => {
  // The core is pure: any use of wall-clock time or ambient randomness fails the run.
  context.mock.method(Date, 'now', () => assert.fail('Date.now() called by the coordinator'));
  context.mock.method(Math, 'random', () => assert.fail('Math.random() called by the coordinator'));
  context.mock.method(globalThis, 'setTimeout', () => assert.fail('setTimeout() called by the coordinator'));
  const seeds = 40;
  const stepsPerSeed = 1500;
  let generations = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const simulation = new Simulation(seed);
    try {
      for (let step = 0; step < stepsPerSeed; step++) simulation.step();
      generations += simulation.h.coordinator.groupSnapshot('group')?.generationId ?? 0;
      simulation.finish();
    } catch (error) {
      (error as Error).message = `seed ${seed}: ${(error as Error).message}`;
      throw error;
    }
  }
  assert.ok(generations > seeds * 5, `the simulation rebalanced (${generations} generations in total)`);
  for (const errorCode of [
    ErrorCode.MEMBER_ID_REQUIRED,
    ErrorCode.REBALANCE_IN_PROGRESS,
    ErrorCode.UNKNOWN_MEMBER_ID,
    ErrorCode.ILLEGAL_GENERATION,
    ErrorCode.FENCED_INSTANCE_ID,
    ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ]) {
    assert.ok((seenErrorCodes.get(errorCode) ?? 0) > 0, `error ${errorCode} never happened: ${JSON.stringify([...seenErrorCodes])}`);
  }
});
