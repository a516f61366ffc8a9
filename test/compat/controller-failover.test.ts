/**
 * Real admin clients across a controller failover: kafkajs's admin, confluent-kafka's
 * AdminClient (librdkafka) and kafka-python's KafkaAdminClient create topics, the node holding
 * the active controller is killed, and the same clients create topics again on the survivors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import type { BrokerHandle } from '../../src/index.js';
import { compatSourceFile, requirePythonModules, runProcessOk, startCompatBroker, systemPython, uniqueTopic } from './helpers.js';

const { Kafka, logLevel } = kafkajs;
const failoverTestTimeoutMs = 60_000;

function controllerOf(broker: BrokerHandle): number {
  const controller = broker.nodes.list().find((node) => node.controller);
  assert.ok(controller !== undefined, 'a controller is elected');
  return controller.id;
}

/** Creates `topics`; `avoidNode` is the node about to be killed, for clients that need every partition led. */
type CreateTopics = (bootstrap: string, topics: string[], avoidNode: number) => Promise<void>;

async function withFailover(createTopics: CreateTopics, client: string): Promise<void> {
  const broker = await startCompatBroker({ faultInjection: true });
  try {
    const before = [uniqueTopic(`${client}-before`), uniqueTopic(`${client}-before`)];
    await createTopics(broker.bootstrapServers, before, controllerOf(broker));
    const killed = controllerOf(broker);
    await broker.nodes.kill(killed);
    const survivors = broker.nodes.filter((node) => node.nodeId !== killed).map((node) => `${node.host}:${node.port}`).join(',');
    const after = [uniqueTopic(`${client}-after`), uniqueTopic(`${client}-after`)];
    await createTopics(survivors, after, killed);
    const successor = controllerOf(broker);
    assert.notEqual(successor, killed, 'another node holds the controller');
    await broker.nodes.restart(killed);
    const admin = new Kafka({ clientId: 'failover-check', brokers: broker.bootstrapServers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      for (const topic of [...before, ...after]) assert.ok(topics.includes(topic), `${topic} exists after the failover`);
    } finally {
      await admin.disconnect();
    }
  } finally {
    await broker.stop();
  }
}

test('kafkajs admin creates topics before and after the controller node is killed', { timeout: failoverTestTimeoutMs }, async () => {
  await withFailover(async (bootstrap, topics, avoidNode) => {
    const admin = new Kafka({ clientId: 'compat-failover', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10 } }).admin();
    await admin.connect();
    try {
      // kafkajs's admin refreshes Metadata of every topic first and fails while any partition has
      // no leader (as against Kafka with replication factor 1), so these topics stay off the
      // node about to be killed.
      const others = [0, 1, 2].filter((node) => node !== avoidNode);
      const replicaAssignment = others.map((node, partition) => ({ partition, replicas: [node] }));
      assert.equal(await admin.createTopics({ topics: topics.map((topic) => ({ topic, replicaAssignment })), waitForLeaders: true }), true);
    } finally {
      await admin.disconnect();
    }
  }, 'kafkajs');
});

async function pythonAdmin(client: string, bootstrap: string, topics: string[]): Promise<void> {
  const result = await runProcessOk(systemPython, [compatSourceFile('python/admin_create_topics.py'), client, bootstrap, '20', ...topics], {
    timeoutMs: 30_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
  });
  const report = JSON.parse(result.stdout) as { created: string[]; controller: number };
  assert.deepEqual(report.created, topics);
  assert.ok(report.controller >= 0, `the client saw controller ${report.controller}`);
}

test('confluent-kafka AdminClient creates topics before and after the controller node is killed', { timeout: failoverTestTimeoutMs }, async () => {
  await requirePythonModules(['confluent_kafka']);
  await withFailover((bootstrap, topics) => pythonAdmin('confluent', bootstrap, topics), 'confluent');
});

test('kafka-python KafkaAdminClient creates topics before and after the controller node is killed', { timeout: failoverTestTimeoutMs }, async () => {
  await requirePythonModules(['kafka']);
  await withFailover((bootstrap, topics) => pythonAdmin('kafka-python', bootstrap, topics), 'kafka-python');
});
