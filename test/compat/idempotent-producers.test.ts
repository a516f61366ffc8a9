/**
 * Idempotent producers of the real clients, unmodified, on a 3-node broker: each gets a producer
 * id from InitProducerId (kcat/librdkafka 2.0.2 sends v4 to any broker, kafkajs 2.2.4 v1 to the
 * Metadata controller, @platformatic/kafka 2.12.1 v4 with producer id 0 / epoch 0), produces,
 * and the messages read back. Transactions are not served yet: not covered here.
 */
import { spawn } from 'node:child_process';
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

test('kcat (librdkafka) idempotent acks=all producer across a leader kill: every message once, in order', { timeout: compatTestTimeoutMs * 2 }, async () => {
  requireKcat();
  await withCompatBroker(async (broker) => {
    const topic = uniqueTopic('idempotent-kcat-failover');
    const kafka = new Kafka({ clientId: 'compat-idempotent-failover', brokers: broker.bootstrapServers.split(','), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    const leader = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions[0]!.leader;
    await admin.disconnect();
    // Messages go in a few at a time, so the leader dies with the producer mid-stream.
    const child = spawn('kcat', ['-b', broker.bootstrapServers, '-P', '-t', topic, '-X', 'acks=all', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5', '-X', 'message.timeout.ms=20000'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const values: string[] = [];
    for (let round = 0; round < 40; round++) {
      const lines = Array.from({ length: 25 }, (_, index) => `m-${round * 25 + index}`);
      values.push(...lines);
      child.stdin!.write(`${lines.join('\n')}\n`);
      if (round === 15) await broker.nodes.kill(leader);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.stdin!.end();
    assert.equal(await exited, 0, stderr);
    const live = broker.nodes.filter((node) => node.nodeId !== leader).map((node) => `${node.host}:${node.port}`).join(',');
    const read = (await kcatConsumeAll(live, topic)).map((record) => record.value ?? '');
    assert.deepEqual(read, values, 'every message exactly once, in send order (no duplicate from a retry across the failover)');
  }, { faultInjection: true, broker: { 'broker.session.timeout.ms': 1000, 'broker.heartbeat.interval.ms': 100 } });
});
