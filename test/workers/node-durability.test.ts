/**
 * NodeDurability.truncateLog: batches a follower truncated away never come back from the node
 * journal's replay after a crash, and neither replaces what was appended in their place.
 * A "crash" here abandons the node's logs and journal without closing them (no checkpoint, no
 * clean-shutdown marker); losing unsynced segment bytes is done by cutting the segment file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecordBatches } from '../../src/protocol/records/records.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { Logger } from '../../src/runtime/logger.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { NodeDurability } from '../../src/workers/node-durability.js';
import { PartitionReplica } from '../../src/workers/partition-replica.js';
import { clientBatch, testConfig } from '../storage/log-fixtures.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';

const config = testConfig({ segmentBytes: 1 << 20, flushPolicy: 'always' });

interface Node {
  readonly logs: LogManager;
  readonly durability: NodeDurability;
  readonly replica: PartitionReplica;
}

function openNode(dataDir: string): Node {
  const logs = LogManager.open({ dataDir, clock: new ManualClock(), configFor: () => config });
  const durability = new NodeDurability({
    dataDir,
    journal: 'always',
    journalCheckpointIntervalMs: 600_000,
    logs,
    topicConfigs: new Map([['t', config]]),
    files: undefined,
    monotonicClock: { monotonicNowMs: () => 0 },
    startMs: 0,
    logger: new Logger('test', 'silent'),
    onDurable: () => {},
  });
  return { logs, durability, replica: new PartitionReplica('t', 0, logs.getOrCreate('t', 0, config), 0, 10_000) };
}

/** Appends `count` records labelled `label` as one drain does, and waits until they are durable. */
async function append(node: Node, label: string, count: number, journaled: boolean): Promise<void> {
  const batch = clientBatch(count, 40, 1_700_000_000_000, label);
  const { baseOffset, lastOffset } = node.replica.log.appendAsLeader(batch, 0);
  node.durability.recordAppend(node.replica, batch, { from: baseOffset, to: lastOffset + 1 }, journaled);
  node.durability.flushAfterDrain();
  await node.replica.log.whenDurable(lastOffset);
  assert.ok(node.replica.log.durableEndOffset > lastOffset);
}

/** The log's records as `offset:label+index`, e.g. '5:d0'. */
function contents(node: Node): string[] {
  const log = node.replica.log;
  const { records } = log.read(0, 1 << 20);
  return decodeRecordBatches(records).flatMap((batch) => batch.records.map((record) => `${record.offset}:${String(record.value).split(':')[0]}`));
}

const labelled = (label: string, from: number, count: number): string[] => Array.from({ length: count }, (_, index) => `${from + index}:${label}${index}`);

/** Three journaled batches of five ([0, 15)), then truncation to 5. */
async function divergedFollower(dataDir: string): Promise<Node> {
  const node = openNode(dataDir);
  for (const label of ['a', 'b', 'c']) await append(node, label, 5, true);
  await node.durability.truncateLog(node.replica, 5);
  assert.equal(node.replica.log.logEndOffset, 5);
  return node;
}

async function restart(dataDir: string): Promise<Node> {
  const node = openNode(dataDir);
  await node.durability.recoverFromJournal();
  return node;
}

test('batches truncated away do not come back when the journal replays after a crash', async () => {
  const dataDir = temporaryDirectory();
  await divergedFollower(dataDir);
  const restarted = await restart(dataDir);
  assert.deepEqual(contents(restarted), labelled('a', 0, 5));
  assert.equal(restarted.replica.log.logEndOffset, 5);
});

test('appends journaled after a truncation replay in its place, not the truncated batches', async () => {
  const dataDir = temporaryDirectory();
  const node = await divergedFollower(dataDir);
  const segmentBytesBefore = node.replica.log.sizeBytes;
  await append(node, 'd', 3, true); // acknowledged: the journal holds it
  // The crash loses d's bytes from the segment file (fsynced only at the next checkpoint).
  const partitionDir = join(dataDir, readdirSync(dataDir).find((name) => name.startsWith('t-'))!);
  truncateSync(join(partitionDir, readdirSync(partitionDir).find((name) => name.endsWith('.log'))!), segmentBytesBefore);
  const restarted = await restart(dataDir);
  assert.deepEqual(contents(restarted), [...labelled('a', 0, 5), ...labelled('d', 5, 3)]);
});

test('a replayed truncation leaves what the segment files held after it (appends that were fsynced in them)', async () => {
  const dataDir = temporaryDirectory();
  const node = await divergedFollower(dataDir);
  await append(node, 'e', 3, false); // fsynced in its own segment file, not journaled
  const restarted = await restart(dataDir);
  assert.deepEqual(contents(restarted), [...labelled('a', 0, 5), ...labelled('e', 5, 3)]);
});

test('after truncateLog the journal acknowledges no appends of this drain past the truncation', async () => {
  const dataDir = temporaryDirectory();
  const node = openNode(dataDir);
  await append(node, 'a', 5, true);
  const batch = clientBatch(5, 40, 1_700_000_000_000, 'b');
  const { baseOffset, lastOffset } = node.replica.log.appendAsLeader(batch, 0);
  node.durability.recordAppend(node.replica, batch, { from: baseOffset, to: lastOffset + 1 }, true);
  await node.durability.truncateLog(node.replica, 5); // mid-drain, before the drain's flush
  const replacement = clientBatch(5, 40, 1_700_000_000_000, 'f');
  node.replica.log.appendAsLeader(replacement, 1); // not yet durable anywhere
  node.durability.flushAfterDrain(); // one journal file to fsync: inline, acknowledged before it returns
  assert.equal(node.replica.log.durableEndOffset, 5, 'the truncated journaled range [5, 10) must not make the new batch at 5 durable');
});

test('a journal flush under way when truncateLog starts acknowledges its ranges before the truncation, not after', async () => {
  const node = openNode(temporaryDirectory());
  await append(node, 'a', 5, true);
  const other = new PartitionReplica('t', 1, node.logs.getOrCreate('t', 1, config), 0, 10_000);
  const batch = clientBatch(5, 40, 1_700_000_000_000, 'b');
  const { baseOffset, lastOffset } = node.replica.log.appendAsLeader(batch, 0);
  node.durability.recordAppend(node.replica, batch, { from: baseOffset, to: lastOffset + 1 }, true);
  const otherBatch = clientBatch(1);
  const otherAppend = other.log.appendAsLeader(otherBatch, 0);
  node.durability.recordAppend(other, otherBatch, { from: otherAppend.baseOffset, to: otherAppend.lastOffset + 1 }, false);
  node.durability.flushAfterDrain(); // two files to fsync: on the threadpool, acknowledged later
  assert.equal(node.replica.log.durableEndOffset, 5, 'the journal flush is still under way');
  await node.durability.truncateLog(node.replica, 5);
  node.replica.log.appendAsLeader(clientBatch(5, 40, 1_700_000_000_000, 'f'), 1); // not yet durable anywhere
  assert.equal(node.replica.log.durableEndOffset, 5, 'the acknowledgement of the truncated [5, 10) must not cover the new batch at 5');
});
