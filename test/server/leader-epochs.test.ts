/**
 * KIP-320 over real TCP on a three-node broker: OffsetForLeaderEpoch answers from the leader's
 * leader-epoch cache (the current epoch ends at the log end offset, an older one where the next
 * began, across a leader change), and current_leader_epoch fences stale clients in
 * OffsetForLeaderEpoch and Fetch (FENCED_LEADER_EPOCH) and flags future ones
 * (UNKNOWN_LEADER_EPOCH); a follower's listener answers NOT_LEADER_OR_FOLLOWER.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { RawConnection } from '../helpers/raw-client.js';
import { anyNode as anyLiveNode, createReplicatedTopic, fetchBody, keyedBatch, openNode as openNodeOf, produce, replicatedPartition, until, type FetchPartitionResponse } from './broker-fixtures.js';

const topic = 'epochs';
const recordsPerBatch = 5;

let broker: BrokerHandle;

before(async () => {
  broker = await startBroker({ nodes: 3, faultInjection: true, logLevel: 'silent', broker: { 'broker.session.timeout.ms': 1000, 'broker.heartbeat.interval.ms': 100 } });
});

after(async () => {
  await broker?.stop();
});

/** [errorCode, leaderEpoch, endOffset] of one partition's OffsetForLeaderEpoch answer. */
type EpochAnswer = [number, number, bigint];

const openNode = (nodeId: number) => openNodeOf(broker, nodeId);
const anyNode = () => anyLiveNode(broker);
const metadata = () => replicatedPartition(broker, topic);
const createReplicated = () => createReplicatedTopic(broker, topic, 2);

async function withConnection<T>(open: Promise<RawConnection>, use: (connection: RawConnection) => Promise<T>): Promise<T> {
  const connection = await open;
  try {
    return await use(connection);
  } finally {
    connection.close();
  }
}

async function offsetForLeaderEpoch(nodeId: number, leaderEpoch: number, currentLeaderEpoch: number, version = 4, topicName = topic): Promise<EpochAnswer> {
  return withConnection(openNode(nodeId), async (connection) => {
    const response = await connection.request<{ topics: Array<{ topic: string; partitions: Array<{ errorCode: number; partition: number; leaderEpoch: number; endOffset: bigint }> }> }>(
      ApiKey.OffsetForLeaderEpoch,
      version,
      { replicaId: -1, topics: [{ topic: topicName, partitions: [{ partition: 0, currentLeaderEpoch, leaderEpoch }] }] },
    );
    assert.equal(response.topics[0]!.topic, topicName);
    const answer = response.topics[0]!.partitions[0]!;
    assert.equal(answer.partition, 0);
    return [answer.errorCode, answer.leaderEpoch, answer.endOffset];
  });
}

async function fetchAtEpoch(nodeId: number, currentLeaderEpoch: number): Promise<FetchPartitionResponse> {
  const body = fetchBody(topic, 0, 0n) as { topics: Array<{ partitions: Array<{ currentLeaderEpoch: number }> }> };
  body.topics[0]!.partitions[0]!.currentLeaderEpoch = currentLeaderEpoch;
  return withConnection(openNode(nodeId), async (connection) => {
    const response = await connection.request<{ responses: Array<{ partitions: FetchPartitionResponse[] }> }>(ApiKey.Fetch, 11, body);
    return response.responses[0]!.partitions[0]!;
  });
}

/** Produces `batches` acks=all batches to the leader, retrying while it is still taking office. */
async function produceBatches(leaderId: number, batches: number, label: string): Promise<void> {
  await withConnection(openNode(leaderId), async (connection) => {
    for (let batch = 0; batch < batches; batch++) {
      await until(`batch ${label}${batch} acknowledged`, async () => {
        const response = await produce(connection, topic, 0, keyedBatch(recordsPerBatch, `${label}${batch}`), -1);
        return response.errorCode === ErrorCode.NONE ? response : null;
      });
    }
  });
}

test('OffsetForLeaderEpoch is advertised at versions 0-4', async () => {
  const response = await withConnection(anyNode(), (connection) =>
    connection.request<{ apiKeys: Array<{ apiKey: number; minVersion: number; maxVersion: number }> }>(ApiKey.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' }),
  );
  assert.deepEqual(response.apiKeys.find((range) => range.apiKey === ApiKey.OffsetForLeaderEpoch), { apiKey: 23, minVersion: 0, maxVersion: 4 });
});

test('OffsetForLeaderEpoch and Fetch current_leader_epoch on an RF 3 topic, before and after a leader change', { timeout: 60_000 }, async () => {
  await createReplicated();
  const first = await until('a full ISR', async () => {
    const partition = await metadata();
    return partition.leaderId >= 0 && partition.isrNodes.length === 3 ? partition : null;
  });
  const firstEpoch = first.leaderEpoch;
  await produceBatches(first.leaderId, 3, 'a');
  const firstEnd = BigInt(3 * recordsPerBatch);

  // The current epoch ends at the leader's log end offset, at every version (v0 has no epoch).
  assert.deepEqual(await offsetForLeaderEpoch(first.leaderId, firstEpoch, firstEpoch), [ErrorCode.NONE, firstEpoch, firstEnd]);
  assert.deepEqual(await offsetForLeaderEpoch(first.leaderId, firstEpoch, -1, 2), [ErrorCode.NONE, firstEpoch, firstEnd]);
  assert.deepEqual(await offsetForLeaderEpoch(first.leaderId, firstEpoch, -1, 0), [ErrorCode.NONE, -1, firstEnd]);
  // An epoch above every one in the log: Kafka's undefined answer.
  assert.deepEqual(await offsetForLeaderEpoch(first.leaderId, firstEpoch + 10, -1), [ErrorCode.NONE, -1, -1n]);
  // A follower's listener: not the leader (its own epoch matches, so no fencing error).
  const follower = first.replicaNodes.find((node) => node !== first.leaderId)!;
  assert.deepEqual(await offsetForLeaderEpoch(follower, firstEpoch, firstEpoch), [ErrorCode.NOT_LEADER_OR_FOLLOWER, -1, -1n]);
  assert.deepEqual(await offsetForLeaderEpoch(follower, firstEpoch, -1), [ErrorCode.NOT_LEADER_OR_FOLLOWER, -1, -1n]);
  assert.deepEqual(await offsetForLeaderEpoch(first.leaderId, 0, -1, 4, 'no-such-topic'), [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1, -1n]);

  await broker.nodes.kill(first.leaderId);
  const second = await until('a new leader', async () => {
    const partition = await metadata();
    return partition.leaderId >= 0 && partition.leaderId !== first.leaderId ? partition : null;
  });
  const secondEpoch = second.leaderEpoch;
  assert.ok(secondEpoch > firstEpoch, 'a new leader epoch');
  await produceBatches(second.leaderId, 2, 'b');
  const secondEnd = firstEnd + BigInt(2 * recordsPerBatch);

  // The older epoch ends where the new leader's epoch began; the current one at the log end.
  assert.deepEqual(await offsetForLeaderEpoch(second.leaderId, firstEpoch, secondEpoch), [ErrorCode.NONE, firstEpoch, firstEnd]);
  assert.deepEqual(await offsetForLeaderEpoch(second.leaderId, secondEpoch, secondEpoch), [ErrorCode.NONE, secondEpoch, secondEnd]);
  // A client still on the first epoch is fenced; one ahead of the broker is told the epoch is unknown.
  assert.deepEqual(await offsetForLeaderEpoch(second.leaderId, firstEpoch, firstEpoch), [ErrorCode.FENCED_LEADER_EPOCH, -1, -1n]);
  assert.deepEqual(await offsetForLeaderEpoch(second.leaderId, secondEpoch, secondEpoch + 1), [ErrorCode.UNKNOWN_LEADER_EPOCH, -1, -1n]);
  // A surviving follower fences a stale epoch before it says it is not the leader, as Kafka does.
  const survivor = second.replicaNodes.find((node) => node !== first.leaderId && node !== second.leaderId)!;
  assert.deepEqual(await offsetForLeaderEpoch(survivor, firstEpoch, firstEpoch), [ErrorCode.FENCED_LEADER_EPOCH, -1, -1n]);
  assert.deepEqual(await offsetForLeaderEpoch(survivor, secondEpoch, secondEpoch), [ErrorCode.NOT_LEADER_OR_FOLLOWER, -1, -1n]);

  // Fetch v11 current_leader_epoch, answered per partition without records.
  const stale = await fetchAtEpoch(second.leaderId, firstEpoch);
  assert.equal(stale.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  assert.equal(stale.records, null);
  assert.equal((await fetchAtEpoch(second.leaderId, secondEpoch + 1)).errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
  assert.equal((await fetchAtEpoch(survivor, firstEpoch)).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  const current = await fetchAtEpoch(second.leaderId, secondEpoch);
  assert.equal(current.errorCode, ErrorCode.NONE);
  assert.equal(current.highWatermark, secondEnd);
  assert.equal((await fetchAtEpoch(second.leaderId, -1)).errorCode, ErrorCode.NONE);
});
