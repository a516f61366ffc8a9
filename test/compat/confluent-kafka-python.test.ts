/**
 * confluent-kafka-python (Debian python3-confluent-kafka 1.7.0 on librdkafka 2.0.2), unmodified,
 * run with /usr/bin/python3: AdminClient.create_topics, Producer with keys, and a Consumer that
 * assign()s every partition from OFFSET_BEGINNING and stops at end-of-partition; it never
 * subscribes, so no group protocol runs (python/confluent_kafka_roundtrip.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertKeyedRoundTrip,
  compatTestTimeoutMs,
  keyedMessages,
  requirePythonModules,
  runPythonRoundTrip,
  uniqueTopic,
  withCompatBroker,
} from './helpers.js';

test('confluent-kafka-python: admin create, keyed produce, assign() consume', { timeout: compatTestTimeoutMs }, async () => {
  await requirePythonModules(['confluent_kafka', 'confluent_kafka.admin']);
  await withCompatBroker(async (broker) => {
    const topic = uniqueTopic('confluent-python');
    const { report, records } = await runPythonRoundTrip('confluent_kafka_roundtrip.py', broker.bootstrapServers, topic);
    assert.equal(report.client, 'confluent-kafka-python');
    assert.equal(report.partitions, 3);
    const used = assertKeyedRoundTrip(records, keyedMessages());
    assert.ok(used.size >= 2, `keys spread over ${used.size} partition(s)`);
  });
});
