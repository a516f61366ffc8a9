import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createDoorbell, Doorbell } from '../../src/runtime/doorbell.js';
import { FRONT_SOURCE_ID, MESSAGES_PER_RING_TURN, RingSet } from '../../src/runtime/ring-set.js';
import { createRingBuffer, RingWait, RingWriter } from '../../src/runtime/shared-ring.js';

/**
 * Longest a wait in these tests may park. A ring of the doorbell wakes it long before; reaching
 * the timeout means the wake-up was lost, and the wait says so (TIMED_OUT).
 */
const WAKE_TIMEOUT_MS = 5_000;

/** Atomics.waitAsync holds no event-loop handle: hold one until `wait` settles. */
async function alive<T>(wait: Promise<T>): Promise<T> {
  const handle = setInterval(() => {}, 1000);
  try {
    return await wait;
  } finally {
    clearInterval(handle);
  }
}

interface Node {
  readonly doorbell: SharedArrayBuffer;
  readonly set: RingSet;
  /** Adds a ring from `sourceId` and returns its writer (ringing the node's doorbell). */
  connect(sourceId: number): RingWriter;
}

function node(): Node {
  const doorbell = createDoorbell();
  const set = new RingSet(doorbell);
  return {
    doorbell,
    set,
    connect(sourceId) {
      const ring = createRingBuffer(16 * 1024);
      set.add(sourceId, ring);
      return new RingWriter(ring, { doorbell: new Doorbell(doorbell) });
    },
  };
}

function write(writer: RingWriter, text: string): void {
  assert.ok(writer.tryWrite(Buffer.from(text)), `ring full writing ${text}`);
}

/** Drains everything (or `maxMessages`) as `source:text` strings, in the order handed over. */
function drained(set: RingSet, maxMessages?: number): string[] {
  const messages: string[] = [];
  set.drain((sourceId, bytes, offset, length) => messages.push(`${sourceId}:${bytes.toString('utf8', offset, offset + length)}`), maxMessages);
  return messages;
}

test('a drain hands over each ring in order, taking turns of MESSAGES_PER_RING_TURN, and the first ring rotates', () => {
  const { set, connect } = node();
  const front = connect(FRONT_SOURCE_ID);
  const peer = connect(2);
  const perRing = MESSAGES_PER_RING_TURN + 4;
  for (let index = 0; index < perRing; index++) {
    write(front, `f${index}`);
    write(peer, `p${index}`);
  }
  const expected = [
    ...Array.from({ length: MESSAGES_PER_RING_TURN }, (_, index) => `-1:f${index}`),
    ...Array.from({ length: MESSAGES_PER_RING_TURN }, (_, index) => `2:p${index}`),
    ...Array.from({ length: 4 }, (_, index) => `-1:f${MESSAGES_PER_RING_TURN + index}`),
    ...Array.from({ length: 4 }, (_, index) => `2:p${MESSAGES_PER_RING_TURN + index}`),
  ];
  assert.deepEqual(drained(set), expected);
  assert.ok(set.isEmpty);
  write(front, 'second-drain-f');
  write(peer, 'second-drain-p');
  assert.deepEqual(drained(set), ['2:second-drain-p', '-1:second-drain-f'], 'the second drain starts at the second ring');
  write(front, 'x');
  write(peer, 'y');
  assert.deepEqual(drained(set, 1), ['-1:x'], 'the third drain starts at the first ring again');
  assert.deepEqual(drained(set, 1), ['2:y'], 'and the fourth at the second');
});

test('a ring its handler keeps refilling does not starve the others', () => {
  const { set, connect } = node();
  const busy = connect(0);
  const quiet = connect(1);
  for (let index = 0; index < 100; index++) write(busy, 'busy');
  for (let index = 0; index < 5; index++) write(quiet, `quiet${index}`);
  const order: string[] = [];
  const handled = set.drain((sourceId, bytes, offset, length) => {
    order.push(bytes.toString('utf8', offset, offset + length));
    if (sourceId === 0) write(busy, 'busy'); // every busy message brings another
  }, 300);
  assert.equal(handled, 300);
  assert.deepEqual(
    order.slice(MESSAGES_PER_RING_TURN, MESSAGES_PER_RING_TURN + 5),
    ['quiet0', 'quiet1', 'quiet2', 'quiet3', 'quiet4'],
    'the quiet ring gets its turn right after the busy ring\'s first turn',
  );
});

test('replace drops what the old ring still held, also during a drain; remove stops reading a ring', () => {
  const { set, doorbell, connect } = node();
  const peer = connect(3);
  for (const text of ['old0', 'old1', 'old2']) write(peer, text);
  const fresh = createRingBuffer(16 * 1024);
  set.replace(3, fresh);
  const restarted = new RingWriter(fresh, { doorbell: new Doorbell(doorbell) });
  write(restarted, 'new0');
  assert.deepEqual(drained(set), ['3:new0']);

  // The handler learns of the restart from the first message and swaps the ring at once.
  for (const text of ['stale0', 'stale1', 'stale2']) write(restarted, text);
  const second = createRingBuffer(16 * 1024);
  const seen: string[] = [];
  set.drain((sourceId, bytes, offset, length) => {
    seen.push(bytes.toString('utf8', offset, offset + length));
    if (seen.length === 1) set.replace(sourceId, second);
  });
  assert.deepEqual(seen, ['stale0']);
  const front = connect(FRONT_SOURCE_ID);
  write(front, 'request');
  write(new RingWriter(second, { doorbell: new Doorbell(doorbell) }), 'new1');
  assert.equal(set.remove(FRONT_SOURCE_ID), true);
  assert.equal(set.remove(FRONT_SOURCE_ID), false);
  assert.deepEqual(drained(set), ['3:new1']);
  assert.deepEqual(set.sourceIds, [3]);
  assert.throws(() => set.add(3, createRingBuffer(1024)), /already in the set/);
});

test('waitForAny is READY when a message is already there, WOKEN by a commit, TIMED_OUT without one', async () => {
  const { set, doorbell, connect } = node();
  const front = connect(FRONT_SOURCE_ID);
  const peer = connect(1);
  write(peer, 'before the wait');
  assert.equal(await alive(set.waitForAny(WAKE_TIMEOUT_MS)), RingWait.READY);
  drained(set);

  const owner = new Doorbell(doorbell);
  const waiting = set.waitForAny(WAKE_TIMEOUT_MS); // every ring is empty: this parks now
  assert.equal(owner.isOwnerSleeping, true);
  write(front, 'wake up');
  assert.equal(await alive(waiting), RingWait.WOKEN);
  assert.equal(owner.isOwnerSleeping, false, 'the owner cleared its flag: commits while it runs cost no notify');
  assert.deepEqual(drained(set), ['-1:wake up']);

  assert.equal(await alive(set.waitForAny(20)), RingWait.TIMED_OUT);
  const stopping = set.waitForAny(WAKE_TIMEOUT_MS);
  set.wake();
  assert.equal(await alive(stopping), RingWait.WOKEN);
});

test('a ring added (or replaced) while the node waits wakes it: its writer may have rung before it was added', async () => {
  const { set, doorbell } = node();
  const early = createRingBuffer(1024);
  write(new RingWriter(early, { doorbell: new Doorbell(doorbell) }), 'written before the add');
  const waiting = set.waitForAny(WAKE_TIMEOUT_MS); // no ring in the set yet: this parks
  set.add(7, early);
  assert.equal(await alive(waiting), RingWait.WOKEN);
  assert.deepEqual(drained(set), ['7:written before the add']);
  const fresh = createRingBuffer(1024);
  write(new RingWriter(fresh, { doorbell: new Doorbell(doorbell) }), 'restarted peer');
  const again = set.waitForAny(WAKE_TIMEOUT_MS);
  set.replace(7, fresh);
  assert.equal(await alive(again), RingWait.WOKEN);
  assert.deepEqual(drained(set), ['7:restarted peer']);
});

const MESSAGES_PER_BURST = 400; // 400 x 104 bytes: more than the 16 KiB ring, so writers park for space too

test('two writer threads into two rings: the reader parked on its doorbell is WOKEN for every burst', { timeout: 60_000 }, async () => {
  const doorbell = createDoorbell();
  const set = new RingSet(doorbell);
  const control = new SharedArrayBuffer(4 * 4); // per writer: GO, DONE
  const cells = new Int32Array(control);
  const rings = [createRingBuffer(16 * 1024), createRingBuffer(16 * 1024)];
  rings.forEach((ring, writerIndex) => set.add(writerIndex, ring));
  const workers = rings.map(
    (ring, writerIndex) =>
      new Worker(new URL('./doorbell-writer-worker.js', import.meta.url), {
        workerData: { ring, doorbell, control, writerIndex, messagesPerBurst: MESSAGES_PER_BURST, wakeTimeoutMs: WAKE_TIMEOUT_MS },
      }),
  );
  const workerErrors: Error[] = [];
  for (const worker of workers) worker.on('error', (error) => workerErrors.push(error));
  const bursts = [[0], [1], [0, 1], [1], [0, 1], [0]];
  try {
    for (let burst = 1; burst <= bursts.length; burst++) {
      await runBurst(set, cells, burst, bursts[burst - 1]!);
      assert.deepEqual(workerErrors, []);
    }
  } finally {
    for (let writerIndex = 0; writerIndex < workers.length; writerIndex++) {
      Atomics.store(cells, writerIndex * 2, -1);
      Atomics.notify(cells, writerIndex * 2);
    }
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  assert.deepEqual(workerErrors, []);
});

async function runBurst(set: RingSet, cells: Int32Array, burst: number, writers: readonly number[]): Promise<void> {
  const nextSequence = [0, 0];
  const doneBefore = writers.map((writerIndex) => Atomics.load(cells, writerIndex * 2 + 1));
  const handle = (sourceId: number, bytes: Buffer, offset: number): void => {
    assert.equal(bytes.readInt32LE(offset), sourceId, 'a message from another ring');
    assert.equal(bytes.readInt32LE(offset + 4), burst);
    assert.equal(bytes.readInt32LE(offset + 8), nextSequence[sourceId], `ring ${sourceId} out of order`);
    nextSequence[sourceId]!++;
  };
  assert.ok(set.isEmpty);
  const parked = set.waitForAny(WAKE_TIMEOUT_MS); // nothing queued, nothing rang: this parks now
  for (const writerIndex of writers) {
    Atomics.store(cells, writerIndex * 2, burst);
    Atomics.notify(cells, writerIndex * 2);
  }
  assert.equal(await alive(parked), RingWait.WOKEN, `burst ${burst}: the doorbell never woke the reader`);
  let handled = set.drain(handle);
  while (handled < writers.length * MESSAGES_PER_BURST) {
    const outcome = await alive(set.waitForAny(WAKE_TIMEOUT_MS));
    assert.notEqual(outcome, RingWait.TIMED_OUT, `burst ${burst}: a commit did not ring the doorbell`);
    handled += set.drain(handle);
  }
  for (const writerIndex of writers) assert.equal(nextSequence[writerIndex], MESSAGES_PER_BURST);
  // Each writer reports its burst done (its last ring is behind it) before the next burst.
  await Promise.all(
    writers.map(async (writerIndex, index) => {
      const wait = Atomics.waitAsync(cells, writerIndex * 2 + 1, doneBefore[index]!, WAKE_TIMEOUT_MS);
      if (wait.async) assert.equal(await alive(wait.value), 'ok', `writer ${writerIndex} never finished burst ${burst}`);
    }),
  );
  assert.ok(set.isEmpty);
}
