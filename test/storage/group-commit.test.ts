import { test } from 'node:test';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import assert from 'node:assert/strict';
import { GroupCommit, scheduleOnNextTurn, startImmediately } from '../../src/storage/group-commit.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';
import { clientBatch, openLog, testConfig } from './log-fixtures.js';

/** A flush whose completion the test controls. */
function controlledFlush() {
  let appended = 0;
  const pending: Array<() => void> = [];
  let calls = 0;
  const flushOnce = () => {
    calls++;
    const covered = appended;
    return new Promise<number>((resolve) => pending.push(() => resolve(covered)));
  };
  return {
    flushOnce,
    append: () => ++appended,
    completeOne: () => pending.shift()!(),
    get calls() {
      return calls;
    },
    get waiting() {
      return pending.length;
    },
  };
}

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

test('with a deferring scheduler, callers in the same turn share one flush', async () => {
  const disk = controlledFlush();
  const commit = new GroupCommit(disk.flushOnce, scheduleOnNextTurn);
  disk.append();
  const first = commit.flush();
  disk.append();
  const second = commit.flush();
  assert.equal(first, second);
  await nextTick();
  assert.equal(disk.calls, 1);
  disk.completeOne();
  assert.equal(await first, 2, 'the flush covered both appends');
});

test('callers that arrive during a flush share the next one, which covers them', async () => {
  const disk = controlledFlush();
  const commit = new GroupCommit(disk.flushOnce);
  disk.append();
  const first = commit.flush();
  assert.equal(disk.calls, 1, 'an idle group commit starts at once');
  const late = Array.from({ length: 50 }, () => {
    disk.append();
    return commit.flush();
  });
  assert.ok(late.every((promise) => promise === late[0]));
  await nextTick();
  assert.equal(disk.calls, 1, 'no second flush while the first runs');
  disk.completeOne();
  assert.equal(await first, 1);
  await nextTick();
  assert.equal(disk.calls, 2);
  disk.completeOne();
  assert.equal(await late[0], 51);
  assert.equal(commit.roundsCompleted, 2);
});

test('a failed flush rejects its callers, and the next round still runs', async () => {
  let fail = true;
  const commit = new GroupCommit(async () => {
    if (fail) throw new Error('EIO');
    return 7;
  });
  await assert.rejects(commit.flush(), /EIO/);
  fail = false;
  assert.equal(await commit.flush(), 7);
});

test('the partition log acknowledges only after the covering fsync and counts rounds', async () => {
  const log = openLog(temporaryDirectory(), new ManualClock(), testConfig({ segmentBytes: 1 << 20 }));
  const acknowledgements: Array<Promise<void>> = [];
  for (let round = 0; round < 100; round++) {
    const result = log.appendAsLeader(clientBatch(2), 0);
    acknowledgements.push(log.waitForDurability(result.lastOffset));
  }
  assert.equal(log.recoveryPoint, 0, 'nothing durable before the flush runs');
  await Promise.all(acknowledgements);
  assert.equal(log.recoveryPoint, 200);
  assert.ok(log.flushRounds <= 2, `100 appends in one turn cost ${log.flushRounds} fsync rounds`);
  await log.close();
});

test('under the interval and never policies acknowledgements do not wait', async () => {
  for (const flushPolicy of ['interval', 'never'] as const) {
    const log = openLog(temporaryDirectory(), new ManualClock(), testConfig({ flushPolicy }));
    const result = log.appendAsLeader(clientBatch(2), 0);
    await log.waitForDurability(result.lastOffset);
    assert.equal(log.flushRounds, 0);
    assert.equal(log.recoveryPoint, 0);
    await log.close();
  }
});

/** Counts (and can fail) fdatasyncSync calls made through the ESM bindings of node:fs. */
function interceptSyncFsync(): { calls: () => number; failNext: (code: string) => void; restore: () => void } {
  const original = fs.fdatasyncSync;
  let calls = 0;
  let failure: string | null = null;
  fs.fdatasyncSync = (fd: number) => {
    calls++;
    if (failure !== null) {
      const error = Object.assign(new Error(`${failure}: injected fdatasync failure`), { code: failure });
      failure = null;
      throw error;
    }
    original(fd);
  };
  syncBuiltinESMExports();
  return {
    calls: () => calls,
    failNext: (code) => (failure = code),
    restore: () => {
      fs.fdatasyncSync = original;
      syncBuiltinESMExports();
    },
  };
}

test('flushNow fsyncs on the calling thread and releases the acknowledgements it covers', async () => {
  const disk = interceptSyncFsync();
  const log = openLog(temporaryDirectory(), new ManualClock(), testConfig({ segmentBytes: 1 << 20 }));
  try {
    const first = log.appendAsLeader(clientBatch(3), 0);
    const second = log.appendAsLeader(clientBatch(2), 0);
    let released = 0;
    const acknowledgements = [first, second].map((appended) => log.whenDurable(appended.lastOffset).then(() => released++));
    assert.equal(log.recoveryPoint, 0);
    assert.equal(log.flushNow(), 5, 'the flush covered both appends');
    assert.equal(disk.calls(), 1, 'one fdatasync for the one dirty segment');
    assert.equal(log.recoveryPoint, 5);
    await Promise.all(acknowledgements);
    assert.equal(released, 2);
    assert.equal(log.flushNow(), 5);
    assert.equal(disk.calls(), 1, 'nothing dirty: no fdatasync');
    assert.equal(log.flushRounds, 2);
  } finally {
    disk.restore();
    await log.close();
  }
});

test('a round on the threadpool that ends after flushNow never moves the durable offset back', async () => {
  // The round starts at once and covers offsets 0-1 only; flushNow then covers 0-3.
  const log = openLog(temporaryDirectory(), new ManualClock(), testConfig({ segmentBytes: 1 << 20 }), { scheduler: startImmediately });
  log.appendAsLeader(clientBatch(2), 0);
  const round = log.flush();
  assert.ok(log.isFlushing);
  log.appendAsLeader(clientBatch(2), 0);
  assert.equal(log.flushNow(), 4);
  assert.equal(await round, 4, 'the earlier round reports the offset already durable');
  assert.equal(log.recoveryPoint, 4);
  await log.close();
});

test('a failed flushNow rejects the waiting acknowledgements and takes the log offline', async () => {
  const disk = interceptSyncFsync();
  const log = openLog(temporaryDirectory(), new ManualClock(), testConfig({ segmentBytes: 1 << 20 }));
  try {
    const appended = log.appendAsLeader(clientBatch(2), 0);
    const acknowledgement = log.whenDurable(appended.lastOffset);
    disk.failNext('EIO');
    assert.throws(() => log.flushNow(), (error: unknown) => error instanceof KafkaError && error.code === ErrorCode.KAFKA_STORAGE_ERROR);
    await assert.rejects(acknowledgement, (error: unknown) => error instanceof KafkaError && error.code === ErrorCode.KAFKA_STORAGE_ERROR);
    assert.equal(log.recoveryPoint, 0, 'nothing became durable');
    assert.throws(() => log.appendAsLeader(clientBatch(1), 0), /offline/);
    assert.throws(() => log.flushNow(), /offline|EIO/);
  } finally {
    disk.restore();
    await log.close();
  }
});
