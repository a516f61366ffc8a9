/**
 * Console tools against the real broker (three nodes): topics create → produce from stdin →
 * consume → topics describe → topics delete.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { run as topics } from '../../src/cli/commands/topics.js';
import { run as produce } from '../../src/cli/commands/produce.js';
import { run as consume } from '../../src/cli/commands/consume.js';
import { partitionForKey } from '../../src/client/murmur2.js';
import { captureIo } from './cli-io.js';

let broker: BrokerHandle;
let bootstrap: string[];

before(async () => {
  broker = await startBroker({ nodes: 3, logLevel: 'error' });
  bootstrap = ['--bootstrap-server', broker.bootstrapServers];
});

after(async () => {
  await broker?.stop();
});

test('round trip: create, produce from stdin, consume, describe, delete', async () => {
  let io = captureIo();
  let code = await topics(['create', 'cli-round-trip', '--partitions', '3', '--replication-factor', '1', '--config', 'retention.ms=3600000', ...bootstrap], io);
  assert.equal(code, 0, io.err());

  const lines = Array.from({ length: 300 }, (_, index) => `user-${index % 7}\tevent-${index}`);
  io = captureIo(`${lines.join('\n')}\n`);
  code = await produce(['cli-round-trip', '--key-separator', '\t', '--acks', '-1', '--compression', 'gzip', ...bootstrap], io);
  assert.equal(code, 0, io.err());
  assert.match(io.err(), /^Produced 300 records to cli-round-trip \(partitions [\d,]+\) in \d+ ms\.\n$/);

  io = captureIo();
  code = await consume(['cli-round-trip', '--from-beginning', '--max-messages', '300', '--timeout-ms', '10000', '--print-key', '--print-offset', ...bootstrap], io);
  assert.equal(code, 0, io.err());
  assert.equal(io.err(), 'Processed a total of 300 messages\n');
  const printed = io.out().trimEnd().split('\n');
  assert.equal(printed.length, 300);
  const eventsByKey = new Map<string, number[]>();
  for (const line of printed) {
    const [position, key, value] = line.split('\t');
    const partition = Number(position!.split(':')[0]);
    assert.equal(partition, partitionForKey(Buffer.from(key!), 3), line);
    eventsByKey.set(key!, [...(eventsByKey.get(key!) ?? []), Number(value!.slice('event-'.length))]);
  }
  for (let user = 0; user < 7; user++) {
    const events = eventsByKey.get(`user-${user}`)!;
    assert.deepStrictEqual(events, Array.from({ length: 300 }, (_, index) => index).filter((index) => index % 7 === user));
  }

  io = captureIo();
  code = await topics(['describe', 'cli-round-trip', ...bootstrap], io);
  assert.equal(code, 0, io.err());
  const described = io.out().trimEnd().split('\n');
  assert.equal(described[0], 'Topic: cli-round-trip\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=3600000');
  let total = 0;
  for (let partition = 0; partition < 3; partition++) {
    const match = new RegExp(`^\\tTopic: cli-round-trip\\tPartition: ${partition}\\tLeader: (\\d)\\tReplicas: \\1\\tIsr: \\1\\tLogStartOffset: 0\\tLogEndOffset: (\\d+)$`).exec(described[partition + 1]!);
    assert.ok(match, described[partition + 1]);
    total += Number(match[2]);
  }
  assert.equal(total, 300);

  io = captureIo();
  assert.equal(await topics(['list', ...bootstrap], io), 0, io.err());
  assert.ok(io.out().split('\n').includes('cli-round-trip'));

  io = captureIo();
  assert.equal(await topics(['delete', 'cli-round-trip', ...bootstrap], io), 0, io.err());
  io = captureIo();
  assert.equal(await topics(['list', ...bootstrap], io), 0);
  assert.ok(!io.out().split('\n').includes('cli-round-trip'));
});

test('consume one partition from an offset, and stop on idle timeout', async () => {
  assert.equal(await topics(['create', 'cli-offsets', '--partitions', '2', ...bootstrap], captureIo()), 0);
  let io = captureIo('a\nb\nc\nd\n');
  assert.equal(await produce(['cli-offsets', '--partition', '1', '--acks', '1', ...bootstrap], io), 0, io.err());
  io = captureIo();
  const startedMs = Date.now();
  assert.equal(await consume(['cli-offsets', '--partition', '1', '--offset', '2', '--timeout-ms', '400', ...bootstrap], io), 0, io.err());
  assert.equal(io.out(), 'c\nd\n');
  assert.ok(Date.now() - startedMs >= 400);
  io = captureIo();
  assert.equal(await consume(['cli-offsets', '--partition', '0', '--offset', '9', '--timeout-ms', '400', ...bootstrap], io), 1);
  assert.match(io.err(), /OFFSET_OUT_OF_RANGE: offset 9 of cli-offsets-0 is out of range; valid offsets are 0 \(log start\) to 0 \(log end\)/);
});
