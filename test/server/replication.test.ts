/**
 * Partition replication between the node workers, over real TCP: an RF 3 topic's followers
 * fetch from its leader over the node-to-node links, acks=all waits for the ISR, the ISR and the
 * high watermark follow node kills and restarts, and a new leader has every acknowledged record.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { RawConnection } from '../helpers/raw-client.js';
import { fetchPartition, keyedBatch, produce, readAll } from './broker-fixtures.js';

let broker: BrokerHandle;

before(async () => {
  broker = await startBroker({ nodes: 3, faultInjection: true, logLevel: 'silent', broker: { 'broker.session.timeout.ms': 1000, 'broker.heartbeat.interval.ms': 100 } });
});

after(async () => {
  await broker?.stop();
});

interface ReplicatedPartition {
  partitionIndex: number;
  leaderId: number;
  leaderEpoch: number;
  replicaNodes: number[];
  isrNodes: number[];
  errorCode: number;
}

/** A connection to the first node that accepts one (killed nodes refuse). */
async function anyNode(): Promise<RawConnection> {
  for (const node of broker.nodes) {
    try {
      return await RawConnection.open(node.host, node.port);
    } catch {
      // killed: try the next
    }
  }
  throw new Error('no node accepts connections');
}

async function metadata(topic: string): Promise<ReplicatedPartition> {
  const connection = await anyNode();
  try {
    const response = await connection.request<{ topics: Array<{ partitions: ReplicatedPartition[] }> }>(ApiKey.Metadata, 8, {
      topics: [{ name: topic }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    return response.topics[0]!.partitions[0]!;
  } finally {
    connection.close();
  }
}

async function createReplicated(topic: string, minInsyncReplicas: number): Promise<void> {
  const connection = await anyNode();
  try {
    const response = await connection.request<{ topics: Array<{ errorCode: number; errorMessage: string | null }> }>(ApiKey.CreateTopics, 4, {
      topics: [{ name: topic, numPartitions: 1, replicationFactor: 3, assignments: [], configs: [{ name: 'min.insync.replicas', value: String(minInsyncReplicas) }] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.equal(response.topics[0]!.errorCode, ErrorCode.NONE, response.topics[0]!.errorMessage ?? '');
  } finally {
    connection.close();
  }
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function openNode(nodeId: number): Promise<RawConnection> {
  const node = broker.nodes.find((entry) => entry.nodeId === nodeId)!;
  return RawConnection.open(node.host, node.port);
}

/** Every value of the partition up to its high watermark, read from the leader. */
async function valuesOf(topic: string, leaderId: number): Promise<string[]> {
  const connection = await openNode(leaderId);
  try {
    return (await readAll(connection, topic)).map((record) => record.value ?? '');
  } finally {
    connection.close();
  }
}

test('an RF 3 topic: acks=all completes once the followers have the batch; the new leader after a kill has every acknowledged record', { timeout: 60_000 }, async () => {
  await createReplicated('rf3', 2);
  const created = await until('a full ISR', async () => {
    const partition = await metadata('rf3');
    return partition.leaderId >= 0 && partition.isrNodes.length === 3 ? partition : null;
  });
  assert.deepEqual([...created.replicaNodes].sort(), [0, 1, 2]);
  const leader = await openNode(created.leaderId);
  const acknowledged: string[] = [];
  for (let round = 0; round < 20; round++) {
    const batch = keyedBatch(10, `r${round}`);
    const response = await produce(leader, 'rf3', 0, batch, -1);
    assert.equal(response.errorCode, ErrorCode.NONE);
    assert.equal(response.baseOffset, BigInt(round * 10));
    for (let index = 0; index < 10; index++) acknowledged.push(`r${round}-${index}`);
  }
  leader.close();
  const highWatermark = (await fetchPartition(await openNode(created.leaderId), 'rf3', 0, 0n)).highWatermark;
  assert.equal(highWatermark, 200n, 'the high watermark covers every acks=all write');

  await broker.nodes.kill(created.leaderId);
  const next = await until('a new leader', async () => {
    const partition = await metadata('rf3');
    return partition.leaderId >= 0 && partition.leaderId !== created.leaderId ? partition : null;
  });
  assert.ok(next.leaderEpoch > created.leaderEpoch, 'a new leader epoch');
  assert.ok(!next.isrNodes.includes(created.leaderId), 'the killed node left the ISR');
  const values = await until('the new leader to expose the acknowledged records', async () => {
    const read = await valuesOf('rf3', next.leaderId);
    return read.length >= acknowledged.length ? read : null;
  });
  assert.deepEqual(values, acknowledged, 'every acknowledged record, once, in order');

  // One node down, min.insync.replicas=2: acks=all goes on.
  const newLeader = await openNode(next.leaderId);
  assert.equal((await produce(newLeader, 'rf3', 0, keyedBatch(5, 'after'), -1)).errorCode, ErrorCode.NONE);
  newLeader.close();

  await broker.nodes.restart(created.leaderId);
  const healed = await until('the restarted node back in the ISR', async () => {
    const partition = await metadata('rf3');
    return partition.isrNodes.length === 3 ? partition : null;
  });
  assert.ok(healed.isrNodes.includes(created.leaderId));
});

// Five nodes: with three, two down would also take the metadata quorum's majority, and with it
// every ISR change (acks=all would then time out instead, as in a three-node KRaft cluster).
test('two of an RF 3 partition\'s nodes down: acks=all fails with NOT_ENOUGH_REPLICAS while acks=1 goes on', { timeout: 60_000 }, async () => {
  await broker.stop();
  broker = await startBroker({ nodes: 5, faultInjection: true, logLevel: 'silent', broker: { 'broker.session.timeout.ms': 1000, 'broker.heartbeat.interval.ms': 100 } });
  await createReplicated('rf3-min2', 2);
  const created = await until('a full ISR', async () => {
    const partition = await metadata('rf3-min2');
    return partition.leaderId >= 0 && partition.isrNodes.length === 3 ? partition : null;
  });
  const followers = created.replicaNodes.filter((node) => node !== created.leaderId);
  for (const follower of followers) await broker.nodes.kill(follower);
  await until('an ISR of the leader alone', async () => {
    const partition = await metadata('rf3-min2');
    return partition.isrNodes.length === 1 ? partition : null;
  });
  const leader = await openNode(created.leaderId);
  assert.equal((await produce(leader, 'rf3-min2', 0, keyedBatch(3, 'all'), -1)).errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
  const single = await produce(leader, 'rf3-min2', 0, keyedBatch(3, 'one'), 1);
  assert.equal(single.errorCode, ErrorCode.NONE);
  leader.close();
  for (const follower of followers) await broker.nodes.restart(follower);
  await until('the full ISR again', async () => {
    const partition = await metadata('rf3-min2');
    return partition.isrNodes.length === 3 ? partition : null;
  });
  const again = await openNode(created.leaderId);
  assert.equal((await produce(again, 'rf3-min2', 0, keyedBatch(3, 'all-again'), -1)).errorCode, ErrorCode.NONE);
  again.close();
});
