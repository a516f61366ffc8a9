import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetadataImage } from '../../src/metadata/image.js';
import { MetadataLog } from '../../src/metadata/metadata-log.js';
import type { MetadataRecord, PartitionRecord } from '../../src/metadata/records.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';

test('the image applies topic, partition, config and removal records', () => {
  const image = new MetadataImage();
  image.apply({ type: 'cluster', clusterId: 'c1' });
  image.apply({ type: 'topic', name: 't', topicId: 'id', configs: { 'retention.ms': '5' } });
  image.apply({ type: 'partition', topic: 't', partition: 0, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
  image.apply({ type: 'partition', topic: 't', partition: 1, replicas: [0], isr: [0], leader: 0, leaderEpoch: 0, partitionEpoch: 0 });
  image.apply({ type: 'topicConfig', name: 't', configs: {} });
  assert.equal(image.clusterId, 'c1');
  assert.equal(image.topic('t')!.partitions.length, 2);
  assert.deepEqual(image.topic('t')!.configs, {});
  assert.deepEqual(image.leaderCounts(3), [1, 1, 0]);
  image.apply({ type: 'removeTopic', name: 't' });
  assert.equal(image.topic('t'), undefined);
  image.markApplied(3);
  assert.equal(image.appliedOffset, 3);
  assert.throws(() => image.markApplied(3), /applied offset moves back/);
});

test('records that break invariants are programmer errors', () => {
  const image = new MetadataImage();
  assert.throws(() => image.apply({ type: 'partition', topic: 'nope', partition: 0, replicas: [0], isr: [0], leader: 0, leaderEpoch: 0, partitionEpoch: 0 }), /unknown topic/);
  image.apply({ type: 'topic', name: 't', topicId: 'id', configs: {} });
  assert.throws(() => image.apply({ type: 'topic', name: 't', topicId: 'id2', configs: {} }), /already exists/);
  assert.throws(() => image.apply({ type: 'partition', topic: 't', partition: 2, replicas: [0], isr: [0], leader: 0, leaderEpoch: 0, partitionEpoch: 0 }), /skips/);
  image.apply({ type: 'partition', topic: 't', partition: 0, replicas: [0], isr: [0], leader: 0, leaderEpoch: 3, partitionEpoch: 5 });
  const backwards: PartitionRecord = { type: 'partition', topic: 't', partition: 0, replicas: [0], isr: [0], leader: 0, leaderEpoch: 2, partitionEpoch: 6 };
  assert.throws(() => image.apply(backwards), { name: 'InvariantError', message: 'metadata: leader epoch of t-0 moves back from 3 to 2' });
  assert.equal(image.partition('t', 0)!.leaderEpoch, 3, 'the image is unchanged');
  image.apply({ ...backwards, leaderEpoch: 3 }); // the same leader epoch with a newer partition epoch: an ISR change
  assert.equal(image.partition('t', 0)!.partitionEpoch, 6);
});

test('every change of a partition moves its partition epoch forward; a new leader needs a new leader epoch', () => {
  const image = new MetadataImage();
  image.apply({ type: 'topic', name: 't', topicId: 'id', configs: {} });
  const created: PartitionRecord = { type: 'partition', topic: 't', partition: 0, replicas: [0, 1, 2], isr: [0, 1, 2], leader: 0, leaderEpoch: 0, partitionEpoch: 0 };
  image.apply(created);
  assert.throws(() => image.apply({ ...created, isr: [0, 1] }), { name: 'InvariantError', message: 'metadata: partition epoch of t-0 does not move forward: 0 to 0' });
  assert.throws(() => image.apply({ ...created, leader: 1, partitionEpoch: 1 }), { name: 'InvariantError', message: 'metadata: leader of t-0 changes from 0 to 1 in the same leader epoch 0' });
  image.apply({ ...created, isr: [0, 1], partitionEpoch: 1 });
  image.apply({ ...created, isr: [1], leader: 1, leaderEpoch: 1, partitionEpoch: 2 });
  assert.deepEqual(image.partition('t', 0), { partition: 0, replicas: [0, 1, 2], isr: [1], leader: 1, leaderEpoch: 1, partitionEpoch: 2 });
  assert.deepEqual(image.toRecords().at(-1), { ...created, isr: [1], leader: 1, leaderEpoch: 1, partitionEpoch: 2 }, 'snapshots keep the partition epoch');
});

test('partition records of earlier versions (no partitionEpoch) load as partition epoch 0', async () => {
  const directory = temporaryDirectory();
  const clock = new ManualClock();
  const log = MetadataLog.open(directory, clock, new MetadataImage());
  // As an earlier version wrote them, in the log and in snapshots (the image's records as JSON).
  const old = { type: 'partition', topic: 'old', partition: 0, replicas: [1], isr: [1], leader: 1, leaderEpoch: 4 } as PartitionRecord;
  await log.append([{ type: 'topic', name: 'old', topicId: 'x', configs: {} }, old]);
  await log.close();
  const replayed = new MetadataImage();
  const reopened = MetadataLog.open(directory, clock, replayed);
  assert.deepEqual(replayed.partition('old', 0), { partition: 0, replicas: [1], isr: [1], leader: 1, leaderEpoch: 4, partitionEpoch: 0 });
  const fromSnapshot = new MetadataImage();
  for (const record of JSON.parse(JSON.stringify([{ type: 'topic', name: 'old', topicId: 'x', configs: {} }, old])) as MetadataRecord[]) fromSnapshot.apply(record);
  assert.equal(fromSnapshot.partition('old', 0)!.partitionEpoch, 0);
  fromSnapshot.apply({ ...old, isr: [1, 0], partitionEpoch: 1 });
  assert.equal(fromSnapshot.partition('old', 0)!.partitionEpoch, 1, 'the next change moves on from 0');
  await reopened.close();
});

test('leader counts leave out offline partitions (leader -1)', () => {
  const image = new MetadataImage();
  image.apply({ type: 'topic', name: 't', topicId: 'id', configs: {} });
  image.apply({ type: 'partition', topic: 't', partition: 0, replicas: [0, 1], isr: [1], leader: -1, leaderEpoch: 1, partitionEpoch: 1 });
  image.apply({ type: 'partition', topic: 't', partition: 1, replicas: [1, 0], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
  assert.deepEqual(image.leaderCounts(2), [0, 1]);
});

test('the metadata log replays into the same image after reopening', async () => {
  const directory = temporaryDirectory();
  const clock = new ManualClock();
  const image = new MetadataImage();
  const log = MetadataLog.open(directory, clock, image);
  await log.append([{ type: 'cluster', clusterId: 'abc' }]);
  await log.append([
    { type: 'topic', name: 'orders', topicId: 'x', configs: { 'cleanup.policy': 'compact' } },
    { type: 'partition', topic: 'orders', partition: 0, replicas: [2], isr: [2], leader: 2, leaderEpoch: 0, partitionEpoch: 0 },
  ]);
  await log.close();
  const replayed = new MetadataImage();
  const reopened = MetadataLog.open(directory, clock, replayed);
  assert.equal(replayed.clusterId, 'abc');
  assert.deepEqual(replayed.topic('orders')!.configs, { 'cleanup.policy': 'compact' });
  assert.equal(replayed.partition('orders', 0)!.leader, 2);
  assert.equal(reopened.endOffset, 3);
  await reopened.close();
});

test('a log entry applies all or nothing: one decided against an older image is skipped whole, with the reason', () => {
  const image = new MetadataImage();
  const partition = (name: string, index: number, leader: number, leaderEpoch: number, partitionEpoch: number): MetadataRecord => ({ type: 'partition', topic: name, partition: index, replicas: [0, 1], isr: [0, 1], leader, leaderEpoch, partitionEpoch });
  assert.equal(image.applyEntry([{ type: 'topic', name: 'a', topicId: 'id-a', configs: {} }, partition('a', 0, 0, 0, 0)]), null);
  // A retried CreateTopics whose first attempt committed after all: skipped, the topic keeps one partition.
  assert.match(image.applyEntry([{ type: 'topic', name: 'a', topicId: 'id-a2', configs: {} }, partition('a', 0, 1, 0, 0), partition('a', 1, 1, 0, 0)])!, /topic a already exists/);
  assert.equal(image.topic('a')!.topicId, 'id-a');
  assert.equal(image.topic('a')!.partitions.length, 1);
  // Two fencing decisions from the same image: the second no longer moves the partition epoch forward.
  assert.equal(image.applyEntry([partition('a', 0, 1, 1, 1)]), null);
  assert.match(image.applyEntry([partition('a', 0, 1, 1, 1), { type: 'nodeFence', nodeId: 0, fenced: true }])!, /partition epoch of a-0 does not move forward/);
  assert.equal(image.fencedNodes.has(0), false, 'no record of a skipped entry is applied');
  // Changes within one entry build on each other; a new partition may not skip one; unknown topics are refused.
  assert.equal(image.applyEntry([partition('a', 0, 1, 1, 2), partition('a', 0, 0, 2, 3), partition('a', 1, 0, 0, 0)]), null);
  assert.deepEqual([image.partition('a', 0)!.leader, image.partition('a', 0)!.partitionEpoch, image.topic('a')!.partitions.length], [0, 3, 2]);
  assert.match(image.applyEntry([partition('a', 3, 0, 0, 0)])!, /skips 2/);
  assert.match(image.applyEntry([{ type: 'topicConfig', name: 'nope', configs: {} }])!, /does not exist/);
  assert.match(image.applyEntry([partition('a', 1, 1, 0, 1)])!, /leader of a-1 changes from 0 to 1 in the same leader epoch 0/);
  // Deleted and created again in one entry is fine.
  assert.equal(image.applyEntry([{ type: 'removeTopic', name: 'a' }, { type: 'topic', name: 'a', topicId: 'id-a3', configs: {} }, partition('a', 0, 1, 0, 0)]), null);
  assert.equal(image.topic('a')!.topicId, 'id-a3');
});

const producerIds = (brokerId: number, firstProducerId: number, nextProducerId: number): MetadataRecord => ({ type: 'producerIds', brokerId, brokerEpoch: -1, firstProducerId, nextProducerId });

test('producer id blocks: the image keeps the next producer id (0 before any block) and snapshots keep it', () => {
  const image = new MetadataImage();
  image.apply({ type: 'cluster', clusterId: 'c1' });
  assert.equal(image.nextProducerId, 0, 'a log from before producer ids starts at 0');
  assert.equal(image.toRecords().some((record) => record.type === 'producerIds'), false);
  assert.equal(image.applyEntry([producerIds(1, 0, 1000)]), null);
  assert.equal(image.applyEntry([producerIds(2, 1000, 2000)]), null);
  assert.equal(image.nextProducerId, 2000);
  const restored = new MetadataImage();
  for (const record of image.toRecords()) restored.apply(record);
  assert.equal(restored.nextProducerId, 2000);
  assert.deepEqual(restored.toRecords(), image.toRecords());
  restored.clear();
  assert.equal(restored.nextProducerId, 0);
});

test('producer id blocks: one that does not start at the next producer id is refused whole when it commits', () => {
  const image = new MetadataImage();
  assert.equal(image.applyEntry([producerIds(0, 0, 1000)]), null);
  // Decided against the image before the first block applied (a retry of a timed-out allocation).
  assert.match(image.applyEntry([producerIds(1, 0, 1000)])!, /does not start at the next producer id 1000/);
  assert.match(image.applyEntry([producerIds(1, 0, 2000)])!, /does not start at the next producer id 1000/);
  assert.match(image.applyEntry([producerIds(1, 1000, 1000)])!, /empty/);
  assert.equal(image.nextProducerId, 1000);
  assert.equal(image.applyEntry([producerIds(1, 1000, 2000), producerIds(2, 2000, 3000)]), null, 'blocks chain inside one entry');
  assert.equal(image.nextProducerId, 3000);
});

test('producer id blocks: the next producer id never moves back (an always-on invariant)', () => {
  const image = new MetadataImage();
  image.apply(producerIds(0, 0, 1000));
  assert.throws(() => image.apply(producerIds(1, 0, 1000)), /only moves forward/);
  assert.throws(() => image.apply(producerIds(1, 0, 500)), /only moves forward/);
  assert.equal(image.nextProducerId, 1000);
});
