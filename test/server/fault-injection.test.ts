/**
 * Fault injection over real TCP: the admin endpoint's routes and error codes, kill and restart
 * (port refused, then the same port serving the node's partitions again), pause (requests wait
 * until resume) and network partitions, plus the embedded `broker.nodes` verbs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { startBroker, NodeFaultError, type BrokerHandle } from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { RawConnection } from '../helpers/raw-client.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';
import { createTopic, fetchBody, fetchPartition, keyedBatch, partitionsOf, produce } from './broker-fixtures.js';

let broker: BrokerHandle;

before(async () => {
  broker = await startBroker({ nodes: 3, adminPort: 0, faultInjection: true, logLevel: 'silent' });
});

after(async () => {
  await broker?.stop();
});

async function admin(method: string, path: string, body?: string, target: BrokerHandle = broker): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://${target.adminAddress}${path}`, { method, body });
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  return { status: response.status, body: await response.json() };
}

function nodeAddress(nodeId: number): { host: string; port: number } {
  return broker.nodes.find((node) => node.nodeId === nodeId)!;
}

function openNode(nodeId: number): Promise<RawConnection> {
  const { host, port } = nodeAddress(nodeId);
  return RawConnection.open(host, port);
}

async function metadataBrokers(connection: RawConnection): Promise<number[]> {
  const response = await connection.request<{ brokers: Array<{ nodeId: number }> }>(ApiKey.Metadata, 8, { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  return response.brokers.map((entry) => entry.nodeId).sort();
}

async function apiVersionsError(connection: RawConnection): Promise<number> {
  return (await connection.request<{ errorCode: number }>(ApiKey.ApiVersions, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' })).errorCode;
}

/** The partition of `topic` led by `nodeId`. */
async function partitionLedBy(topic: string, nodeId: number): Promise<number> {
  const partition = (await partitionsOf(broker, topic)).find((entry) => entry.leaderId === nodeId);
  assert.ok(partition !== undefined, `node ${nodeId} leads a partition of ${topic}`);
  return partition.partitionIndex;
}

function refusesConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

test('GET /health and GET /nodes describe every node', async () => {
  const health = await admin('GET', '/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'ok');
  const nodes = await admin('GET', '/nodes');
  assert.equal(nodes.status, 200);
  assert.equal(nodes.body.controllerId, 0);
  assert.deepEqual(nodes.body.partitions, []);
  assert.deepEqual(
    nodes.body.nodes.map((node: any) => [node.id, node.listener, node.state, node.controller]),
    broker.nodes.map((node) => [node.nodeId, `${node.host}:${node.port}`, 'running', node.nodeId === 0]),
  );
  // The Raft view: one leader, the controller, in a term every node has reached or will.
  const leaders = nodes.body.nodes.filter((node: any) => node.role === 'leader');
  assert.deepEqual(leaders.map((node: any) => node.id), [nodes.body.controllerId]);
  assert.ok(leaders[0].term >= 1 && leaders[0].commitIndex >= 1);
  for (const node of nodes.body.nodes) assert.ok(Number.isInteger(node.term) && Number.isInteger(node.commitIndex) && typeof node.role === 'string');
  assert.deepEqual(broker.nodes.list(), nodes.body.nodes, 'the embedded list matches the endpoint');
});

test('unknown routes, wrong methods, bad ids and bad bodies get clear JSON errors', async () => {
  const cases: Array<[string, string, string | undefined, number, RegExp]> = [
    ['GET', '/no-such-route', undefined, 404, /no route GET \/no-such-route/],
    ['POST', '/nodes/1/explode', undefined, 404, /no route/],
    ['GET', '/nodes/1/kill', undefined, 405, /takes POST/],
    ['POST', '/health', undefined, 405, /takes GET/],
    ['POST', '/nodes/abc/kill', undefined, 400, /node id must be a non-negative integer, got "abc"/],
    ['POST', '/nodes/7/pause', undefined, 400, /no node 7: this broker runs nodes 0-2/],
    ['POST', '/partition', '{not json', 400, /not valid JSON/],
    ['POST', '/partition', '{"groups": "0,1"}', 400, /\{"groups": \[\[0\], \[1, 2\]\]\}/],
    ['POST', '/partition', '{"groups": [[0], [1]]}', 400, /missing: 2/],
    ['POST', '/nodes/0/restart', undefined, 409, /node 0 is running; only a killed node can be restarted/],
    ['POST', '/nodes/0/resume', undefined, 409, /node 0 is not paused/],
  ];
  for (const [method, path, body, status, message] of cases) {
    const response = await admin(method, path, body);
    assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(response.body)}`);
    assert.match(response.body.error, message, `${method} ${path}`);
  }
});

test('kill: the port refuses, clients are cut, others serve; restart: same port, same data, serving again', { timeout: 20_000 }, async () => {
  assert.equal(await createTopic(broker, 'killed', 3), ErrorCode.NONE);
  const partition = await partitionLedBy('killed', 1);
  const victim = await openNode(1);
  assert.equal((await produce(victim, 'killed', partition, keyedBatch(3, 'before'))).errorCode, ErrorCode.NONE);
  // A long poll parked inside node 1: killing the node must not leave it hanging.
  const parked = victim.request(ApiKey.Fetch, 11, fetchBody('killed', partition, 3n, { maxWaitMs: 30_000 }), 30_000);
  const parkedOutcome = parked.then(() => 'answered', (error: Error) => error.message);
  const idle = await openNode(1);
  assert.equal(await apiVersionsError(idle), ErrorCode.NONE);

  const killed = await admin('POST', '/nodes/1/kill');
  assert.equal(killed.status, 200, JSON.stringify(killed.body));
  assert.equal(killed.body.state, 'killed');
  assert.equal(await parkedOutcome, 'connection closed before a response arrived');
  assert.equal(await idle.waitForClose(5_000), true, 'an idle client of the killed node is reset');
  const { host, port } = nodeAddress(1);
  assert.equal(await refusesConnections(host, port), true, 'the killed listener refuses connections');
  for (const nodeId of [0, 2]) {
    const other = await openNode(nodeId);
    assert.equal(await apiVersionsError(other), ErrorCode.NONE);
    assert.deepEqual(await metadataBrokers(other), [0, 2], 'Metadata lists only live brokers');
    other.close();
  }
  assert.equal((await admin('GET', '/nodes')).body.nodes[1].state, 'killed');
  assert.deepEqual((await admin('GET', '/health')).body, { status: 'ok', nodes: 3, killed: [1] });
  assert.equal((await admin('POST', '/nodes/1/kill')).status, 409);
  assert.equal((await admin('POST', '/nodes/1/pause')).status, 409);

  const restarted = await admin('POST', '/nodes/1/restart');
  assert.equal(restarted.status, 200, JSON.stringify(restarted.body));
  assert.equal(restarted.body.state, 'running');
  assert.equal(restarted.body.listener, `${host}:${port}`);
  const back = await openNode(1);
  assert.equal(await apiVersionsError(back), ErrorCode.NONE);
  assert.deepEqual(await metadataBrokers(back), [0, 1, 2]);
  const after = await produce(back, 'killed', partition, keyedBatch(2, 'after'));
  assert.equal(after.errorCode, ErrorCode.NONE);
  assert.equal(after.baseOffset, 3n, 'the restarted node recovered its log from its data dir');
  assert.equal((await fetchPartition(back, 'killed', partition, 0n)).highWatermark, 5n);
  back.close();
  assert.equal((await admin('POST', '/nodes/1/restart')).status, 409, 'restart of a running node');
});

test('a topic deleted while its node was down: the restarted node deletes its log once caught up, keeps the rest', { timeout: 20_000 }, async () => {
  assert.equal(await createTopic(broker, 'deleted-while-down', 3), ErrorCode.NONE);
  assert.equal(await createTopic(broker, 'kept-while-down', 3), ErrorCode.NONE);
  const doomed = await partitionLedBy('deleted-while-down', 2);
  const kept = await partitionLedBy('kept-while-down', 2);
  const leader = await openNode(2);
  assert.equal((await produce(leader, 'kept-while-down', kept, keyedBatch(4, 'kept'))).errorCode, ErrorCode.NONE);
  leader.close();
  const doomedDir = join(broker.dataDir, 'node-2', `deleted-while-down-${doomed}`);
  assert.equal(existsSync(doomedDir), true);
  assert.equal((await admin('POST', '/nodes/2/kill')).status, 200);
  const other = await openNode(0);
  const deleted = await other.request<{ responses: Array<{ errorCode: number }> }>(ApiKey.DeleteTopics, 3, { topicNames: ['deleted-while-down'], timeoutMs: 5000 });
  assert.equal(deleted.responses[0]!.errorCode, ErrorCode.NONE);
  other.close();
  assert.equal(existsSync(doomedDir), true, 'node 2 was down: its log is still there');
  assert.equal((await admin('POST', '/nodes/2/restart')).status, 200);
  assert.equal(existsSync(doomedDir), false, 'restarted and caught up with the metadata log, node 2 deleted the log of the deleted topic');
  const back = await openNode(2);
  assert.equal((await fetchPartition(back, 'kept-while-down', kept, 0n)).highWatermark, 4n, 'the log of a live topic stays');
  back.close();
});

test('pause: requests to the node wait (its listener stays open) until resume, then complete', async () => {
  assert.equal(await createTopic(broker, 'paused', 3), ErrorCode.NONE);
  const pausedPartition = await partitionLedBy('paused', 2);
  const otherPartition = await partitionLedBy('paused', 0);
  const paused = await admin('POST', '/nodes/2/pause');
  assert.equal(paused.status, 200, JSON.stringify(paused.body));
  assert.equal(paused.body.state, 'paused');
  const health = await admin('GET', '/health');
  assert.equal(health.status, 503);
  assert.deepEqual(health.body.problems, ['node 2 is paused']);
  assert.equal((await admin('POST', '/nodes/2/pause')).status, 409);

  const waiting = await openNode(2);
  let settled = false;
  const pending = produce(waiting, 'paused', pausedPartition, keyedBatch(1)).finally(() => (settled = true));
  // The front end still answers on the paused node's listener, and another node still
  // completes a produce (a worker round trip and an fsync) while node 2's waits.
  const sameListener = await openNode(2);
  assert.equal(await apiVersionsError(sameListener), ErrorCode.NONE);
  sameListener.close();
  const other = await openNode(0);
  for (let round = 0; round < 3; round++) assert.equal((await produce(other, 'paused', otherPartition, keyedBatch(1))).errorCode, ErrorCode.NONE);
  other.close();
  assert.equal(settled, false, 'a paused node completes nothing');

  assert.equal((await admin('POST', '/nodes/2/resume')).body.state, 'running');
  assert.equal((await pending).errorCode, ErrorCode.NONE);
  waiting.close();
  assert.equal((await admin('GET', '/health')).status, 200);
});

test('a paused node can be killed and restarted', async () => {
  await broker.nodes.pause(1);
  await broker.nodes.kill(1);
  assert.equal(broker.nodes.list()[1]!.state, 'killed');
  await broker.nodes.restart(1);
  assert.equal(broker.nodes.list()[1]!.state, 'running');
  const back = await openNode(1);
  assert.equal(await apiVersionsError(back), ErrorCode.NONE);
  back.close();
});

test('a restart that cannot reopen its port fails with the reason and can be retried', async () => {
  await broker.nodes.kill(2);
  const { host, port } = nodeAddress(2);
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen({ host, port }, resolve));
  const refused = await admin('POST', '/nodes/2/restart');
  assert.equal(refused.status, 500);
  assert.match(refused.body.error, new RegExp(`node 2 cannot listen on ${host}:${port}: .*EADDRINUSE`));
  assert.equal(broker.nodes.list()[2]!.state, 'killed');
  await new Promise<void>((resolve) => squatter.close(() => resolve()));
  assert.equal((await admin('POST', '/nodes/2/restart')).status, 200);
  const back = await openNode(2);
  assert.equal(await apiVersionsError(back), ErrorCode.NONE);
  back.close();
});

test('partition and heal show in GET /nodes and in the broker', async () => {
  const split = await admin('POST', '/partition', '{"groups": [[0], [1, 2]]}');
  assert.equal(split.status, 200, JSON.stringify(split.body));
  assert.deepEqual((await admin('GET', '/nodes')).body.partitions, [[0], [1, 2]]);
  const healed = await admin('POST', '/heal');
  assert.equal(healed.status, 200);
  assert.deepEqual((await admin('GET', '/nodes')).body.partitions, []);
  await broker.nodes.partition([[0, 2], [1]]);
  assert.deepEqual((await admin('GET', '/nodes')).body.partitions, [[0, 2], [1]]);
  await assert.rejects(broker.nodes.partition([[0], [0, 1, 2]]), /node 0 appears in more than one group/);
  await broker.nodes.heal();
  assert.deepEqual((await admin('GET', '/nodes')).body.partitions, []);
});

test('without fault injection the verbs are refused with how to enable them; reads still work', async () => {
  const plain = await startBroker({ nodes: 1, adminPort: 0, logLevel: 'silent' });
  try {
    for (const path of ['/nodes/0/kill', '/nodes/0/restart', '/nodes/0/pause', '/nodes/0/resume', '/heal', '/partition']) {
      const response = await admin('POST', path, path === '/partition' ? '{"groups": [[0], [1]]}' : undefined, plain);
      assert.equal(response.status, 403, path);
      assert.match(response.body.error, /--fault-injection/);
    }
    assert.equal((await admin('GET', '/health', undefined, plain)).status, 200);
    assert.equal((await admin('GET', '/nodes', undefined, plain)).body.nodes[0].state, 'running');
    await assert.rejects(plain.nodes.kill(0), (error: unknown) => error instanceof NodeFaultError && error.kind === 'disabled');
    const connection = await RawConnection.fromBootstrap(plain.bootstrapServers);
    assert.equal(await apiVersionsError(connection), ErrorCode.NONE, 'the node was not killed');
    connection.close();
  } finally {
    await plain.stop();
  }
  const noAdmin = await startBroker({ nodes: 1, logLevel: 'silent' });
  assert.equal(noAdmin.adminAddress, null);
  await noAdmin.stop();
});

test('stop with a paused node: the node wakes, flushes and shuts down cleanly', { timeout: 20_000 }, async () => {
  const single = await startBroker({ nodes: 1, faultInjection: true, logLevel: 'silent', dataDir: temporaryDirectory() });
  assert.deepEqual(single.nodes.map((node) => node.nodeId), [0], 'broker.nodes is still the array of listeners');
  assert.deepEqual(Object.keys(single.nodes), ['0'], 'the verbs do not show up as entries');
  await single.nodes.pause(0);
  await single.stop();
  assert.ok(existsSync(join(single.dataDir, 'node-0', '.minikafka-clean-shutdown')), 'the node closed its logs, not cut off at the timeout');
});
