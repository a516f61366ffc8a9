/**
 * Constant-rate scheduling without coordinated omission. Message i is due at
 * `startMs + i * 1000 / ratePerSecond`, its *intended* send time, whatever happened to the
 * messages before it: when the generator falls behind (the broker is slow, the event loop
 * stalls), the late messages keep their earlier intended times, so the latency measured from
 * them includes the wait, as a real client sending at that rate would see it. Nothing is
 * skipped and nothing is re-based on the actual send time.
 *
 * Pure arithmetic on an injected clock; a rate of 0 means unlimited, where a message's intended
 * time is simply the time it was generated.
 */
import type { Clock } from '../runtime/clock.js';

export class RateLimiter {
  readonly ratePerSecond: number;
  readonly startMs: number;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private releasedCount = 0;

  constructor(ratePerSecond: number, clock: Clock, startMs: number = clock.nowMs()) {
    if (!Number.isFinite(ratePerSecond) || ratePerSecond < 0) {
      throw new RangeError(`rate must be a non-negative number of messages per second, got ${ratePerSecond}`);
    }
    this.ratePerSecond = ratePerSecond;
    this.clock = clock;
    this.startMs = startMs;
    this.intervalMs = ratePerSecond === 0 ? 0 : 1000 / ratePerSecond;
  }

  get isUnlimited(): boolean {
    return this.ratePerSecond === 0;
  }

  /** Messages released so far (the index of the next one). */
  get released(): number {
    return this.releasedCount;
  }

  /** The intended send time of message `index` (rate-limited only). */
  intendedTimeMs(index: number): number {
    if (this.intervalMs === 0) throw new Error('an unlimited rate has no schedule; use the generation time');
    return this.startMs + index * this.intervalMs;
  }

  /** Messages whose intended time is at or before `nowMs` (all released ones included). */
  dueCountAt(nowMs: number): number {
    if (this.intervalMs === 0) return Number.POSITIVE_INFINITY;
    if (nowMs < this.startMs) return 0;
    return Math.floor((nowMs - this.startMs) / this.intervalMs) + 1;
  }

  /** Messages due now and not yet released, at most `limit`. */
  due(limit: number): number {
    const pending = this.dueCountAt(this.clock.nowMs()) - this.releasedCount;
    return Math.max(0, Math.min(limit, pending));
  }

  /** Marks the next `count` messages as released (sent or queued for sending). */
  release(count: number): void {
    if (count < 0 || !Number.isInteger(count)) throw new RangeError(`cannot release ${count} messages`);
    this.releasedCount += count;
  }

  /** Time until the next unreleased message is due; 0 if it is due already or the rate is unlimited. */
  delayUntilNextMs(): number {
    if (this.intervalMs === 0) return 0;
    return Math.max(0, this.intendedTimeMs(this.releasedCount) - this.clock.nowMs());
  }
}
