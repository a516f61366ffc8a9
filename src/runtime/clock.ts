/** Time, injected: cores and storage never call Date.now directly, so tests can move it. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
};

/**
 * Elapsed time for measuring durations (fsync times): never jumps with the wall clock.
 * Injected like Clock, so a test can pin a policy that reacts to durations.
 */
export interface MonotonicClock {
  monotonicNowMs(): number;
}

export const systemMonotonicClock: MonotonicClock = {
  monotonicNowMs: () => performance.now(),
};

/** A clock tests advance by hand. */
export class ManualClock implements Clock {
  private currentMs: number;

  constructor(startMs = 1_700_000_000_000) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  advance(deltaMs: number): void {
    this.currentMs += deltaMs;
  }

  set(timeMs: number): void {
    this.currentMs = timeMs;
  }
}
