/**
 * GroupsAdmin: consumer assignment parsing (golden bytes from kafkajs' encoder, and our own
 * encoder's layouts), reset offset arithmetic, coordinator retries against a scripted fake, and every
 * operation against the real broker (three nodes) on a group built from our own JoinGroup /
 * SyncGroup / OffsetCommit requests, so its assignment and commits are exact.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { Admin } from '../../src/client/admin.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { GroupsAdmin, parseConsumerAssignment, resolveResetOffset } from '../../src/client/groups-admin.js';
import { Producer } from '../../src/client/producer.js';
import { encodeConsumerAssignment, encodeConsumerSubscription } from '../../src/group/consumer-protocol.js';
import { decodeRequestBody, encodeResponse, supportedVersionRanges } from '../../src/protocol/codec/index.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { FakeServer, type FakeRequest } from './fake-server.js';

const { AssignerProtocol } = kafkajs;

/** A ConsumerProtocolAssignment; `userData` undefined = cut off after the partitions, as some encoders do. */
function encodeAssignment(version: number, topics: Record<string, number[]>, userData: Buffer | null | undefined): Buffer {
  const assignedPartitions = Object.entries(topics).map(([topic, partitions]) => ({ topic, partitions }));
  const bytes = encodeConsumerAssignment(version, { assignedPartitions, userData: userData ?? null });
  return userData === undefined ? bytes.subarray(0, bytes.length - 4) : bytes;
}

function encodeSubscription(topics: string[]): Buffer {
  return encodeConsumerSubscription(0, { topics });
}

function int16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeInt16BE(value);
  return buffer;
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

// ------------------------------------------------------------------------------------------------
// Assignment parsing and reset arithmetic
// ------------------------------------------------------------------------------------------------

test('parseConsumerAssignment reads kafkajs-encoded assignments, sorted, with user data', () => {
  const bytes = AssignerProtocol.MemberAssignment.encode({
    version: 1,
    assignment: { zeta: [2, 0], alpha: [5] },
    userData: Buffer.from('sticky'),
  });
  assert.deepEqual(parseConsumerAssignment(bytes), {
    version: 1,
    partitions: [
      { topic: 'alpha', partition: 5 },
      { topic: 'zeta', partition: 0 },
      { topic: 'zeta', partition: 2 },
    ],
    userData: Buffer.from('sticky'),
  });
});

test('parseConsumerAssignment: null, absent and present user data', () => {
  const expected = [
    { topic: 't', partition: 1 },
    { topic: 't', partition: 3 },
  ];
  assert.deepEqual(parseConsumerAssignment(encodeAssignment(3, { t: [3, 1] }, null)), { version: 3, partitions: expected, userData: null });
  assert.deepEqual(parseConsumerAssignment(encodeAssignment(0, { t: [3, 1] }, undefined)), { version: 0, partitions: expected, userData: null });
  const withUserData = encodeAssignment(0, { t: [1, 3] }, Buffer.from([1, 2, 3]));
  const parsed = parseConsumerAssignment(withUserData)!;
  assert.deepEqual(parsed.userData, Buffer.from([1, 2, 3]));
  withUserData.fill(0);
  assert.deepEqual(parsed.userData, Buffer.from([1, 2, 3]), 'user data is a copy, not a view of the response');
  assert.deepEqual(parseConsumerAssignment(encodeAssignment(1, {}, null)), { version: 1, partitions: [], userData: null });
  assert.deepEqual(parseConsumerAssignment(Buffer.alloc(0)), { version: 0, partitions: [], userData: null }, 'no assignment yet');
});

test('parseConsumerAssignment returns null for bytes that are not a consumer assignment', () => {
  const good = encodeAssignment(0, { orders: [0, 1, 2] }, null);
  for (let length = 1; length < good.length; length++) {
    // Cut exactly before the user data: a valid assignment without it.
    if (length === good.length - 4) continue;
    assert.equal(parseConsumerAssignment(good.subarray(0, length)), null, `truncated to ${length} bytes`);
  }
  assert.equal(parseConsumerAssignment(Buffer.concat([int16(-1), int32(0)])), null, 'negative version');
  assert.equal(parseConsumerAssignment(Buffer.concat([int16(0), int32(0x7fffffff)])), null, 'hostile topic count');
  assert.equal(parseConsumerAssignment(Buffer.concat([int16(0), int32(1), int16(1), Buffer.from('t'), int32(1_000_000)])), null, 'hostile partition count');
  assert.equal(parseConsumerAssignment(Buffer.concat([int16(0), int32(0), int32(-7)])), null, 'bad user data length');
});

test('resolveResetOffset: earliest, latest, clamped offsets, timestamps past the end', () => {
  const bounds = { logStartOffset: 5n, logEndOffset: 20n };
  assert.equal(resolveResetOffset('earliest', bounds, -1n), 5n);
  assert.equal(resolveResetOffset('latest', bounds, -1n), 20n);
  assert.equal(resolveResetOffset({ offset: 7n }, bounds, -1n), 7n);
  assert.equal(resolveResetOffset({ offset: 2n }, bounds, -1n), 5n, 'below the log start: the log start');
  assert.equal(resolveResetOffset({ offset: 99n }, bounds, -1n), 20n, 'past the log end: the log end');
  assert.equal(resolveResetOffset({ timestampMs: 1_000 }, bounds, 12n), 12n);
  assert.equal(resolveResetOffset({ timestampMs: 1_000 }, bounds, -1n), 20n, 'no record at or after the time: the log end');
  assert.throws(() => resolveResetOffset('earliest', { logStartOffset: 9n, logEndOffset: 3n }, -1n), RangeError);
});

// ------------------------------------------------------------------------------------------------
// Coordinator retries against a scripted two-node fake
// ------------------------------------------------------------------------------------------------

interface FakeCoordinatorScript {
  /** Node id FindCoordinator names, per call; the last entry repeats. */
  readonly coordinators: readonly number[];
  /** Error code of DescribeGroups on a node, or NONE for a Stable group. */
  readonly describeError: (nodeId: number) => number;
}

async function startFakeCoordinators(script: FakeCoordinatorScript): Promise<{ nodes: FakeServer[]; log: string[] }> {
  const nodes: FakeServer[] = [];
  const log: string[] = [];
  let findCalls = 0;
  const handle = (nodeId: number, request: FakeRequest) => {
    const { apiKey, apiVersion, correlationId, headerSizeBytes } = request.header;
    const reply = (body: unknown) => encodeResponse(apiKey, apiVersion, correlationId, body);
    switch (apiKey) {
      case ApiKey.ApiVersions:
        return reply({ apiKeys: supportedVersionRanges() });
      case ApiKey.Metadata:
        return reply({ brokers: nodes.map((node, id) => ({ nodeId: id, host: '127.0.0.1', port: node.port })), clusterId: 'fake', controllerId: 0, topics: [] });
      case ApiKey.FindCoordinator: {
        const coordinatorId = script.coordinators[Math.min(findCalls++, script.coordinators.length - 1)]!;
        log.push(`find->${coordinatorId}`);
        if (coordinatorId < 0) return reply({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'loading', nodeId: -1, host: '', port: -1 });
        return reply({ errorCode: ErrorCode.NONE, errorMessage: null, nodeId: coordinatorId, host: '127.0.0.1', port: nodes[coordinatorId]!.port });
      }
      case ApiKey.DescribeGroups: {
        const [groupId] = (decodeRequestBody(apiKey, apiVersion, request.frame, headerSizeBytes) as { groups: string[] }).groups;
        const errorCode = script.describeError(nodeId);
        log.push(`describe@${nodeId}`);
        const member = { memberId: 'm-1', groupInstanceId: 'static-1', clientId: 'c', clientHost: '/10.0.0.1', memberMetadata: encodeSubscription(['t']), memberAssignment: encodeAssignment(0, { t: [1, 0] }, null) };
        return reply({
          groups: [{ errorCode, groupId, groupState: errorCode === ErrorCode.NONE ? 'Stable' : '', protocolType: 'consumer', protocolData: 'range', members: errorCode === ErrorCode.NONE ? [member] : [] }],
        });
      }
      default:
        return 'close' as const;
    }
  };
  for (let nodeId = 0; nodeId < 2; nodeId++) nodes.push(await FakeServer.start((request) => handle(nodeId, request)));
  return { nodes, log };
}

const fastRetry = { maxAttempts: 4, initialBackoffMs: 1, maxBackoffMs: 2 };

test('a moved coordinator is looked up again: NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE', async () => {
  const fake = await startFakeCoordinators({
    coordinators: [-1, 0, 1],
    describeError: (nodeId) => (nodeId === 0 ? ErrorCode.NOT_COORDINATOR : ErrorCode.NONE),
  });
  const cluster = new ClusterClient({ bootstrapServers: fake.nodes.map((node) => node.address), retry: fastRetry });
  try {
    const described = await new GroupsAdmin(cluster).describeGroup('g');
    assert.deepEqual(fake.log, ['find->-1', 'find->0', 'describe@0', 'find->1', 'describe@1']);
    assert.equal(described.coordinatorId, 1);
    assert.equal(described.state, 'Stable');
    assert.deepEqual(described.members, [
      {
        memberId: 'm-1',
        groupInstanceId: 'static-1',
        clientId: 'c',
        clientHost: '/10.0.0.1',
        subscribedTopics: ['t'],
        assignment: [
          { topic: 't', partition: 0 },
          { topic: 't', partition: 1 },
        ],
      },
    ]);
  } finally {
    await cluster.close();
    await Promise.all(fake.nodes.map((node) => node.close()));
  }
});

test('coordinator retries are bounded by the retry policy; other group errors are not retried', async () => {
  const fake = await startFakeCoordinators({
    coordinators: [0],
    describeError: (nodeId) => (nodeId === 0 ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.GROUP_AUTHORIZATION_FAILED),
  });
  const cluster = new ClusterClient({ bootstrapServers: fake.nodes[0]!.address, retry: fastRetry });
  try {
    const admin = new GroupsAdmin(cluster);
    await assert.rejects(admin.describeGroup('g'), (error: Error) => {
      assert.ok(error instanceof KafkaError && error.code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, error.message);
      assert.match(error.message, /gave up after 4 attempts/);
      return true;
    });
    assert.equal(fake.log.filter((entry) => entry.startsWith('find')).length, 4, 'a fresh FindCoordinator before every attempt');
    fake.log.length = 0;
    // Node 1 coordinates this group and refuses: no retry, and the group is named.
    const refusing = await startFakeCoordinators({ coordinators: [1], describeError: () => ErrorCode.GROUP_AUTHORIZATION_FAILED });
    const other = new ClusterClient({ bootstrapServers: refusing.nodes[0]!.address, retry: fastRetry });
    try {
      await assert.rejects(new GroupsAdmin(other).describeGroup('secret'), (error: Error) => {
        assert.ok(error instanceof KafkaError && error.code === ErrorCode.GROUP_AUTHORIZATION_FAILED, error.message);
        assert.match(error.message, /describe group "secret"/);
        return true;
      });
      assert.deepEqual(refusing.log, ['find->1', 'describe@1']);
    } finally {
      await other.close();
      await Promise.all(refusing.nodes.map((node) => node.close()));
    }
  } finally {
    await cluster.close();
    await Promise.all(fake.nodes.map((node) => node.close()));
  }
});

// ------------------------------------------------------------------------------------------------
// The real broker
// ------------------------------------------------------------------------------------------------

let broker: BrokerHandle;
let cluster: ClusterClient;
let admin: GroupsAdmin;

before(async () => {
  broker = await startBroker({ nodes: 3, logLevel: 'error' });
  cluster = new ClusterClient({ bootstrapServers: broker.bootstrapServers, clientId: 'groups-admin-test' });
  admin = new GroupsAdmin(cluster);
});

after(async () => {
  await cluster?.close();
  await broker?.stop();
});

/** One member that joins with our own requests, takes every partition of `topic`, and commits. */
class LowLevelMember {
  memberId = '';
  generationId = -1;

  private constructor(
    private readonly connection: BrokerConnection,
    private readonly groupId: string,
  ) {}

  static async join(groupId: string, topic: string, partitions: number[]): Promise<LowLevelMember> {
    const coordinator = await admin.findCoordinator(groupId);
    const connection = await BrokerConnection.connect({ host: coordinator.host, port: coordinator.port, clientId: 'low-level-member' });
    const member = new LowLevelMember(connection, groupId);
    const join = (memberId: string) =>
      connection.requestNegotiated(ApiKey.JoinGroup, {
        groupId,
        sessionTimeoutMs: 30_000,
        rebalanceTimeoutMs: 30_000,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: encodeSubscription([topic]) }],
      });
    let joined = await join('');
    if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) joined = await join(joined.memberId);
    assert.equal(joined.errorCode, ErrorCode.NONE, 'JoinGroup');
    assert.equal(joined.leader, joined.memberId, 'the only member leads');
    member.memberId = joined.memberId;
    member.generationId = joined.generationId;
    const synced = await connection.requestNegotiated(ApiKey.SyncGroup, {
      groupId,
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      assignments: [{ memberId: joined.memberId, assignment: encodeAssignment(0, { [topic]: partitions }, null) }],
    });
    assert.equal(synced.errorCode, ErrorCode.NONE, 'SyncGroup');
    return member;
  }

  async commit(topic: string, offsets: Record<number, bigint>): Promise<void> {
    const response = await this.connection.requestNegotiated(ApiKey.OffsetCommit, {
      groupId: this.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
      topics: [{ name: topic, partitions: Object.entries(offsets).map(([partition, offset]) => ({ partitionIndex: Number(partition), committedOffset: offset, committedMetadata: null })) }],
    });
    for (const partition of response.topics.flatMap((entry) => entry.partitions)) assert.equal(partition.errorCode, ErrorCode.NONE, 'member commit');
  }

  async leave(): Promise<void> {
    const response = await this.connection.requestNegotiated(ApiKey.LeaveGroup, {
      groupId: this.groupId,
      memberId: this.memberId,
      members: [{ memberId: this.memberId, groupInstanceId: null }],
    });
    assert.equal(response.errorCode, ErrorCode.NONE, 'LeaveGroup');
    await this.connection.close();
  }
}

function finalCode(code: number): (error: Error) => boolean {
  return (error) => {
    assert.ok(error instanceof KafkaError, error.stack);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

test('real broker: list, describe, committed offsets and lag of an active group; refusals while active', async () => {
  const topic = 'ga-orders';
  const groupId = 'ga-active';
  await new Admin(cluster).createTopics([{ name: topic, partitions: 2, replicationFactor: 1 }]);
  const producer = new Producer(cluster, {});
  await producer.send([...Array.from({ length: 5 }, (_, index) => ({ topic, partition: 0, value: `a${index}` })), ...Array.from({ length: 3 }, (_, index) => ({ topic, partition: 1, value: `b${index}` }))]);

  const member = await LowLevelMember.join(groupId, topic, [1, 0]);
  await member.commit(topic, { 0: 2n, 1: 3n });

  const listed = await admin.listGroups();
  assert.deepEqual(listed.find((group) => group.groupId === groupId), { groupId, protocolType: 'consumer', coordinatorId: (await admin.findCoordinator(groupId)).nodeId });

  const described = await admin.describeGroup(groupId);
  assert.equal(described.state, 'Stable');
  assert.equal(described.protocolType, 'consumer');
  assert.equal(described.protocol, 'range');
  assert.equal(described.members.length, 1);
  assert.deepEqual(described.members[0], {
    memberId: member.memberId,
    groupInstanceId: null,
    clientId: 'low-level-member',
    clientHost: described.members[0]!.clientHost,
    subscribedTopics: [topic],
    assignment: [
      { topic, partition: 0 },
      { topic, partition: 1 },
    ],
  });
  assert.match(described.members[0]!.clientHost, /127\.0\.0\.1/);

  assert.deepEqual(
    (await admin.committedOffsets(groupId)).map((entry) => [entry.partition, entry.offset]),
    [
      [0, 2n],
      [1, 3n],
    ],
  );
  assert.deepEqual(await admin.committedOffsets(groupId, ['elsewhere']), []);
  const lag = await admin.lag(groupId);
  assert.deepEqual(
    lag.map((entry) => [entry.partition, entry.committedOffset, entry.logEndOffset, entry.lag, entry.member?.memberId]),
    [
      [0, 2n, 5n, 3n, member.memberId],
      [1, 3n, 3n, 0n, member.memberId],
    ],
  );

  await assert.rejects(admin.commitOffsets(groupId, [{ topic, partition: 0, offset: 0n }]), (error: Error) => {
    finalCode(ErrorCode.UNKNOWN_MEMBER_ID)(error);
    assert.match(error.message, /active members/);
    return true;
  });
  await assert.rejects(admin.resetOffsets(groupId, [topic], 'earliest', { dryRun: true }), (error: Error) => {
    finalCode(ErrorCode.NON_EMPTY_GROUP)(error);
    assert.match(error.message, /is Stable with 1 active member/);
    return true;
  });
  assert.deepEqual(await admin.deleteGroups([groupId]), [{ groupId, errorCode: ErrorCode.NON_EMPTY_GROUP }]);
  await assert.rejects(admin.deleteOffsets(groupId, topic, [0]), finalCode(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC));
  assert.deepEqual((await admin.committedOffsets(groupId)).map((entry) => entry.offset), [2n, 3n], 'nothing changed');

  await member.leave();
  assert.equal((await admin.describeGroup(groupId)).state, 'Empty');
});

test('real broker: reset, commit and delete offsets of an empty group, then delete it', async () => {
  const topic = 'ga-events';
  const groupId = 'ga-empty';
  await new Admin(cluster).createTopics([{ name: topic, partitions: 3, replicationFactor: 1 }]);
  const producer = new Producer(cluster, {});
  await producer.send(Array.from({ length: 12 }, (_, index) => ({ topic, partition: index % 3, value: `e${index}` })));
  const member = await LowLevelMember.join(groupId, topic, [0, 1, 2]);
  await member.commit(topic, { 0: 1n, 1: 2n, 2: 3n });
  await member.leave();

  const dryRun = await admin.resetOffsets(groupId, [topic], 'earliest', { dryRun: true });
  assert.deepEqual(
    dryRun.map((entry) => [entry.partition, entry.currentOffset, entry.newOffset]),
    [
      [0, 1n, 0n],
      [1, 2n, 0n],
      [2, 3n, 0n],
    ],
  );
  assert.deepEqual((await admin.committedOffsets(groupId)).map((entry) => entry.offset), [1n, 2n, 3n], 'a dry run commits nothing');

  const clamped = await admin.resetOffsets(groupId, [{ topic, partitions: [2, 0] }], { offset: 100n }, { dryRun: false });
  assert.deepEqual(clamped.map((entry) => [entry.partition, entry.newOffset]), [
    [0, 4n],
    [2, 4n],
  ]);
  await admin.resetOffsets(groupId, [{ topic, partitions: [1] }], 'latest', { dryRun: false });
  assert.deepEqual((await admin.committedOffsets(groupId)).map((entry) => entry.offset), [4n, 4n, 4n]);

  await admin.commitOffsets(groupId, [{ topic, partition: 1, offset: 1n, metadata: 'by admin' }]);
  const committed = await admin.committedOffsets(groupId, [topic]);
  assert.equal(committed[1]!.offset, 1n);
  assert.equal(committed[1]!.metadata, 'by admin');

  await admin.deleteOffsets(groupId, topic, [0]);
  assert.deepEqual((await admin.committedOffsets(groupId)).map((entry) => entry.partition), [1, 2]);
  await assert.rejects(admin.resetOffsets(groupId, ['no-such-topic'], 'earliest', { dryRun: true }), finalCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  await assert.rejects(admin.resetOffsets(groupId, [{ topic, partitions: [3] }], 'earliest', { dryRun: true }), finalCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));

  assert.deepEqual(await admin.deleteGroups([groupId, 'ga-never-existed']), [
    { groupId, errorCode: ErrorCode.NONE },
    { groupId: 'ga-never-existed', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
  ]);
  assert.equal((await admin.describeGroup(groupId)).state, 'Dead');
  assert.deepEqual(await admin.committedOffsets(groupId), []);
  assert.ok(!(await admin.listGroups()).some((group) => group.groupId === groupId));
  await assert.rejects(admin.deleteOffsets(groupId, topic, [1]), finalCode(ErrorCode.GROUP_ID_NOT_FOUND));

  // An unknown group may be given offsets: that makes a group without members.
  const seeded = await admin.resetOffsets('ga-seeded', [topic], { timestampMs: 0 }, { dryRun: false });
  assert.deepEqual(seeded.map((entry) => [entry.currentOffset, entry.newOffset]), [
    [null, 0n],
    [null, 0n],
    [null, 0n],
  ]);
  assert.equal((await admin.describeGroup('ga-seeded')).state, 'Empty');
  assert.deepEqual(await admin.lag('ga-seeded').then((rows) => rows.map((row) => [row.lag, row.member])), [
    [4n, null],
    [4n, null],
    [4n, null],
  ]);
});

test('real broker: OffsetDelete of the last offsets of an Empty group answers NONE', async () => {
  const topic = 'ga-last-offsets';
  await new Admin(cluster).createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }]);
  await admin.commitOffsets('ga-last', [{ topic, partition: 0, offset: 0n }]);
  await admin.deleteOffsets('ga-last', topic, [0]);
  assert.equal((await admin.describeGroup('ga-last')).state, 'Dead');
});

test('real broker: OffsetCommit and OffsetDelete of a partition that does not exist answer UNKNOWN_TOPIC_OR_PARTITION', async () => {
  await assert.rejects(admin.commitOffsets('ga-unknown-topic', [{ topic: 'ga-no-such-topic', partition: 0, offset: 1n }]), finalCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  await admin.resetOffsets('ga-unknown-topic', ['ga-orders'], 'earliest', { dryRun: false });
  await assert.rejects(admin.deleteOffsets('ga-unknown-topic', 'ga-no-such-topic', [0]), finalCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
});
