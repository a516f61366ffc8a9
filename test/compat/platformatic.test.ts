/**
 * @platformatic/kafka 2.12.1, unmodified (Promise.withResolvers polyfilled for Node 20): Admin
 * creates the topic, Producer sends keyed messages, and Consumer.fetch() reads each partition
 * from its leader without joining a group (see platformatic.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertKeyedRoundTrip,
  compatTestTimeoutMs,
  keyedMessages,
  uniqueTopic,
  withCompatBroker,
} from './helpers.js';
import { loadPlatformatic, readTopicWithPlatformatic } from './platformatic.js';

test('@platformatic/kafka: admin create, keyed produce, fetch back by partition', { timeout: compatTestTimeoutMs }, async () => {
  const { Admin, Producer, stringSerializers } = await loadPlatformatic();
  await withCompatBroker(async (broker) => {
    const bootstrapBrokers = broker.bootstrapServers.split(',');
    const topic = uniqueTopic('platformatic');

    const admin = new Admin({ clientId: 'compat-platformatic-admin', bootstrapBrokers, retries: 3, retryDelay: 100 });
    try {
      const created = await admin.createTopics({ topics: [topic], partitions: 3, replicas: 3 });
      assert.equal(created.length, 1);
      assert.equal(created[0]?.name, topic);
      // CreateTopics v4 (the highest both sides speak) has no partition count in its response, so
      // the library reports -1 there; the count comes from Metadata.
      const metadata = await admin.metadata({ topics: [topic] });
      const partitions = metadata.topics.get(topic)?.partitions ?? [];
      assert.equal(partitions.length, 3);
      assert.equal(new Set(partitions.map((partition) => partition.leader)).size, 3, 'partitions are spread over the three nodes');
    } finally {
      await admin.close();
    }

    const messages = keyedMessages();
    const producer = new Producer({ clientId: 'compat-platformatic-producer', bootstrapBrokers, serializers: stringSerializers, retries: 3, retryDelay: 100 });
    try {
      for (let start = 0; start < messages.length; start += 100) {
        const result = await producer.send({
          acks: -1,
          messages: messages.slice(start, start + 100).map((message) => ({ topic, key: message.key, value: message.value })),
        });
        assert.ok((result.offsets?.length ?? 0) > 0, 'the send reports partition offsets');
      }
    } finally {
      await producer.close();
    }

    const records = await readTopicWithPlatformatic(broker.bootstrapServers, topic);
    assert.ok(records.every((record) => (record.batchAttributes & 7) === 0), 'uncompressed batches');
    const used = assertKeyedRoundTrip(
      records.map((record) => ({ ...record, key: record.key?.toString() ?? null, value: record.value?.toString() ?? null })),
      messages,
    );
    assert.ok(used.size >= 2, `keys spread over ${used.size} partition(s)`);
  });
});
