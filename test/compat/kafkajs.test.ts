/**
 * kafkajs 2.2.4, unmodified: admin creates the topic, the producer sends keyed messages (default
 * Java-compatible murmur2 partitioner, acks=-1), and the partitions are read back without a group
 * through kafkajs' own Cluster and Broker objects (see kafkajs-partition-reader.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import {
  assertKeyedRoundTrip,
  compatTestTimeoutMs,
  keyedMessages,
  uniqueTopic,
  withCompatBroker,
} from './helpers.js';
import { readTopicWithKafkajs } from './kafkajs-partition-reader.js';

const { Kafka, logLevel, Partitioners } = kafkajs;

test('kafkajs: admin create, keyed produce, read back by partition', { timeout: compatTestTimeoutMs }, async () => {
  await withCompatBroker(async (broker) => {
    const kafka = new Kafka({ clientId: 'compat-kafkajs', brokers: broker.bootstrapServers.split(','), logLevel: logLevel.ERROR });
    const topic = uniqueTopic('kafkajs');
    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
      assert.equal(created, true, 'createTopics reports the topic as new');
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = metadata.topics[0]?.partitions ?? [];
      assert.equal(partitions.length, 3);
      assert.equal(new Set(partitions.map((partition) => partition.leader)).size, 3, 'partitions are spread over the three nodes');
    } finally {
      await admin.disconnect();
    }

    const messages = keyedMessages();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      // Several sends, so a partition holds more than one batch and offsets continue across them.
      for (let start = 0; start < messages.length; start += 100) {
        const metadata = await producer.send({ topic, acks: -1, messages: messages.slice(start, start + 100) });
        assert.ok(metadata.every((entry) => entry.errorCode === 0), 'every partition acknowledged');
      }
    } finally {
      await producer.disconnect();
    }

    const records = await readTopicWithKafkajs(broker.bootstrapServers, topic);
    const used = assertKeyedRoundTrip(
      records.map((record) => ({ ...record, key: record.key?.toString() ?? null, value: record.value?.toString() ?? null })),
      messages,
    );
    assert.ok(used.size >= 2, `keys spread over ${used.size} partition(s)`);
  });
});
