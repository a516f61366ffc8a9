import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../src/runtime/clock.js';
import { CLEAN_SHUTDOWN_MARKER, LogManager, RECOVERY_POINT_CHECKPOINT } from '../../src/storage/log-manager.js';
import { decodeRecordBatches } from '../../src/protocol/records/records.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';
import { clientBatch, readAllOffsets, testConfig } from './log-fixtures.js';

const config = testConfig({ segmentBytes: 4096 });

test('a data dir reopens with every partition and its data after a clean shutdown', async () => {
  const dataDir = temporaryDirectory();
  const clock = new ManualClock();
  const manager = LogManager.open({ dataDir, clock, configFor: () => config });
  for (const [topic, partition] of [['orders', 0], ['orders', 1], ['my-events', 0]] as const) {
    const log = manager.getOrCreate(topic, partition, config);
    for (let round = 0; round < 10 + partition; round++) log.appendAsLeader(clientBatch(2), 0);
  }
  await manager.close();
  assert.ok(existsSync(join(dataDir, CLEAN_SHUTDOWN_MARKER)));
  assert.match(readFileSync(join(dataDir, RECOVERY_POINT_CHECKPOINT), 'utf8'), /^0\n3\n/);

  const reopened = LogManager.open({ dataDir, clock, configFor: () => config });
  assert.equal(reopened.openedAfterCleanShutdown, true);
  assert.ok(!existsSync(join(dataDir, CLEAN_SHUTDOWN_MARKER)), 'marker removed while running');
  assert.equal(reopened.get('orders', 0)!.logEndOffset, 20);
  assert.equal(reopened.get('orders', 1)!.logEndOffset, 22);
  assert.equal(reopened.get('my-events', 0)!.logEndOffset, 20);
  await reopened.delete('orders', 1);
  assert.equal(reopened.get('orders', 1), undefined);
  assert.ok(!existsSync(join(dataDir, 'orders-1')));
  await reopened.close();
  const again = LogManager.open({ dataDir, clock, configFor: () => config });
  assert.deepEqual(again.partitions().map((entry) => `${entry.topic}-${entry.partition}`).sort(), ['my-events-0', 'orders-0']);
  await again.close();
});

test('tick applies retention and writes checkpoints on their intervals', async () => {
  const dataDir = temporaryDirectory();
  const clock = new ManualClock(50_000_000);
  const retained = testConfig({ segmentBytes: 600, retentionMs: 1000 });
  const manager = LogManager.open({ dataDir, clock, configFor: () => retained, retentionCheckIntervalMs: 100, checkpointIntervalMs: 100 });
  const log = manager.getOrCreate('old', 0, retained);
  for (let round = 0; round < 10; round++) log.appendAsLeader(clientBatch(2, 100, clock.nowMs()), 0);
  const segments = log.segmentCount;
  clock.advance(5000);
  await manager.tick();
  assert.equal(log.segmentCount, 1, `retention left ${log.segmentCount} of ${segments}`);
  assert.ok(log.logStartOffset > 0);
  assert.match(readFileSync(join(dataDir, 'log-start-offset-checkpoint'), 'utf8'), new RegExp(`old 0 ${log.logStartOffset}`));
  await manager.close();
});

test('kill -9 during acks=all appends loses no acknowledged record', { timeout: 60_000 }, async () => {
  const dataDir = temporaryDirectory();
  const writer = fileURLToPath(new URL('./crash-writer.js', import.meta.url));
  const child = spawn(process.execPath, [writer, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let highestAcked = -1;
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('writer acknowledged too little in 20 s')), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) highestAcked = Math.max(highestAcked, Number(line.split(' ')[1]));
      if (highestAcked >= 2000) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => reject(new Error('writer exited before it was killed')));
  });
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.on('exit', resolve));
  process.kill(child.pid!, 'SIGKILL');
  await exited;

  const manager = LogManager.open({ dataDir, clock: new ManualClock(), configFor: () => config });
  assert.equal(manager.openedAfterCleanShutdown, false);
  const log = manager.get('crash', 0)!;
  assert.ok(log.logEndOffset > highestAcked, `log end ${log.logEndOffset} must cover acked ${highestAcked}`);
  const offsets = readAllOffsets(log);
  assert.deepEqual(offsets.slice(0, highestAcked + 1), Array.from({ length: highestAcked + 1 }, (_, index) => index));
  const lastAcked = decodeRecordBatches(log.read(highestAcked, 1).records)[0]!;
  const record = lastAcked.records.find((entry) => entry.offset === highestAcked)!;
  assert.match(record.value!.toString(), /^b\d+-4:/, 'the acknowledged record has its value');
  await manager.close();
});
