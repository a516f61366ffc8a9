import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultBrokerSettings } from '../../src/config/broker-config.js';
import { Controller, type MetadataChanges } from '../../src/controller/controller.js';
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
