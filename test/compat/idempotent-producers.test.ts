/**
 * Idempotent producers of the real clients, unmodified, on a 3-node broker: each gets a producer
 * id from InitProducerId (kcat/librdkafka 2.0.2 sends v4 to any broker, kafkajs 2.2.4 v1 to the
 * Metadata controller, @platformatic/kafka 2.12.1 v4 with producer id 0 / epoch 0), produces,
 * and the messages read back. Transactions are not served yet: not covered here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { compatTestTimeoutMs, keyedMessages, uniqueTopic, withCompatBroker } from './helpers.js';
import { kcatConsumeAll, kcatProduce, requireKcat } from './kcat.js';
import { loadPlatformatic } from './platformatic.js';

const { Kafka, logLevel } = kafkajs;

function sortedValues(records: ReadonlyArray<{ value: string | null }>): string[] {
  return records.map((record) => record.value ?? '').sort();
}

test('kcat (librdkafka) with enable.idempotence acquires a producer id with InitProducerId v4 and produces', { timeout: compatTestTimeoutMs }, async () => {
  requireKcat();
  await withCompatBroker(async (broker) => {
    const topic = uniqueTopic('idempotent-kcat');
    const messages = keyedMessages(50);
    const debug = await kcatProduce(broker.bootstrapServers, topic, messages, ['-X', 'enable.idempotence=true', '-d', 'eos,protocol']);
    assert.match(debug, /Sent InitProducerIdRequest \(v4,/);
    assert.match(debug, /Acquired PID\{Id:\d+,Epoch:0\}/);
    const records = await kcatConsumeAll(broker.bootstrapServers, topic);
    assert.deepEqual(sortedValues(records), messages.map((message) => message.value).sort());
  });
});

test('kafkajs idempotent producer gets its producer id from the controller and produces', { timeout: compatTestTimeoutMs }, async () => {
  await withCompatBroker(async (broker) => {
    const kafka = new Kafka({ clientId: 'compat-idempotent-kafkajs', brokers: broker.bootstrapServers.split(','), logLevel: logLevel.ERROR });
    const topic = uniqueTopic('idempotent-kafkajs');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const messages = keyedMessages(50);
    try {
      await producer.send({ topic, acks: -1, messages: messages.map((message) => ({ key: message.key, value: message.value })) });
    } finally {
      await producer.disconnect();
    }
    const records = await kcatConsumeAll(broker.bootstrapServers, topic);
    assert.deepEqual(sortedValues(records), messages.map((message) => message.value).sort());
  });
});

test('@platformatic/kafka idempotent producer (InitProducerId v4, producer id 0 / epoch 0) gets a new id with epoch 0', { timeout: compatTestTimeoutMs }, async () => {
  const { Producer, stringSerializers } = await loadPlatformatic();
  await withCompatBroker(async (broker) => {
    const topic = uniqueTopic('idempotent-platformatic');
    const producers = [0, 1].map((index) => new Producer({ clientId: `compat-idempotent-platformatic-${index}`, bootstrapBrokers: broker.bootstrapServers.split(','), serializers: stringSerializers, idempotent: true, acks: -1, autocreateTopics: true }));
    const messages = keyedMessages(20);
    try {
      for (const producer of producers) {
        await producer.send({ messages: messages.map((message) => ({ topic, key: message.key, value: message.value })) });
      }
      const ids = producers.map((producer) => producer.producerId);
      assert.ok(ids.every((id) => typeof id === 'bigint' && id >= 0n), `producer ids ${String(ids)}`);
      assert.notEqual(ids[0], ids[1], 'two producers, two producer ids');
      assert.deepEqual(producers.map((producer) => producer.producerEpoch), [0, 0]);
    } finally {
      for (const producer of producers) await producer.close();
    }
    const records = await kcatConsumeAll(broker.bootstrapServers, topic);
    assert.equal(records.length, messages.length * 2);
  });
});
