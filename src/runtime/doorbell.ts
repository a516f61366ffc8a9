/**
 * One wake-up cell for all the rings a node reads (the front end's request ring and one ring
 * per peer): every writer rings it after a commit, and the node parks on it alone instead of on
 * each ring. Many writers, one owner (the reading node).
 *
 * The eventcount pattern, as in shared-ring.ts: writers bump SEQUENCE and notify only while
 * OWNER_SLEEPING is set, so a busy node costs them no notify. The owner reads SEQUENCE, sets
 * the flag, re-checks every ring, then parks on SEQUENCE with the value it read: a commit after
 * that read has changed SEQUENCE (the wait returns at once) or sees the flag (and notifies).
 *
 * Only the owner clears the flag, after its wait ended. If writers cleared it, a writer that
 * saw the flag of an earlier wait could clear the flag of the next one after its notify went
 * unheard, and the next commit would skip its notify: a lost wake-up until the timeout. The cost
 * is a notify per commit in the short gap between a wake-up and the owner running again.
 */
import { RingWait, type RingWaitOutcome } from './shared-ring.js';

const SEQUENCE = 0;
const OWNER_SLEEPING = 1;
const DOORBELL_CELLS = 16; // 64 bytes: the cell keeps a cache line to itself
const DOORBELL_BYTES = DOORBELL_CELLS * 4;

export function createDoorbell(): SharedArrayBuffer {
  return new SharedArrayBuffer(DOORBELL_BYTES);
}

export class Doorbell {
  private readonly cells: Int32Array;

  constructor(shared: SharedArrayBuffer) {
    if (shared.byteLength !== DOORBELL_BYTES) throw new Error(`a doorbell is ${DOORBELL_BYTES} bytes, got ${shared.byteLength}`);
    this.cells = new Int32Array(shared);
  }

  /** A writer published a message: wakes the owner if it sleeps (also to cut its wait short). */
  ring(): void {
    Atomics.add(this.cells, SEQUENCE, 1);
    if (Atomics.load(this.cells, OWNER_SLEEPING) === 1) Atomics.notify(this.cells, SEQUENCE);
  }

  /** The owner sleeps in `wait` (a writer's `ring` will notify). */
  get isOwnerSleeping(): boolean {
    return Atomics.load(this.cells, OWNER_SLEEPING) === 1;
  }

  /**
   * The owner's wait: READY at once if `hasMessages()` (checked after announcing the sleep, so
   * a commit before the announcement is seen), else parks until a `ring` (WOKEN) or `timeoutMs`
   * (TIMED_OUT). One wait at a time.
   */
  wait(hasMessages: () => boolean, timeoutMs = Number.POSITIVE_INFINITY): Promise<RingWaitOutcome> {
    const seen = Atomics.load(this.cells, SEQUENCE);
    Atomics.store(this.cells, OWNER_SLEEPING, 1);
    if (hasMessages()) {
      Atomics.store(this.cells, OWNER_SLEEPING, 0);
      return Promise.resolve(RingWait.READY);
    }
    const result = Atomics.waitAsync(this.cells, SEQUENCE, seen, timeoutMs);
    if (!result.async) {
      Atomics.store(this.cells, OWNER_SLEEPING, 0);
      return Promise.resolve(result.value === 'not-equal' ? RingWait.READY : RingWait.TIMED_OUT);
    }
    return result.value.then((value) => {
      Atomics.store(this.cells, OWNER_SLEEPING, 0);
      return value === 'ok' ? RingWait.WOKEN : RingWait.TIMED_OUT;
    });
  }
}
