/**
 * Admin, Producer and Consumer against the in-memory fake cluster (three nodes, each with its
 * own port, NOT_LEADER_OR_FOLLOWER for partitions it does not lead).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Admin } from '../../src/client/admin.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer.js';
import { OffsetOutOfRangeError } from '../../src/client/errors.js';
import { partitionForKey } from '../../src/client/murmur2.js';
import { Producer } from '../../src/client/producer.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { Compression, encodeControlBatch, setBaseOffset } from '../../src/protocol/records/index.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { FakeCluster } from './fake-cluster.js';

let fake: FakeCluster;
const clients: ClusterClient[] = [];

before(async () => {
  fake = await FakeCluster.start(3);
});

after(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await fake.stop();
});

function newClient(maxAttempts = 10): ClusterClient {
  const client = new ClusterClient({
    bootstrapServers: fake.bootstrapServers,
    retry: { maxAttempts, initialBackoffMs: 1, maxBackoffMs: 5 },
  });
  clients.push(client);
  return client;
}

/** Polls until `count` records arrived or `deadlineMs` passed. */
async function consumeCount(consumer: Consumer, count: number, deadlineMs = 5_000): Promise<ConsumerRecord[]> {
  const records: ConsumerRecord[] = [];
  const endMs = Date.now() + deadlineMs;
  while (records.length < count && Date.now() < endMs) records.push(...(await consumer.poll()));
  return records;
}

test('1000 keyed records go to their murmur2 partitions and come back in per-key order', async () => {
  fake.createTopic('keyed', 3);
  const client = newClient();
  const producer = new Producer(client, { maxRecordsPerBatch: 64 });
  const keys = Array.from({ length: 37 }, (_, index) => `key-${index}`);
  const records = Array.from({ length: 1000 }, (_, index) => ({
    topic: 'keyed',
    key: keys[index % keys.length]!,
    value: `${keys[index % keys.length]}:${index}`,
  }));
  const metadata = await producer.send(records);
  for (let index = 0; index < records.length; index++) {
    assert.equal(metadata[index]!.partition, partitionForKey(Buffer.from(records[index]!.key), 3));
  }
  const offsetsByPartition = new Map<number, bigint[]>();
  for (const entry of metadata) offsetsByPartition.set(entry.partition, [...(offsetsByPartition.get(entry.partition) ?? []), entry.offset]);
  for (const offsets of offsetsByPartition.values()) {
    assert.deepStrictEqual(offsets, offsets.map((_, index) => BigInt(index)), 'offsets are dense from 0');
  }

  const consumer = new Consumer(newClient(), { maxWaitMs: 50 });
  await consumer.assignTopic('keyed', 'earliest');
  const consumed = await consumeCount(consumer, 1000);
  assert.equal(consumed.length, 1000);
  const sequenceByKey = new Map<string, number[]>();
  for (const record of consumed) {
    const [key, sequence] = record.value!.toString().split(':');
    assert.equal(record.key!.toString(), key);
    sequenceByKey.set(key!, [...(sequenceByKey.get(key!) ?? []), Number(sequence)]);
  }
  for (const [key, sequences] of sequenceByKey) {
    assert.deepStrictEqual(sequences, [...sequences].sort((a, b) => a - b), `order of ${key}`);
    assert.equal(sequences.length, records.filter((record) => record.key === key).length);
  }
});

test('a leader move is followed after NOT_LEADER_OR_FOLLOWER', async () => {
  fake.createTopic('moving', 1);
  const client = newClient();
  const producer = new Producer(client);
  await producer.send([{ topic: 'moving', value: 'before' }]);
  const oldLeader = fake.topics.get('moving')!.partitions[0]!.leaderId;
  const newLeader = (oldLeader + 1) % 3;
  fake.moveLeader('moving', 0, newLeader);
  const requestsBefore = fake.requests.length;
  const [result] = await producer.send([{ topic: 'moving', value: 'after' }]);
  assert.equal(result!.offset, 1n);
  const produceNodes = fake.requests.slice(requestsBefore).filter(([, apiKey]) => apiKey === ApiKey.Produce).map(([nodeId]) => nodeId);
  assert.deepStrictEqual(produceNodes, [oldLeader, newLeader]);
  assert.deepStrictEqual(fake.records('moving', 0).map((record) => record.value!.toString()), ['before', 'after']);
});

test('retriable errors are retried a bounded number of times; others fail at once', async () => {
  fake.createTopic('faulty', 1);
  const producer = new Producer(newClient(4));
  fake.injectFault(ApiKey.Produce, ErrorCode.LEADER_NOT_AVAILABLE, 2);
  const [result] = await producer.send([{ topic: 'faulty', value: 'third time lucky' }]);
  assert.equal(result!.offset, 0n);

  fake.injectFault(ApiKey.Produce, ErrorCode.NOT_ENOUGH_REPLICAS, 10);
  await assert.rejects(producer.send([{ topic: 'faulty', value: 'never' }]), (error: unknown) => {
    assert.ok(error instanceof KafkaError);
    assert.equal(error.code, ErrorCode.NOT_ENOUGH_REPLICAS);
    assert.match(error.message, /produce to faulty-0 \(Produce: gave up after 4 attempts\)/);
    return true;
  });
  fake.faults.length = 0;

  fake.injectFault(ApiKey.Produce, ErrorCode.MESSAGE_TOO_LARGE, 1);
  const requestsBefore = fake.requests.filter(([, apiKey]) => apiKey === ApiKey.Produce).length;
  await assert.rejects(producer.send([{ topic: 'faulty', value: 'too big' }]), /MESSAGE_TOO_LARGE: produce to faulty-0$/);
  assert.equal(fake.requests.filter(([, apiKey]) => apiKey === ApiKey.Produce).length, requestsBefore + 1);
});

test('a partition that does not exist is refused before anything is sent', async () => {
  fake.createTopic('small', 2);
  const producer = new Producer(newClient());
  await assert.rejects(producer.send([{ topic: 'small', partition: 2, value: 'x' }]), /partition 2 of "small" does not exist \(2 partitions\)/);
});

test('batches are cut by record count and size, and sent in order', async () => {
  fake.createTopic('batched', 1);
  const producer = new Producer(newClient(), { maxRecordsPerBatch: 100, maxBatchSizeBytes: 1_000_000 });
  const results = await producer.send(Array.from({ length: 250 }, (_, index) => ({ topic: 'batched', value: String(index) })));
  assert.deepStrictEqual(results.map((result) => result.offset), results.map((_, index) => BigInt(index)));
  const batches = fake.topics.get('batched')!.partitions[0]!.batches;
  assert.deepStrictEqual(batches.map((batch) => batch.lastOffset - batch.baseOffset + 1), [100, 100, 50]);

  const bySize = new Producer(newClient(), { maxBatchSizeBytes: 2_000 });
  await bySize.send(Array.from({ length: 10 }, () => ({ topic: 'batched', value: Buffer.alloc(500) })));
  assert.equal(batches.length, 3 + 4, 'at most 3 records of ~516 bytes fit in 2000 bytes');
});

test('acks=0 sends without waiting for a response; gzip batches decode on fetch', async () => {
  fake.createTopic('quiet', 1);
  const client = newClient();
  const quiet = new Producer(client, { acks: 0 });
  const results = await quiet.send([{ topic: 'quiet', value: 'a' }, { topic: 'quiet', value: 'b' }]);
  assert.deepStrictEqual(results.map((result) => result.offset), [-1n, -1n]);
  const gzip = new Producer(client, { compression: 'gzip' });
  await gzip.send([{ topic: 'quiet', key: 'k', value: 'c', headers: [{ key: 'h', value: Buffer.from('v') }] }]);
  const batches = fake.topics.get('quiet')!.partitions[0]!.batches;
  assert.equal(batches.length, 2, 'the acks=0 request arrived before the gzip one');
  assert.equal(batches[1]!.bytes.readInt16BE(21) & 0x7, Compression.GZIP);

  const consumer = new Consumer(client, { maxWaitMs: 10 });
  await consumer.assign([{ topic: 'quiet', partition: 0, offset: 0n }]);
  const records = await consumeCount(consumer, 3);
  assert.deepStrictEqual(records.map((record) => record.value!.toString()), ['a', 'b', 'c']);
  assert.deepStrictEqual(records[2]!.headers, [{ key: 'h', value: Buffer.from('v') }]);
});

test('the consumer skips records below its position and control batches', async () => {
  fake.createTopic('skips', 1);
  const client = newClient();
  await new Producer(client).send(Array.from({ length: 10 }, (_, index) => ({ topic: 'skips', value: String(index) })));
  const log = fake.topics.get('skips')!.partitions[0]!;
  const control = encodeControlBatch({ type: 1, coordinatorEpoch: 0, producerId: 1, producerEpoch: 0, timestampMs: 1 });
  setBaseOffset(control, 0, log.logEndOffset);
  log.batches.push({ baseOffset: log.logEndOffset, lastOffset: log.logEndOffset, bytes: control });
  log.logEndOffset++;
  await new Producer(client).send([{ topic: 'skips', value: 'after control' }]);

  const consumer = new Consumer(client, { maxWaitMs: 10 });
  await consumer.assign([{ topic: 'skips', partition: 0, offset: 5n }]);
  const records = await consumeCount(consumer, 6);
  assert.deepStrictEqual(records.map((record) => record.offset), [5n, 6n, 7n, 8n, 9n, 11n]);
  assert.equal(records[5]!.value!.toString(), 'after control');
  assert.equal(consumer.positions()[0]!.offset, 12n);
  assert.equal(consumer.positions()[0]!.highWatermark, 12n);
});

test('OFFSET_OUT_OF_RANGE names the valid range, or resets by policy', async () => {
  fake.createTopic('ranged', 1);
  const client = newClient();
  await new Producer(client).send(Array.from({ length: 4 }, (_, index) => ({ topic: 'ranged', value: String(index) })));
  const strict = new Consumer(client, { maxWaitMs: 10 });
  await strict.assign([{ topic: 'ranged', partition: 0, offset: 50n }]);
  await assert.rejects(strict.poll(), (error: unknown) => {
    assert.ok(error instanceof OffsetOutOfRangeError);
    assert.equal(error.code, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.match(error.message, /offset 50 of ranged-0 is out of range; valid offsets are 0 \(log start\) to 4 \(log end\)/);
    return true;
  });
  const lenient = new Consumer(client, { maxWaitMs: 10, offsetResetPolicy: 'earliest' });
  await lenient.assign([{ topic: 'ranged', partition: 0, offset: 50n }]);
  assert.deepStrictEqual(await lenient.poll(), []);
  assert.equal(lenient.positions()[0]!.offset, 0n);
  assert.equal((await consumeCount(lenient, 4)).length, 4);
});

test('start offsets: latest, and by timestamp', async () => {
  fake.createTopic('timed', 1);
  const client = newClient();
  const producer = new Producer(client);
  await producer.send([{ topic: 'timed', value: 'old', timestampMs: 1_000 }]);
  await producer.send([{ topic: 'timed', value: 'new', timestampMs: 2_000 }]);
  const consumer = new Consumer(client, { maxWaitMs: 10 });
  await consumer.assign([{ topic: 'timed', partition: 0, offset: { timestampMs: 1_500 } }]);
  assert.equal(consumer.positions()[0]!.offset, 1n);
  await consumer.assign([{ topic: 'timed', partition: 0, offset: { timestampMs: 9_000 } }]);
  assert.equal(consumer.positions()[0]!.offset, 2n, 'no record that late: start at the log end');
  await consumer.assign([{ topic: 'timed', partition: 0, offset: 'latest' }]);
  assert.equal(consumer.positions()[0]!.offset, 2n);
  const records = await consumer.poll();
  assert.deepStrictEqual(records, []);
});

test('admin: create, list, describe, configs, partitions, delete records, delete', async () => {
  const admin = new Admin(newClient());
  await admin.createTopics([{ name: 'managed', partitions: 2, replicationFactor: 3, configs: { 'cleanup.policy': 'compact' } }]);
  await assert.rejects(admin.createTopics([{ name: 'managed', partitions: 1 }]), (error: unknown) => {
    return error instanceof KafkaError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS && /create topic "managed": Topic 'managed' already exists/.test(error.message);
  });
  assert.ok((await admin.listTopics()).includes('managed'));
  const [description] = await admin.describeTopics(['managed']);
  assert.equal(description!.partitions.length, 2);
  assert.deepStrictEqual(description!.partitions[0]!.replicas.length, 3);
  await assert.rejects(admin.describeTopics(['absent']), /UNKNOWN_TOPIC_OR_PARTITION: describe topic "absent"/);

  const [configs] = await admin.describeConfigs([{ type: 2, name: 'managed' }]);
  const policy = configs!.configs.find((entry) => entry.name === 'cleanup.policy')!;
  assert.deepStrictEqual([policy.value, policy.isDefault, policy.source], ['compact', false, 1]);
  assert.equal(configs!.configs.find((entry) => entry.name === 'retention.ms')!.isDefault, true);
  await admin.alterConfigs({ type: 2, name: 'managed' }, { 'retention.ms': '1000' });
  assert.deepStrictEqual([...fake.topics.get('managed')!.configs], [['retention.ms', '1000']]);

  await admin.createPartitions('managed', 3);
  assert.equal((await admin.describeTopics(['managed']))[0]!.partitions.length, 3);

  await new Producer(newClient()).send(Array.from({ length: 5 }, () => ({ topic: 'managed', partition: 1, value: 'x' })));
  assert.deepStrictEqual(await admin.deleteRecords('managed', [{ partition: 1, offset: 3n }]), [{ partition: 1, lowWatermark: 3n }]);
  assert.deepStrictEqual(await admin.logOffsets('managed', [1]), [{ partition: 1, logStartOffset: 3n, logEndOffset: 5n }]);

  await admin.deleteTopics(['managed']);
  assert.ok(!(await admin.listTopics()).includes('managed'));
  // Retriable in general, final for admin calls that name a topic: no retries, no delay.
  await assert.rejects(admin.deleteTopics(['managed']), /^KafkaError: UNKNOWN_TOPIC_OR_PARTITION: delete topic "managed"$/);
  await assert.rejects(
    admin.describeConfigs([{ type: 2, name: 'managed' }]),
    /^KafkaError: UNKNOWN_TOPIC_OR_PARTITION: describe configs of topic "managed": no such topic$/,
  );
});

test('bootstrap skips unreachable servers; none reachable is a clear error', async () => {
  const good = new ClusterClient({ bootstrapServers: `127.0.0.1:1,${fake.nodes[1]!.address}`, retry: { maxAttempts: 1 } });
  clients.push(good);
  const metadata = await good.fetchMetadata([]);
  assert.equal(metadata.brokers.size, 3);
  const bad = new ClusterClient({ bootstrapServers: '127.0.0.1:1', retry: { maxAttempts: 2, initialBackoffMs: 1 } });
  clients.push(bad);
  await assert.rejects(new Admin(bad).listTopics(), /127\.0\.0\.1:1: no broker reachable \(127\.0\.0\.1:1: cannot connect/);
});

test('retry backs off exponentially up to the cap and stops after maxAttempts', async () => {
  const sleeps: number[] = [];
  const client = new ClusterClient({
    bootstrapServers: fake.bootstrapServers,
    retry: { maxAttempts: 6, initialBackoffMs: 10, maxBackoffMs: 50 },
    sleep: async (durationMs) => {
      sleeps.push(durationMs);
    },
  });
  clients.push(client);
  let attempts = 0;
  await assert.rejects(
    client.retry('Probe', async () => {
      attempts++;
      throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, 'still electing');
    }),
    /LEADER_NOT_AVAILABLE: still electing \(Probe: gave up after 6 attempts\)/,
  );
  assert.equal(attempts, 6);
  assert.deepStrictEqual(sleeps, [10, 20, 40, 50, 50]);
  attempts = 0;
  await assert.rejects(
    client.retry('Probe', async () => {
      attempts++;
      throw new KafkaError(ErrorCode.INVALID_REQUIRED_ACKS, 'acks 2');
    }),
    /^KafkaError: INVALID_REQUIRED_ACKS: acks 2$/,
  );
  assert.equal(attempts, 1, 'errors that are not retriable are not retried');
});

test('cached topic metadata is refreshed after metadataMaxAgeMs', async () => {
  fake.createTopic('growing', 1);
  const clock = new ManualClock();
  const client = new ClusterClient({ bootstrapServers: fake.bootstrapServers, clock, metadataMaxAgeMs: 1_000 });
  clients.push(client);
  assert.equal((await client.topic('growing')).partitions.length, 1);
  fake.topics.get('growing')!.partitions.push({ leaderId: 1, replicas: [1], batches: [], logStartOffset: 0, logEndOffset: 0 });
  clock.advance(999);
  assert.equal((await client.topic('growing')).partitions.length, 1, 'still cached');
  clock.advance(1);
  assert.equal((await client.topic('growing')).partitions.length, 2, 'refreshed');
});
