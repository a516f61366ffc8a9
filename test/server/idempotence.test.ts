/**
 * Idempotent produce on the partition leader, over TCP (the clients' InitProducerId aside: the
 * batches here carry a producer id of their own): a retry is answered with its original offset
 * and written once, a gap is OUT_OF_ORDER_SEQUENCE_NUMBER, an old epoch INVALID_PRODUCER_EPOCH;
 * a new leader after a kill, and the same node after a restart, still recognise retries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { encodeRecordBatch } from '../../src/protocol/records/records.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { RawConnection } from '../helpers/raw-client.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';
import { produce, readAll } from './broker-fixtures.js';

const settings = { 'broker.session.timeout.ms': 1000, 'broker.heartbeat.interval.ms': 100, 'default.replication.factor': 3, 'min.insync.replicas': 2 };

function idempotentBatch(producerId: number, producerEpoch: number, baseSequence: number, count: number, label: string): Buffer {
  return encodeRecordBatch({ producerId, producerEpoch, baseSequence, timestampMs: Date.now(), records: Array.from({ length: count }, (_, index) => ({ key: 'k', value: `${label}-${index}` })) });
}

async function leaderOf(broker: BrokerHandle, topic: string): Promise<{ leaderId: number; connection: RawConnection }> {
  for (let attempt = 0; attempt < 500; attempt++) {
    for (const node of broker.nodes) {
      let connection: RawConnection;
      try {
        connection = await RawConnection.open(node.host, node.port);
      } catch {
        continue;
      }
      const response = await connection.request<{ topics: Array<{ partitions: Array<{ leaderId: number; isrNodes: number[] }> }> }>(ApiKey.Metadata, 8, { topics: [{ name: topic }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
      connection.close();
      const partition = response.topics[0]?.partitions[0];
      const live = broker.nodes.list().filter((entry) => entry.state !== 'killed').map((entry) => entry.id);
      if (partition !== undefined && partition.leaderId >= 0 && live.includes(partition.leaderId) && partition.isrNodes.length >= 2) {
        const leader = broker.nodes.find((entry) => entry.nodeId === partition.leaderId)!;
        return { leaderId: partition.leaderId, connection: await RawConnection.open(leader.host, leader.port) };
      }
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no live leader for ${topic}`);
}

test('retries get their original offsets and are written once; gaps and old epochs are refused; a new leader and a restarted node still deduplicate', { timeout: 90_000 }, async () => {
  const dataDir = temporaryDirectory();
  let broker = await startBroker({ nodes: 3, dataDir, faultInjection: true, logLevel: 'silent', broker: settings });
  try {
    let { leaderId, connection } = await leaderOf(broker, 'idem');
    const first = idempotentBatch(4000, 0, 0, 5, 'a');
    assert.deepEqual(pick(await produce(connection, 'idem', 0, first, -1)), [ErrorCode.NONE, 0n]);
    assert.deepEqual(pick(await produce(connection, 'idem', 0, idempotentBatch(4000, 0, 0, 5, 'a'), -1)), [ErrorCode.NONE, 0n], 'a retry: its original offset');
    assert.deepEqual(pick(await produce(connection, 'idem', 0, idempotentBatch(4000, 0, 5, 3, 'b'), -1)), [ErrorCode.NONE, 5n]);
    assert.equal((await produce(connection, 'idem', 0, idempotentBatch(4000, 0, 20, 1, 'gap'), -1)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.deepEqual(pick(await produce(connection, 'idem', 0, idempotentBatch(4000, 1, 0, 2, 'c'), -1)), [ErrorCode.NONE, 8n], 'an epoch bump starts again at sequence 0');
    assert.equal((await produce(connection, 'idem', 0, idempotentBatch(4000, 0, 8, 1, 'old'), -1)).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.deepEqual(pick(await produce(connection, 'idem', 0, idempotentBatch(4001, 0, 0, 1, 'other'), -1)), [ErrorCode.NONE, 10n], 'another producer has its own sequence');
    connection.close();

    await broker.nodes.kill(leaderId);
    ({ leaderId, connection } = await leaderOf(broker, 'idem'));
    assert.deepEqual(pick(await produce(connection, 'idem', 0, idempotentBatch(4000, 1, 0, 2, 'c'), -1)), [ErrorCode.NONE, 8n], 'the new leader recognises a retry the old one took');
    assert.deepEqual(pick(await produce(connection, 'idem', 0, idempotentBatch(4000, 1, 2, 1, 'd'), -1)), [ErrorCode.NONE, 11n]);
    connection.close();
    await broker.stop();

    broker = await startBroker({ nodes: 3, dataDir, faultInjection: true, logLevel: 'silent', broker: settings });
    ({ leaderId, connection } = await leaderOf(broker, 'idem'));
    assert.deepEqual(pick(await produce(connection, 'idem', 0, idempotentBatch(4000, 1, 2, 1, 'd'), -1)), [ErrorCode.NONE, 11n], 'after a restart, still a retry');
    assert.equal((await produce(connection, 'idem', 0, idempotentBatch(4000, 1, 9, 1, 'gap'), -1)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const values = (await readAll(connection, 'idem')).map((record) => record.value);
    assert.deepEqual(values, ['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'b-0', 'b-1', 'b-2', 'c-0', 'c-1', 'other-0', 'd-0'], 'every batch once, in order');
    connection.close();
  } finally {
    await broker.stop();
  }
});

function pick(response: { errorCode: number; baseOffset: bigint }): [number, bigint] {
  return [response.errorCode, response.baseOffset];
}
