/**
 * kafkajs 2.2.4, unmodified, against an RF 3 topic while its leader is killed: the producer
 * (acks=-1, idempotence off, one message per send) sees the connection fail or
 * NOT_LEADER_OR_FOLLOWER, refreshes Metadata, finds the new leader and goes on. Every
 * acknowledged message is read back afterwards, from the new leader, at one offset each; the
 * time from the kill to the next acknowledged write is printed (the failover figure).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { compatTestTimeoutMs, startCompatBroker, uniqueTopic, waitFor } from './helpers.js';
import { readTopicWithKafkajs } from './kafkajs-partition-reader.js';

const { Kafka, logLevel } = kafkajs;

const MESSAGES = 300;
const KILL_AT = 100;

test('kafkajs: the leader of an RF 3 partition is killed during acks=all sends; every acknowledged message is read back', { timeout: compatTestTimeoutMs * 2 }, async () => {
  const broker = await startCompatBroker({ faultInjection: true, broker: { 'broker.session.timeout.ms': 1000, 'broker.heartbeat.interval.ms': 100 } });
  try {
    const kafka = new Kafka({ clientId: 'compat-failover', brokers: broker.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 500 } });
    const topic = uniqueTopic('failover');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    const leaderOf = async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions[0]!;
    await waitFor('a full ISR', async () => ((await leaderOf()).isr.length === 3 ? true : undefined));
    const leader = (await leaderOf()).leader;
    await admin.disconnect();

    const producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    const acknowledged: string[] = [];
    let killedAtMs = 0;
    let failoverMs = -1;
    try {
      for (let index = 0; index < MESSAGES; index++) {
        if (index === KILL_AT) {
          killedAtMs = performance.now();
          await broker.nodes.kill(leader);
        }
        const value = `m-${index}`;
        await producer.send({ topic, acks: -1, timeout: 5000, messages: [{ key: 'k', value }] });
        acknowledged.push(value);
        if (index === KILL_AT) failoverMs = performance.now() - killedAtMs;
      }
    } finally {
      await producer.disconnect();
    }
    console.log(`[failover] kafkajs: leader node ${leader} killed -> next acknowledged acks=all write in ${failoverMs.toFixed(0)} ms`);
    const live = broker.nodes.filter((node) => node.nodeId !== leader).map((node) => `${node.host}:${node.port}`).join(',');
    const records = await readTopicWithKafkajs(live, topic);
    const values = records.map((record) => record.value?.toString() ?? '');
    const offsets = records.map((record) => Number(record.offset));
    assert.deepEqual(offsets, offsets.map((_, index) => index), 'offsets are dense from 0');
    for (const value of acknowledged) assert.ok(values.includes(value), `acknowledged ${value} is in the log`);
    assert.ok(values.every((value) => /^m-\d+$/.test(value)), 'nothing in the log was never sent');
    // A retry after a lost answer may write a message twice (idempotence is off), never out of order.
    const firstPositions = acknowledged.map((value) => values.indexOf(value));
    assert.deepEqual(firstPositions, [...firstPositions].sort((a, b) => a - b), 'acknowledged messages keep their send order');
  } finally {
    await broker.stop();
  }
});
