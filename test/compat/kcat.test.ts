/**
 * kcat 1.7 (librdkafka 2.0.2), unmodified: the producer auto-creates the topic (3 partitions from
 * the broker's num.partitions), sends keyed messages (librdkafka's consistent_random partitioner,
 * CRC32 of the key), and a group-less `kcat -C` reads every partition back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertKeyedRoundTrip, compatTestTimeoutMs, keyedMessages, uniqueTopic, waitFor, withCompatBroker } from './helpers.js';
import { kcatConsumeAll, kcatPartitionLeaders, kcatProduce, requireKcat } from './kcat.js';

test('kcat: auto-created topic, keyed produce, consume back by partition', { timeout: compatTestTimeoutMs }, async () => {
  requireKcat();
  await withCompatBroker(async (broker) => {
    const topic = uniqueTopic('kcat');
    const messages = keyedMessages();
    await kcatProduce(broker.bootstrapServers, topic, messages);

    // Auto-creation happened inside the producer's Metadata request; wait (bounded) until every
    // partition has a leader in kcat's view.
    const leaders = await waitFor(
      `leaders for all partitions of ${topic}`,
      async () => {
        const current = await kcatPartitionLeaders(broker.bootstrapServers, topic);
        return current.length > 0 && current.every((leader) => leader >= 0) ? current : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 200 },
    );
    assert.equal(leaders.length, 3, 'auto-created with num.partitions=3');
    assert.equal(new Set(leaders).size, 3, 'partitions are spread over the three nodes');

    const records = await kcatConsumeAll(broker.bootstrapServers, topic);
    const used = assertKeyedRoundTrip(records, messages);
    assert.ok(used.size >= 2, `keys spread over ${used.size} partition(s)`);
  });
});
