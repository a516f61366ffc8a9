import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../src/runtime/clock.js';
import { InvariantError } from '../../src/runtime/assert.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { CRC_OFFSET } from '../../src/protocol/records/layout.js';
import { CheckpointFormatError, LeaderEpochCheckpointFile } from '../../src/storage/checkpoint-file.js';
import { LEADER_EPOCH_CHECKPOINT } from '../../src/storage/log-leader-epochs.js';
import { readHighWatermarks, writeHighWatermarks, HIGH_WATERMARK_CHECKPOINT } from '../../src/storage/high-watermark-checkpoint.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';
import { clientBatch, openLog, readAllOffsets, testConfig } from './log-fixtures.js';
import { FaultyFileOps } from './faulty-file-ops.js';

function epochsOf(log: PartitionLog): Array<[number, number]> {
  return log.leaderEpochs.entries.map((entry) => [entry.epoch, entry.startOffset]);
}

function checkpointText(directory: string): string | null {
  const path = join(directory, LEADER_EPOCH_CHECKPOINT);
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

function kafkaCode(code: number): (error: unknown) => boolean {
  return (error) => error instanceof KafkaError && error.code === code;
}

/** Every batch of `log` from `from` on, as a leader's fetch answer carries them. */
function fetchedFrom(log: PartitionLog, from: number): Buffer {
  return log.read(from, 1 << 20).records;
}

test('the leader-epoch checkpoint uses Kafka\'s text layout and refuses broken files', () => {
  const path = join(temporaryDirectory(), LEADER_EPOCH_CHECKPOINT);
  const file = new LeaderEpochCheckpointFile(path);
  assert.equal(file.read(), null, 'a missing file reads as null');
  file.write([{ epoch: 0, startOffset: 0 }, { epoch: 3, startOffset: 17 }]);
  assert.equal(readFileSync(path, 'utf8'), '0\n2\n0 0\n3 17\n');
  assert.deepEqual(file.read(), [{ epoch: 0, startOffset: 0 }, { epoch: 3, startOffset: 17 }]);
  for (const contents of ['1\n0\n', '0\n2\n0 0\n', '0\n1\n0\n', '0\n1\nx 0\n', '0\n2\n3 0\n1 5\n', '0\n2\n1 5\n2 5\n']) {
    writeFileSync(path, contents);
    assert.throws(() => file.read(), CheckpointFormatError, JSON.stringify(contents));
  }
});

test('high watermarks round-trip in replication-offset-checkpoint; a missing or broken file reads as empty', () => {
  const dataDir = temporaryDirectory();
  assert.equal(readHighWatermarks(dataDir).size, 0);
  writeHighWatermarks(dataDir, [{ topic: 'orders', partition: 0, highWatermark: 42 }, { topic: 'a-b', partition: 7, highWatermark: 0 }]);
  assert.equal(readFileSync(join(dataDir, HIGH_WATERMARK_CHECKPOINT), 'utf8'), '0\n2\norders 0 42\na-b 7 0\n');
  assert.deepEqual([...readHighWatermarks(dataDir)], [['orders-0', 42], ['a-b-7', 0]]);
  writeFileSync(join(dataDir, HIGH_WATERMARK_CHECKPOINT), '0\n3\norders 0 42\n');
  const lines: string[] = [];
  assert.equal(readHighWatermarks(dataDir, (line) => lines.push(line)).size, 0);
  assert.match(lines.join('\n'), /malformed.*start from 0/);
});

test('leader appends teach the cache their epochs; the file follows at the next flush', async () => {
  const directory = temporaryDirectory();
  const log = openLog(directory, new ManualClock(), testConfig());
  log.appendAsLeader(clientBatch(2), 0);
  log.appendAsLeader(clientBatch(3), 0);
  log.appendInternal(clientBatch(1), 2);
  assert.deepEqual(epochsOf(log), [[0, 0], [2, 5]]);
  assert.equal(log.lastFetchedEpoch, 2);
  assert.equal(checkpointText(directory), null, 'appends write the file lazily');
  await log.flush();
  assert.equal(checkpointText(directory), '0\n2\n0 0\n2 5\n');
  assert.throws(() => log.appendAsLeader(clientBatch(1), 1), InvariantError, 'a leader never appends with an older epoch');
  assert.equal(log.logEndOffset, 6, 'the refused append wrote nothing');
  log.flushNow();
  await log.close();
});

test('startLeaderEpoch caches a new epoch at the log end and writes the file at once', async () => {
  const directory = temporaryDirectory();
  const log = openLog(directory, new ManualClock(), testConfig());
  log.appendAsLeader(clientBatch(4), 1);
  log.startLeaderEpoch(3);
  assert.deepEqual(epochsOf(log), [[1, 0], [3, 4]]);
  assert.equal(checkpointText(directory), '0\n2\n1 0\n3 4\n');
  assert.deepEqual(log.leaderEpochs.endOffsetFor(1, log.logEndOffset), { epoch: 1, endOffset: 4 });
  await log.close();
});

test('appendAsFollower keeps offsets, epochs and bytes; the cache learns the epochs', async () => {
  const clock = new ManualClock();
  const leader = openLog(temporaryDirectory(), clock, testConfig());
  leader.appendAsLeader(clientBatch(2), 0);
  leader.appendAsLeader(clientBatch(3), 1);
  leader.appendAsLeader(clientBatch(1), 4);
  const follower = openLog(temporaryDirectory(), clock, testConfig());
  const fetched = fetchedFrom(leader, 0);
  const copy = Buffer.from(fetched);
  const result = follower.appendAsFollower(fetched);
  assert.deepEqual(result, { baseOffset: 0, lastOffset: 5, logAppendTimeMs: -1, sizeBytes: fetched.length });
  assert.deepEqual(fetched, copy, 'nothing patched in place');
  assert.deepEqual(fetchedFrom(follower, 0), fetchedFrom(leader, 0));
  assert.deepEqual(epochsOf(follower), [[0, 0], [1, 2], [4, 5]]);
  assert.equal(follower.appendAsFollower(Buffer.alloc(0)).sizeBytes, 0);
  await leader.close();
  await follower.close();
});

test('appendAsFollower refuses batches that do not continue the log, writing nothing', async () => {
  const clock = new ManualClock();
  const leader = openLog(temporaryDirectory(), clock, testConfig());
  leader.appendAsLeader(clientBatch(2), 0);
  leader.appendAsLeader(clientBatch(2), 2);
  const follower = openLog(temporaryDirectory(), clock, testConfig());
  follower.appendAsFollower(fetchedFrom(leader, 0));
  // The same batches again: they start below the log end offset.
  assert.throws(() => follower.appendAsFollower(fetchedFrom(leader, 2)), kafkaCode(ErrorCode.OFFSET_OUT_OF_RANGE));
  leader.appendAsLeader(clientBatch(1), 2);
  const corrupt = Buffer.from(fetchedFrom(leader, 4));
  corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 0xff;
  assert.throws(() => follower.appendAsFollower(corrupt), kafkaCode(ErrorCode.CORRUPT_MESSAGE));
  const badCrc = Buffer.from(fetchedFrom(leader, 4));
  badCrc.writeUInt32BE((badCrc.readUInt32BE(CRC_OFFSET) + 1) >>> 0, CRC_OFFSET);
  assert.throws(() => follower.appendAsFollower(badCrc), kafkaCode(ErrorCode.CORRUPT_MESSAGE));
  assert.equal(follower.logEndOffset, 4);
  assert.deepEqual(epochsOf(follower), [[0, 0], [2, 2]]);
  await leader.close();
  await follower.close();
});

test('appendAsFollower refuses an epoch older than the log\'s latest: the follower must truncate first', async () => {
  const clock = new ManualClock();
  const oldLeader = openLog(temporaryDirectory(), clock, testConfig());
  oldLeader.appendAsLeader(clientBatch(3), 1);
  const follower = openLog(temporaryDirectory(), clock, testConfig());
  follower.appendAsLeader(clientBatch(3), 2); // it led epoch 2 itself at offsets 0-2
  assert.throws(() => follower.appendAsFollower(fetchedFrom(oldLeader, 0)), kafkaCode(ErrorCode.OFFSET_OUT_OF_RANGE));
  oldLeader.appendAsLeader(clientBatch(1), 1); // offset 3, epoch 1
  assert.throws(() => follower.appendAsFollower(fetchedFrom(oldLeader, 3)), kafkaCode(ErrorCode.UNKNOWN_LEADER_EPOCH));
  assert.equal(follower.logEndOffset, 3);
  await follower.truncateTo(0);
  follower.appendAsFollower(fetchedFrom(oldLeader, 0));
  assert.deepEqual(epochsOf(follower), [[1, 0]]);
  await oldLeader.close();
  await follower.close();
});

test('appendAsFollower accepts a gap left by compaction on the leader', async () => {
  const clock = new ManualClock();
  const leader = openLog(temporaryDirectory(), clock, testConfig());
  leader.appendAsLeader(clientBatch(2), 0);
  leader.appendAsLeader(clientBatch(2), 0);
  const follower = openLog(temporaryDirectory(), clock, testConfig());
  follower.appendAsFollower(fetchedFrom(leader, 2)); // as if offsets 0-1 were compacted away
  assert.equal(follower.logEndOffset, 4);
  assert.deepEqual(readAllOffsets(follower, 2), [2, 3]);
  await leader.close();
  await follower.close();
});

test('truncateTo cuts the cache from the end and writes the file at once, also for an epoch with no batch', async () => {
  const directory = temporaryDirectory();
  const log = openLog(directory, new ManualClock(), testConfig());
  log.appendAsLeader(clientBatch(3), 0);
  log.appendAsLeader(clientBatch(3), 2);
  log.appendAsLeader(clientBatch(3), 5);
  await log.flush();
  await log.truncateTo(4);
  assert.equal(log.logEndOffset, 3, 'the batch straddling 4 went whole');
  assert.deepEqual(epochsOf(log), [[0, 0]]);
  assert.equal(checkpointText(directory), '0\n1\n0 0\n');
  log.startLeaderEpoch(7);
  await log.truncateTo(3);
  assert.deepEqual(epochsOf(log), [[0, 0]], 'the empty epoch 7 at the log end went');
  assert.equal(checkpointText(directory), '0\n1\n0 0\n');
  await log.close();
});

test('a log start move (DeleteRecords, retention) cuts the cache from the start and writes the file', async () => {
  const directory = temporaryDirectory();
  const log = openLog(directory, new ManualClock(), testConfig());
  log.appendAsLeader(clientBatch(3), 0);
  log.appendAsLeader(clientBatch(3), 1);
  log.appendAsLeader(clientBatch(3), 2);
  await log.flush();
  await log.deleteRecordsBefore(4);
  assert.deepEqual(epochsOf(log), [[1, 4], [2, 6]]);
  assert.equal(checkpointText(directory), '0\n2\n1 4\n2 6\n');
  await log.close();
});

test('a missing or unreadable checkpoint is rebuilt from the batch headers on open', async () => {
  const directory = temporaryDirectory();
  const clock = new ManualClock();
  const log = openLog(directory, clock, testConfig({ segmentBytes: 1024 }));
  for (let epoch = 0; epoch < 6; epoch++) for (let round = 0; round < 4; round++) log.appendAsLeader(clientBatch(3), epoch);
  await log.close();
  assert.ok(log.segmentCount > 2, 'the epochs span several segments');
  const expected = epochsOf(log);
  const expectedText = checkpointText(directory);
  const path = join(directory, LEADER_EPOCH_CHECKPOINT);
  for (const damage of [null, 'garbage\n']) {
    if (damage === null) rmSync(path);
    else writeFileSync(path, damage);
    const lines: string[] = [];
    const reopened = openLog(directory, clock, testConfig({ segmentBytes: 1024 }), { cleanShutdown: true, log: (line) => lines.push(line) });
    assert.deepEqual(epochsOf(reopened), expected);
    assert.equal(checkpointText(directory), expectedText, 'the rebuilt cache is written back');
    if (damage !== null) assert.match(lines.join('\n'), /rebuilding the leader epoch cache/);
    await reopened.close();
  }
});

test('recovery learns the epochs a stale checkpoint lacks and drops those past the recovered end', async () => {
  const directory = temporaryDirectory();
  const clock = new ManualClock();
  const config = testConfig({ segmentBytes: 1024 });
  const log = openLog(directory, clock, config);
  for (let round = 0; round < 8; round++) log.appendAsLeader(clientBatch(3), 0);
  await log.flush();
  const recoveryPoint = log.recoveryPoint;
  log.appendAsLeader(clientBatch(3), 4); // not flushed: the file still says only epoch 0
  log.flushNow(); // the segment bytes reach the disk ...
  writeFileSync(join(directory, LEADER_EPOCH_CHECKPOINT), '0\n2\n0 0\n9 1000\n'); // ... a stale file, with an epoch past the end
  await log.close();
  const reopened = openLog(directory, clock, config, { recoveryPoint });
  assert.deepEqual(epochsOf(reopened), [[0, 0], [4, 24]]);
  assert.equal(checkpointText(directory), '0\n2\n0 0\n4 24\n');
  await reopened.close();
});

test('a checkpoint that contradicts the batches is rebuilt from all of them', async () => {
  const directory = temporaryDirectory();
  const clock = new ManualClock();
  const log = openLog(directory, clock, testConfig());
  log.appendAsLeader(clientBatch(3), 0);
  log.appendAsLeader(clientBatch(3), 2);
  await log.close();
  // Claims epoch 1 from offset 5, but the batch at 3 already carries epoch 2.
  writeFileSync(join(directory, LEADER_EPOCH_CHECKPOINT), '0\n2\n0 0\n1 5\n');
  const lines: string[] = [];
  const reopened = openLog(directory, clock, testConfig(), { recoveryPoint: 0, log: (line) => lines.push(line) });
  assert.deepEqual(epochsOf(reopened), [[0, 0], [2, 3]]);
  assert.match(lines.join('\n'), /disagrees with the batches/);
  await reopened.close();
});

test('journal replay learns the epochs of the batches it restores', async () => {
  const clock = new ManualClock();
  const source = openLog(temporaryDirectory(), clock, testConfig());
  source.appendAsLeader(clientBatch(2), 3);
  source.appendAsLeader(clientBatch(2), 5);
  const target = openLog(temporaryDirectory(), clock, testConfig());
  assert.equal(target.appendRecovered(fetchedFrom(source, 0)), 2);
  assert.deepEqual(epochsOf(target), [[3, 0], [5, 2]]);
  await source.close();
  await target.close();
});

test('a failing leader-epoch checkpoint write takes the log dir offline: at a flush, at a truncation; retention goes on', async () => {
  const checkpointTemp = (path: string): boolean => path.endsWith(`${LEADER_EPOCH_CHECKPOINT}.tmp`);
  const clock = new ManualClock();
  const atFlush = new FaultyFileOps();
  const flushed = openLog(temporaryDirectory(), clock, testConfig(), { files: atFlush });
  flushed.appendAsLeader(clientBatch(2), 1);
  atFlush.fail('open', checkpointTemp);
  await assert.rejects(flushed.flush(), kafkaCode(ErrorCode.KAFKA_STORAGE_ERROR));
  assert.equal(flushed.durableEndOffset, 0, 'nothing is acknowledged without the epoch file');
  assert.equal(flushed.isOffline, true);

  const atTruncation = new FaultyFileOps();
  const truncated = openLog(temporaryDirectory(), clock, testConfig(), { files: atTruncation });
  truncated.appendAsLeader(clientBatch(2), 1);
  truncated.appendAsLeader(clientBatch(2), 2);
  await truncated.flush();
  atTruncation.fail('open', checkpointTemp);
  await assert.rejects(truncated.truncateTo(2), kafkaCode(ErrorCode.KAFKA_STORAGE_ERROR));
  assert.equal(truncated.isOffline, true);

  const atRetention = new FaultyFileOps();
  const retained = openLog(temporaryDirectory(), clock, testConfig({ segmentBytes: 1024, retentionBytes: 600 }), { files: atRetention });
  for (let epoch = 0; epoch < 12; epoch++) retained.appendAsLeader(clientBatch(4), epoch);
  await retained.flush();
  atRetention.fail('open', checkpointTemp);
  assert.ok((await retained.applyRetention()) > 0);
  assert.equal(retained.leaderEpochs.entries[0]!.startOffset, retained.logStartOffset, 'the cache follows the new log start');
  assert.equal(retained.isOffline, true);
});
