/**
 * The load generator's clock: epoch milliseconds with sub-microsecond resolution, from the
 * monotonic `performance.now()` anchored at `performance.timeOrigin`. It never goes backwards
 * within a process, so send and receive times taken in one process subtract cleanly.
 */
import type { Clock } from '../runtime/clock.js';

/** Read once: the `timeOrigin` getter is slow enough to show in a per-message profile. */
const timeOriginMs = performance.timeOrigin;

export const perfClock: Clock = {
  nowMs: () => timeOriginMs + performance.now(),
};
