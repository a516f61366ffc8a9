/**
 * kafka-python (Debian python3-kafka 2.0.2), unmodified, run with /usr/bin/python3:
 * KafkaAdminClient.create_topics, KafkaProducer with keys (Java murmur2 partitioner), and a
 * KafkaConsumer without group_id that assign()s every partition, seek_to_beginning()s, and reads
 * up to end_offsets() (python/kafka_python_roundtrip.py).
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

test('kafka-python: admin create, keyed produce, assign() consume', { timeout: compatTestTimeoutMs }, async () => {
  await requirePythonModules(['kafka', 'kafka.admin']);
  await withCompatBroker(async (broker) => {
    const topic = uniqueTopic('kafka-python');
    const { report, records } = await runPythonRoundTrip('kafka_python_roundtrip.py', broker.bootstrapServers, topic);
    assert.equal(report.client, 'kafka-python');
    assert.equal(report.partitions, 3);
    const used = assertKeyedRoundTrip(records, keyedMessages());
    assert.ok(used.size >= 2, `keys spread over ${used.size} partition(s)`);
  });
});
