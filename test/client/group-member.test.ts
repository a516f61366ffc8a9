/**
 * GroupMember against the real broker (`startBroker`, three nodes on 127.0.0.1). The initial
 * rebalance delay is 0 and short sessions are allowed, so a second member arriving forces a rebalance that the first learns of
 * through its heartbeat loop, as in a real deployment.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { Admin } from '../../src/client/admin.js';
import { roundRobinAssignor } from '../../src/client/assignors.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { GroupMember, type GroupMemberOptions, type MemberAssignment } from '../../src/client/group-member.js';
import { partitionKey } from '../../src/client/grouping.js';
import { GroupsAdmin } from '../../src/client/groups-admin.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';

/** A broken rebalance would leave a join waiting forever: fail instead. */
const testTimeoutMs = 30_000;

let broker: BrokerHandle;
let admin: Admin;
let groupsAdmin: GroupsAdmin;
const clients: ClusterClient[] = [];
const members: GroupMember[] = [];

function newClient(clientId: string): ClusterClient {
  const client = new ClusterClient({ bootstrapServers: broker.bootstrapServers, clientId, retry: { initialBackoffMs: 20 } });
  clients.push(client);
  return client;
}

before(async () => {
  broker = await startBroker({ nodes: 3, logLevel: 'error', broker: { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 100 } });
  const adminClient = newClient('group-member-test-admin');
  admin = new Admin(adminClient);
  groupsAdmin = new GroupsAdmin(adminClient);
  await admin.createTopics([
    { name: 'gm-orders', partitions: 3, replicationFactor: 1 },
    { name: 'gm-audit', partitions: 2, replicationFactor: 1 },
  ]);
});

after(async () => {
  // Members a failed test left behind would keep heartbeating.
  await Promise.allSettled(members.map((member) => member.leave()));
  await Promise.allSettled(clients.map((client) => client.close()));
  await broker?.stop();
});

/** A member on its own client (a parked JoinGroup holds its connection), logging its assignments. */
class WatchedMember {
  readonly member: GroupMember;
  readonly assignments: MemberAssignment[] = [];
  readonly errors: Error[] = [];
  private waiters: Array<{ predicate: (assignment: MemberAssignment) => boolean; resolve: (assignment: MemberAssignment) => void }> = [];

  constructor(name: string, options: Omit<GroupMemberOptions, 'onAssignment' | 'onError'>) {
    this.member = new GroupMember(newClient(name), {
      heartbeatIntervalMs: 50,
      ...options,
      onAssignment: (assignment) => this.onAssignment(assignment),
      onError: (error) => this.errors.push(error),
    });
    members.push(this.member);
  }

  /** Resolves with the first assignment (already seen or later) that satisfies `predicate`. */
  assignmentWhere(predicate: (assignment: MemberAssignment) => boolean): Promise<MemberAssignment> {
    const seen = this.assignments.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }

  private onAssignment(assignment: MemberAssignment): void {
    this.assignments.push(assignment);
    const ready = this.waiters.filter((waiter) => waiter.predicate(assignment));
    this.waiters = this.waiters.filter((waiter) => !waiter.predicate(assignment));
    for (const waiter of ready) waiter.resolve(assignment);
  }
}

const partitionsText = (assignment: MemberAssignment): string[] => assignment.partitions.map((entry) => `${entry.topic}-${entry.partition}`);

test('a lone member joins through MEMBER_ID_REQUIRED and takes every partition', { timeout: testTimeoutMs }, async () => {
  const lone = new WatchedMember('gm-lone', { groupId: 'gm-lone', topics: ['gm-orders'] });
  try {
    const assignment = await lone.member.join();
    assert.equal(lone.member.joinRequests, 2, 'the first JoinGroup gets MEMBER_ID_REQUIRED, the second joins');
    assert.notEqual(assignment.memberId, '');
    assert.equal(assignment.leaderId, assignment.memberId);
    assert.equal(lone.member.isLeader, true);
    assert.equal(assignment.generationId, 1);
    assert.deepEqual(partitionsText(assignment), ['gm-orders-0', 'gm-orders-1', 'gm-orders-2']);
    const description = await groupsAdmin.describeGroup('gm-lone');
    assert.equal(description.state, 'Stable');
    assert.equal(description.protocol, 'range');
    assert.deepEqual(description.members.map((member) => member.memberId), [assignment.memberId]);
  } finally {
    await lone.member.leave();
  }
  assert.equal((await groupsAdmin.describeGroup('gm-lone')).state, 'Empty', 'LeaveGroup emptied the group');
  assert.deepEqual(lone.errors, []);
});

test('two members split the partitions; heartbeats carry each rebalance; commits are shared; leaving hands partitions back', { timeout: testTimeoutMs }, async () => {
  const first = new WatchedMember('gm-first', { groupId: 'gm-pair', topics: ['gm-orders'] });
  const second = new WatchedMember('gm-second', { groupId: 'gm-pair', topics: ['gm-orders'] });
  try {
    const alone = await first.member.join();
    assert.equal(alone.partitions.length, 3);
    // The second JoinGroup parks until the first rejoins, which only its heartbeat can tell it to.
    const joined = await second.member.join();
    assert.equal(joined.generationId, alone.generationId + 1);
    const rejoined = await first.assignmentWhere((assignment) => assignment.generationId === joined.generationId);
    const [low, high] = [rejoined, joined].sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
    assert.deepEqual(partitionsText(low!), ['gm-orders-0', 'gm-orders-1'], 'range: the lower member id takes the extra partition');
    assert.deepEqual(partitionsText(high!), ['gm-orders-2']);
    assert.equal(rejoined.leaderId, joined.leaderId);

    await second.member.commitOffsets(joined.partitions.map((entry) => ({ ...entry, offset: 5n })));
    const committed = await first.member.committedOffsets([0, 1, 2].map((partition) => ({ topic: 'gm-orders', partition })));
    for (const partition of [0, 1, 2]) {
      const expected = joined.partitions.some((entry) => entry.partition === partition) ? 5n : -1n;
      assert.equal(committed.get(partitionKey('gm-orders', partition)), expected, `partition ${partition}`);
    }

    await second.member.leave();
    const after = await first.assignmentWhere((assignment) => assignment.generationId > joined.generationId);
    assert.deepEqual(partitionsText(after), ['gm-orders-0', 'gm-orders-1', 'gm-orders-2']);
  } finally {
    await Promise.allSettled([first.member.leave(), second.member.leave()]);
  }
  assert.deepEqual([...first.errors, ...second.errors], []);
});

test('a member that misses a rebalance is dropped, is refused commits, and its next heartbeat rejoins', { timeout: testTimeoutMs }, async () => {
  // No heartbeat of its own within the test: it misses the rebalance, and its session ends.
  const late = new WatchedMember('gm-late', { groupId: 'gm-late', topics: ['gm-orders'], heartbeatIntervalMs: 60_000, sessionTimeoutMs: 500 });
  const punctual = new WatchedMember('gm-punctual', { groupId: 'gm-late', topics: ['gm-orders'] });
  try {
    const old = await late.member.join();
    const joined = await punctual.member.join();
    assert.equal(joined.generationId, old.generationId + 1);
    assert.equal(joined.partitions.length, 3, 'the late member was removed when its session timed out');
    await assert.rejects(
      late.member.commitOffsets([{ topic: 'gm-orders', partition: 0, offset: 1n }]),
      (error: unknown) => error instanceof KafkaError && error.code === ErrorCode.UNKNOWN_MEMBER_ID,
    );
    assert.equal(await late.member.heartbeat(), true, 'UNKNOWN_MEMBER_ID: the member joined again');
    assert.notEqual(late.member.memberId, old.memberId);
    const rejoined = late.assignments.at(-1)!;
    const shared = await punctual.assignmentWhere((assignment) => assignment.generationId === rejoined.generationId);
    assert.equal(rejoined.partitions.length + shared.partitions.length, 3);
    assert.ok(rejoined.partitions.length > 0 && shared.partitions.length > 0);
  } finally {
    await Promise.allSettled([late.member.leave(), punctual.member.leave()]);
  }
});

test('round robin over two topics, with leader-chosen user data in every assignment', { timeout: testTimeoutMs }, async () => {
  const userData = (members: readonly { memberId: string }[]) => Buffer.from(`members=${members.length}`);
  const options = { groupId: 'gm-roundrobin', topics: ['gm-orders', 'gm-audit'], assignor: roundRobinAssignor, assignmentUserData: userData };
  const first = new WatchedMember('gm-rr-1', options);
  const second = new WatchedMember('gm-rr-2', options);
  try {
    await first.member.join();
    const joined = await second.member.join();
    const rejoined = await first.assignmentWhere((assignment) => assignment.generationId === joined.generationId);
    const all = [...partitionsText(joined), ...partitionsText(rejoined)].sort();
    assert.deepEqual(all, ['gm-audit-0', 'gm-audit-1', 'gm-orders-0', 'gm-orders-1', 'gm-orders-2']);
    assert.equal(Math.abs(joined.partitions.length - rejoined.partitions.length), 1);
    assert.deepEqual(joined.userData, Buffer.from('members=2'));
    assert.deepEqual(rejoined.userData, Buffer.from('members=2'));
    assert.equal((await groupsAdmin.describeGroup('gm-roundrobin')).protocol, 'roundrobin');
  } finally {
    await Promise.allSettled([first.member.leave(), second.member.leave()]);
  }
});
