import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../src/perf/rate-limiter.js';
import { ManualClock } from '../../src/runtime/clock.js';

test('intended send times follow the rate from the start, exactly', () => {
  const clock = new ManualClock(10_000);
  const limiter = new RateLimiter(1000, clock);
  assert.equal(limiter.intendedTimeMs(0), 10_000);
  assert.equal(limiter.intendedTimeMs(1), 10_001);
  assert.equal(limiter.intendedTimeMs(2500), 12_500);
  const fractional = new RateLimiter(3, clock);
  assert.ok(Math.abs(fractional.intendedTimeMs(3) - 11_000) < 1e-9);
});

test('due counts messages whose time has come, releases advance, and delays point at the next', () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter(100, clock); // one message per 10 ms
  assert.equal(limiter.due(1000), 1); // message 0 is due at the start
  limiter.release(1);
  assert.equal(limiter.due(1000), 0);
  assert.equal(limiter.delayUntilNextMs(), 10);
  clock.advance(25);
  assert.equal(limiter.due(1000), 2); // messages 1 (10 ms) and 2 (20 ms)
  assert.equal(limiter.due(1), 1); // bounded by the limit
  limiter.release(2);
  assert.equal(limiter.released, 3);
  assert.equal(limiter.delayUntilNextMs(), 5); // message 3 at 30 ms
});

test('falling behind keeps the original schedule: no coordinated omission', () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter(1000, clock);
  limiter.release(limiter.due(10_000)); // message 0
  clock.advance(500); // a 500 ms stall
  const due = limiter.due(10_000);
  assert.equal(due, 500); // messages 1..500, all still owed
  // Their intended times are the scheduled ones, so their latency includes the stall.
  assert.equal(limiter.intendedTimeMs(limiter.released), 1);
  assert.equal(clock.nowMs() - limiter.intendedTimeMs(limiter.released), 499);
  limiter.release(due);
  assert.equal(limiter.delayUntilNextMs(), 1);
});

test('an unlimited rate releases whatever is asked and has no schedule', () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter(0, clock);
  assert.ok(limiter.isUnlimited);
  assert.equal(limiter.due(777), 777);
  assert.equal(limiter.delayUntilNextMs(), 0);
  assert.throws(() => limiter.intendedTimeMs(0));
});

test('nothing is due before the start; bad rates are refused', () => {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter(10, clock, 1000);
  assert.equal(limiter.due(10), 0);
  assert.equal(limiter.dueCountAt(999), 0);
  assert.equal(limiter.dueCountAt(1000), 1);
  assert.throws(() => new RateLimiter(-1, clock), RangeError);
  assert.throws(() => new RateLimiter(Number.NaN, clock), RangeError);
  assert.throws(() => limiter.release(-1), RangeError);
});
