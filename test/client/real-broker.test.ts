/**
 * The client against the real broker (`startBroker`, three nodes, each with its own port on
 * 127.0.0.1), with topics at replication factor 1 (the replicated path has its own tests).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { Admin, ConfigResourceType } from '../../src/client/admin.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer.js';
import { OffsetOutOfRangeError } from '../../src/client/errors.js';
import { partitionForKey } from '../../src/client/murmur2.js';
import { Producer } from '../../src/client/producer.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';

let broker: BrokerHandle;
let client: ClusterClient;
let admin: Admin;

before(async () => {
  broker = await startBroker({ nodes: 3, logLevel: 'error' });
  client = new ClusterClient({ bootstrapServers: broker.bootstrapServers, retry: { initialBackoffMs: 20 } });
  admin = new Admin(client);
});

after(async () => {
  await client?.close();
  await broker?.stop();
});

async function consumeCount(consumer: Consumer, count: number, deadlineMs = 15_000): Promise<ConsumerRecord[]> {
  const records: ConsumerRecord[] = [];
  const endMs = Date.now() + deadlineMs;
  while (records.length < count && Date.now() < endMs) records.push(...(await consumer.poll()));
  return records;
}

test('version negotiation with the real broker picks our maximum of every API it serves', async () => {
  const [node] = broker.nodes;
  const connection = await BrokerConnection.connect({ host: node!.host, port: node!.port });
  try {
    const expected: [number, number][] = [
      [ApiKey.Produce, 7],
      [ApiKey.Fetch, 11],
      [ApiKey.ListOffsets, 3],
      [ApiKey.Metadata, 8],
      [ApiKey.ApiVersions, 3],
      [ApiKey.CreateTopics, 4],
      [ApiKey.DeleteTopics, 3],
      [ApiKey.DescribeConfigs, 2],
      [ApiKey.AlterConfigs, 1],
      [ApiKey.CreatePartitions, 1],
      [ApiKey.DeleteRecords, 1],
    ];
    for (const [apiKey, version] of expected) assert.equal(connection.versionFor(apiKey), version, `api ${apiKey}`);
  } finally {
    await connection.close();
  }
});

test('1000 keyed records to a 3-partition topic on 3 nodes come back with per-key order and counts', async () => {
  await admin.createTopics([{ name: 'orders', partitions: 3, replicationFactor: 1 }]);
  const [description] = await admin.describeTopics(['orders']);
  const leaders = new Set(description!.partitions.map((partition) => partition.leader));
  assert.equal(leaders.size, 3, 'each node leads one partition, so routing to leaders is exercised');

  const producer = new Producer(client);
  const keyCount = 41;
  const sent = [];
  for (let round = 0; round < 4; round++) {
    const records = Array.from({ length: 250 }, (_, index) => {
      const sequence = round * 250 + index;
      const key = `customer-${sequence % keyCount}`;
      return { topic: 'orders', key, value: `${key}|${sequence}`, headers: [{ key: 'seq', value: Buffer.from(String(sequence)) }] };
    });
    sent.push(...(await producer.send(records)));
  }
  assert.equal(sent.length, 1000);
  const expectedCounts = new Map<string, number>();
  for (let sequence = 0; sequence < 1000; sequence++) {
    const key = `customer-${sequence % keyCount}`;
    expectedCounts.set(key, (expectedCounts.get(key) ?? 0) + 1);
    assert.equal(sent[sequence]!.partition, partitionForKey(Buffer.from(key), 3));
  }

  const consumerClient = new ClusterClient({ bootstrapServers: broker.bootstrapServers });
  let consumed: ConsumerRecord[];
  try {
    const consumer = new Consumer(consumerClient, { maxWaitMs: 100 });
    await consumer.assignTopic('orders', 'earliest');
    consumed = await consumeCount(consumer, 1000);
  } finally {
    await consumerClient.close();
  }
  assert.equal(consumed.length, 1000);
  const sequencesByKey = new Map<string, number[]>();
  for (const record of consumed) {
    const [key, sequence] = record.value!.toString().split('|');
    assert.equal(record.key!.toString(), key);
    assert.equal(record.partition, partitionForKey(record.key!, 3));
    assert.equal(record.headers[0]!.value!.toString(), sequence);
    sequencesByKey.set(key!, [...(sequencesByKey.get(key!) ?? []), Number(sequence)]);
  }
  for (const [key, sequences] of sequencesByKey) {
    assert.equal(sequences.length, expectedCounts.get(key), `count of ${key}`);
    assert.deepStrictEqual(sequences, [...sequences].sort((a, b) => a - b), `order of ${key}`);
  }
  const offsets = await admin.logOffsets('orders', [0, 1, 2]);
  assert.equal(offsets.reduce((sum, entry) => sum + Number(entry.logEndOffset), 0), 1000);
});

test('a partition asked of a node that does not lead it answers NOT_LEADER_OR_FOLLOWER', async () => {
  await admin.createTopics([{ name: 'routed', partitions: 1, replicationFactor: 1 }]);
  const leaderId = await client.leaderOf('routed', 0);
  const other = broker.nodes.find((node) => node.nodeId !== leaderId)!;
  const connection = await BrokerConnection.connect({ host: other.host, port: other.port });
  try {
    const response = await connection.requestNegotiated(ApiKey.Produce, {
      acks: -1,
      timeoutMs: 5_000,
      topics: [{ name: 'routed', partitions: [{ partitionIndex: 0, records: encodeRecordBatch({ records: [{ value: 'x' }] }) }] }],
    });
    assert.equal(response.responses[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  } finally {
    await connection.close();
  }
});

test('acks=0, acks=1 and gzip batches all land and decode', async () => {
  await admin.createTopics([{ name: 'mixed', partitions: 1, replicationFactor: 1 }]);
  await new Producer(client, { acks: 0 }).send([{ topic: 'mixed', value: 'fire-and-forget' }]);
  const [leaderOnly] = await new Producer(client, { acks: 1 }).send([{ topic: 'mixed', value: 'leader-only' }]);
  assert.equal(leaderOnly!.offset, 1n, 'the acks=0 record was appended first, on the same connection');
  await new Producer(client, { compression: 'gzip' }).send(Array.from({ length: 20 }, (_, index) => ({ topic: 'mixed', key: `k${index}`, value: `gz-${index}` })));
  const consumer = new Consumer(client, { maxWaitMs: 100 });
  await consumer.assign([{ topic: 'mixed', partition: 0, offset: 'earliest' }]);
  const records = await consumeCount(consumer, 22);
  assert.deepStrictEqual(records.map((record) => record.value!.toString()), ['fire-and-forget', 'leader-only', ...Array.from({ length: 20 }, (_, index) => `gz-${index}`)]);
  assert.deepStrictEqual(records.map((record) => record.offset), records.map((_, index) => BigInt(index)));
});

test('start positions: an offset inside a batch, latest, a timestamp, and out of range', async () => {
  await admin.createTopics([{ name: 'positions', partitions: 1, replicationFactor: 1 }]);
  const producer = new Producer(client);
  await producer.send(Array.from({ length: 10 }, (_, index) => ({ topic: 'positions', value: String(index), timestampMs: 1_000 + index })));
  const consumer = new Consumer(client, { maxWaitMs: 50 });
  await consumer.assign([{ topic: 'positions', partition: 0, offset: 7n }]);
  assert.deepStrictEqual((await consumeCount(consumer, 3)).map((record) => record.value!.toString()), ['7', '8', '9']);

  await consumer.assign([{ topic: 'positions', partition: 0, offset: { timestampMs: 1_004 } }]);
  assert.equal(consumer.positions()[0]!.offset, 4n);
  await consumer.assign([{ topic: 'positions', partition: 0, offset: 'latest' }]);
  assert.equal(consumer.positions()[0]!.offset, 10n);
  assert.deepStrictEqual(await consumer.poll(), []);

  await consumer.assign([{ topic: 'positions', partition: 0, offset: 25n }]);
  await assert.rejects(consumer.poll(), (error: unknown) => {
    assert.ok(error instanceof OffsetOutOfRangeError, String(error));
    assert.match(error.message, /offset 25 of positions-0 is out of range; valid offsets are 0 \(log start\) to 10 \(log end\)/);
    return true;
  });
});

test('admin against the real broker: configs, partitions, delete records, delete topic', async () => {
  await admin.createTopics([{ name: 'admin-real', partitions: 1, replicationFactor: 1, configs: { 'retention.ms': '3600000' } }]);
  await assert.rejects(admin.createTopics([{ name: 'admin-real', partitions: 1 }]), (error: unknown) => {
    return error instanceof KafkaError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS;
  });
  const [described] = await admin.describeConfigs([{ type: ConfigResourceType.TOPIC, name: 'admin-real', keys: ['retention.ms'] }]);
  assert.deepStrictEqual(described!.configs.map((entry) => [entry.name, entry.value, entry.isDefault]), [['retention.ms', '3600000', false]]);
  await admin.alterConfigs({ type: ConfigResourceType.TOPIC, name: 'admin-real' }, { 'retention.ms': '7200000' });
  const [altered] = await admin.describeConfigs([{ type: ConfigResourceType.TOPIC, name: 'admin-real', keys: ['retention.ms'] }]);
  assert.equal(altered!.configs[0]!.value, '7200000');

  await admin.createPartitions('admin-real', 3);
  assert.equal((await admin.describeTopics(['admin-real']))[0]!.partitions.length, 3);
  await new Producer(client).send(Array.from({ length: 6 }, (_, index) => ({ topic: 'admin-real', partition: 2, value: String(index) })));
  assert.deepStrictEqual(await admin.deleteRecords('admin-real', [{ partition: 2, offset: 4n }]), [{ partition: 2, lowWatermark: 4n }]);
  assert.deepStrictEqual(await admin.logOffsets('admin-real', [2]), [{ partition: 2, logStartOffset: 4n, logEndOffset: 6n }]);

  await admin.deleteTopics(['admin-real']);
  assert.ok(!(await admin.listTopics()).includes('admin-real'));
});
