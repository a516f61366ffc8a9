/** A node's roles follow its own applied metadata log (MetadataPublisher), against a recording host. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultBrokerSettings } from '../../src/config/broker-config.js';
import { MetadataImage } from '../../src/metadata/image.js';
import type { MetadataRecord } from '../../src/metadata/records.js';
import { Logger } from '../../src/runtime/logger.js';
import type { LogConfig } from '../../src/storage/log-config.js';
import { MetadataPublisher, type ReplicaHost } from '../../src/workers/metadata-publisher.js';
import type { PartitionAssignment } from '../../src/workers/node-protocol.js';
import type { PartitionRecordState } from '../../src/replication/partition-state.js';

class RecordingHost implements ReplicaHost {
  readonly calls: string[] = [];
  readonly hosted = new Map<string, { topic: string; partition: number }>();
  readonly logsOnDisk = new Set<string>();
  configs = new Map<string, LogConfig>();
  /** Resolves the pending applyPartition (to show work runs one entry at a time). */
  release: (() => void) | null = null;
  holdLeaders = false;

  constructor(readonly nodeId: number) {}

  async applyPartition({ topic, partition, leaderEpoch }: PartitionAssignment, record: PartitionRecordState): Promise<void> {
    if (!record.replicas.includes(this.nodeId)) {
      if (this.hosted.delete(`${topic}-${partition}`)) this.calls.push(`stop ${topic}-${partition}`);
      return;
    }
    if (this.holdLeaders) await new Promise<void>((resolve) => (this.release = resolve));
    this.calls.push(`${record.leader === this.nodeId ? 'lead' : `follow ${record.leader}`} ${topic}-${partition}@${leaderEpoch}`);
    this.hosted.set(`${topic}-${partition}`, { topic, partition });
    this.logsOnDisk.add(topic);
  }

  async stopReplicas(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    for (const { topic, partition } of partitions) {
      this.calls.push(`stop ${topic}-${partition}`);
      this.hosted.delete(`${topic}-${partition}`);
    }
  }

  async deleteTopic(topic: string): Promise<void> {
    this.calls.push(`delete ${topic}`);
    for (const [key, value] of this.hosted) if (value.topic === topic) this.hosted.delete(key);
    this.logsOnDisk.delete(topic);
  }

  updateTopicConfig(topic: string, config: LogConfig): void {
    this.calls.push(`config ${topic}`);
    this.configs.set(topic, config);
  }

  setFencedNodes(fenced: ReadonlySet<number>): void {
    this.calls.push(`fenced ${[...fenced].join(',')}`);
  }

  hostedPartitions(): Array<{ topic: string; partition: number }> {
    return [...this.hosted.values()];
  }

  async dropStrayLogs(knownTopics: ReadonlySet<string>): Promise<number> {
    const stray = [...this.logsOnDisk].filter((topic) => !knownTopics.has(topic));
    for (const topic of stray) {
      this.logsOnDisk.delete(topic);
      this.calls.push(`drop ${topic}`);
    }
    return stray.length;
  }
}

function setup(nodeId = 1) {
  const host = new RecordingHost(nodeId);
  const image = new MetadataImage();
  const published: number[] = [];
  const publisher = new MetadataPublisher(host, defaultBrokerSettings(), (index) => published.push(index), new Logger('test', 'error'));
  let index = 0;
  const apply = (...records: MetadataRecord[]) => {
    index++;
    for (const record of records) image.apply(record);
    image.markApplied(index);
    publisher.entryApplied(index, records, image);
  };
  return { host, image, publisher, published, apply };
}

const topic = (name: string, configs: Record<string, string> = {}): MetadataRecord => ({ type: 'topic', name, topicId: `id-${name}`, configs });
const partition = (name: string, index: number, leader: number, leaderEpoch = 0): MetadataRecord => ({ type: 'partition', topic: name, partition: index, replicas: [leader], isr: [leader], leader, leaderEpoch, partitionEpoch: leaderEpoch });

test('the node leads exactly the partitions whose records name it, with the topic config of that moment', async () => {
  const { host, publisher, published, apply } = setup(1);
  apply(topic('a', { 'retention.ms': '1234' }), partition('a', 0, 0), partition('a', 1, 1), partition('a', 2, 1));
  apply(partition('a', 0, 1, 1)); // leadership of a-0 moves to this node
  apply(partition('a', 1, 2, 1)); // and a-1 moves away
  await publisher.idle();
  assert.deepEqual(host.calls, ['lead a-1@0', 'lead a-2@0', 'lead a-0@1', 'stop a-1']);
  assert.deepEqual(published, [1, 2, 3]);
  assert.deepEqual(host.hostedPartitions().map(({ partition: p }) => p).sort(), [0, 2]);
});

test('entries are acted on one at a time, in log order, each reported once its work is done', async () => {
  const { host, publisher, published, apply } = setup(0);
  host.holdLeaders = true;
  apply(topic('b'), partition('b', 0, 0));
  apply({ type: 'topicConfig', name: 'b', configs: { 'segment.bytes': '2000000' } });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(published, [], 'the first entry is still at work');
  assert.deepEqual(host.calls, [], 'the config change waits behind it');
  host.release!();
  await publisher.idle();
  assert.deepEqual(host.calls, ['lead b-0@0', 'config b']);
  assert.equal(host.configs.get('b')!.segmentBytes, 2_000_000);
  assert.deepEqual(published, [1, 2]);
});

test('a topic deleted and created again: the old logs go before the new partition is led', async () => {
  const { host, publisher, apply } = setup(0);
  apply(topic('c'), partition('c', 0, 0));
  apply({ type: 'removeTopic', name: 'c' });
  apply(topic('c'), partition('c', 0, 0));
  await publisher.idle();
  assert.deepEqual(host.calls, ['lead c-0@0', 'delete c', 'lead c-0@0']);
});

test('logs of unknown topics are dropped only once the node has applied as far as the front asked', async () => {
  const { host, image, publisher, apply } = setup(0);
  host.logsOnDisk.add('gone');
  host.logsOnDisk.add('created-later');
  publisher.checkStrayLogsAfter(2, image);
  apply(topic('x'), partition('x', 0, 0));
  await publisher.idle();
  assert.ok(host.logsOnDisk.has('created-later'), 'at index 1 the image may not know a topic yet: nothing dropped');
  apply(topic('created-later'), partition('created-later', 0, 0));
  await publisher.idle();
  assert.deepEqual(host.calls.filter((call) => call.startsWith('drop')), ['drop gone']);
  assert.ok(host.logsOnDisk.has('created-later'));
});

test('a snapshot replaces everything: partitions led elsewhere stop, removed topics are deleted, the rest is led', async () => {
  const { host, publisher, published, apply } = setup(0);
  apply(topic('keep'), partition('keep', 0, 0), partition('keep', 1, 0));
  apply(topic('removed'), partition('removed', 0, 0));
  await publisher.idle();
  host.calls.length = 0;
  const snapshot = new MetadataImage();
  for (const record of [topic('keep'), partition('keep', 0, 0, 3), partition('keep', 1, 2, 1), topic('fresh'), partition('fresh', 0, 0)]) snapshot.apply(record);
  snapshot.markApplied(40);
  publisher.snapshotRestored(40, snapshot);
  await publisher.idle();
  assert.deepEqual(host.calls, ['fenced ', 'delete removed', 'stop keep-1', 'lead keep-0@3', 'lead fresh-0@0']);
  assert.equal(published.at(-1), 40);
});

test('a partition record with this node among several replicas makes it a follower of the named leader', async () => {
  const { host, publisher, apply } = setup(2);
  const replicated = (leader: number, leaderEpoch: number, replicas: number[]): MetadataRecord => ({ type: 'partition', topic: 'r', partition: 0, replicas, isr: replicas, leader, leaderEpoch, partitionEpoch: leaderEpoch });
  apply(topic('r'), replicated(0, 0, [0, 1, 2]));
  apply(replicated(2, 1, [0, 1, 2])); // node 0 fails: this node leads
  apply(replicated(1, 2, [0, 1])); // reassigned away from this node
  await publisher.idle();
  assert.deepEqual(host.calls, ['follow 0 r-0@0', 'lead r-0@1', 'stop r-0']);
});
