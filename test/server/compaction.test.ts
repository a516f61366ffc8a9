/** cleanup.policy=compact on a running broker: the node's cleaner compacts closed segments. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { encodeRecordBatch } from '../../src/protocol/records/records.js';
import { createTopic, leaderConnection, produce, readAll } from './broker-fixtures.js';


test('a compacted topic keeps the latest value per key and offsets stay put', { timeout: 60_000 }, async () => {
  await compactedTopicKeepsLatestValues(startBroker);
});

test('the bundled build compacts too (dist/bundle: its node worker runs the compaction worker bundle)', { timeout: 60_000 }, async () => {
  // What `npm start` and the package's main run: scripts/bundle.mjs output, not dist/src.
  const bundled = (await import(new URL('../../bundle/index.js', import.meta.url).href)) as { startBroker: typeof startBroker };
  assert.notEqual(bundled.startBroker, startBroker, 'the bundle has its own copy of the code');
  await compactedTopicKeepsLatestValues(bundled.startBroker);
});

async function compactedTopicKeepsLatestValues(start: typeof startBroker): Promise<void> {
  const broker = await start({ nodes: 1, logLevel: 'silent' });
  try {
    const configs = [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'segment.bytes', value: '2048' },
      { name: 'min.cleanable.dirty.ratio', value: '0.01' },
    ];
    assert.equal(await createTopic(broker, 'table', 1, configs), ErrorCode.NONE);
    const connection = await leaderConnection(broker, 'table', 0);
    const latest = new Map<string, { offset: number; value: string }>();
    for (let round = 0; round < 120; round++) {
      const key = `key-${round % 6}`;
      const value = `value-${round}`;
      const result = await produce(connection, 'table', 0, encodeRecordBatch({ records: [{ key, value }] }));
      assert.equal(result.errorCode, ErrorCode.NONE);
      latest.set(key, { offset: Number(result.baseOffset), value });
    }
    // keyless records are refused on a compacted topic
    assert.equal((await produce(connection, 'table', 0, encodeRecordBatch({ records: [{ key: null, value: 'x' }] }))).errorCode, ErrorCode.INVALID_RECORD);
    let records = await readAll(connection, 'table');
    const deadline = Date.now() + 30_000;
    while (records.length >= 100 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      records = await readAll(connection, 'table');
    }
    assert.ok(records.length < 100, `compaction should have removed superseded values; ${records.length} records remain`);
    for (let index = 1; index < records.length; index++) assert.ok(records[index]!.offset > records[index - 1]!.offset, 'offsets increase');
    const lastSeen = new Map<string, { offset: number; value: string | null }>();
    for (const record of records) lastSeen.set(record.key, record);
    for (const [key, expected] of latest) assert.deepEqual(lastSeen.get(key), { offset: expected.offset, key, value: expected.value }, key);
    connection.close();
  } finally {
    await broker.stop();
  }
}
