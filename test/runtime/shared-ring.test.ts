import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createRingBuffer, RingReader, RingWait, RingWriter } from '../../src/runtime/shared-ring.js';
import { SeededRandom } from '../helpers/random.js';

/**
 * Longest a wait in these tests may park. A notify wakes it long before; reaching the timeout
 * means the wake-up was lost, and the wait says so (RingWait.TIMED_OUT) instead of resolving.
 */
const WAKE_TIMEOUT_MS = 5_000;

/** Atomics.waitAsync holds no event-loop handle (not even with a timeout): hold one until `wait` settles. */
async function alive<T>(wait: Promise<T>): Promise<T> {
  const handle = setInterval(() => {}, 1000);
  try {
    return await wait;
  } finally {
    clearInterval(handle);
  }
}

/** Writes `message`, parking for space as often as needed; fails if a release went unnotified. */
async function writeParking(writer: RingWriter, message: Buffer): Promise<void> {
  for (;;) {
    const readPositionBefore = writer.readPosition();
    if (writer.tryWrite(message)) return;
    assert.notEqual(await alive(writer.waitForSpace(readPositionBefore, WAKE_TIMEOUT_MS)), RingWait.TIMED_OUT, 'the writer slept through a release');
  }
}

function collect(reader: RingReader): Buffer[] {
  const messages: Buffer[] = [];
  reader.drain((bytes, offset, length) => messages.push(Buffer.from(bytes.subarray(offset, offset + length))));
  return messages;
}

test('messages come out in order with their exact bytes, across wrap-arounds', () => {
  const shared = createRingBuffer(4096);
  const writer = new RingWriter(shared);
  const reader = new RingReader(shared);
  const random = new SeededRandom(7);
  let sent = 0;
  let received = 0;
  for (let round = 0; round < 2000; round++) {
    const size = random.int(0, 700);
    const payload = Buffer.alloc(size, sent & 0xff);
    if (size >= 4) payload.writeUInt32LE(sent, 0);
    if (writer.tryWrite(payload)) {
      sent++;
    } else {
      for (const message of collect(reader)) {
        if (message.length >= 4) assert.equal(message.readUInt32LE(0), received);
        assert.ok(message.subarray(4).every((byte) => byte === (received & 0xff)));
        received++;
      }
    }
  }
  received += collect(reader).length;
  assert.equal(received, sent);
  assert.equal(writer.usedBytes, 0);
});

test('a full ring refuses writes until the reader releases space', () => {
  const shared = createRingBuffer(1024);
  const writer = new RingWriter(shared);
  const reader = new RingReader(shared);
  let accepted = 0;
  while (writer.tryWrite(Buffer.alloc(100))) accepted++;
  assert.ok(accepted >= 8 && accepted <= 10, `accepted ${accepted}`);
  assert.equal(writer.tryWrite(Buffer.alloc(100)), false);
  assert.equal(reader.drain(() => {}, 1), 1);
  assert.equal(writer.tryWrite(Buffer.alloc(100)), true);
  assert.throws(() => writer.reserve(600), RangeError, 'a message larger than half the ring is a programming error');
});

test('reserve and commit let the writer fill bytes in place and shrink the message', () => {
  const shared = createRingBuffer(1024);
  const writer = new RingWriter(shared);
  const reader = new RingReader(shared);
  const at = writer.reserve(200);
  writer.bytes.write('hello', at);
  writer.commit(5);
  assert.deepEqual(collect(reader).map((message) => message.toString()), ['hello']);
});

test('a parked reader is woken by the commit\'s notify, not by its timeout', async () => {
  const shared = createRingBuffer(1024);
  const writer = new RingWriter(shared);
  const reader = new RingReader(shared);
  const waiting = reader.waitForData(WAKE_TIMEOUT_MS); // the ring is empty: this parks now
  assert.ok(writer.tryWrite(Buffer.from('wake')));
  assert.equal(await alive(waiting), RingWait.WOKEN);
  assert.deepEqual(collect(reader).map((message) => message.toString()), ['wake']);
  // The control: with nothing written, only the timeout ends a wait.
  assert.equal(await alive(reader.waitForData(20)), RingWait.TIMED_OUT);
});

test('a reader with a message waiting does not park', async () => {
  const shared = createRingBuffer(1024);
  const writer = new RingWriter(shared);
  const reader = new RingReader(shared);
  assert.ok(writer.tryWrite(Buffer.from('already here')));
  assert.equal(await alive(reader.waitForData(WAKE_TIMEOUT_MS)), RingWait.READY);
});

test('a parked writer is woken by the reader releasing space, not by its timeout', async () => {
  const shared = createRingBuffer(1024);
  const writer = new RingWriter(shared);
  const reader = new RingReader(shared);
  while (writer.tryWrite(Buffer.alloc(100))) {
    // fill the ring
  }
  const before = writer.readPosition();
  assert.equal(writer.tryWrite(Buffer.alloc(100)), false);
  const waiting = writer.waitForSpace(before, WAKE_TIMEOUT_MS); // nothing released yet: this parks now
  assert.equal(reader.drain(() => {}, 1), 1);
  assert.equal(await alive(waiting), RingWait.WOKEN);
  assert.equal(writer.tryWrite(Buffer.alloc(100)), true);
});

test('a reader in another thread wakes on notify and sees every message', async () => {
  const request = createRingBuffer(64 * 1024);
  const reply = createRingBuffer(64 * 1024);
  const worker = new Worker(new URL('./ring-sum-worker.js', import.meta.url), { workerData: { request, reply, wakeTimeoutMs: WAKE_TIMEOUT_MS } });
  let workerError: Error | null = null;
  worker.on('error', (error) => (workerError = error));
  const writer = new RingWriter(request);
  const reader = new RingReader(reply);
  try {
    let expected = 0;
    const message = Buffer.alloc(64);
    for (let value = 1; value <= 20_000; value++) {
      message.writeUInt32LE(value, 0);
      await writeParking(writer, message);
      expected += value;
      if (value % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    message.writeUInt32LE(0xffffffff, 0);
    await writeParking(writer, message);
    let total = -1;
    for (;;) {
      reader.drain((bytes, offset) => {
        total = bytes.readDoubleLE(offset);
      });
      if (total >= 0) break;
      // The worker's reply commit must wake this wait; a timeout means its notify was lost.
      assert.notEqual(await alive(reader.waitForData(WAKE_TIMEOUT_MS)), RingWait.TIMED_OUT, 'the reply was never notified');
    }
    assert.equal(total, expected);
  } finally {
    await worker.terminate();
  }
  assert.equal(workerError, null);
});

test('space released between a failed write and the wait is not missed (no lost wake-up)', async () => {
  const shared = createRingBuffer(1024);
  const writer = new RingWriter(shared);
  const reader = new RingReader(shared);
  while (writer.tryWrite(Buffer.alloc(100))) {
    // fill the ring
  }
  const before = writer.readPosition();
  assert.equal(writer.tryWrite(Buffer.alloc(100)), false);
  // The reader empties the ring before the writer gets to sleep; it will not release again.
  reader.drain(() => {});
  assert.equal(await alive(writer.waitForSpace(before, WAKE_TIMEOUT_MS)), RingWait.READY, 'the writer must not sleep beside an empty ring');
  await writer.writeWhenSpace((ring) => ring.tryWrite(Buffer.alloc(100)));
  assert.equal(reader.drain(() => {}), 1);
});
