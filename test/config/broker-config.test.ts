import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkLimitRelations, ConfigError, defaultBrokerSettings, defaultConfig, internalTopicReplicationFactor, loadConfigFile, quorumVoterIds, transactionStateLogMinIsr, validateConfig } from '../../src/config/broker-config.js';
import { Limits } from '../../src/runtime/limits.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';

const repoConfig = (name: string) => new URL(`../../../config/${name}`, import.meta.url).pathname;

test('the shipped configs are valid', () => {
  const standard = loadConfigFile(repoConfig('default.json'));
  assert.equal(standard.nodes, 3);
  assert.equal(standard.port, 9092);
  assert.equal(standard.broker['log.flush.policy'], 'always');
  assert.deepEqual([standard.broker['default.replication.factor'], standard.broker['min.insync.replicas']], [3, 2], 'every partition on all 3 nodes; acks=all survives one node down');
  const single = loadConfigFile(repoConfig('single-node.json'));
  assert.equal(single.nodes, 1);
  assert.deepEqual([single.broker['default.replication.factor'], single.broker['min.insync.replicas']], [1, 1]);
});

test('replication factors are checked against the node count', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ nodes: 1, broker: { 'default.replication.factor': 3 } }, /"default.replication.factor" \(3\) is more than "nodes" \(1\): each replica needs its own node/],
    [{ nodes: 3, broker: { 'default.replication.factor': 0 } }, /"default.replication.factor" must be at least 1, got 0/],
    [{ nodes: 2, broker: { 'offsets.topic.replication.factor': 3 } }, /"offsets.topic.replication.factor" \(3\) is more than "nodes" \(2\)/],
    [{ nodes: 3, broker: { 'offsets.topic.replication.factor': 0 } }, /"offsets.topic.replication.factor" must be -1 or at least 1, got 0/],
    [{ nodes: 3, broker: { 'transaction.state.log.replication.factor': 4 } }, /"transaction.state.log.replication.factor" \(4\) is more than "nodes" \(3\)/],
    [{ nodes: 3, broker: { 'transaction.state.log.min.isr': 0 } }, /"transaction.state.log.min.isr" must be -1 or at least 1, got 0/],
    [{ nodes: 3, broker: { 'transaction.state.log.replication.factor': 2, 'transaction.state.log.min.isr': 3 } }, /"transaction.state.log.min.isr" \(3\) is more than "transaction.state.log.replication.factor" \(2\)/],
  ];
  for (const [raw, message] of cases) assert.throws(() => validateConfig(raw), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(raw));
  assert.equal(validateConfig({ nodes: 5, broker: { 'default.replication.factor': 5 } }).broker['default.replication.factor'], 5, 'no fixed maximum any more');
});

test('internal topics default to min(3, nodes) replicas, and the transaction log to min(2, its replicas) in sync', () => {
  for (const [nodes, replicas, minIsr] of [[1, 1, 1], [2, 2, 2], [3, 3, 2], [5, 3, 2]] as const) {
    const config = validateConfig({ nodes });
    assert.equal(internalTopicReplicationFactor(config.broker['offsets.topic.replication.factor'], nodes), replicas, `offsets, ${nodes} nodes`);
    assert.equal(internalTopicReplicationFactor(config.broker['transaction.state.log.replication.factor'], nodes), replicas, `transactions, ${nodes} nodes`);
    assert.equal(transactionStateLogMinIsr(config), minIsr, `min isr, ${nodes} nodes`);
  }
  const explicit = validateConfig({ nodes: 5, broker: { 'offsets.topic.replication.factor': 5, 'transaction.state.log.replication.factor': 4, 'transaction.state.log.min.isr': 3 } });
  assert.equal(internalTopicReplicationFactor(explicit.broker['offsets.topic.replication.factor'], 5), 5);
  assert.equal(transactionStateLogMinIsr(explicit), 3);
});

test('the replication settings have their one-host defaults', () => {
  const settings = defaultBrokerSettings();
  assert.equal(settings['replica.lag.time.max.ms'], 10_000);
  assert.equal(settings['unclean.leader.election.enable'], false);
  assert.equal(settings['auto.leader.rebalance.enable'], true);
  assert.equal(settings['leader.imbalance.check.interval.seconds'], 30);
  assert.equal(validateConfig({ broker: { 'unclean.leader.election.enable': true } }).broker['unclean.leader.election.enable'], true);
  assert.throws(() => validateConfig({ broker: { 'leader.imbalance.check.interval.seconds': 0 } }), /"leader.imbalance.check.interval.seconds" must be at least 1, got 0/);
});

test('errors name the bad key and value', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ nodes: 0 }, /"nodes" must be at least 1, got 0/],
    [{ nodes: 'three' }, /"nodes" must be a number, got "three"/],
    [{ port: 70000 }, /"port" must be at most 65535, got 70000/],
    [{ port: 65535, nodes: 3 }, /run past 65535/],
    [{ logLevel: 'loud' }, /"logLevel" must be one of/],
    [{ colour: 'blue' }, /unknown key "colour"/],
    [{ broker: { 'num.partitions': 0 } }, /"num.partitions" must be at least 1, got 0/],
    [{ broker: { 'log.flush.policy': 'sometimes' } }, /"log.flush.policy" must be one of "always", "interval", "never", got "sometimes"/],
    [{ broker: { 'auto.create.topics.enable': 'yes' } }, /"auto.create.topics.enable" must be true or false, got "yes"/],
    [{ broker: { 'no.such.setting': 1 } }, /unknown broker setting "no.such.setting"/],
    [{ broker: [] }, /"broker" must be an object/],
    [[], /must be a JSON object/],
  ];
  for (const [raw, message] of cases) assert.throws(() => validateConfig(raw), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(raw));
});

test('overrides merge over a base', () => {
  const config = validateConfig({ nodes: 1, broker: { 'num.partitions': 4 } }, defaultConfig());
  assert.equal(config.nodes, 1);
  assert.equal(config.port, 9092);
  assert.equal(config.broker['num.partitions'], 4);
  assert.equal(config.broker['auto.create.topics.enable'], true);
});

test('unreadable and non-JSON files give clear errors', () => {
  const directory = temporaryDirectory();
  assert.throws(() => loadConfigFile(join(directory, 'missing.json')), /cannot read config file .*missing\.json/);
  const broken = join(directory, 'broken.json');
  writeFileSync(broken, '{ "nodes": 3, }');
  assert.throws(() => loadConfigFile(broken), /broken\.json is not valid JSON/);
  const wrong = join(directory, 'wrong.json');
  writeFileSync(wrong, '{ "port": "9092" }');
  assert.throws(() => loadConfigFile(wrong), /wrong\.json: "port" must be a number, got "9092"/);
});

test('the ring limits must carry the largest produce request and fetch response', () => {
  const settings = defaultBrokerSettings();
  assert.doesNotThrow(() => checkLimitRelations(Limits, settings), 'the shipped limits are consistent');
  const cases: Array<[Partial<typeof Limits>, number, RegExp]> = [
    [{ ringCapacityBytes: 3000 }, settings['message.max.bytes'], /ringCapacityBytes \(3000\) must be a power of two/],
    [{ ringCapacityBytes: 8 * 1024 * 1024 }, 1024, /maxRingMessageBytes \(8388608\) exceeds the 4194292 bytes one message of a 8388608-byte ring can carry/],
    [{ maxFetchResponseBytes: Limits.maxRingMessageBytes + 1 }, settings['message.max.bytes'], /maxFetchResponseBytes \(8388609\) exceeds maxRingMessageBytes/],
    [{}, Limits.maxRingMessageBytes - 1000, /message.max.bytes \(8387608\) plus 1024 bytes of request fields exceeds maxRingMessageBytes/],
  ];
  for (const [override, messageMaxBytes, message] of cases) {
    assert.throws(
      () => checkLimitRelations({ ...Limits, ...override }, { ...settings, 'message.max.bytes': messageMaxBytes }, 'test.json'),
      (error: unknown) => error instanceof ConfigError && error.message.startsWith('test.json: inconsistent limits: ') && message.test(error.message),
      JSON.stringify(override),
    );
  }
});

test('adminPort and faultInjection: defaults off, validated with the key and value', () => {
  const standard = validateConfig({});
  assert.equal(standard.adminPort, null);
  assert.equal(standard.faultInjection, false);
  const enabled = validateConfig({ adminPort: 9200, faultInjection: true });
  assert.deepEqual([enabled.adminPort, enabled.faultInjection], [9200, true]);
  assert.equal(validateConfig({ adminPort: null }, enabled).adminPort, null, 'null turns the endpoint off');
  assert.equal(validateConfig({ adminPort: 0, port: 0 }).adminPort, 0, 'ephemeral');
  const cases: Array<[unknown, RegExp]> = [
    [{ adminPort: '9200' }, /"adminPort" must be a number, got "9200"/],
    [{ adminPort: 9200.5 }, /"adminPort" must be an integer, got 9200.5/],
    [{ adminPort: -1 }, /"adminPort" must be at least 0, got -1/],
    [{ adminPort: 70000 }, /"adminPort" must be at most 65535, got 70000/],
    [{ adminPort: 9093, port: 9092, nodes: 3 }, /"adminPort" 9093 clashes with the node listeners on ports 9092..9094/],
    [{ faultInjection: 'yes' }, /"faultInjection" must be true or false, got "yes"/],
    [{ faultInjection: 1 }, /"faultInjection" must be true or false, got 1/],
  ];
  for (const [raw, message] of cases) assert.throws(() => validateConfig(raw), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(raw));
  assert.equal(validateConfig({ adminPort: 9095, port: 9092, nodes: 3 }).adminPort, 9095, 'just past the listeners');
});

test('the node session must outlast two heartbeats', () => {
  assert.throws(
    () => validateConfig({ broker: { 'broker.heartbeat.interval.ms': 500, 'broker.session.timeout.ms': 1000 } }),
    (error: unknown) => error instanceof ConfigError && /"broker.session.timeout.ms" \(1000\) must be more than twice "broker.heartbeat.interval.ms" \(500\)/.test(error.message),
  );
  assert.equal(validateConfig({ broker: { 'broker.heartbeat.interval.ms': 50, 'broker.session.timeout.ms': 400 } }).broker['broker.session.timeout.ms'], 400);
});

test('controller.quorum.voters: every node by default; node ids or Kafka\'s id@host:port; checked against the nodes', () => {
  const voters = (value: string | undefined, nodes = 5) => quorumVoterIds(validateConfig({ nodes, broker: value === undefined ? {} : { 'controller.quorum.voters': value } }));
  assert.deepEqual(voters(undefined), [0, 1, 2, 3, 4]);
  assert.deepEqual(voters(''), [0, 1, 2, 3, 4]);
  assert.deepEqual(voters('0,1,2'), [0, 1, 2]);
  assert.deepEqual(voters(' 4, 2 ,0 '), [0, 2, 4]);
  assert.deepEqual(voters('0@localhost:9093,1@localhost:9094,2@127.0.0.1:9095'), [0, 1, 2]);
  assert.deepEqual(voters('3', 5), [3]);
  const cases: Array<[unknown, RegExp]> = [
    [{ nodes: 3, broker: { 'controller.quorum.voters': '0,1,3' } }, /"controller.quorum.voters" "0,1,3": node 3 does not exist \(node ids are 0..2 with "nodes" 3\)/],
    [{ nodes: 3, broker: { 'controller.quorum.voters': '0,1,1' } }, /node 1 is listed twice/],
    [{ nodes: 3, broker: { 'controller.quorum.voters': '0,,1' } }, /entry "" is neither a node id/],
    [{ nodes: 3, broker: { 'controller.quorum.voters': '-1' } }, /entry "-1" is neither a node id/],
    [{ nodes: 3, broker: { 'controller.quorum.voters': 'a@host:1' } }, /entry "a@host:1" is neither a node id/],
    [{ nodes: 3, broker: { 'controller.quorum.voters': '0@host' } }, /entry "0@host" is neither/],
    [{ nodes: 3, broker: { 'controller.quorum.voters': 2 } }, /"controller.quorum.voters" must be a string, got 2/],
    [{ nodes: 2, broker: { 'controller.quorum.voters': '0,1,2' } }, /node 2 does not exist/],
  ];
  for (const [raw, message] of cases) assert.throws(() => validateConfig(raw), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(raw));
});
