/**
 * InitProducerId over TCP on a 3-node broker: every listener hands out its own producer ids
 * (epoch 0, in every version 0-4), and after the controller's node is killed the blocks the
 * new controller allocates never repeat an id handed out before.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { Limits } from '../../src/runtime/limits.js';
import { RawConnection } from '../helpers/raw-client.js';

interface InitProducerIdResponse {
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
}

let broker: BrokerHandle;

before(async () => {
  broker = await startBroker({ nodes: 3, faultInjection: true, logLevel: 'silent' });
});

after(async () => {
  await broker?.stop();
});

function openNode(nodeId: number): Promise<RawConnection> {
  const { host, port } = broker.nodes.find((node) => node.nodeId === nodeId)!;
  return RawConnection.open(host, port);
}

const idempotent = { transactionalId: null, transactionTimeoutMs: 60_000 };

function initProducerId(connection: RawConnection, version: number, body: Record<string, unknown> = idempotent): Promise<InitProducerIdResponse> {
  return connection.request<InitProducerIdResponse>(ApiKey.InitProducerId, version, body);
}

/** A new producer id, retrying COORDINATOR_LOAD_IN_PROGRESS as clients do (a controller election). */
async function newProducerId(connection: RawConnection, version = 1, body: Record<string, unknown> = idempotent): Promise<bigint> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await initProducerId(connection, version, body);
    if (response.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    assert.equal(response.errorCode, ErrorCode.NONE);
    assert.equal(response.producerEpoch, 0, 'a new producer id starts at epoch 0');
    return response.producerId;
  }
}

async function controllerId(connection: RawConnection): Promise<number> {
  const response = await connection.request<{ controllerId: number }>(ApiKey.Metadata, 8, { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  return response.controllerId;
}

const blockOf = (producerId: bigint) => Number(producerId) / Limits.producerIdBlockSize | 0;

test('InitProducerId is advertised at versions 0-4 on every listener', async () => {
  for (const nodeId of [0, 1, 2]) {
    const connection = await openNode(nodeId);
    const response = await connection.request<{ apiKeys: Array<{ apiKey: number; minVersion: number; maxVersion: number }> }>(ApiKey.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
    assert.deepEqual(response.apiKeys.find((range) => range.apiKey === ApiKey.InitProducerId), { apiKey: 22, minVersion: 0, maxVersion: 4 });
    connection.close();
  }
});

test('every listener hands out distinct producer ids with epoch 0, from a block of its own, in versions 0-4', async () => {
  const seen = new Set<bigint>();
  const blocksByNode = new Map<number, Set<number>>();
  for (const nodeId of [0, 1, 2]) {
    const connection = await openNode(nodeId);
    const blocks = new Set<number>();
    const bodies: Array<[number, Record<string, unknown>]> = [
      [0, idempotent],
      [1, idempotent],
      [2, idempotent],
      [3, { ...idempotent, producerId: -1n, producerEpoch: -1 }],
      // platformatic sends 0 / 0; KIP-360's current id and epoch do not matter without a transactional id (Kafka: a new id).
      [4, { ...idempotent, producerId: 0n, producerEpoch: 0 }],
      [4, { ...idempotent, producerId: 5n, producerEpoch: 7 }],
    ];
    for (const [version, body] of bodies) {
      const producerId = await newProducerId(connection, version, body);
      assert.ok(!seen.has(producerId), `producer id ${producerId} handed out twice`);
      seen.add(producerId);
      blocks.add(blockOf(producerId));
    }
    blocksByNode.set(nodeId, blocks);
    connection.close();
  }
  assert.equal(seen.size, 18);
  const allBlocks = [...blocksByNode.values()].flatMap((blocks) => [...blocks]);
  assert.equal(new Set(allBlocks).size, allBlocks.length, 'no block is shared by two nodes');
});

test('a transactional id gets UNSUPPORTED_VERSION (no transaction coordinator yet); an id without an epoch gets INVALID_REQUEST', async () => {
  const connection = await openNode(1);
  for (const version of [0, 1, 2, 3, 4]) {
    const response = await initProducerId(connection, version, { transactionalId: 'txn-1', transactionTimeoutMs: 60_000 });
    assert.deepEqual([response.errorCode, response.producerId, response.producerEpoch], [ErrorCode.UNSUPPORTED_VERSION, -1n, -1], `v${version}`);
  }
  assert.equal((await initProducerId(connection, 1, { transactionalId: '', transactionTimeoutMs: 60_000 })).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal((await initProducerId(connection, 3, { ...idempotent, producerId: 12n, producerEpoch: -1 })).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal((await initProducerId(connection, 4, { ...idempotent, producerId: -1n, producerEpoch: 0 })).errorCode, ErrorCode.INVALID_REQUEST);
  connection.close();
});

test('after the controller node is killed, new producer id blocks never repeat an id handed out before', async () => {
  const probe = await openNode(0);
  const killed = await controllerId(probe);
  probe.close();
  const survivors = [0, 1, 2].filter((nodeId) => nodeId !== killed);
  const before = new Set<bigint>();
  for (const nodeId of [0, 1, 2]) {
    const connection = await openNode(nodeId);
    for (let index = 0; index < 5; index++) before.add(await newProducerId(connection));
    connection.close();
  }
  const highestBefore = [...before].reduce((a, b) => (a > b ? a : b));
  await broker.nodes.kill(killed);
  const after = new Set<bigint>();
  // More than a block per node: each survivor must get new blocks from the new controller.
  for (const nodeId of survivors) {
    const connection = await openNode(nodeId);
    for (let index = 0; index < Limits.producerIdBlockSize + 100; index++) {
      const producerId = await newProducerId(connection, index % 2 === 0 ? 1 : 4);
      assert.ok(!before.has(producerId) && !after.has(producerId), `producer id ${producerId} handed out twice`);
      after.add(producerId);
    }
    connection.close();
  }
  const check = await openNode(survivors[0]!);
  const newController = await controllerId(check);
  check.close();
  assert.notEqual(newController, killed, 'a new controller was elected');
  assert.ok([...after].some((producerId) => blockOf(producerId) > blockOf(highestBefore)), 'blocks allocated after the failover');
});
