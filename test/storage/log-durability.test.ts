import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogDurability } from '../../src/storage/log-durability.js';

test('a journaled range counts once everything below it is durable, and releases its waiters then', async () => {
  const durability = new LogDurability(10);
  const released: number[] = [];
  for (const offset of [12, 25, 31]) void durability.whenDurable(offset).then(() => released.push(offset));
  durability.markJournaled({ from: 20, to: 30 }); // a gap at [10, 20): not yet
  await Promise.resolve();
  assert.deepEqual([durability.recoveryPoint, durability.durableEndOffset, released], [10, 10, []]);
  durability.markFlushed(20); // the segment files fill the gap: the journaled range joins
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual([durability.recoveryPoint, durability.durableEndOffset, released], [20, 30, [12, 25]]);
  durability.markJournaled({ from: 5, to: 15 }); // already durable: nothing moves
  assert.equal(durability.durableEndOffset, 30);
});

test('truncation takes back what is past the new log end, and failed waiters are rejected', async () => {
  const durability = new LogDurability(0);
  durability.markFlushed(8);
  durability.markJournaled({ from: 8, to: 12 });
  durability.markJournaled({ from: 14, to: 16 }); // waits for [12, 14)
  durability.truncateTo(10);
  assert.deepEqual([durability.recoveryPoint, durability.durableEndOffset], [8, 10]);
  durability.markFlushed(14); // the dropped range past the end must not come back
  assert.equal(durability.durableEndOffset, 14);
  const waiting = durability.whenDurable(20);
  durability.failWaiters(new Error('offline'));
  await assert.rejects(waiting, /offline/);
});
