/**
 * Console tools against the in-memory fake cluster: argument handling, output formats, exit
 * codes (0 ok, 1 operating error, 2 usage error).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { run as topics } from '../../src/cli/commands/topics.js';
import { run as produce } from '../../src/cli/commands/produce.js';
import { run as consume } from '../../src/cli/commands/consume.js';
import { partitionForKey } from '../../src/client/murmur2.js';
import { FakeCluster } from '../client/fake-cluster.js';
import { captureIo } from './cli-io.js';

let fake: FakeCluster;
let bootstrap: string[];

before(async () => {
  fake = await FakeCluster.start(3);
  bootstrap = ['--bootstrap-server', fake.bootstrapServers];
});

after(async () => {
  await fake.stop();
});

test('--help prints usage and exits 0; bad arguments exit 2 with the reason', async () => {
  for (const command of [topics, produce, consume]) {
    const io = captureIo();
    assert.equal(await command(['--help'], io), 0);
    assert.match(io.out(), /^usage: minikafka (topics|produce|consume)/);
    assert.match(io.out(), /--bootstrap-server host:port\[,host:port\]/);
  }
  const cases: [typeof topics, string[], RegExp][] = [
    [topics, ['frobnicate'], /unknown action "frobnicate"/],
    [topics, ['create'], /create needs a topic name/],
    [topics, ['create', 't', '--partitions', 'many'], /--partitions must be a positive integer, got "many"/],
    [topics, ['create', 't', '--config', 'novalue'], /--config "novalue" is not key=value/],
    [topics, ['list', '--bogus'], /Unknown option '--bogus'/],
    [produce, [], /exactly one topic is required/],
    [produce, ['t', '--acks', '2'], /--acks must be -1, 0 or 1, got "2"/],
    [produce, ['t', '--compression', 'lz4'], /--compression must be none or gzip/],
    [consume, ['t', '--from-beginning', '--offset', '3'], /--from-beginning and --offset exclude each other/],
    [consume, ['t', '--max-messages', '-5'], /--max-messages must be a non-negative integer, got "-5"/],
    [topics, ['list', '--bootstrap-server', 'nohostport'], /"nohostport" is not host:port/],
  ];
  for (const [command, argv, expected] of cases) {
    const io = captureIo();
    assert.equal(await command([...argv, ...(argv.includes('--bootstrap-server') ? [] : bootstrap)], io), 2, argv.join(' '));
    assert.match(io.err(), expected, argv.join(' '));
  }
});

test('topics create, list, describe and delete', async () => {
  let io = captureIo();
  const code = await topics(['create', 'cli-topic', '--partitions', '2', '--replication-factor', '3', '--config', 'cleanup.policy=compact', ...bootstrap], io);
  assert.equal(code, 0, io.err());
  assert.equal(io.out(), 'Created topic cli-topic.\n');

  io = captureIo();
  assert.equal(await topics(['create', 'cli-topic', ...bootstrap], io), 1);
  assert.match(io.err(), /TOPIC_ALREADY_EXISTS: create topic "cli-topic"/);

  io = captureIo();
  assert.equal(await topics(['list', ...bootstrap], io), 0);
  assert.ok(io.out().split('\n').includes('cli-topic'));

  io = captureIo();
  assert.equal(await topics(['describe', 'cli-topic', ...bootstrap], io), 0, io.err());
  const lines = io.out().trimEnd().split('\n');
  assert.equal(lines[0], 'Topic: cli-topic\tPartitionCount: 2\tReplicationFactor: 3\tConfigs: cleanup.policy=compact');
  const partitions = fake.topics.get('cli-topic')!.partitions;
  assert.equal(
    lines[1],
    `\tTopic: cli-topic\tPartition: 0\tLeader: ${partitions[0]!.leaderId}\tReplicas: ${partitions[0]!.replicas.join(',')}` +
      `\tIsr: ${partitions[0]!.replicas.join(',')}\tLogStartOffset: 0\tLogEndOffset: 0`,
  );

  io = captureIo();
  assert.equal(await topics(['delete', 'cli-topic', ...bootstrap], io), 0, io.err());
  io = captureIo();
  assert.equal(await topics(['describe', 'cli-topic', ...bootstrap], io), 1);
  assert.match(io.err(), /UNKNOWN_TOPIC_OR_PARTITION: describe topic "cli-topic"/);
});

test('produce splits keys at the separator and hashes them; consume prints keys and offsets', async () => {
  fake.createTopic('lines', 3);
  const input = ['a:1', 'b:2', 'a:3', 'c:with:colon', ''].join('\n');
  let io = captureIo(input);
  assert.equal(await produce(['lines', '--key-separator', ':', '--acks', '-1', ...bootstrap], io), 0, io.err());
  assert.match(io.err(), /^Produced 4 records to lines \(partitions [\d,]+\) in \d+ ms\.\n$/);
  const partitionOfA = partitionForKey(Buffer.from('a'), 3);
  assert.deepStrictEqual(fake.records('lines', partitionOfA).filter((record) => record.key!.toString() === 'a').map((record) => record.value!.toString()), ['1', '3']);

  io = captureIo();
  assert.equal(await consume(['lines', '--from-beginning', '--max-messages', '4', '--print-key', '--print-offset', ...bootstrap], io), 0, io.err());
  const printed = io.out().trimEnd().split('\n').sort();
  const expected = [['a', '1'], ['b', '2'], ['a', '3'], ['c', 'with:colon']];
  assert.equal(printed.length, 4);
  for (const [key, value] of expected) {
    assert.ok(printed.some((line) => new RegExp(`^${partitionForKey(Buffer.from(key!), 3)}:\\d+\\t${key}\\t${value}$`).test(line)), `${key}:${value} in ${printed}`);
  }
  assert.equal(io.err(), 'Processed a total of 4 messages\n');
});

test('a line without the key separator fails with its line number', async () => {
  fake.createTopic('strict-lines', 1);
  const io = captureIo('k=v\nnovalue\n');
  assert.equal(await produce(['strict-lines', '--key-separator', '=', ...bootstrap], io), 1);
  assert.match(io.err(), /line 2 has no key separator "="/);
});

test('produce to a missing topic or partition fails fast', async () => {
  fake.createTopic('two', 2);
  let io = captureIo('x\n');
  assert.equal(await produce(['no-such-topic', ...bootstrap], io), 1);
  assert.match(io.err(), /UNKNOWN_TOPIC_OR_PARTITION: topic "no-such-topic" does not exist/);
  io = captureIo('x\n');
  assert.equal(await produce(['two', '--partition', '2', ...bootstrap], io), 2);
  assert.match(io.err(), /partition 2 of "two" does not exist \(2 partitions\)/);
});

test('consume one partition from an offset; exits after the idle timeout', async () => {
  fake.createTopic('offsets', 2);
  const io = captureIo(Array.from({ length: 6 }, (_, index) => `v${index}`).join('\n'));
  assert.equal(await produce(['offsets', '--partition', '1', '--compression', 'gzip', ...bootstrap], io), 0, io.err());

  const consumed = captureIo();
  const startedMs = Date.now();
  assert.equal(await consume(['offsets', '--partition', '1', '--offset', '4', '--timeout-ms', '300', ...bootstrap], consumed), 0, consumed.err());
  const elapsedMs = Date.now() - startedMs;
  assert.equal(consumed.out(), 'v4\nv5\n');
  assert.ok(elapsedMs >= 300 && elapsedMs < 3_000, `exited after ${elapsedMs} ms`);

  const latest = captureIo();
  assert.equal(await consume(['offsets', '--timeout-ms', '100', ...bootstrap], latest), 0);
  assert.equal(latest.out(), '', 'the default start is the log end');
  assert.equal(latest.err(), 'Processed a total of 0 messages\n');
});

test('consume from a missing topic fails fast', async () => {
  const io = captureIo();
  const startedMs = Date.now();
  assert.equal(await consume(['no-such-topic', '--timeout-ms', '100', ...bootstrap], io), 1);
  assert.match(io.err(), /^minikafka consume: UNKNOWN_TOPIC_OR_PARTITION: topic "no-such-topic" does not exist\n/);
  assert.ok(Date.now() - startedMs < 1_000);
});

test('consume from an offset past the log end reports the valid range', async () => {
  fake.createTopic('short', 1);
  await produce(['short', ...bootstrap], captureIo('only\n'));
  const io = captureIo();
  assert.equal(await consume(['short', '--offset', '10', '--timeout-ms', '500', ...bootstrap], io), 1);
  assert.match(io.err(), /OFFSET_OUT_OF_RANGE: offset 10 of short-0 is out of range; valid offsets are 0 \(log start\) to 1 \(log end\)/);
});
