/**
 * Messages whose value is exactly 1 MiB (1048576 bytes), produced and consumed by kafkajs and by
 * kcat, each also read back by the other client.
 *
 * A batch holding one 1 MiB value is 1048576 bytes plus ~61 bytes of batch header plus the record
 * framing and key, which is more than the default message.max.bytes of 1048588 (1 MiB + 12, as in
 * Kafka). So the broker for the round trips starts with message.max.bytes = 2 MiB, and each
 * producer keeps one message per batch (kafkajs: one send per message; librdkafka: its default
 * batch.size of 1000000 closes a batch after one such message). A separate test checks that the
 * default limit rejects such a batch with MESSAGE_TOO_LARGE.
 *
 * Reads use a per-partition fetch size of 1 MiB, smaller than one batch: the broker must still
 * return the first batch whole (KIP-74), as Kafka does, or no consumer with default settings
 * could make progress.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { compatTestTimeoutMs, uniqueTopic, withCompatBroker, type ConsumedRecord } from './helpers.js';
import { kcatConsumeAll, kcatProduce, requireKcat } from './kcat.js';
import { readTopicWithKafkajs, type PartitionRecord } from './kafkajs-partition-reader.js';

const { Kafka, logLevel, Partitioners } = kafkajs;

const valueSizeBytes = 1024 * 1024;
const largeMessageCount = 3;
/** Room for one 1 MiB value plus batch and record overhead; see the comment at the top. */
const brokerMessageMaxBytes = 2 * 1024 * 1024;
const largeBrokerOptions = { broker: { 'message.max.bytes': brokerMessageMaxBytes } };
/** librdkafka checks each message against its own message.max.bytes (default 1000000). */
const kcatProducerArgs = ['-X', `message.max.bytes=${valueSizeBytes + 64 * 1024}`];
/** librdkafka's per-partition fetch size; the broker's KIP-74 behaviour would also cope without it. */
const kcatConsumerArgs = ['-X', `fetch.message.max.bytes=${2 * valueSizeBytes}`];

/** A printable 1 MiB value unique to `index`: a `big-<index>:` prefix, then a letter pattern. */
function largeValue(index: number): string {
  const prefix = `big-${index}:`;
  const bytes = Buffer.alloc(valueSizeBytes);
  bytes.write(prefix, 'latin1');
  for (let position = prefix.length; position < valueSizeBytes; position += 1) {
    bytes[position] = 0x61 + ((position * 7 + index * 3) % 26);
  }
  return bytes.toString('latin1');
}

const largeMessages = Array.from({ length: largeMessageCount }, (_, index) => ({ key: `big-${index}`, value: largeValue(index) }));

/** Every large message came back exactly once, byte for byte. */
function assertLargeMessages(records: readonly ConsumedRecord[], client: string): void {
  assert.equal(records.length, largeMessageCount, `${client} read ${records.length} large messages`);
  const byKey = new Map(records.map((record) => [record.key, record.value]));
  for (const message of largeMessages) {
    const value = byKey.get(message.key);
    assert.ok(value !== undefined && value !== null, `${client}: ${message.key} missing`);
    assert.equal(value.length, valueSizeBytes, `${client}: ${message.key} has ${value.length} bytes`);
    assert.ok(value === message.value, `${client}: ${message.key} differs from what was produced`);
  }
}

/** kafkajs wraps protocol errors (retry exhaustion, non-retriable); follow `originalError` a few levels. */
function errorChain(error: Error): (Error & { type?: string })[] {
  const chain: (Error & { type?: string })[] = [];
  let current: (Error & { type?: string; originalError?: Error }) | undefined = error;
  for (let depth = 0; depth < 5 && current !== undefined; depth += 1) {
    chain.push(current);
    current = current.originalError;
  }
  return chain;
}

function fromKafkajs(records: readonly PartitionRecord[]): ConsumedRecord[] {
  return records.map((record) => ({ ...record, key: record.key?.toString('latin1') ?? null, value: record.value?.toString('latin1') ?? null }));
}

test('kafkajs: 1 MiB values produced and consumed (kcat reads them too)', { timeout: compatTestTimeoutMs }, async () => {
  requireKcat();
  await withCompatBroker(async (broker) => {
    const kafka = new Kafka({ clientId: 'compat-kafkajs-large', brokers: broker.bootstrapServers.split(','), logLevel: logLevel.ERROR });
    const topic = uniqueTopic('large-kafkajs');
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      for (const message of largeMessages) {
        const [result] = await producer.send({ topic, acks: -1, messages: [{ key: message.key, value: Buffer.from(message.value, 'latin1') }] });
        assert.equal(result?.errorCode, 0);
      }
    } finally {
      await producer.disconnect();
    }
    const records = await readTopicWithKafkajs(broker.bootstrapServers, topic, { partitionMaxBytes: valueSizeBytes });
    assertLargeMessages(fromKafkajs(records), 'kafkajs');
    assertLargeMessages(await kcatConsumeAll(broker.bootstrapServers, topic, kcatConsumerArgs), 'kcat');
  }, largeBrokerOptions);
});

test('kcat: 1 MiB values produced and consumed (kafkajs reads them too)', { timeout: compatTestTimeoutMs }, async () => {
  requireKcat();
  await withCompatBroker(async (broker) => {
    const topic = uniqueTopic('large-kcat');
    await kcatProduce(broker.bootstrapServers, topic, largeMessages, kcatProducerArgs);
    assertLargeMessages(await kcatConsumeAll(broker.bootstrapServers, topic, kcatConsumerArgs), 'kcat');
    const records = await readTopicWithKafkajs(broker.bootstrapServers, topic, { partitionMaxBytes: valueSizeBytes });
    assertLargeMessages(fromKafkajs(records), 'kafkajs');
  }, largeBrokerOptions);
});

test('default message.max.bytes rejects a 1 MiB value batch with MESSAGE_TOO_LARGE', { timeout: compatTestTimeoutMs }, async () => {
  await withCompatBroker(async (broker) => {
    assert.equal(broker.config.broker['message.max.bytes'], 1048588);
    const kafka = new Kafka({ clientId: 'compat-kafkajs-too-large', brokers: broker.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const topic = uniqueTopic('too-large');
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
    await producer.connect();
    try {
      const [message] = largeMessages;
      assert.ok(message !== undefined);
      await assert.rejects(
        producer.send({ topic, acks: -1, messages: [{ key: message.key, value: Buffer.from(message.value, 'latin1') }] }),
        (error: Error) => {
          const chain = errorChain(error);
          assert.ok(
            chain.some((cause) => cause.type === 'MESSAGE_TOO_LARGE'),
            `expected MESSAGE_TOO_LARGE, got ${chain.map((cause) => `${cause.name}: ${cause.message}`).join(' <- ')}`,
          );
          return true;
        },
      );
    } finally {
      await producer.disconnect();
    }
  });
});
