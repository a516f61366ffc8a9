import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultBrokerSettings } from '../../src/config/broker-config.js';
import { Controller, type MetadataChanges, type MetadataWriter } from '../../src/controller/controller.js';
import { MetadataCommitError } from '../../src/metadata/quorum-writer.js';
import { MetadataImage } from '../../src/metadata/image.js';
import { MetadataLog } from '../../src/metadata/metadata-log.js';
import { SingleVoterMetadataWriter } from './single-voter-writer.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';

function setup(nodes = 3) {
  const image = new MetadataImage();
  const log = MetadataLog.open(temporaryDirectory(), new ManualClock(), image);
  const changes: MetadataChanges[] = [];
  const writer = new SingleVoterMetadataWriter(log, image, async (change) => {
    changes.push(change);
  });
  const controller = new Controller(image, writer, nodes, { ...defaultBrokerSettings(), 'num.partitions': 2 }, new SeededRandom(7));
  return { image, log, controller, changes };
}

test('created topics spread leaders over the least-loaded nodes', async () => {
  const { image, controller, log } = setup();
  const [first] = await controller.createTopics([{ name: 'a', numPartitions: 4, replicationFactor: 1 }]);
  assert.equal(first!.errorCode, ErrorCode.NONE);
  await controller.createTopics([{ name: 'b', numPartitions: 2, replicationFactor: 1 }]);
  assert.deepEqual(image.leaderCounts(3), [2, 2, 2]);
  const [defaults] = await controller.createTopics([{ name: 'c', numPartitions: -1, replicationFactor: -1 }]);
  assert.equal(defaults!.numPartitions, 2, 'num.partitions default');
  await log.close();
});

test('concurrent operations are serialized: the same name cannot be created twice', async () => {
  const { controller, log } = setup();
  const results = await Promise.all([
    controller.createTopics([{ name: 'race', numPartitions: 1, replicationFactor: 1 }]),
    controller.createTopics([{ name: 'race', numPartitions: 1, replicationFactor: 1 }]),
  ]);
  assert.deepEqual(results.map((result) => result[0]!.errorCode).sort(), [ErrorCode.NONE, ErrorCode.TOPIC_ALREADY_EXISTS]);
  const duplicate = await controller.createTopics([
    { name: 'dup', numPartitions: 1, replicationFactor: 1 },
    { name: 'dup', numPartitions: 1, replicationFactor: 1 },
  ]);
  assert.deepEqual(duplicate.map((result) => result.errorCode), [ErrorCode.NONE, ErrorCode.TOPIC_ALREADY_EXISTS]);
  await log.close();
});

test('explicit assignments are checked', async () => {
  const { controller, image, log } = setup(2);
  const ok = await controller.createTopics([{ name: 'pinned', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }, { partitionIndex: 1, brokerIds: [1] }] }]);
  assert.equal(ok[0]!.errorCode, ErrorCode.NONE);
  assert.deepEqual(image.topic('pinned')!.partitions.map((partition) => partition.leader), [1, 1]);
  const bad = await controller.createTopics([{ name: 'bad', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [5] }] }]);
  assert.equal(bad[0]!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  await log.close();
});

test('delete, partitions and configs produce the records the nodes act on', async () => {
  const { controller, changes, image, log } = setup();
  await controller.createTopics([{ name: 't', numPartitions: 1, replicationFactor: 1 }]);
  assert.equal((await controller.createPartitions([{ name: 't', count: 3, assignments: null }]))[0]!.errorCode, ErrorCode.NONE);
  assert.equal(image.topic('t')!.partitions.length, 3);
  assert.equal((await controller.alterTopicConfigs([{ name: 't', configs: [{ name: 'retention.bytes', value: '1000' }] }]))[0]!.errorCode, ErrorCode.NONE);
  assert.deepEqual(image.topic('t')!.configs, { 'retention.bytes': '1000' });
  assert.equal((await controller.deleteTopics(['t']))[0]!.errorCode, ErrorCode.NONE);
  assert.equal(image.topic('t'), undefined);
  assert.deepEqual(changes.at(-1)!.removedTopics, ['t']);
  assert.equal((await controller.deleteTopics(['t']))[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  await log.close();
});

test('validateOnly changes nothing', async () => {
  const { controller, image, changes, log } = setup();
  const [result] = await controller.createTopics([{ name: 'maybe', numPartitions: 1, replicationFactor: 1 }], true);
  assert.equal(result!.errorCode, ErrorCode.NONE);
  assert.equal(image.topic('maybe'), undefined);
  assert.equal(changes.length, 0);
  await log.close();
});

test('ids come from the injected Random: the same seed gives the same cluster and topic ids', async () => {
  const first = setup();
  const second = setup();
  for (const { controller } of [first, second]) {
    await controller.ensureClusterId(null);
    await controller.createTopics([{ name: 'seeded', numPartitions: 1, replicationFactor: 1 }]);
  }
  assert.equal(first.image.clusterId, second.image.clusterId);
  assert.equal(first.image.topic('seeded')!.topicId, second.image.topic('seeded')!.topicId);
  assert.match(first.image.topic('seeded')!.topicId, /^[A-Za-z0-9_-]{22}$/);
  await first.log.close();
  await second.log.close();
});

test('new partitions avoid fenced nodes while any node is unfenced', async () => {
  const { controller, image, log } = setup(3);
  await controller.setNodesFenced([{ nodeId: 1, fenced: true }]);
  await controller.createTopics([{ name: 'around', numPartitions: 4, replicationFactor: 1 }]);
  assert.deepEqual(image.topic('around')!.partitions.map((partition) => partition.leader).sort(), [0, 0, 2, 2]);
  await controller.setNodesFenced([{ nodeId: 0, fenced: true }, { nodeId: 2, fenced: true }]);
  await controller.createTopics([{ name: 'all-fenced', numPartitions: 1, replicationFactor: 1 }]);
  assert.equal(image.topic('all-fenced')!.partitions.length, 1, 'every node fenced: placed anyway');
  await log.close();
});

type Block = { firstProducerId: number; size: number };

function assertDisjoint(blocks: readonly Block[]): void {
  const sorted = [...blocks].sort((a, b) => a.firstProducerId - b.firstProducerId);
  for (let index = 1; index < sorted.length; index++) {
    const previous = sorted[index - 1]!;
    assert.ok(sorted[index]!.firstProducerId >= previous.firstProducerId + previous.size, `block ${JSON.stringify(sorted[index])} overlaps ${JSON.stringify(previous)}`);
  }
}

test('producer id blocks: one committed record each, concurrent requests never overlap, a new controller continues after the last', async () => {
  const { image, controller, changes, log } = setup();
  const first = await Promise.all([0, 1, 2, 0].map((nodeId) => controller.allocateProducerIds(nodeId, 1000)));
  assert.deepEqual(first.map((result) => result.errorCode), [0, 0, 0, 0]);
  assert.deepEqual(first.map((result) => result.firstProducerId), [0, 1000, 2000, 3000], 'serialized in call order');
  assert.deepEqual(changes.map((change) => change.records.map((record) => record.type)), [['producerIds'], ['producerIds'], ['producerIds'], ['producerIds']]);
  assert.deepEqual(changes[1]!.records[0], { type: 'producerIds', brokerId: 1, brokerEpoch: -1, firstProducerId: 1000, nextProducerId: 2000 });
  assert.equal(image.nextProducerId, 4000);
  // A controller failover: a new Controller over the same committed image and log.
  const writer = new SingleVoterMetadataWriter(log, image, async () => undefined);
  const next = new Controller(image, writer, 3, defaultBrokerSettings(), new SeededRandom(8));
  const later = await Promise.all([2, 1].map((nodeId) => next.allocateProducerIds(nodeId, 1000)));
  assert.deepEqual(later.map((result) => result.firstProducerId), [4000, 5000]);
  assertDisjoint([...first, ...later]);
  await log.close();
});

test('producer id blocks: the next producer id survives a snapshot and a log replay', async () => {
  const { image, controller, log } = setup();
  await controller.allocateProducerIds(0, 1000);
  await controller.allocateProducerIds(1, 500);
  const fromSnapshot = new MetadataImage();
  for (const record of image.toRecords()) fromSnapshot.apply(record);
  assert.equal(fromSnapshot.nextProducerId, 1500);
  const directory = temporaryDirectory();
  const snapshotLog = MetadataLog.open(directory, new ManualClock(), new MetadataImage());
  const successor = new Controller(fromSnapshot, new SingleVoterMetadataWriter(snapshotLog, fromSnapshot, async () => undefined), 3, defaultBrokerSettings(), new SeededRandom(9));
  const [result] = await Promise.all([successor.allocateProducerIds(2, 1000)]);
  assert.deepEqual([result!.firstProducerId, result!.size], [1500, 1000]);
  await snapshotLog.close();
  const replayed = new MetadataImage();
  const reopened = MetadataLog.open(directory, new ManualClock(), replayed);
  assert.equal(replayed.nextProducerId, 2500, 'the log replays the block records');
  await reopened.close();
  await log.close();
});

/**
 * A writer whose first commit times out but commits later, just before the next one (a
 * proposal the old leader accepted): as the quorum writer, an entry that no longer fits the
 * image is refused when it commits.
 */
class LateCommitWriter implements MetadataWriter {
  private held: MetadataChanges | null = null;
  private holdNext = true;

  constructor(private readonly image: MetadataImage) {}

  async commit(changes: MetadataChanges): Promise<void> {
    if (this.holdNext) {
      this.holdNext = false;
      this.held = changes;
      throw new MetadataCommitError(ErrorCode.REQUEST_TIMED_OUT, 'not committed in time');
    }
    if (this.held !== null) this.image.applyEntry(this.held.records);
    this.held = null;
    const conflict = this.image.applyEntry(changes.records);
    if (conflict !== null) throw new MetadataCommitError(ErrorCode.REQUEST_TIMED_OUT, conflict);
  }
}

test('producer id blocks: a block decided before a timed-out allocation committed is refused, never handed out twice', async () => {
  const image = new MetadataImage();
  const controller = new Controller(image, new LateCommitWriter(image), 3, defaultBrokerSettings(), new SeededRandom(7));
  const timedOut = await controller.allocateProducerIds(0, 1000);
  assert.deepEqual([timedOut.errorCode, timedOut.firstProducerId], [ErrorCode.REQUEST_TIMED_OUT, -1]);
  // Decided against the image before node 0's block committed: it would start at 0 too.
  const stale = await controller.allocateProducerIds(1, 1000);
  assert.equal(stale.errorCode, ErrorCode.REQUEST_TIMED_OUT);
  assert.match(stale.errorMessage!, /does not start at the next producer id 1000/);
  assert.equal(image.nextProducerId, 1000, "node 0's late block committed, node 1's stale one did not");
  const retried = await controller.allocateProducerIds(1, 1000);
  assert.deepEqual([retried.errorCode, retried.firstProducerId], [ErrorCode.NONE, 1000]);
});

test('producer id blocks: requests for nobody or for nothing are programmer errors', async () => {
  const { controller, log } = setup();
  await assert.rejects(controller.allocateProducerIds(3, 1000), /no node 3/);
  await assert.rejects(controller.allocateProducerIds(0, 0), /positive integer/);
  await log.close();
});
