/**
 * A node worker driven through its rings directly: requests beyond the ring's capacity queue
 * in order behind it (backpressure), none is dropped, and every completion matches its request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLogConfig } from '../../src/storage/log-config.js';
import { Logger } from '../../src/runtime/logger.js';
import { NodeHandle } from '../../src/workers/node-handle.js';
import { spawnNodeWorker } from '../../src/workers/node-spawn.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { encodeRecordBatch, decodeRecordBatches } from '../../src/protocol/records/records.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';
import { readdirSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

function startNode(ringCapacityBytes: number, spawned = spawnNodeWorker(ringCapacityBytes), dataDir = temporaryDirectory(), journal: 'off' | 'auto' | 'always' = 'off'): NodeHandle {
  return new NodeHandle(
    {
      nodeId: 0,
      dataDir,
      journal,
      // No checkpoint during a test: the journal test simulates losing everything not in it.
      journalCheckpointIntervalMs: 600_000,
      topicConfigs: {},
      defaultLogConfig: { ...defaultLogConfig },
      retentionCheckIntervalMs: 60_000,
      checkpointIntervalMs: 60_000,
      groupConfig: {},
      logLevel: 'silent',
    },
    new Logger('test', 'silent'),
    spawned,
  );
}

test('requests beyond ring capacity queue in order, none is dropped', { timeout: 30_000 }, async () => {
  const node = startNode(64 * 1024);
  try {
    await node.ready();
    await node.control({ op: 'becomeLeader', partitions: [{ topic: 't', partition: 0, leaderEpoch: 0, config: { ...defaultLogConfig }, partitionCount: 1 }] });
    const batches = Array.from({ length: 200 }, (_, index) => encodeRecordBatch({ records: [{ key: `k${index}`, value: Buffer.alloc(2000, index & 0xff) }] }));
    let sawBackup = false;
    const results = batches.map((records) => {
      const pending = node.produce({ acks: 1, timeoutMs: 1000, partitions: [{ topic: 't', partition: 0, records }] });
      if (node.isBackedUp) sawBackup = true;
      return pending;
    });
    const settled = await Promise.all(results);
    assert.ok(settled.every((partitions) => partitions[0]!.errorCode === ErrorCode.NONE));
    assert.deepEqual(settled.map((partitions) => partitions[0]!.baseOffset), batches.map((_, index) => index), 'offsets follow request order');
    assert.ok(sawBackup, '400 KB of requests through a 64 KiB ring must back up');
    assert.equal(node.isBackedUp, false);
    const fetched = await node.fetch({ maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, partitions: [{ topic: 't', partition: 0, fetchOffset: 190, partitionMaxBytes: 1 << 20 }] });
    const offsets = decodeRecordBatches(fetched[0]!.records).flatMap((batch) => batch.records.map((record) => record.offset));
    assert.deepEqual(offsets, Array.from({ length: 10 }, (_, index) => 190 + index));
  } finally {
    await node.stop(5000);
  }
});

test('a fetch for a partition the node does not lead answers NOT_LEADER_OR_FOLLOWER', { timeout: 30_000 }, async () => {
  const node = startNode(64 * 1024);
  try {
    await node.ready();
    const [result] = await node.fetch({ maxWaitMs: 0, minBytes: 1, maxBytes: 1024, isolationLevel: 0, partitions: [{ topic: 'nope', partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] });
    assert.equal(result!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  } finally {
    await node.stop(5000);
  }
});

test('a node worker that dies fails its pending and later requests instead of stranding them', { timeout: 30_000 }, async () => {
  const spawned = spawnNodeWorker(64 * 1024);
  const node = startNode(64 * 1024, spawned);
  await node.ready();
  await node.control({ op: 'becomeLeader', partitions: [{ topic: 't', partition: 0, leaderEpoch: 0, config: { ...defaultLogConfig }, partitionCount: 1 }] });
  const parked = node.fetch({ maxWaitMs: 20_000, minBytes: 1, maxBytes: 1024, isolationLevel: 0, partitions: [{ topic: 't', partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] });
  await spawned.worker.terminate();
  await assert.rejects(parked, /exited unexpectedly/);
  await assert.rejects(node.produce({ acks: 1, timeoutMs: 1000, partitions: [{ topic: 't', partition: 0, records: encodeRecordBatch({ records: [{ value: 'x' }] }) }] }), /exited unexpectedly/);
  // The front end's event loop is still alive (no busy loop on the dead ring).
  await new Promise((resolve) => setTimeout(resolve, 20));
  await node.stop(1000);
});

test('a fetch with a huge max_bytes over a log larger than the ring answers what one completion carries, and the node stays up', { timeout: 30_000 }, async () => {
  const ringCapacityBytes = 64 * 1024;
  const node = startNode(ringCapacityBytes);
  try {
    await node.ready();
    await node.control({ op: 'becomeLeader', partitions: [{ topic: 't', partition: 0, leaderEpoch: 0, config: { ...defaultLogConfig }, partitionCount: 1 }] });
    const batchCount = 200; // about 400 KB: six times the ring
    for (let index = 0; index < batchCount; index++) {
      const [result] = await node.produce({ acks: 1, timeoutMs: 1000, partitions: [{ topic: 't', partition: 0, records: encodeRecordBatch({ records: [{ key: `k${index}`, value: Buffer.alloc(2000, index & 0xff) }] }) }] });
      assert.equal(result!.errorCode, ErrorCode.NONE);
    }
    const fetchFrom = (fetchOffset: number, maxBytes: number) =>
      node.fetch({ maxWaitMs: 0, minBytes: 1, maxBytes, isolationLevel: 0, partitions: [{ topic: 't', partition: 0, fetchOffset, partitionMaxBytes: maxBytes }] });
    let nextOffset = 0;
    let fetches = 0;
    while (nextOffset < batchCount) {
      const [result] = await fetchFrom(nextOffset, 0x7fff_ffff);
      assert.equal(result!.errorCode, ErrorCode.NONE);
      const batches = decodeRecordBatches(result!.records);
      assert.ok(batches.length > 0, `records from offset ${nextOffset}`);
      assert.deepEqual(batches.map((batch) => batch.baseOffset), Array.from({ length: batches.length }, (_, index) => nextOffset + index), 'whole batches, in order');
      assert.ok(result!.records.length <= ringCapacityBytes / 2, `${result!.records.length} bytes fit one ring message`);
      const batchBytes = result!.records.length / batches.length; // every batch has the same size
      const lastFetch = nextOffset + batches.length === batchCount;
      if (!lastFetch) assert.ok(result!.records.length + batchBytes > ringCapacityBytes / 2 - 128, 'as many whole batches as fit');
      nextOffset += batches.length;
      fetches++;
    }
    assert.ok(fetches >= 6, `the log took ${fetches} fetches`);
    const [one] = await fetchFrom(0, 1);
    assert.equal(decodeRecordBatches(one!.records).length, 1, 'a max_bytes smaller than the first batch still gets it whole (KIP-74)');
    const [after] = await node.produce({ acks: 1, timeoutMs: 1000, partitions: [{ topic: 't', partition: 0, records: encodeRecordBatch({ records: [{ value: 'still up' }] }) }] });
    assert.deepEqual([after!.errorCode, after!.baseOffset], [ErrorCode.NONE, batchCount], 'the node still serves');
  } finally {
    await node.stop(5000);
  }
});

test('the node journal puts back acknowledged appends whose segment files were lost', { timeout: 30_000 }, async () => {
  const dataDir = temporaryDirectory();
  const assignment = (partition: number) => ({ topic: 't', partition, leaderEpoch: 0, config: { ...defaultLogConfig }, partitionCount: 2 });
  const spawned = spawnNodeWorker(1 << 20);
  const first = startNode(1 << 20, spawned, dataDir, 'always');
  await first.ready();
  await first.control({ op: 'becomeLeader', partitions: [assignment(0), assignment(1)] });
  const acknowledged = await Promise.all(
    Array.from({ length: 20 }, (_, index) =>
      first.produce({ acks: 1, timeoutMs: 1000, partitions: [{ topic: 't', partition: index % 2, records: encodeRecordBatch({ records: [{ key: `k${index}`, value: `v${index}` }] }) }] }),
    ),
  );
  assert.ok(acknowledged.every((result) => result[0]!.errorCode === ErrorCode.NONE));
  // A crash before the first journal checkpoint, and a disk that kept none of the segment data.
  await spawned.worker.terminate();
  for (const partition of [0, 1]) {
    const directory = join(dataDir, `t-${partition}`);
    for (const name of readdirSync(directory)) {
      if (name.endsWith('.log')) truncateSync(join(directory, name), 0);
      else rmSync(join(directory, name));
    }
  }
  const second = startNode(1 << 20, spawnNodeWorker(1 << 20), dataDir, 'always');
  try {
    await second.ready();
    await second.control({ op: 'becomeLeader', partitions: [assignment(0), assignment(1)] });
    for (const partition of [0, 1]) {
      const [fetched] = await second.fetch({ maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, partitions: [{ topic: 't', partition, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] });
      const values = decodeRecordBatches(fetched!.records).flatMap((batch) => batch.records.map((record) => `${record.offset}:${record.value!.toString()}`));
      const expected = Array.from({ length: 10 }, (_, index) => `${index}:v${index * 2 + partition}`);
      assert.deepEqual(values, expected, `partition ${partition}`);
    }
  } finally {
    await second.stop(5000);
  }
});

test('a topic deleted and created again never gets the old topic\'s journal entries back', { timeout: 30_000 }, async () => {
  const dataDir = temporaryDirectory();
  const assignment = { topic: 't', partition: 0, leaderEpoch: 0, config: { ...defaultLogConfig }, partitionCount: 1 };
  const produceOne = (node: NodeHandle, value: string) =>
    node.produce({ acks: 1, timeoutMs: 1000, partitions: [{ topic: 't', partition: 0, records: encodeRecordBatch({ records: [{ key: 'k', value }] }) }] });
  const spawned = spawnNodeWorker(1 << 20);
  const first = startNode(1 << 20, spawned, dataDir, 'always');
  await first.ready();
  await first.control({ op: 'becomeLeader', partitions: [assignment] });
  for (const value of ['old-0', 'old-1', 'old-2']) await produceOne(first, value);
  await first.control({ op: 'dropStrayLogs', knownTopics: [] }); // the topic is deleted
  await first.control({ op: 'becomeLeader', partitions: [assignment] }); // and created again
  assert.equal((await produceOne(first, 'new-0'))[0]!.baseOffset, 0);
  await spawned.worker.terminate(); // crash, and the new topic's segment data is lost
  for (const name of readdirSync(join(dataDir, 't-0'))) {
    if (name.endsWith('.log')) truncateSync(join(dataDir, 't-0', name), 0);
    else rmSync(join(dataDir, 't-0', name));
  }
  const second = startNode(1 << 20, spawnNodeWorker(1 << 20), dataDir, 'always');
  try {
    await second.ready();
    await second.control({ op: 'becomeLeader', partitions: [assignment] });
    const [fetched] = await second.fetch({ maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, partitions: [{ topic: 't', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] });
    const values = decodeRecordBatches(fetched!.records).flatMap((batch) => batch.records.map((record) => `${record.offset}:${record.value!.toString()}`));
    assert.deepEqual(values, ['0:new-0']);
  } finally {
    await second.stop(5000);
  }
});

test('waiting for completions holds no memory per wait (no race against the exit promise)', { timeout: 60_000 }, async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const node = startNode(64 * 1024);
  try {
    await node.ready();
    const fetchMissing = () => node.fetch({ maxWaitMs: 0, minBytes: 1, maxBytes: 1024, isolationLevel: 0, partitions: [{ topic: 'nope', partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] });
    // Sequential requests: the completion pump goes back to waiting after every one.
    const run = async (count: number) => {
      for (let index = 0; index < count; index++) await fetchMissing();
    };
    await run(2_000);
    gc();
    const before = process.memoryUsage().heapUsed;
    await run(30_000);
    gc();
    const grownBytes = process.memoryUsage().heapUsed - before;
    // Leaking one promise reaction (~150 bytes) per wait would grow the heap by ~4.5 MB here.
    assert.ok(grownBytes < 1_500_000, `heap grew by ${grownBytes} bytes over 30,000 waits`);
  } finally {
    await node.stop(5000);
  }
});

test('a leader epoch never moves back: becomeLeader with an older epoch fails and keeps the newer one', { timeout: 30_000 }, async () => {
  const node = startNode(1024 * 1024);
  try {
    await node.ready();
    const assignment = (leaderEpoch: number) => ({ op: 'becomeLeader' as const, partitions: [{ topic: 'e', partition: 0, leaderEpoch, config: { ...defaultLogConfig }, partitionCount: 1 }] });
    await node.control(assignment(5));
    await node.control(assignment(5));
    await assert.rejects(node.control(assignment(4)), /leader epoch moves back from 5 to 4/);
    await node.control(assignment(6));
  } finally {
    await node.stop(5000);
  }
});
