/**
 * `minikafka start` as a real child process: the ready line, clean shutdown on SIGTERM, clear
 * config errors, and kill -9 during acks=all produce losing no acknowledged record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { ErrorCode } from '../../src/protocol/errors.js';
import { decodeRecordBatches } from '../../src/protocol/records/records.js';
import { RawConnection } from '../helpers/raw-client.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';
import { fetchPartition } from '../server/broker-fixtures.js';

// The shipped CLI: the bundle (scripts/bundle.mjs), whose threads load dist/bundle/*.js.
const cli = fileURLToPath(new URL('../../bundle/main.js', import.meta.url));

interface RunningBroker {
  child: ChildProcess;
  bootstrap: string;
  output: () => string;
}

function startCli(args: string[], timeoutMs = 15_000): Promise<RunningBroker> {
  const child = spawn(process.execPath, [cli, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const check = () => {
      const match = /ready: .* bootstrap (\S+),? /.exec(output) ?? /bootstrap (\S+), data/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, bootstrap: match[1]!.replace(/,$/, ''), output: () => output });
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before ready:\n${output}`));
    });
  });
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

test('start prints a ready line, serves, and shuts down cleanly on SIGTERM', { timeout: 30_000 }, async () => {
  const dataDir = temporaryDirectory();
  const broker = await startCli(['--nodes', '2', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
  broker.child.removeAllListeners('exit');
  assert.match(broker.output(), /minikafka ready: 2 node\(s\)/);
  assert.equal(broker.bootstrap.split(',').length, 2);
  const connection = await RawConnection.fromBootstrap(broker.bootstrap);
  const versions = await connection.request<{ errorCode: number }>(18, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
  assert.equal(versions.errorCode, ErrorCode.NONE);
  connection.close();
  const started = Date.now();
  process.kill(broker.child.pid!, 'SIGTERM');
  const exit = await exitOf(broker.child, 6000);
  assert.equal(exit.code, 0, broker.output());
  assert.ok(Date.now() - started < 5000, 'shut down within 5 s');
  assert.ok(existsSync(join(dataDir, 'node-0', '.minikafka-clean-shutdown')), 'nodes closed their logs cleanly');
});

test('npm start -- --nodes 1 (the shipped 3-way replicated config) starts one node with replication lowered to fit', { timeout: 30_000 }, async () => {
  const dataDir = temporaryDirectory();
  const config = fileURLToPath(new URL('../../../config/default.json', import.meta.url));
  const broker = await startCli(['--config', config, '--nodes', '1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
  broker.child.removeAllListeners('exit');
  assert.match(broker.output(), /--nodes 1: default\.replication\.factor 1, min\.insync\.replicas 1/);
  assert.match(broker.output(), /minikafka ready: 1 node\(s\)/);
  process.kill(broker.child.pid!, 'SIGTERM');
  assert.equal((await exitOf(broker.child, 6000)).code, 0, broker.output());
});

test('a broken config is refused with a message naming the key and value', { timeout: 15_000 }, async () => {
  const directory = temporaryDirectory();
  const path = join(directory, 'bad.json');
  writeFileSync(path, JSON.stringify({ nodes: 2, broker: { 'num.partitions': -4 } }));
  const child = spawn(process.execPath, [cli, 'start', '--config', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = await exitOf(child, 10_000);
  assert.equal(exit.code, 2);
  assert.match(stderr, /"num.partitions" must be at least 1, got -4/);
  const flag = spawn(process.execPath, [cli, 'start', '--port', 'abc'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let flagErr = '';
  flag.stderr!.on('data', (chunk) => (flagErr += chunk));
  assert.equal((await exitOf(flag, 10_000)).code, 2);
  assert.match(flagErr, /--port must be an integer, got "abc"/);
});

async function killNineScenario(extraArgs: string[], partitions: number, messagesPerSend = 1): Promise<void> {
  const dataDir = temporaryDirectory();
  const first = await startCli(['--nodes', '3', '--port', '0', '--data-dir', dataDir, '--log-level', 'error', ...extraArgs]);
  first.child.removeAllListeners('exit');
  const require = createRequire(import.meta.url);
  const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
  const kafka = new Kafka({ brokers: first.bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'crash', numPartitions: partitions }] });
  await admin.disconnect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const acked = new Map<string, string>(); // "partition:offset" -> value
  let sequence = 0;
  const deadline = Date.now() + 30_000;
  let killed = false;
  const inFlight = new Set<Promise<void>>();
  while (Date.now() < deadline && !killed) {
    const messages = Array.from({ length: messagesPerSend }, () => {
      const value = `m${sequence++}`;
      return { key: `k${sequence % 97}`, value, partition: sequence % partitions };
    });
    const send = producer
      .send({ topic: 'crash', acks: -1, messages })
      .then((metadata) => {
        // A request for several partitions: each partition's messages got consecutive offsets.
        for (const entry of metadata) {
          const mine = messages.filter((message) => message.partition === entry.partition);
          mine.forEach((message, index) => acked.set(`${entry.partition}:${Number(entry.baseOffset) + index}`, message.value));
        }
      })
      .catch(() => undefined)
      .finally(() => inFlight.delete(send));
    inFlight.add(send);
    if (inFlight.size >= 8) await Promise.race(inFlight);
    if (acked.size >= 300 && !killed) {
      killed = true;
      process.kill(first.child.pid!, 'SIGKILL');
    }
  }
  await Promise.allSettled([...inFlight]);
  await producer.disconnect().catch(() => undefined);
  assert.ok(killed, `only ${acked.size} acknowledgements before the deadline`);
  await exitOf(first.child, 5000);

  const second = await startCli(['--nodes', '3', '--port', '0', '--data-dir', dataDir, '--log-level', 'error', ...extraArgs]);
  second.child.removeAllListeners('exit');
  try {
    const verifier = new Kafka({ brokers: second.bootstrap.split(','), logLevel: logLevel.NOTHING });
    const metadataAdmin = verifier.admin();
    await metadataAdmin.connect();
    const topicMetadata = await metadataAdmin.fetchTopicMetadata({ topics: ['crash'] });
    await metadataAdmin.disconnect();
    const ports = second.bootstrap.split(',');
    const stored = new Map<string, string>();
    for (const partition of topicMetadata.topics[0]!.partitions) {
      const [host, port] = ports[partition.leader]!.split(':');
      const connection = await RawConnection.open(host!, Number(port));
      let offset = 0n;
      for (let round = 0; round < 10_000; round++) {
        const fetched = await fetchPartition(connection, 'crash', partition.partitionId, offset);
        assert.equal(fetched.errorCode, ErrorCode.NONE);
        if (fetched.records === null || fetched.records.length === 0) break;
        for (const batch of decodeRecordBatches(fetched.records)) {
          for (const record of batch.records) stored.set(`${partition.partitionId}:${record.offset}`, record.value!.toString());
          offset = BigInt(batch.baseOffset + batch.lastOffsetDelta + 1);
        }
      }
      connection.close();
    }
    for (const [position, value] of acked) assert.equal(stored.get(position), value, `acknowledged ${value} at ${position} is missing after kill -9`);
  } finally {
    process.kill(second.child.pid!, 'SIGTERM');
    await exitOf(second.child, 6000);
  }
}

test('kill -9 during acks=all produce loses no acknowledged message (kafkajs producer)', { timeout: 90_000 }, async () => {
  await killNineScenario([], 3);
});

test('kill -9 with the node journal (multi-partition requests) and 40 partitions loses no acknowledged message', { timeout: 90_000 }, async () => {
  await killNineScenario([], 40, 5);
});

test('kill -9 with the node journal for every append loses no acknowledged message', { timeout: 90_000 }, async () => {
  const directory = temporaryDirectory();
  const config = join(directory, 'journal.json');
  writeFileSync(config, JSON.stringify({ broker: { 'log.journal': 'always' } }));
  await killNineScenario(['--config', config], 40, 1);
});
