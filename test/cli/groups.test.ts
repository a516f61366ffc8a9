/**
 * `minikafka groups` against the real broker (three nodes), with unmodified kafkajs 2.2.4
 * consumers as the group's members. The tests run in order on one group: active (list,
 * describe, lag, refusals), then empty (reset-offsets dry run and --execute, the next consumer's
 * start), then deleted. Then usage errors and date parsing, which need no broker.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { Admin } from '../../src/client/admin.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { GroupsAdmin } from '../../src/client/groups-admin.js';
import { Producer } from '../../src/client/producer.js';
import { parseDateTimeMs, run as groups } from '../../src/cli/commands/groups.js';
import { captureIo } from './cli-io.js';

const { Kafka, logLevel } = kafkajs;
type KafkajsConsumer = ReturnType<InstanceType<typeof Kafka>['consumer']>;

const topic = 'cli-groups-orders';
const groupId = 'cli-groups-billing';
const partitionCount = 3;
const firstRecordsPerPartition = 10;
/** Records produced later, per partition, while the members are paused. */
const laterRecords = [4, 2, 0] as const;
const waitTimeoutMs = 20_000;
const pollIntervalMs = 50;

let broker: BrokerHandle;
let bootstrap: string[];
let cluster: ClusterClient;
let groupsAdmin: GroupsAdmin;
let kafka: InstanceType<typeof Kafka>;
/** Create times: the first records well before `splitMs`, the later ones after it. */
let splitMs: number;

before(async () => {
  broker = await startBroker({ nodes: 3, logLevel: 'error' });
  bootstrap = ['--bootstrap-server', broker.bootstrapServers];
  cluster = new ClusterClient({ bootstrapServers: broker.bootstrapServers, clientId: 'groups-cli-test' });
  groupsAdmin = new GroupsAdmin(cluster);
  kafka = new Kafka({ clientId: 'cli-groups-kafkajs', brokers: broker.bootstrapServers.split(','), logLevel: logLevel.NOTHING });
  await new Admin(cluster).createTopics([{ name: topic, partitions: partitionCount, replicationFactor: 1 }]);
  splitMs = Date.now() - 300_000;
  const records = [];
  for (let partition = 0; partition < partitionCount; partition++) {
    for (let index = 0; index < firstRecordsPerPartition; index++) {
      records.push({ topic, partition, value: `first-${partition}-${index}`, timestampMs: splitMs - 300_000 + index });
    }
  }
  await new Producer(cluster, {}).send(records);
});

after(async () => {
  await cluster?.close();
  await broker?.stop();
});

/** Polls until `condition` holds; fails after `waitTimeoutMs`. */
async function waitFor(description: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadlineMs = Date.now() + waitTimeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadlineMs) assert.fail(`timed out after ${waitTimeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}

/** Offsets received, by partition (a rebalance may deliver some twice; sets drop repeats). */
type Received = Map<number, Set<string>>;

/** Fetch cycles each consumer's fetchers have started, by broker node id (kafkajs FETCH_START). */
const fetchStarts = new Map<KafkajsConsumer, Map<number, number>>();

async function startConsumer(received: Received, fromBeginning: boolean): Promise<KafkajsConsumer> {
  const consumer = kafka.consumer({ groupId, heartbeatInterval: 300, maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
  const starts = new Map<number, number>();
  fetchStarts.set(consumer, starts);
  consumer.on(consumer.events.FETCH_START, (event) => starts.set(event.payload.nodeId, (starts.get(event.payload.nodeId) ?? 0) + 1));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      let offsets = received.get(partition);
      if (offsets === undefined) received.set(partition, (offsets = new Set()));
      offsets.add(message.offset);
    },
  });
  return consumer;
}

/**
 * Resolves once every fetcher of `consumers` has started a fetch after this call. A kafkajs
 * fetcher starts its next fetch only after the previous one came back and its batches were
 * handled, so no fetch sent before the call is still in flight.
 */
async function inFlightFetchesReturned(consumers: readonly KafkajsConsumer[]): Promise<void> {
  const seen = consumers.map((consumer) => new Map(fetchStarts.get(consumer)!));
  assert.ok(seen.every((starts) => starts.size > 0), 'every consumer has fetched');
  await waitFor('every fetcher to start a fetch after the pause', () =>
    consumers.every((consumer, index) => [...seen[index]!].every(([nodeId, count]) => fetchStarts.get(consumer)!.get(nodeId)! > count)),
  );
}

function receivedCount(received: Received): number {
  let count = 0;
  for (const offsets of received.values()) count += offsets.size;
  return count;
}

async function committedByPartition(): Promise<number[]> {
  const committed = await groupsAdmin.committedOffsets(groupId, [topic]);
  return Array.from({ length: partitionCount }, (_, partition) => Number(committed.find((entry) => entry.partition === partition)?.offset ?? -1n));
}

async function groups_(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await groups([...args, ...bootstrap], io);
  return { code, out: io.out(), err: io.err() };
}

/** The rows under the table header that starts with `firstColumn`, split on whitespace. */
function tableRows(output: string, firstColumn: string): string[][] {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${firstColumn} `));
  assert.ok(start >= 0, `no ${firstColumn} table in:\n${output}`);
  const rows: string[][] = [];
  for (let index = start + 1; index < lines.length && lines[index] !== ''; index++) rows.push(lines[index]!.split(/\s+/));
  return rows;
}

let members: KafkajsConsumer[] = [];

test('list and describe an active group: members, assignments, lag after producing more; refusals', async () => {
  const received: Received = new Map();
  members = [await startConsumer(received, true), await startConsumer(received, true)];
  await waitFor('both members to consume and commit everything', async () => {
    if (receivedCount(received) < partitionCount * firstRecordsPerPartition) return false;
    const described = await groupsAdmin.describeGroup(groupId);
    const assigned = described.members.map((member) => member.assignment.length);
    return described.state === 'Stable' && assigned.length === 2 && assigned.every((count) => count > 0) &&
      (await committedByPartition()).every((offset) => offset === firstRecordsPerPartition);
  });
  for (const member of members) member.pause([{ topic }]);
  // Fetches sent before the pause must come back before producing more.
  await inFlightFetchesReturned(members);
  const later = laterRecords.flatMap((count, partition) =>
    Array.from({ length: count }, (_, index) => ({ topic, partition, value: `later-${partition}-${index}`, timestampMs: splitMs + 60_000 + index })),
  );
  await new Producer(cluster, {}).send(later);

  const listed = await groups_(['list']);
  assert.equal(listed.code, 0, listed.err);
  assert.ok(listed.out.split('\n').includes(groupId), listed.out);

  const described = await groups_(['describe', groupId]);
  assert.equal(described.code, 0, described.err);
  const [summary] = described.out.split('\n');
  assert.match(summary!, new RegExp(`^Group: ${groupId}\\tState: Stable\\tProtocolType: consumer\\tProtocol: \\S+\\tCoordinator: \\d\\tMembers: 2$`));
  const memberRows = tableRows(described.out, 'CONSUMER-ID');
  assert.equal(memberRows.length, 2);
  const ownerOf = new Map<number, string>();
  for (const [memberId, host, clientId, count, assignment] of memberRows as [string, string, string, string, string][]) {
    assert.match(host, /127\.0\.0\.1/);
    assert.equal(clientId, 'cli-groups-kafkajs');
    const [assignedTopic, partitions] = assignment.split(':');
    assert.equal(assignedTopic, topic);
    const assigned = partitions!.split(',').map(Number);
    assert.equal(assigned.length, Number(count));
    for (const partition of assigned) ownerOf.set(partition, memberId);
  }
  assert.deepEqual([...ownerOf.keys()].sort(), [0, 1, 2], 'every partition assigned once');
  assert.deepEqual(
    tableRows(described.out, 'TOPIC'),
    laterRecords.map((count, partition) => {
      const logEnd = firstRecordsPerPartition + count;
      return [topic, String(partition), String(firstRecordsPerPartition), String(logEnd), String(count), ownerOf.get(partition)!, memberRows[0]![1]!, 'cli-groups-kafkajs'];
    }),
  );

  const reset = await groups_(['reset-offsets', groupId, '--topic', topic, '--to-earliest', '--execute']);
  assert.equal(reset.code, 1);
  assert.match(reset.err, /NON_EMPTY_GROUP: group "cli-groups-billing" is Stable with 2 active member\(s\)/);
  const deleted = await groups_(['delete', groupId]);
  assert.equal(deleted.code, 1);
  assert.match(deleted.err, /cannot delete group cli-groups-billing: NON_EMPTY_GROUP/);
  assert.deepEqual(await committedByPartition(), [10, 10, 10], 'the refusals changed nothing');

  await Promise.all(members.map((member) => member.disconnect()));
  members = [];
  await waitFor('the group to be empty', async () => (await groupsAdmin.describeGroup(groupId)).state === 'Empty');
});

test('reset-offsets on the empty group: a dry run changes nothing; --execute --to-earliest restarts the next consumer at 0', async () => {
  const described = await groups_(['describe', groupId]);
  assert.equal(described.code, 0, described.err);
  assert.match(described.out, /State: Empty/);
  assert.match(described.out, new RegExp(`Consumer group '${groupId}' has no active members\\.`));
  assert.deepEqual(tableRows(described.out, 'TOPIC').map((row) => row.slice(2)), [
    ['10', '14', '4', '-', '-', '-'],
    ['10', '12', '2', '-', '-', '-'],
    ['10', '10', '0', '-', '-', '-'],
  ]);

  const dryRun = await groups_(['reset-offsets', groupId, '--topic', topic, '--to-earliest']);
  assert.equal(dryRun.code, 0, dryRun.err);
  assert.deepEqual(tableRows(dryRun.out, 'GROUP'), [0, 1, 2].map((partition) => [groupId, topic, String(partition), '10', '0']));
  assert.match(dryRun.err, /^Dry run: no offsets were changed/);
  assert.deepEqual(await committedByPartition(), [10, 10, 10]);

  const executed = await groups_(['reset-offsets', groupId, '--topic', topic, '--to-earliest', '--execute']);
  assert.equal(executed.code, 0, executed.err);
  assert.match(executed.err, /^Committed new offsets for 3 partitions/);
  assert.deepEqual(await committedByPartition(), [0, 0, 0]);

  // fromBeginning false: without committed offsets this consumer would start at the log end.
  const received: Received = new Map();
  const consumer = await startConsumer(received, false);
  try {
    const total = laterRecords.reduce<number>((sum, count) => sum + firstRecordsPerPartition + count, 0);
    await waitFor('the next consumer to read every record again', () => receivedCount(received) >= total);
    for (let partition = 0; partition < partitionCount; partition++) {
      const offsets = [...received.get(partition)!].map(Number).sort((a, b) => a - b);
      assert.equal(offsets[0], 0, `partition ${partition} restarted at 0`);
      assert.equal(offsets.length, firstRecordsPerPartition + laterRecords[partition]!);
    }
    await waitFor('its commits', async () => (await committedByPartition()).every((offset, partition) => offset === firstRecordsPerPartition + laterRecords[partition]!));
  } finally {
    await consumer.disconnect();
  }
  await waitFor('the group to be empty', async () => (await groupsAdmin.describeGroup(groupId)).state === 'Empty');
});

test('reset-offsets --to-offset (clamped), --to-datetime, --to-timestamp on some partitions', async () => {
  const toOffset = await groups_(['reset-offsets', groupId, '--topic', topic, '--to-offset', '11', '--execute']);
  assert.equal(toOffset.code, 0, toOffset.err);
  assert.deepEqual(tableRows(toOffset.out, 'GROUP').map((row) => row.slice(2)), [
    ['0', '14', '11'],
    ['1', '12', '11'],
    ['2', '10', '10'],
  ]);
  assert.deepEqual(await committedByPartition(), [11, 11, 10]);

  // The later records were created after splitMs, the first ones before it.
  const toDatetime = await groups_(['reset-offsets', groupId, '--topic', topic, '--to-datetime', new Date(splitMs).toISOString(), '--execute']);
  assert.equal(toDatetime.code, 0, toDatetime.err);
  assert.deepEqual(await committedByPartition(), [10, 10, 10]);

  const toTimestamp = await groups_(['reset-offsets', groupId, '--topic', `${topic}:1,2`, '--to-timestamp', '0', '--execute']);
  assert.equal(toTimestamp.code, 0, toTimestamp.err);
  assert.deepEqual(tableRows(toTimestamp.out, 'GROUP').map((row) => row[2]), ['1', '2']);
  assert.deepEqual(await committedByPartition(), [10, 0, 0]);

  const allTopicsDryRun = await groups_(['reset-offsets', groupId, '--all-topics', '--to-latest']);
  assert.equal(allTopicsDryRun.code, 0, allTopicsDryRun.err);
  assert.deepEqual(tableRows(allTopicsDryRun.out, 'GROUP').map((row) => row.slice(3)), [
    ['10', '14'],
    ['0', '12'],
    ['0', '10'],
  ]);
  assert.deepEqual(await committedByPartition(), [10, 0, 0]);
});

test('delete removes the empty group', async () => {
  const deleted = await groups_(['delete', groupId]);
  assert.equal(deleted.code, 0, deleted.err);
  assert.equal(deleted.out, `Deleted group ${groupId}.\n`);
  const listed = await groups_(['list']);
  assert.equal(listed.code, 0, listed.err);
  assert.ok(!listed.out.split('\n').includes(groupId), listed.out);
  const described = await groups_(['describe', groupId]);
  assert.equal(described.code, 1);
  assert.equal(described.err, `minikafka groups: Consumer group '${groupId}' does not exist.\n`);
  const again = await groups_(['delete', groupId]);
  assert.equal(again.code, 1);
  assert.match(again.err, /GROUP_ID_NOT_FOUND \(no such group\)/);
});

test('usage errors exit 2 before any request; --help exits 0', async () => {
  const cases: [string[], RegExp][] = [
    [[], /an action is required/],
    [['explode'], /unknown action "explode"/],
    [['describe'], /describe needs a group id/],
    [['describe', 'a', 'b'], /takes one group id/],
    [['list', '--to-latest'], /--to-latest belongs to reset-offsets/],
    [['reset-offsets', 'g', '--topic', 't'], /exactly one of --to-earliest/],
    [['reset-offsets', 'g', '--topic', 't', '--to-earliest', '--to-latest'], /exactly one of/],
    [['reset-offsets', 'g', '--to-earliest'], /needs --topic T/],
    [['reset-offsets', 'g', '--topic', 't', '--all-topics', '--to-earliest'], /exclude each other/],
    [['reset-offsets', 'g', '--topic', 't', '--to-offset', '-1'], /--to-offset must be a non-negative integer, got "-1"/],
    [['reset-offsets', 'g', '--topic', 't:x', '--to-earliest'], /must be a non-negative integer, got "x"/],
    [['reset-offsets', 'g', '--topic', 't', '--to-datetime', 'yesterday'], /is not YYYY-MM-DDTHH:mm/],
    [['reset-offsets', 'g', '--topic', 't', '--to-earliest', '--execute', '--dry-run'], /exclude each other/],
    [['--no-such-option'], /Unknown option/],
  ];
  for (const [args, message] of cases) {
    const io = captureIo();
    // An unreachable bootstrap address: a usage error must come before any connection attempt.
    assert.equal(await groups([...args, '--bootstrap-server', '127.0.0.1:1'], io), 2, args.join(' '));
    assert.match(io.err(), message, args.join(' '));
  }
  const io = captureIo();
  assert.equal(await groups(['--help'], io), 0);
  assert.match(io.out(), /^usage: minikafka groups <action>/);
});

test('--to-datetime parsing: zones, optional seconds and milliseconds, local time, invalid dates', () => {
  assert.equal(parseDateTimeMs('2024-03-01T12:30:45.123Z'), Date.UTC(2024, 2, 1, 12, 30, 45, 123));
  assert.equal(parseDateTimeMs('2024-03-01T12:30Z'), Date.UTC(2024, 2, 1, 12, 30));
  assert.equal(parseDateTimeMs('2024-03-01T12:30:45.5Z'), Date.UTC(2024, 2, 1, 12, 30, 45, 500));
  assert.equal(parseDateTimeMs('2024-03-01T12:30:45+02:00'), Date.UTC(2024, 2, 1, 10, 30, 45));
  assert.equal(parseDateTimeMs('2024-03-01T12:30:45-0130'), Date.UTC(2024, 2, 1, 14, 0, 45));
  assert.equal(parseDateTimeMs('2024-03-01T12:30:45+05'), Date.UTC(2024, 2, 1, 7, 30, 45));
  assert.equal(parseDateTimeMs('2024-03-01T12:30:45.000'), new Date(2024, 2, 1, 12, 30, 45).getTime(), 'local time');
  for (const invalid of ['2024-02-30T00:00Z', '2024-13-01T00:00Z', '2024-03-01T24:00Z', '2024-03-01', '2024-03-01 12:00:00Z', '']) {
    assert.throws(() => parseDateTimeMs(invalid), /--to-datetime/, invalid);
  }
});
