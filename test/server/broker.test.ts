/** The broker over TCP with raw protocol requests: routing, produce/fetch semantics, admin APIs, restart. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { decodeResponse } from '../../src/protocol/codec/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { decodeRecordBatches } from '../../src/protocol/records/records.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { Limits } from '../../src/runtime/limits.js';
import { RawConnection } from '../helpers/raw-client.js';
import { createTopic, fetchBody, fetchPartition, keyedBatch, leaderConnection, partitionsOf, produce, type FetchPartitionResponse } from './broker-fixtures.js';

let broker: BrokerHandle;

before(async () => {
  broker = await startBroker({ nodes: 3, logLevel: 'silent' });
});

after(async () => {
  await broker.stop();
});

function values(records: Buffer | null): string[] {
  return records === null ? [] : decodeRecordBatches(records).flatMap((batch) => batch.records.map((record) => record.value!.toString()));
}

test('Metadata lists every node with its own port and spreads partition leaders', async () => {
  assert.equal(await createTopic(broker, 'spread', 6), ErrorCode.NONE);
  const partitions = await partitionsOf(broker, 'spread');
  assert.equal(partitions.length, 6);
  const leaders = partitions.map((partition) => partition.leaderId);
  for (const node of [0, 1, 2]) assert.equal(leaders.filter((leader) => leader === node).length, 2, `node ${node} leads two`);
  assert.equal(new Set(broker.nodes.map((node) => node.port)).size, 3);
});

test('a partition answers only on its leader listener', async () => {
  assert.equal(await createTopic(broker, 'routed', 3), ErrorCode.NONE);
  const partitions = await partitionsOf(broker, 'routed');
  const partition = partitions[0]!;
  const wrongNode = broker.nodes.find((node) => node.nodeId !== partition.leaderId)!;
  const wrong = await RawConnection.open(wrongNode.host, wrongNode.port);
  assert.equal((await produce(wrong, 'routed', 0, keyedBatch(1))).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal((await fetchPartition(wrong, 'routed', 0, 0n)).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal((await produce(wrong, 'no-such-topic', 0, keyedBatch(1))).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal((await produce(wrong, 'routed', 7, keyedBatch(1))).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  wrong.close();
  const right = await leaderConnection(broker, 'routed', 0);
  assert.equal((await produce(right, 'routed', 0, keyedBatch(1))).errorCode, ErrorCode.NONE);
  right.close();
});

test('produce assigns offsets; fetch returns the batches, high watermark and log start offset', async () => {
  assert.equal(await createTopic(broker, 'roundtrip', 1), ErrorCode.NONE);
  const connection = await leaderConnection(broker, 'roundtrip', 0);
  const first = await produce(connection, 'roundtrip', 0, keyedBatch(3, 'a'));
  const second = await produce(connection, 'roundtrip', 0, keyedBatch(2, 'b'));
  assert.deepEqual([first.baseOffset, second.baseOffset], [0n, 3n]);
  const fetched = await fetchPartition(connection, 'roundtrip', 0, 0n);
  assert.equal(fetched.errorCode, ErrorCode.NONE);
  assert.equal(fetched.highWatermark, 5n);
  assert.equal(fetched.lastStableOffset, 5n);
  assert.equal(fetched.logStartOffset, 0n);
  assert.deepEqual(values(fetched.records), ['a-0', 'a-1', 'a-2', 'b-0', 'b-1']);
  const fromMiddle = await fetchPartition(connection, 'roundtrip', 0, 4n);
  assert.deepEqual(values(fromMiddle.records), ['b-0', 'b-1'], 'whole batch containing offset 4');
  const atEnd = await fetchPartition(connection, 'roundtrip', 0, 5n);
  assert.equal(atEnd.errorCode, ErrorCode.NONE);
  assert.equal(atEnd.records?.length ?? 0, 0);
  assert.equal((await fetchPartition(connection, 'roundtrip', 0, 6n)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  connection.close();
});

test('partition_max_bytes returns whole batches, at least one', async () => {
  assert.equal(await createTopic(broker, 'sized', 1), ErrorCode.NONE);
  const connection = await leaderConnection(broker, 'sized', 0);
  for (let round = 0; round < 10; round++) await produce(connection, 'sized', 0, keyedBatch(4, `r${round}`));
  const batchBytes = keyedBatch(4, 'r0').length;
  const one = await fetchPartition(connection, 'sized', 0, 0n, { partitionMaxBytes: 10 });
  assert.equal(one.records!.length, batchBytes);
  const three = await fetchPartition(connection, 'sized', 0, 0n, { partitionMaxBytes: batchBytes * 3 + 5 });
  assert.equal(decodeRecordBatches(three.records!).length, 3);
  connection.close();
});

test('acks=0 gets no response, and later responses keep request order', async () => {
  assert.equal(await createTopic(broker, 'fire-and-forget', 1), ErrorCode.NONE);
  const connection = await leaderConnection(broker, 'fire-and-forget', 0);
  connection.send(ApiKey.Produce, 7, { transactionalId: null, acks: 0, timeoutMs: 1000, topics: [{ name: 'fire-and-forget', partitions: [{ partitionIndex: 0, records: keyedBatch(2) }] }] });
  assert.equal(await connection.silentFor(200), true);
  const next = await produce(connection, 'fire-and-forget', 0, keyedBatch(1));
  assert.equal(next.baseOffset, 2n, 'the acks=0 batch was appended first');
  connection.close();
});

test('responses come back in request order even when an earlier request waits', async () => {
  assert.equal(await createTopic(broker, 'ordered', 1), ErrorCode.NONE);
  const connection = await leaderConnection(broker, 'ordered', 0);
  const fetchId = connection.send(ApiKey.Fetch, 11, fetchBody('ordered', 0, 0n, { maxWaitMs: 400 }));
  const metadataId = connection.send(ApiKey.Metadata, 1, { topics: [] });
  const firstFrame = await connection.readFrame(5000);
  const secondFrame = await connection.readFrame(5000);
  assert.equal(firstFrame.readInt32BE(0), fetchId);
  assert.equal(secondFrame.readInt32BE(0), metadataId);
  connection.close();
});

test('a fetch parked for data wakes on the append, well before max_wait_ms', async () => {
  assert.equal(await createTopic(broker, 'longpoll', 1), ErrorCode.NONE);
  const connection = await leaderConnection(broker, 'longpoll', 0);
  // Fetch, then Produce, on one connection: the front end hands them to the leader's request
  // ring in that order and the node handles its ring in order, so the fetch meets an empty log
  // and parks (answered at once, it would carry no records). Only the append can then answer
  // it before max_wait_ms (Limits.maxFetchWaitMs), which the frame wait below stays far under.
  const fetchId = connection.send(ApiKey.Fetch, 11, fetchBody('longpoll', 0, 0n, { maxWaitMs: Limits.maxFetchWaitMs }));
  const produceId = connection.send(ApiKey.Produce, 7, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topics: [{ name: 'longpoll', partitions: [{ partitionIndex: 0, records: keyedBatch(2, 'woke') }] }],
  });
  const fetched = decodeResponse(ApiKey.Fetch, 11, await connection.readFrame(Limits.maxFetchWaitMs / 3));
  assert.equal(fetched.correlationId, fetchId);
  const partition = (fetched.body as { responses: Array<{ partitions: FetchPartitionResponse[] }> }).responses[0]!.partitions[0]!;
  assert.equal(partition.errorCode, ErrorCode.NONE);
  assert.deepEqual(values(partition.records), ['woke-0', 'woke-1']);
  const produced = decodeResponse(ApiKey.Produce, 7, await connection.readFrame());
  assert.equal(produced.correlationId, produceId);
  const idleStart = Date.now();
  const idle = await fetchPartition(connection, 'longpoll', 0, 2n, { maxWaitMs: 300 });
  assert.equal(idle.records?.length ?? 0, 0);
  assert.ok(Date.now() - idleStart >= 250, 'an empty fetch waits out max_wait_ms');
  connection.close();
});

test('ListOffsets: earliest, latest and by timestamp', async () => {
  assert.equal(await createTopic(broker, 'timed', 1), ErrorCode.NONE);
  const connection = await leaderConnection(broker, 'timed', 0);
  await produce(connection, 'timed', 0, keyedBatch(2, 'old', 1_000_000));
  await produce(connection, 'timed', 0, keyedBatch(2, 'new', 2_000_000));
  const ask = async (timestamp: bigint) => {
    const response = await connection.request<{ topics: Array<{ partitions: Array<{ errorCode: number; offset: bigint; timestamp: bigint }> }> }>(ApiKey.ListOffsets, 3, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: 'timed', partitions: [{ partitionIndex: 0, timestamp }] }],
    });
    return response.topics[0]!.partitions[0]!;
  };
  assert.equal((await ask(-2n)).offset, 0n);
  assert.equal((await ask(-1n)).offset, 4n);
  const byTime = await ask(1_500_000n);
  assert.equal(byTime.offset, 2n);
  assert.equal(byTime.timestamp, 2_000_000n);
  assert.equal((await ask(9_000_000n)).offset, -1n);
  connection.close();
});

test('CreateTopics validates names, counts, replication factor and configs', async () => {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  const create = async (topic: Record<string, unknown>, validateOnly = false) => {
    const response = await connection.request<{ topics: Array<{ errorCode: number; errorMessage: string | null }> }>(ApiKey.CreateTopics, 4, {
      topics: [{ numPartitions: 1, replicationFactor: 1, assignments: [], configs: [], ...topic }],
      timeoutMs: 1000,
      validateOnly,
    });
    return response.topics[0]!;
  };
  assert.equal((await create({ name: 'bad name!' })).errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.equal((await create({ name: 'x'.repeat(250) })).errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.equal((await create({ name: 'zero', numPartitions: 0 })).errorCode, ErrorCode.INVALID_PARTITIONS);
  const tooReplicated = await create({ name: 'rf4', replicationFactor: 4 });
  assert.equal(tooReplicated.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
  assert.match(tooReplicated.errorMessage ?? '', /larger than 3, the most this broker places/);
  assert.equal((await create({ name: 'rf3', replicationFactor: 3 })).errorCode, ErrorCode.NONE);
  const badConfig = await create({ name: 'cfg', configs: [{ name: 'retention.ms', value: 'soon' }] });
  assert.equal(badConfig.errorCode, ErrorCode.INVALID_CONFIG);
  assert.match(badConfig.errorMessage ?? '', /retention\.ms/);
  assert.equal((await create({ name: 'unknown-cfg', configs: [{ name: 'no.such.config', value: '1' }] })).errorCode, ErrorCode.INVALID_CONFIG);
  assert.equal((await create({ name: 'dry-run' }, true)).errorCode, ErrorCode.NONE);
  assert.equal((await partitionsOf(broker, 'dry-run')).length, 0, 'validateOnly creates nothing');
  assert.equal((await create({ name: 'defaults', numPartitions: -1, replicationFactor: -1 })).errorCode, ErrorCode.NONE);
  assert.equal((await create({ name: 'defaults' })).errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
  connection.close();
});

test('Metadata auto-creates only when the request allows it (v4+)', async () => {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  const metadata = async (name: string, allow: boolean) => {
    const response = await connection.request<{ topics: Array<{ errorCode: number; partitions: unknown[] }> }>(ApiKey.Metadata, 8, {
      topics: [{ name }],
      allowAutoTopicCreation: allow,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    return response.topics[0]!;
  };
  assert.equal((await metadata('auto-no', false)).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const created = await metadata('auto-yes', true);
  assert.equal(created.errorCode, ErrorCode.NONE);
  assert.equal(created.partitions.length, 1);
  assert.equal((await metadata('bad/name', true)).errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  connection.close();
});

test('CreatePartitions adds partitions that accept records', async () => {
  assert.equal(await createTopic(broker, 'growing', 1), ErrorCode.NONE);
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  const response = await connection.request<{ results: Array<{ errorCode: number }> }>(ApiKey.CreatePartitions, 1, {
    topics: [{ name: 'growing', count: 4, assignments: null }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  assert.equal(response.results[0]!.errorCode, ErrorCode.NONE);
  const shrink = await connection.request<{ results: Array<{ errorCode: number }> }>(ApiKey.CreatePartitions, 1, {
    topics: [{ name: 'growing', count: 2, assignments: null }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  assert.equal(shrink.results[0]!.errorCode, ErrorCode.INVALID_PARTITIONS);
  connection.close();
  assert.equal((await partitionsOf(broker, 'growing')).length, 4);
  const leader = await leaderConnection(broker, 'growing', 3);
  assert.equal((await produce(leader, 'growing', 3, keyedBatch(1))).errorCode, ErrorCode.NONE);
  leader.close();
});

test('DeleteRecords moves the log start offset; older offsets are out of range', async () => {
  assert.equal(await createTopic(broker, 'trimmed', 1), ErrorCode.NONE);
  const connection = await leaderConnection(broker, 'trimmed', 0);
  for (let round = 0; round < 5; round++) await produce(connection, 'trimmed', 0, keyedBatch(2));
  const response = await connection.request<{ topics: Array<{ partitions: Array<{ errorCode: number; lowWatermark: bigint }> }> }>(ApiKey.DeleteRecords, 1, {
    topics: [{ name: 'trimmed', partitions: [{ partitionIndex: 0, offset: 6n }] }],
    timeoutMs: 1000,
  });
  assert.deepEqual(response.topics[0]!.partitions[0], { partitionIndex: 0, errorCode: ErrorCode.NONE, lowWatermark: 6n });
  assert.equal((await fetchPartition(connection, 'trimmed', 0, 5n)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  const kept = await fetchPartition(connection, 'trimmed', 0, 6n);
  assert.equal(kept.logStartOffset, 6n);
  const tooFar = await connection.request<{ topics: Array<{ partitions: Array<{ errorCode: number }> }> }>(ApiKey.DeleteRecords, 1, {
    topics: [{ name: 'trimmed', partitions: [{ partitionIndex: 0, offset: 99n }] }],
    timeoutMs: 1000,
  });
  assert.equal(tooFar.topics[0]!.partitions[0]!.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  connection.close();
});

test('DescribeConfigs shows defaults and overrides; AlterConfigs replaces overrides', async () => {
  assert.equal(await createTopic(broker, 'configured', 1, [{ name: 'retention.ms', value: '3600000' }]), ErrorCode.NONE);
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  type Described = { results: Array<{ errorCode: number; configs: Array<{ name: string; value: string; configSource: number }> }> };
  const describe = async () =>
    (await connection.request<Described>(ApiKey.DescribeConfigs, 2, { resources: [{ resourceType: 2, resourceName: 'configured', configurationKeys: null }], includeSynonyms: false })).results[0]!;
  const before = await describe();
  assert.equal(before.errorCode, ErrorCode.NONE);
  assert.deepEqual(before.configs.find((entry) => entry.name === 'retention.ms'), { name: 'retention.ms', value: '3600000', readOnly: false, isDefault: false, configSource: 1, isSensitive: false, synonyms: [] });
  assert.equal(before.configs.find((entry) => entry.name === 'cleanup.policy')!.value, 'delete');
  const altered = await connection.request<{ responses: Array<{ errorCode: number }> }>(ApiKey.AlterConfigs, 1, {
    resources: [{ resourceType: 2, resourceName: 'configured', configs: [{ name: 'segment.bytes', value: '1048576' }] }],
    validateOnly: false,
  });
  assert.equal(altered.responses[0]!.errorCode, ErrorCode.NONE);
  const after = await describe();
  assert.equal(after.configs.find((entry) => entry.name === 'segment.bytes')!.value, '1048576');
  assert.equal(after.configs.find((entry) => entry.name === 'retention.ms')!.configSource, 5, 'non-incremental AlterConfigs reset it');
  const invalid = await connection.request<{ responses: Array<{ errorCode: number }> }>(ApiKey.AlterConfigs, 1, {
    resources: [{ resourceType: 2, resourceName: 'configured', configs: [{ name: 'cleanup.policy', value: 'shred' }] }],
    validateOnly: false,
  });
  assert.equal(invalid.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
  const unknown = await connection.request<Described>(ApiKey.DescribeConfigs, 2, { resources: [{ resourceType: 2, resourceName: 'nope', configurationKeys: null }], includeSynonyms: false });
  assert.equal(unknown.results[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  connection.close();
});

test('LogAppendTime topics carry the broker time', async () => {
  assert.equal(await createTopic(broker, 'appendtime', 1, [{ name: 'message.timestamp.type', value: 'LogAppendTime' }]), ErrorCode.NONE);
  const connection = await leaderConnection(broker, 'appendtime', 0);
  const before = Date.now();
  const result = await connection.request<{ responses: Array<{ partitions: Array<{ logAppendTimeMs: bigint }> }> }>(ApiKey.Produce, 7, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topics: [{ name: 'appendtime', partitions: [{ partitionIndex: 0, records: keyedBatch(1, 'v', 5) }] }],
  });
  const appendTime = Number(result.responses[0]!.partitions[0]!.logAppendTimeMs);
  assert.ok(appendTime >= before && appendTime <= Date.now());
  const fetched = await fetchPartition(connection, 'appendtime', 0, 0n);
  assert.equal(decodeRecordBatches(fetched.records!)[0]!.records[0]!.timestampMs, appendTime);
  connection.close();
});

test('DeleteTopics removes the topic and its data on every node', async () => {
  assert.equal(await createTopic(broker, 'doomed', 3), ErrorCode.NONE);
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  const response = await connection.request<{ responses: Array<{ errorCode: number }> }>(ApiKey.DeleteTopics, 3, { topicNames: ['doomed', 'never-was'], timeoutMs: 1000 });
  assert.deepEqual(response.responses.map((entry) => entry.errorCode), [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  connection.close();
  assert.equal((await partitionsOf(broker, 'doomed')).length, 0);
  for (const node of [0, 1, 2]) {
    const names = readdirSync(join(broker.dataDir, `node-${node}`));
    assert.ok(!names.some((name) => name.startsWith('doomed-')), `node ${node} still has ${names.join(',')}`);
  }
  assert.equal(await createTopic(broker, 'doomed', 1), ErrorCode.NONE, 'the name can be reused');
});

test('topics and data survive a restart on the same data dir', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'minikafka-restart-'));
  try {
    const first = await startBroker({ nodes: 2, dataDir, logLevel: 'silent' });
    assert.equal(await createTopic(first, 'durable', 2, [{ name: 'retention.ms', value: '86400000' }]), ErrorCode.NONE);
    for (const partition of [0, 1]) {
      const connection = await leaderConnection(first, 'durable', partition);
      for (let round = 0; round < 3; round++) await produce(connection, 'durable', partition, keyedBatch(2, `p${partition}r${round}`));
      connection.close();
    }
    await first.stop();
    // The metadata log lives with every voter, in its node's data dir.
    for (const node of [0, 1]) assert.ok(existsSync(join(dataDir, `node-${node}`, '__cluster_metadata-0', 'raft.log')));
    const second = await startBroker({ nodes: 2, dataDir, logLevel: 'silent' });
    try {
      for (const partition of [0, 1]) {
        const connection = await leaderConnection(second, 'durable', partition);
        const fetched = await fetchPartition(connection, 'durable', partition, 0n);
        assert.equal(values(fetched.records).length, 6);
        assert.equal(values(fetched.records)[0], `p${partition}r0-0`);
        assert.equal((await produce(connection, 'durable', partition, keyedBatch(1))).baseOffset, 6n);
        connection.close();
      }
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
