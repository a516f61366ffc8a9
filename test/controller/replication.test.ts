/**
 * The controller's replication decisions as scripts over an in-memory image: replica placement,
 * AlterPartition, elections on fencing, shutdown and unfencing, preferred leader election.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultBrokerSettings, type BrokerSettings } from '../../src/config/broker-config.js';
import { Controller, type MetadataChanges, type MetadataWriter } from '../../src/controller/controller.js';
import type { AlterPartitionRequest } from '../../src/controller/replication-control.js';
import { MetadataImage } from '../../src/metadata/image.js';
import { MetadataCommitError } from '../../src/metadata/quorum-writer.js';
import type { MetadataRecord } from '../../src/metadata/records.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { SeededRandom } from '../../src/runtime/random.js';

/** Commits by applying the records to the image, as the quorum does once they are durable. */
class ApplyingWriter implements MetadataWriter {
  readonly commits: MetadataRecord[][] = [];
  failNext = false;

  constructor(private readonly image: MetadataImage) {}

  async commit(changes: MetadataChanges): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new MetadataCommitError(ErrorCode.REQUEST_TIMED_OUT, 'no commit within 5000 ms');
    }
    for (const record of changes.records) this.image.apply(record);
    this.commits.push([...changes.records]);
  }
}

function setup(nodes = 3, options: { maxReplicationFactor?: number; broker?: Partial<BrokerSettings> } = {}) {
  const image = new MetadataImage();
  const writer = new ApplyingWriter(image);
  const broker = { ...defaultBrokerSettings(), ...options.broker };
  const controller = new Controller(image, writer, nodes, broker, new SeededRandom(11), { maxReplicationFactor: options.maxReplicationFactor ?? 5 });
  return { image, writer, controller };
}

async function createTopic(controller: Controller, name: string, numPartitions: number, replicationFactor: number, configs?: Array<{ name: string; value: string }>) {
  const [result] = await controller.createTopics([{ name, numPartitions, replicationFactor, ...(configs === undefined ? {} : { configs }) }]);
  assert.equal(result!.errorCode, ErrorCode.NONE, result!.errorMessage ?? '');
}

const partitionState = (image: MetadataImage, topic: string, partition = 0) => {
  const state = image.partition(topic, partition)!;
  return { replicas: state.replicas, isr: state.isr, leader: state.leader, leaderEpoch: state.leaderEpoch, partitionEpoch: state.partitionEpoch };
};

test('RF 3 over 3 nodes: every node holds every partition and leads a third of them, followers shifted', async () => {
  const { image, controller } = setup(3);
  await createTopic(controller, 'spread', 6, 3);
  const partitions = image.topic('spread')!.partitions;
  assert.deepEqual(partitions.map((partition) => partition.replicas), [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1], [1, 0, 2], [2, 1, 0]]);
  for (const partition of partitions) {
    assert.deepEqual([...partition.replicas].sort(), [0, 1, 2]);
    assert.deepEqual(partition.isr, partition.replicas);
    assert.equal(partition.leader, partition.replicas[0]);
    assert.deepEqual([partition.leaderEpoch, partition.partitionEpoch], [0, 0]);
  }
  assert.deepEqual(image.leaderCounts(3), [2, 2, 2]);
  await createTopic(controller, 'next', 1, 3);
  await createTopic(controller, 'after', 2, 3);
  assert.deepEqual(image.leaderCounts(3), [3, 3, 3], 'each topic starts at the node leading the fewest');
});

test('RF 3 over 5 nodes: replicas and preferred leaders spread evenly', async () => {
  const { image, controller } = setup(5);
  await createTopic(controller, 'wide', 10, 3);
  const held = [0, 0, 0, 0, 0];
  for (const partition of image.topic('wide')!.partitions) {
    assert.equal(new Set(partition.replicas).size, 3);
    for (const nodeId of partition.replicas) held[nodeId]!++;
  }
  assert.deepEqual(held, [6, 6, 6, 6, 6]);
  assert.deepEqual(image.leaderCounts(5), [2, 2, 2, 2, 2]);
});

test('a replication factor above the unfenced nodes fails with Kafka\'s message; above the broker\'s maximum as before', async () => {
  const { image, controller } = setup(3);
  const [tooMany] = await controller.createTopics([{ name: 'four', numPartitions: 1, replicationFactor: 4 }]);
  assert.equal(tooMany!.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
  assert.equal(tooMany!.errorMessage, 'Unable to replicate the partition 4 time(s): The target replication factor of 4 cannot be reached because only 3 broker(s) are registered.');
  await controller.setNodesFenced([{ nodeId: 2, fenced: true }]);
  const [fencedShort] = await controller.createTopics([{ name: 'three', numPartitions: 1, replicationFactor: 3 }]);
  assert.equal(fencedShort!.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
  assert.match(fencedShort!.errorMessage!, /only 2 broker\(s\) are registered and unfenced \(1 fenced\)\.$/);
  const [zero] = await controller.createTopics([{ name: 'zero', numPartitions: 1, replicationFactor: 0 }]);
  assert.equal(zero!.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
  assert.equal(image.topic('four') ?? image.topic('three') ?? image.topic('zero'), undefined);

  const single = setup(3, { maxReplicationFactor: 1, broker: { 'default.replication.factor': 3 } });
  const [refused] = await single.controller.createTopics([{ name: 'r3', numPartitions: 1, replicationFactor: 3 }]);
  assert.equal(refused!.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
  assert.match(refused!.errorMessage!, /larger than 1, the most this broker places/);
  const [defaulted] = await single.controller.createTopics([{ name: 'default', numPartitions: 1, replicationFactor: -1 }]);
  assert.deepEqual([defaulted!.errorCode, defaulted!.replicationFactor], [ErrorCode.NONE, 1], 'the default is capped by what the broker replicates');
  const [pinned] = await single.controller.createTopics([{ name: 'pinned', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [0, 1] }] }]);
  assert.equal(pinned!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  assert.match(pinned!.errorMessage!, /larger than 1, the most this broker places/);
});

test('explicit assignments: distinct valid node ids, one length for all partitions; fenced replicas stay out of the ISR', async () => {
  const { image, controller } = setup(3);
  const create = async (name: string, lists: number[][]) =>
    (await controller.createTopics([{ name, numPartitions: -1, replicationFactor: -1, assignments: lists.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })) }]))[0]!;
  const cases: Array<[number[][], RegExp]> = [
    [[[]], /empty replica list/],
    [[[0, 0]], /includes the broker 0 more than once/],
    [[[0, 3]], /includes broker 3, but no such broker is registered/],
    [[[0, -1]], /includes broker -1/],
    [[[0, 1], [2]], /a partition with 1 replica\(s\), but this is not consistent with previous partitions, which have 2 replica\(s\)/],
  ];
  for (const [lists, message] of cases) {
    const result = await create('bad', lists);
    assert.equal(result.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT, JSON.stringify(lists));
    assert.match(result.errorMessage!, message);
  }
  assert.equal(image.topic('bad'), undefined);
  await controller.setNodesFenced([{ nodeId: 2, fenced: true }]);
  const ok = await create('pinned', [[2, 0, 1], [1, 2, 0]]);
  assert.equal(ok.errorCode, ErrorCode.NONE);
  assert.deepEqual(partitionState(image, 'pinned', 0), { replicas: [2, 0, 1], isr: [0, 1], leader: 0, leaderEpoch: 0, partitionEpoch: 0 });
  assert.deepEqual(partitionState(image, 'pinned', 1), { replicas: [1, 2, 0], isr: [1, 0], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
  const onlyFenced = await create('fenced-only', [[2]]);
  assert.equal(onlyFenced.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  assert.match(onlyFenced.errorMessage!, /partition 0 are fenced/);
});

test('CreatePartitions keeps the replication factor of partition 0', async () => {
  const { image, controller } = setup(3);
  await createTopic(controller, 'grow', 1, 2);
  const [grown] = await controller.createPartitions([{ name: 'grow', count: 4, assignments: null }]);
  assert.equal(grown!.errorCode, ErrorCode.NONE);
  assert.deepEqual(image.topic('grow')!.partitions.map((partition) => partition.replicas.length), [2, 2, 2, 2]);
  const [wrongLength] = await controller.createPartitions([{ name: 'grow', count: 5, assignments: [[0, 1, 2]] }]);
  assert.equal(wrongLength!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  assert.match(wrongLength!.errorMessage!, /which have 2 replica\(s\)/);
  const [explicit] = await controller.createPartitions([{ name: 'grow', count: 5, assignments: [[2, 1]] }]);
  assert.equal(explicit!.errorCode, ErrorCode.NONE);
  assert.deepEqual(partitionState(image, 'grow', 4), { replicas: [2, 1], isr: [2, 1], leader: 2, leaderEpoch: 0, partitionEpoch: 0 });
  await controller.setNodesFenced([{ nodeId: 0, fenced: true }, { nodeId: 1, fenced: true }]);
  const [short] = await controller.createPartitions([{ name: 'grow', count: 6, assignments: null }]);
  assert.equal(short!.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR, 'two replicas need two unfenced nodes');
});

function alterRequest(image: MetadataImage, topic: string, newIsr: number[], overrides: Partial<AlterPartitionRequest> = {}): AlterPartitionRequest {
  const state = image.partition(topic, 0)!;
  return { topic, partition: 0, leaderId: state.leader, leaderEpoch: state.leaderEpoch, partitionEpoch: state.partitionEpoch, newIsr, ...overrides };
}

function assigned(controller: Controller, name: string, replicas: number[], configs: Array<{ name: string; value: string }> = []) {
  return controller.createTopics([{ name, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: replicas }], configs }]);
}

test('AlterPartition: a leader shrinks and expands its ISR; the partition epoch moves, the leader epoch stays', async () => {
  const { image, controller, writer } = setup(3);
  await createTopic(controller, 'isr', 1, 3);
  const [shrunk] = await controller.alterPartition([alterRequest(image, 'isr', [0, 1])]);
  assert.equal(shrunk!.errorCode, ErrorCode.NONE);
  const expected = { type: 'partition', topic: 'isr', partition: 0, replicas: [0, 1, 2], isr: [0, 1], leader: 0, leaderEpoch: 0, partitionEpoch: 1 };
  assert.deepEqual(shrunk!.state, expected);
  assert.deepEqual(partitionState(image, 'isr'), { replicas: [0, 1, 2], isr: [0, 1], leader: 0, leaderEpoch: 0, partitionEpoch: 1 });
  const commits = writer.commits.length;
  const [same] = await controller.alterPartition([alterRequest(image, 'isr', [0, 1])]);
  assert.deepEqual([same!.errorCode, same!.state], [ErrorCode.NONE, expected], 'the same ISR: success, no record');
  assert.equal(writer.commits.length, commits);
  const [expanded] = await controller.alterPartition([alterRequest(image, 'isr', [0, 1, 2])]);
  assert.deepEqual([expanded!.errorCode, expanded!.state!.isr, expanded!.state!.partitionEpoch, expanded!.state!.leaderEpoch], [ErrorCode.NONE, [0, 1, 2], 2, 0]);
});

test('AlterPartition refusals: stale partition epoch, wrong leader epoch, wrong leader, fenced member, leader left out, unknown partition', async () => {
  const { image, controller, writer } = setup(3);
  await createTopic(controller, 'isr', 1, 3);
  await controller.alterPartition([alterRequest(image, 'isr', [0, 1])]); // partition epoch 1
  const cases: Array<[string, AlterPartitionRequest, number]> = [
    ['stale partition epoch', alterRequest(image, 'isr', [0], { partitionEpoch: 0 }), ErrorCode.INVALID_UPDATE_VERSION],
    ['newer partition epoch', alterRequest(image, 'isr', [0], { partitionEpoch: 2 }), ErrorCode.NOT_CONTROLLER],
    ['newer leader epoch', alterRequest(image, 'isr', [0], { leaderEpoch: 1 }), ErrorCode.NOT_CONTROLLER],
    ['not the leader', alterRequest(image, 'isr', [1], { leaderId: 1 }), ErrorCode.INVALID_REQUEST],
    ['leader not in the ISR', alterRequest(image, 'isr', [1, 2]), ErrorCode.INVALID_REQUEST],
    ['not a replica', alterRequest(image, 'isr', [0, 3]), ErrorCode.INVALID_REQUEST],
    ['named twice', alterRequest(image, 'isr', [0, 1, 1]), ErrorCode.INVALID_REQUEST],
    ['unknown partition', { ...alterRequest(image, 'isr', [0]), partition: 3 }, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ['unknown topic', { ...alterRequest(image, 'isr', [0]), topic: 'nope' }, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  ];
  const commits = writer.commits.length;
  for (const [what, request, errorCode] of cases) {
    const [result] = await controller.alterPartition([request]);
    assert.deepEqual([result!.errorCode, result!.state], [errorCode, null], what);
    assert.ok(result!.errorMessage!.length > 0, what);
  }
  assert.equal(writer.commits.length, commits, 'refusals write nothing');

  await controller.setNodesFenced([{ nodeId: 2, fenced: true }]);
  const [fenced] = await controller.alterPartition([alterRequest(image, 'isr', [0, 1, 2])]);
  assert.equal(fenced!.errorCode, ErrorCode.INELIGIBLE_REPLICA);
  assert.match(fenced!.errorMessage!, /fenced node\(s\) 2/);
  // A leader deposed by an election still asking with its old leader epoch:
  const before = alterRequest(image, 'isr', [0]);
  await controller.setNodesFenced([{ nodeId: 0, fenced: true }]);
  assert.equal(image.partition('isr', 0)!.leader, 1);
  const [deposed] = await controller.alterPartition([before]);
  assert.equal(deposed!.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  assert.deepEqual(partitionState(image, 'isr'), { replicas: [0, 1, 2], isr: [1], leader: 1, leaderEpoch: 1, partitionEpoch: 2 });
});

test('AlterPartition is batched: one commit for every partition, later requests see earlier ones', async () => {
  const { image, controller, writer } = setup(3);
  await createTopic(controller, 'a', 1, 3);
  await createTopic(controller, 'b', 1, 3);
  const commits = writer.commits.length;
  const first = alterRequest(image, 'a', [image.partition('a', 0)!.leader]);
  const results = await controller.alterPartition([first, alterRequest(image, 'b', [...image.partition('b', 0)!.replicas]), first, alterRequest(image, 'b', [image.partition('b', 0)!.leader])]);
  assert.deepEqual(results.map((result) => result.errorCode), [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.INVALID_UPDATE_VERSION, ErrorCode.NONE]);
  assert.equal(writer.commits.length, commits + 1);
  assert.deepEqual(writer.commits.at(-1)!.map((record) => record.type === 'partition' && [record.topic, record.isr.length, record.partitionEpoch]), [['a', 1, 1], ['b', 1, 1]]);

  writer.failNext = true;
  const [lost] = await controller.alterPartition([alterRequest(image, 'a', [...image.partition('a', 0)!.replicas])]);
  assert.deepEqual([lost!.errorCode, lost!.state], [ErrorCode.REQUEST_TIMED_OUT, null], 'nothing committed: no state');
});

test('fencing the leader elects the next ISR member in replica order and bumps both epochs', async () => {
  const { image, controller, writer } = setup(3);
  await assigned(controller, 'f', [0, 1, 2]);
  await controller.alterPartition([alterRequest(image, 'f', [0, 2, 1])]); // ISR order is not replica order
  await controller.setNodesFenced([{ nodeId: 0, fenced: true }]);
  assert.deepEqual(partitionState(image, 'f'), { replicas: [0, 1, 2], isr: [2, 1], leader: 1, leaderEpoch: 1, partitionEpoch: 2 });
  assert.deepEqual(writer.commits.at(-1)!.map((record) => record.type), ['nodeFence', 'partition'], 'one commit for the fence and its elections');
  await controller.setNodesFenced([{ nodeId: 0, fenced: false }]);
  await controller.setNodesFenced([{ nodeId: 0, fenced: true }]);
  assert.equal(partitionState(image, 'f').partitionEpoch, 2, 'a node outside the ISR changes nothing when unfenced or fenced');
});

test('fencing a follower only shrinks the ISR', async () => {
  const { image, controller } = setup(3);
  await createTopic(controller, 'f', 1, 3);
  await controller.setNodesFenced([{ nodeId: 1, fenced: true }]);
  assert.deepEqual(partitionState(image, 'f'), { replicas: [0, 1, 2], isr: [0, 2], leader: 0, leaderEpoch: 0, partitionEpoch: 1 });
  await controller.setNodesFenced([{ nodeId: 1, fenced: false }]);
  assert.deepEqual(partitionState(image, 'f').isr, [0, 2], 'unfenced: the leader adds it back, not the controller');
});

test('fencing every ISR member: the partition goes offline keeping its last ISR member, which leads again once unfenced', async () => {
  const { image, controller } = setup(3);
  await createTopic(controller, 'f', 1, 3);
  await controller.setNodesFenced([{ nodeId: 0, fenced: true }, { nodeId: 1, fenced: true }]);
  // Two fenced at once: one record, as two changes in turn (0 out, leader 2; then 1 out).
  assert.deepEqual(partitionState(image, 'f'), { replicas: [0, 1, 2], isr: [2], leader: 2, leaderEpoch: 1, partitionEpoch: 2 });
  await controller.setNodesFenced([{ nodeId: 2, fenced: true }]);
  assert.deepEqual(partitionState(image, 'f'), { replicas: [0, 1, 2], isr: [2], leader: -1, leaderEpoch: 2, partitionEpoch: 3 });
  assert.deepEqual(image.leaderCounts(3), [0, 0, 0]);
  await controller.setNodesFenced([{ nodeId: 0, fenced: false }]);
  assert.equal(partitionState(image, 'f').leader, -1, 'node 0 is not in the ISR: it may have lost records');
  await controller.setNodesFenced([{ nodeId: 2, fenced: false }]);
  assert.deepEqual(partitionState(image, 'f'), { replicas: [0, 1, 2], isr: [2], leader: 2, leaderEpoch: 3, partitionEpoch: 4 });
});

test('unclean leader election (topic override, else the broker setting) elects any unfenced replica with ISR [it]', async () => {
  const topicLevel = setup(3);
  await assigned(topicLevel.controller, 'clean', [0, 1, 2]);
  await assigned(topicLevel.controller, 'unclean', [0, 1, 2], [{ name: 'unclean.leader.election.enable', value: 'true' }]);
  for (const topic of ['clean', 'unclean']) await topicLevel.controller.alterPartition([alterRequest(topicLevel.image, topic, [0])]);
  await topicLevel.controller.setNodesFenced([{ nodeId: 0, fenced: true }, { nodeId: 1, fenced: true }]);
  assert.deepEqual(partitionState(topicLevel.image, 'clean'), { replicas: [0, 1, 2], isr: [0], leader: -1, leaderEpoch: 1, partitionEpoch: 2 });
  assert.deepEqual(partitionState(topicLevel.image, 'unclean'), { replicas: [0, 1, 2], isr: [2], leader: 2, leaderEpoch: 1, partitionEpoch: 2 });

  const brokerLevel = setup(3, { broker: { 'unclean.leader.election.enable': true } });
  await assigned(brokerLevel.controller, 'everywhere', [0, 1]);
  await assigned(brokerLevel.controller, 'overridden', [0, 1], [{ name: 'unclean.leader.election.enable', value: 'false' }]);
  for (const topic of ['everywhere', 'overridden']) await brokerLevel.controller.alterPartition([alterRequest(brokerLevel.image, topic, [0])]);
  await brokerLevel.controller.setNodesFenced([{ nodeId: 0, fenced: true }]);
  assert.deepEqual(partitionState(brokerLevel.image, 'everywhere'), { replicas: [0, 1], isr: [1], leader: 1, leaderEpoch: 1, partitionEpoch: 2 });
  assert.deepEqual(partitionState(brokerLevel.image, 'overridden'), { replicas: [0, 1], isr: [0], leader: -1, leaderEpoch: 1, partitionEpoch: 2 });
});

test('unclean election: an offline partition elects a returning replica outside its ISR', async () => {
  const { image, controller } = setup(2, { broker: { 'unclean.leader.election.enable': true } });
  await assigned(controller, 'u', [0, 1]);
  await assigned(controller, 'c', [0, 1], [{ name: 'unclean.leader.election.enable', value: 'false' }]);
  await controller.setNodesFenced([{ nodeId: 1, fenced: true }]);
  await controller.setNodesFenced([{ nodeId: 0, fenced: true }]);
  for (const topic of ['u', 'c']) assert.deepEqual([partitionState(image, topic).leader, partitionState(image, topic).isr], [-1, [0]], `${topic}: nobody can lead`);
  await controller.setNodesFenced([{ nodeId: 1, fenced: false }]);
  assert.deepEqual(partitionState(image, 'u'), { replicas: [0, 1], isr: [1], leader: 1, leaderEpoch: 2, partitionEpoch: 3 });
  assert.deepEqual([partitionState(image, 'c').leader, partitionState(image, 'c').isr], [-1, [0]], 'unclean off: only the ISR member may lead');
  await controller.setNodesFenced([{ nodeId: 0, fenced: false }]);
  assert.deepEqual(partitionState(image, 'c'), { replicas: [0, 1], isr: [0], leader: 0, leaderEpoch: 2, partitionEpoch: 3 });
  assert.equal(partitionState(image, 'u').leader, 1, 'an online partition keeps its leader');
});

test('controlled shutdown moves leadership and ISR membership off the node and fences it', async () => {
  const { image, controller, writer } = setup(3);
  await createTopic(controller, 's', 3, 3);
  const result = await controller.controlledShutdown(1);
  assert.equal(result.errorCode, ErrorCode.NONE);
  assert.ok(image.fencedNodes.has(1));
  for (const partition of image.topic('s')!.partitions) {
    assert.ok(!partition.isr.includes(1), `partition ${partition.partition}`);
    assert.notEqual(partition.leader, 1);
  }
  assert.deepEqual(partitionState(image, 's', 1), { replicas: [1, 2, 0], isr: [2, 0], leader: 2, leaderEpoch: 1, partitionEpoch: 1 });
  assert.deepEqual(writer.commits.at(-1)!.map((record) => record.type), ['nodeFence', 'partition', 'partition', 'partition']);
});

test('preferred leader election moves leadership back to the first replica once it is unfenced and in the ISR', async () => {
  const { image, controller } = setup(3);
  await createTopic(controller, 'p', 3, 3);
  await controller.setNodesFenced([{ nodeId: 0, fenced: true }]);
  assert.deepEqual(image.leaderCounts(3), [0, 2, 1]);
  assert.equal(await controller.electPreferredLeaders(), 0, 'node 0 is fenced');
  await controller.setNodesFenced([{ nodeId: 0, fenced: false }]);
  assert.equal(await controller.electPreferredLeaders(), 0, 'node 0 is not back in the ISR yet');
  for (const partition of image.topic('p')!.partitions) {
    const request = { topic: 'p', partition: partition.partition, leaderId: partition.leader, leaderEpoch: partition.leaderEpoch, partitionEpoch: partition.partitionEpoch, newIsr: [...partition.isr, 0] };
    assert.equal((await controller.alterPartition([request]))[0]!.errorCode, ErrorCode.NONE);
  }
  assert.equal(await controller.electPreferredLeaders(), 1);
  assert.deepEqual(partitionState(image, 'p', 0), { replicas: [0, 1, 2], isr: [1, 2, 0], leader: 0, leaderEpoch: 2, partitionEpoch: 3 });
  assert.deepEqual(image.leaderCounts(3), [1, 1, 1]);
  assert.equal(await controller.electPreferredLeaders(), 0, 'balanced: nothing to do');
});

test('new partitions avoid fenced nodes, and an offline partition does not count as led', async () => {
  const { image, controller } = setup(3);
  await createTopic(controller, 'one', 1, 1);
  await controller.setNodesFenced([{ nodeId: 0, fenced: true }]);
  assert.deepEqual(partitionState(image, 'one'), { replicas: [0], isr: [0], leader: -1, leaderEpoch: 1, partitionEpoch: 1 });
  await createTopic(controller, 'two', 4, 2);
  for (const partition of image.topic('two')!.partitions) assert.ok(!partition.replicas.includes(0), `partition ${partition.partition}`);
  assert.deepEqual(image.leaderCounts(3), [0, 2, 2]);
});
