/**
 * A full disk at each write site of a node's data dir (segment append, preallocation, index,
 * checkpoint, journal), injected through the storage seam: the requests the failed write
 * covers answer KAFKA_STORAGE_ERROR, the log dir goes offline (produce and fetch answer
 * KAFKA_STORAGE_ERROR for all its partitions), the node keeps serving, and after a restart
 * with space every acknowledged record is there. A full disk under preallocation only stops
 * preallocating.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { decodeRecordBatches } from '../../src/protocol/records/records.js';
import type { LogConfig } from '../../src/storage/log-config.js';
import { FaultyFileOps, isAllZeros } from '../storage/faulty-file-ops.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';
import { NodeOnThisThread } from './node-on-this-thread.js';

const PARTITIONS = 3;

/** A node on a data dir whose writes go through `files`, remembering what it acknowledged. */
class DiskUnderTest {
  readonly dataDir = temporaryDirectory();
  readonly files = new FaultyFileOps();
  readonly offlineReasons: string[] = [];
  /** Acknowledged values per partition, in offset order. */
  readonly acknowledged: string[][] = Array.from({ length: PARTITIONS }, () => []);
  readonly node: NodeOnThisThread;
  private sequence = 0;

  constructor(private readonly logConfig: Partial<LogConfig> = {}) {
    this.node = new NodeOnThisThread({ dataDir: this.dataDir, files: this.files, logConfig, onLogDirOffline: (reason) => this.offlineReasons.push(reason) });
  }

  /** Produces one record to each of `partitions` (valueBytes long); returns the error codes. */
  async produce(partitions: readonly number[], valueBytes = 100): Promise<number[]> {
    const value = `${this.sequence++}:`.padEnd(valueBytes, 'x');
    const results = await this.node.produce(partitions, value);
    results.forEach((result, index) => {
      if (result.errorCode === ErrorCode.NONE) this.acknowledged[partitions[index]!]!.push(value);
    });
    return results.map((result) => result.errorCode);
  }

  /** Produces to partition 0 until an answer is not NONE; returns it. */
  async produceUntilError(valueBytes: number, maxRequests: number): Promise<number> {
    for (let request = 0; request < maxRequests; request++) {
      const [code] = await this.produce([0], valueBytes);
      if (code !== ErrorCode.NONE) return code!;
    }
    throw new Error(`no error within ${maxRequests} produce requests`);
  }

  /** The dir is offline: every partition refuses produce and fetch; control still answers. */
  async assertOffline(reason: RegExp): Promise<void> {
    assert.equal(this.offlineReasons.length, 1, 'the front end is told once');
    assert.match(this.offlineReasons[0]!, reason);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      assert.deepEqual(await this.produce([partition]), [ErrorCode.KAFKA_STORAGE_ERROR], `produce to partition ${partition}`);
      assert.equal((await this.node.fetch(partition, 0)).errorCode, ErrorCode.KAFKA_STORAGE_ERROR, `fetch from partition ${partition}`);
    }
    assert.deepEqual(await this.node.control({ op: 'listGroups' }), { ok: true, value: [] }, 'the node keeps serving');
  }

  /** Stops the node, restarts it on the same dir with a healthy disk, checks every ack. */
  async restartAndCheckAcknowledged(): Promise<void> {
    await this.node.stop();
    const restarted = new NodeOnThisThread({ dataDir: this.dataDir, logConfig: this.logConfig });
    try {
      await restarted.node.recoverFromJournal();
      await restarted.lead(PARTITIONS);
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const values: string[] = [];
        for (;;) {
          const fetched = await restarted.fetch(partition, values.length);
          assert.equal(fetched.errorCode, ErrorCode.NONE);
          const records = decodeRecordBatches(fetched.records).flatMap((batch) => batch.records);
          if (records.length === 0) break;
          assert.equal(records[0]!.offset, values.length, 'offsets stay dense');
          values.push(...records.map((record) => record.value!.toString()));
        }
        const acknowledged = this.acknowledged[partition]!;
        assert.deepEqual(values.slice(0, acknowledged.length), acknowledged, `partition ${partition}: every acknowledged record, in order`);
        assert.ok(values.length <= acknowledged.length + 1, 'at most the one unacknowledged batch of the failed write beyond');
      }
      assert.ok(this.acknowledged.some((values) => values.length > 0), 'the test acknowledged something');
    } finally {
      await restarted.stop();
    }
  }
}

test('an append that hits a full disk fails its request and takes the log dir offline; acked records survive', { timeout: 30_000 }, async () => {
  const disk = new DiskUnderTest();
  await disk.node.lead(PARTITIONS);
  for (let index = 0; index < 5; index++) assert.deepEqual(await disk.produce([0]), [ErrorCode.NONE]);
  assert.deepEqual(await disk.produce([0, 1]), [ErrorCode.NONE, ErrorCode.NONE], 'through the journal');
  // Parked past the helper's 10 s deadline: only the dir going offline can answer it in time.
  const parked = disk.node.fetch(2, 0, 1024, 60_000);
  disk.files.fail('write', (path, bytes) => path.includes('t-0') && path.endsWith('.log') && !isAllZeros(bytes));
  assert.deepEqual(await disk.produce([0]), [ErrorCode.KAFKA_STORAGE_ERROR]);
  assert.equal((await parked).errorCode, ErrorCode.KAFKA_STORAGE_ERROR, 'a parked fetch answers at once');
  assert.equal(disk.files.failed.length, 1, 'the segment write failed');
  await disk.assertOffline(/append to .*t-0 failed with ENOSPC/);
  await disk.restartAndCheckAcknowledged();
});

test('a full disk under preallocation only stops preallocating', { timeout: 30_000 }, async () => {
  const disk = new DiskUnderTest({ preallocate: true });
  await disk.node.lead(PARTITIONS);
  const zeroFill = disk.files.fail('write', (path, bytes) => path.endsWith('.log') && isAllZeros(bytes));
  // Preallocation starts at 256 KiB of data: 40 x 16 KB passes it.
  for (let index = 0; index < 40; index++) assert.deepEqual(await disk.produce([0], 16_000), [ErrorCode.NONE], `produce ${index}`);
  assert.equal(disk.files.failed.length, 1, 'one zero-fill failed');
  assert.equal(zeroFill.remaining, Number.POSITIVE_INFINITY - 1);
  assert.deepEqual(disk.files.matchedAfterwards, [], 'and the segment tried no more');
  assert.deepEqual(disk.offlineReasons, [], 'the log dir stays online');
  assert.deepEqual(await disk.produce([1, 2]), [ErrorCode.NONE, ErrorCode.NONE]);
  await disk.restartAndCheckAcknowledged();
});

test('an index write that hits a full disk at a roll takes the log dir offline', { timeout: 30_000 }, async () => {
  const disk = new DiskUnderTest({ segmentBytes: 8192, indexIntervalBytes: 512 });
  await disk.node.lead(PARTITIONS);
  assert.deepEqual(await disk.produce([1]), [ErrorCode.NONE]);
  disk.files.fail('write', (path) => path.endsWith('.index'));
  assert.equal(await disk.produceUntilError(1000, 20), ErrorCode.KAFKA_STORAGE_ERROR);
  assert.match(disk.files.failed[0]!, /^write .*t-0.*\.index$/);
  assert.ok(disk.acknowledged[0]!.length >= 7, 'the first segment filled up before the roll');
  await disk.assertOffline(/roll of .*t-0 failed with ENOSPC/);
  await disk.restartAndCheckAcknowledged();
});

test('a checkpoint write that hits a full disk takes the log dir offline', { timeout: 30_000 }, async () => {
  const disk = new DiskUnderTest();
  await disk.node.lead(PARTITIONS);
  for (const partition of [0, 1, 2]) assert.deepEqual(await disk.produce([partition]), [ErrorCode.NONE]);
  disk.files.fail('write', (path) => path.endsWith('recovery-point-offset-checkpoint.tmp'));
  // DeleteRecords writes the checkpoints; offset 0 moves nothing, so every ack stays readable.
  const deleted = await disk.node.control({ op: 'deleteRecords', partitions: [{ topic: 't', partition: 0, offset: 0 }] });
  assert.deepEqual(deleted, { ok: true, value: [{ errorCode: ErrorCode.NONE, lowWatermark: 0 }] });
  assert.equal(disk.files.failed.length, 1, 'the checkpoint write failed');
  await disk.assertOffline(/checkpoint write failed with ENOSPC/);
  await disk.restartAndCheckAcknowledged();
});

test('a node journal write that hits a full disk fails the requests it covers and takes the log dir offline', { timeout: 30_000 }, async () => {
  const disk = new DiskUnderTest();
  await disk.node.lead(PARTITIONS);
  assert.deepEqual(await disk.produce([0, 1]), [ErrorCode.NONE, ErrorCode.NONE]);
  assert.deepEqual(await disk.produce([2]), [ErrorCode.NONE], 'not journaled');
  disk.files.fail('write', (path) => path.endsWith('.journal'));
  assert.deepEqual(await disk.produce([0, 1]), [ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.KAFKA_STORAGE_ERROR]);
  assert.equal(disk.files.failed.length, 1, 'the journal write failed');
  await disk.assertOffline(/node journal write failed with ENOSPC/);
  await disk.restartAndCheckAcknowledged();
});
