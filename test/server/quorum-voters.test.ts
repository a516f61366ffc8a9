/**
 * controller.quorum.voters naming a subset of the nodes, over TCP: 5 nodes, voters 0-2, nodes 3
 * and 4 observers. The controller is always a voter; observers lead partitions (their roles
 * come from the metadata log they follow); losing observers costs the quorum nothing, losing
 * two voters stops admin writes (retriably) though three nodes live.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, defaultConfig, validateConfig } from '../../src/config/broker-config.js';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { Broker } from '../../src/server/broker.js';
import { RawConnection } from '../helpers/raw-client.js';
import { keyedBatch, produce, type MetadataPartition } from './broker-fixtures.js';

const VOTERS = [0, 1, 2];
const OBSERVERS = [3, 4];

function openNode(broker: BrokerHandle, nodeId: number): Promise<RawConnection> {
  const node = broker.nodes.find((entry) => entry.nodeId === nodeId)!;
  return RawConnection.open(node.host, node.port);
}

async function metadataVia(broker: BrokerHandle, nodeId: number, topics: string[] | null): Promise<{ controllerId: number; topics: Array<{ name: string; partitions: MetadataPartition[] }> }> {
  const connection = await openNode(broker, nodeId);
  try {
    return await connection.request(ApiKey.Metadata, 8, { topics: topics === null ? null : topics.map((name) => ({ name })), allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  } finally {
    connection.close();
  }
}

async function createTopicVia(broker: BrokerHandle, nodeId: number, name: string, numPartitions: number): Promise<number> {
  const connection = await openNode(broker, nodeId);
  try {
    const response = await connection.request<{ topics: Array<{ errorCode: number }> }>(ApiKey.CreateTopics, 4, {
      topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    return response.topics[0]!.errorCode;
  } finally {
    connection.close();
  }
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('voters 0,1,2 of 5 nodes: a voter controls, observers lead partitions, losing observers is harmless, losing two voters stops admin writes', async () => {
  const broker = await startBroker({ nodes: 5, faultInjection: true, adminPort: 0, logLevel: 'silent', broker: { 'controller.quorum.voters': '0,1,2', 'broker.heartbeat.interval.ms': 100, 'broker.session.timeout.ms': 1000 } });
  try {
    for (const nodeId of [0, 1, 2, 3, 4]) assert.ok(VOTERS.includes((await metadataVia(broker, nodeId, null)).controllerId), `controller named via n${nodeId}`);
    const roles = broker.nodes.list();
    for (const nodeId of OBSERVERS) assert.equal(roles[nodeId]!.role, 'observer', `n${nodeId} role`);
    assert.ok(roles.filter((node) => node.controller).every((node) => VOTERS.includes(node.id)));
    assert.equal(roles.filter((node) => node.role === 'leader').length, 1);
    const adminNodes = (await (await fetch(`http://${broker.adminAddress}/nodes`)).json()) as { controllerId: number; nodes: Array<{ id: number; role: string }> };
    assert.deepEqual(adminNodes.nodes.filter((node) => node.role === 'observer').map((node) => node.id), OBSERVERS, 'GET /nodes');
    assert.ok(VOTERS.includes(adminNodes.controllerId));

    // Partitions spread over all five nodes; the observers open theirs from the log they follow.
    assert.equal(await createTopicVia(broker, 3, 'spread', 10), ErrorCode.NONE);
    const partitions = (await metadataVia(broker, 4, ['spread'])).topics[0]!.partitions;
    for (const nodeId of OBSERVERS) {
      const led = partitions.find((partition) => partition.leaderId === nodeId);
      assert.ok(led !== undefined, `n${nodeId} leads a partition`);
      const connection = await openNode(broker, nodeId);
      try {
        const produced = await produce(connection, 'spread', led.partitionIndex, keyedBatch(3));
        assert.equal(produced.errorCode, ErrorCode.NONE, `produce to n${nodeId}`);
      } finally {
        connection.close();
      }
    }

    // Both observers gone: the three voters still elect and commit.
    for (const nodeId of OBSERVERS) await broker.nodes.kill(nodeId);
    assert.equal(await createTopicVia(broker, 0, 'without-observers', 1), ErrorCode.NONE);
    for (const nodeId of OBSERVERS) await broker.nodes.restart(nodeId);
    await until('observers back', () => broker.nodes.list().filter((node) => node.role === 'observer').length === 2);

    // The controller and one more voter gone: three nodes live, but one voter of three is no majority.
    const controller = broker.nodes.list().find((node) => node.controller)!.id;
    const secondVoter = VOTERS.find((nodeId) => nodeId !== controller)!;
    await broker.nodes.kill(controller);
    await broker.nodes.kill(secondVoter);
    const errorCode = await createTopicVia(broker, 3, 'no-majority', 1);
    assert.ok(errorCode === ErrorCode.NOT_CONTROLLER || errorCode === ErrorCode.REQUEST_TIMED_OUT, `error ${errorCode}`);
    const live = broker.nodes.list().filter((node) => node.state !== 'killed');
    assert.equal(live.length, 3);
    assert.ok(live.every((node) => node.role !== 'leader' && !node.controller), 'no node leads without a voter majority');
    const named = (await metadataVia(broker, 4, null)).controllerId;
    assert.ok(VOTERS.includes(named), `Metadata names voter ${named}`);

    // A voter back: a majority again, and the write goes through.
    await broker.nodes.restart(controller);
    await until('a controller', () => broker.nodes.list().some((node) => node.controller));
    const retried = await createTopicVia(broker, 3, 'no-majority', 1);
    assert.ok(retried === ErrorCode.NONE || (retried === ErrorCode.TOPIC_ALREADY_EXISTS && errorCode === ErrorCode.REQUEST_TIMED_OUT), `retry: error ${retried}`);
  } finally {
    await broker.stop();
  }
});

test('a data dir records its voters: a restart with other voters is refused with what to do; observers may be added', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'minikafka-voters-'));
  const config = (nodes: number, voters: string | null) =>
    validateConfig({ dataDir, nodes, port: 0, logLevel: 'silent', broker: voters === null ? {} : { 'controller.quorum.voters': voters } }, defaultConfig(), 'test');
  try {
    let broker = await Broker.start(config(3, null));
    await broker.stop();
    await assert.rejects(Broker.start(config(5, '0,1,2,3,4')), (error: unknown) => error instanceof ConfigError && /written by the voters 0,1,2.*membership change.*"controller.quorum.voters": "0,1,2"/.test(error.message));
    await assert.rejects(Broker.start(config(3, '0,1')), (error: unknown) => error instanceof ConfigError && /is 0,1 but the data dir .* was written by the voters 0,1,2/.test(error.message));
    // Same voters, two more nodes as observers: allowed (observers never count toward a majority).
    broker = await Broker.start(config(5, '0,1,2'));
    try {
      assert.ok(VOTERS.includes(broker.controllerId));
      await until('observers', () => OBSERVERS.every((nodeId) => broker.quorum.nodeView(nodeId)?.role === 'observer'));
    } finally {
      await broker.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
