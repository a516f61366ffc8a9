/**
 * Fault injection's pause, like SIGSTOP for one node thread: the front end flips a shared
 * Int32 cell, the worker sees it on its next tick and blocks in `Atomics.wait` until the cell
 * flips back. A paused node does nothing at all: no ring drains, no fsync callbacks, no timers;
 * requests to it wait in its ring. A second cell tells the front end the worker has stopped.
 */

/** What the front end asks for. */
const REQUESTED = 0;
/** What the worker is doing (it acknowledges a pause here before blocking). */
const OBSERVED = 1;
const RUNNING = 0;
const PAUSED = 1;

export function createPauseCell(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
}

/**
 * Worker side: if a pause is asked for, acknowledges it and blocks the whole thread until
 * resumed. Returns whether it paused.
 */
export function blockWhilePaused(cell: Int32Array): boolean {
  if (Atomics.load(cell, REQUESTED) !== PAUSED) return false;
  Atomics.store(cell, OBSERVED, PAUSED);
  Atomics.notify(cell, OBSERVED);
  while (Atomics.load(cell, REQUESTED) === PAUSED) Atomics.wait(cell, REQUESTED, PAUSED);
  Atomics.store(cell, OBSERVED, RUNNING);
  Atomics.notify(cell, OBSERVED);
  return true;
}

/** Front-end side of one node's pause cell. */
export class PauseSwitch {
  private readonly cell: Int32Array;

  constructor(shared: SharedArrayBuffer) {
    this.cell = new Int32Array(shared);
  }

  get paused(): boolean {
    return Atomics.load(this.cell, REQUESTED) === PAUSED;
  }

  /**
   * Asks the worker to pause and resolves once it has stopped (blocked). If it does not within
   * `timeoutMs` (stuck in synchronous work), the request is withdrawn and this rejects.
   */
  async pause(timeoutMs: number): Promise<void> {
    Atomics.store(this.cell, REQUESTED, PAUSED);
    const deadlineMs = performance.now() + timeoutMs;
    while (Atomics.load(this.cell, OBSERVED) !== PAUSED) {
      const remainingMs = deadlineMs - performance.now();
      if (remainingMs <= 0) {
        this.resume();
        throw new Error(`the node did not pause within ${timeoutMs} ms`);
      }
      const waited = Atomics.waitAsync(this.cell, OBSERVED, RUNNING, remainingMs);
      if (waited.async) await waited.value;
    }
  }

  /** Lets a paused worker run again (no-op when running). */
  resume(): void {
    Atomics.store(this.cell, REQUESTED, RUNNING);
    Atomics.notify(this.cell, REQUESTED);
  }
}
