import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit, scheduleOnNextTurn } from '../../src/storage/group-commit.js';
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
