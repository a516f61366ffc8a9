import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createRingBuffer, RingReader, RingWriter } from '../../src/runtime/shared-ring.js';
import { SeededRandom } from '../helpers/random.js';

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

test('a reader in another thread wakes on notify and sees every message', async () => {
  const request = createRingBuffer(64 * 1024);
  const reply = createRingBuffer(64 * 1024);
  const worker = new Worker(new URL('./ring-sum-worker.js', import.meta.url), { workerData: { request, reply } });
  const failed = new Promise((_, reject) => worker.on('error', reject));
  // Atomics.waitAsync does not keep an event loop alive; the worker's handle does here.
  const writer = new RingWriter(request);
  const reader = new RingReader(reply);
  let expected = 0;
  const message = Buffer.alloc(64);
  for (let value = 1; value <= 20_000; value++) {
    message.writeUInt32LE(value, 0);
    await writer.writeWhenSpace((ring) => ring.tryWrite(message));
    expected += value;
    if (value % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  message.writeUInt32LE(0xffffffff, 0);
  await writer.writeWhenSpace((ring) => ring.tryWrite(message));
  let total = -1;
  const deadline = Date.now() + 10_000;
  while (total < 0 && Date.now() < deadline) {
    reader.drain((bytes, offset) => {
      total = bytes.readDoubleLE(offset);
    });
    if (total < 0) await Promise.race([reader.waitForData(), new Promise((resolve) => setTimeout(resolve, 100))]);
  }
  assert.equal(total, expected);
  await Promise.race([worker.terminate(), failed]);
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
  const woke = await Promise.race([
    writer.waitForSpace(before).then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000)),
  ]);
  assert.equal(woke, true, 'the writer must not sleep beside an empty ring');
  await writer.writeWhenSpace((ring) => ring.tryWrite(Buffer.alloc(100)));
  assert.equal(reader.drain(() => {}), 1);
});
