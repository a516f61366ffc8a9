/**
 * A single-producer / single-consumer byte ring over a SharedArrayBuffer, for messages between
 * the front-end thread and a node worker. Record batches cross it as bytes: no structured
 * clone, no per-record object.
 *
 * Layout: a control block of Int32 cells, then `capacityBytes` (a power of two) of data.
 * Positions are free-running uint32 counters; `position & mask` is the index in the data.
 * Each message is a 4-byte length, the payload, padding to 8 bytes. A message never wraps: if
 * it does not fit before the end of the data, a WRAP marker fills the rest and the message
 * starts at index 0.
 *
 * Wake-ups follow the eventcount pattern: a side that finds nothing to do sets its SLEEPING
 * flag and waits (Atomics.waitAsync) on the other side's position cell with the value it last
 * saw; the other side notifies only when the flag is set, so a busy ring costs no syscalls.
 * A reader of several rings (a node: the front end's ring and one per peer) parks on one
 * Doorbell instead: writers given it ring it on commit, not the ring's own cell (doorbell.ts).
 */
import type { Doorbell } from './doorbell.js';

const WRITE_POSITION = 0;
const READ_POSITION = 1;
const CONSUMER_SLEEPING = 2;
const PRODUCER_SLEEPING = 3;
const CONTROL_CELLS = 16; // 64 bytes: keeps the data on its own cache lines
const CONTROL_BYTES = CONTROL_CELLS * 4;
const HEADER_BYTES = 4;
const ALIGNMENT_BYTES = 8;
const WRAP_MARKER = -1;

export function createRingBuffer(capacityBytes: number): SharedArrayBuffer {
  if (capacityBytes < 1024 || (capacityBytes & (capacityBytes - 1)) !== 0) {
    throw new Error(`ring capacity must be a power of two >= 1024, got ${capacityBytes}`);
  }
  return new SharedArrayBuffer(CONTROL_BYTES + capacityBytes);
}

/** Largest payload a single message may carry in a ring of `capacityBytes`: half of it, less framing. */
export function ringMaxMessageBytes(capacityBytes: number): number {
  return (capacityBytes >>> 1) - HEADER_BYTES - ALIGNMENT_BYTES;
}

/** How a `waitForData` / `waitForSpace` ended. */
export const RingWait = {
  /** It did not park: the other side had already moved past the position the caller saw. */
  READY: 'ready',
  /** It parked in Atomics.waitAsync and the other side's notify (or `wake`) woke it. */
  WOKEN: 'woken',
  /** It parked and `timeoutMs` passed without a notify. */
  TIMED_OUT: 'timed-out',
} as const;
export type RingWaitOutcome = (typeof RingWait)[keyof typeof RingWait];

async function waitOutcome(result: ReturnType<typeof Atomics.waitAsync>): Promise<RingWaitOutcome> {
  if (!result.async) return result.value === 'not-equal' ? RingWait.READY : RingWait.TIMED_OUT;
  return (await result.value) === 'ok' ? RingWait.WOKEN : RingWait.TIMED_OUT;
}

function alignedSize(payloadBytes: number): number {
  return (HEADER_BYTES + payloadBytes + ALIGNMENT_BYTES - 1) & ~(ALIGNMENT_BYTES - 1);
}

class RingSide {
  protected readonly control: Int32Array;
  /** The data area as a Buffer (index 0 = first data byte). */
  readonly bytes: Buffer;
  protected readonly capacity: number;
  protected readonly mask: number;

  constructor(shared: SharedArrayBuffer) {
    this.control = new Int32Array(shared, 0, CONTROL_CELLS);
    this.capacity = shared.byteLength - CONTROL_BYTES;
    this.mask = this.capacity - 1;
    this.bytes = Buffer.from(shared, CONTROL_BYTES, this.capacity);
  }

  /** Bytes currently queued (written and not yet released by the reader). */
  get usedBytes(): number {
    return (Atomics.load(this.control, WRITE_POSITION) - Atomics.load(this.control, READ_POSITION)) >>> 0;
  }

  get capacityBytes(): number {
    return this.capacity;
  }

  /** Largest payload a single message may carry in this ring. */
  get maxMessageBytes(): number {
    return ringMaxMessageBytes(this.capacity);
  }
}

export interface RingWriterOptions {
  /**
   * The reader's doorbell: commits ring it instead of the ring's own wake-up cell, for a reader
   * that waits on all its rings at once (RingSet). Waits for space stay on this ring.
   */
  readonly doorbell?: Doorbell;
}

export class RingWriter extends RingSide {
  private reservedAt = -1;
  private reservedSize = 0;
  private readonly doorbell: Doorbell | null;

  constructor(shared: SharedArrayBuffer, options: RingWriterOptions = {}) {
    super(shared);
    this.doorbell = options.doorbell ?? null;
  }

  /**
   * Reserves room for a payload of `payloadBytes`. Returns the payload's index in `bytes`, or
   * -1 if the ring is too full now (the caller applies backpressure and retries after
   * `waitForSpace`). Throws if the message could never fit.
   */
  reserve(payloadBytes: number): number {
    if (payloadBytes > this.maxMessageBytes) {
      throw new RangeError(`ring message of ${payloadBytes} bytes exceeds the ${this.maxMessageBytes}-byte limit`);
    }
    const write = Atomics.load(this.control, WRITE_POSITION) >>> 0;
    const read = Atomics.load(this.control, READ_POSITION) >>> 0;
    const free = this.capacity - ((write - read) >>> 0);
    const index = write & this.mask;
    const size = alignedSize(payloadBytes);
    const untilEnd = this.capacity - index;
    const needed = size <= untilEnd ? size : untilEnd + size;
    if (needed > free) return -1;
    let start = write;
    if (size > untilEnd) {
      this.bytes.writeInt32LE(WRAP_MARKER, index);
      start = (write + untilEnd) >>> 0;
    }
    this.reservedAt = start;
    this.reservedSize = payloadBytes;
    return (start & this.mask) + HEADER_BYTES;
  }

  /** Publishes the reserved message, optionally shrunk to `payloadBytes`. */
  commit(payloadBytes = this.reservedSize): void {
    if (this.reservedAt < 0 || payloadBytes > this.reservedSize) {
      throw new Error(`ring commit of ${payloadBytes} bytes without a matching reservation`);
    }
    this.bytes.writeInt32LE(payloadBytes, this.reservedAt & this.mask);
    const next = (this.reservedAt + alignedSize(payloadBytes)) >>> 0;
    this.reservedAt = -1;
    Atomics.store(this.control, WRITE_POSITION, next | 0);
    if (this.doorbell !== null) {
      this.doorbell.ring();
    } else if (Atomics.load(this.control, CONSUMER_SLEEPING) === 1) {
      Atomics.store(this.control, CONSUMER_SLEEPING, 0);
      Atomics.notify(this.control, WRITE_POSITION);
    }
  }

  /** Copies `payload` in as one message; false if the ring is too full now. */
  tryWrite(payload: Uint8Array): boolean {
    const at = this.reserve(payload.length);
    if (at < 0) return false;
    this.bytes.set(payload, at);
    this.commit();
    return true;
  }

  /** The reader's position, to pass to `waitForSpace` after a failed write. */
  readPosition(): number {
    return Atomics.load(this.control, READ_POSITION);
  }

  /**
   * Resolves when the reader has released space since `readPositionBefore`, which the caller
   * took BEFORE the write that failed: space released between that write and this call must
   * not be missed, or a writer could sleep beside an idle, empty ring forever.
   */
  waitForSpace(readPositionBefore: number, timeoutMs = Number.POSITIVE_INFINITY): Promise<RingWaitOutcome> {
    Atomics.store(this.control, PRODUCER_SLEEPING, 1);
    return waitOutcome(Atomics.waitAsync(this.control, READ_POSITION, readPositionBefore, timeoutMs));
  }

  /**
   * Wakes a `waitForSpace` of this side at once (the reader is gone and will release nothing).
   * Racing each wait against a never-settling promise instead would leak: every race leaves a
   * reaction on that promise for as long as it lives.
   */
  wake(): void {
    Atomics.notify(this.control, READ_POSITION);
  }

  /**
   * Writes with `write` (which returns false when the ring is too full), waiting for space as
   * long as needed; the helper for callers that keep a queue of pending writes.
   */
  async writeWhenSpace(write: (ring: RingWriter) => boolean): Promise<void> {
    for (;;) {
      const readPositionBefore = this.readPosition();
      if (write(this)) return;
      await this.waitForSpace(readPositionBefore);
    }
  }
}

export type RingMessageHandler = (bytes: Buffer, offset: number, length: number) => void;

export class RingReader extends RingSide {
  /**
   * Hands each queued message to `handle` (its bytes are valid only during the call), up to
   * `maxMessages`; releases their space and returns how many were handled.
   */
  drain(handle: RingMessageHandler, maxMessages = Number.POSITIVE_INFINITY): number {
    let read = Atomics.load(this.control, READ_POSITION) >>> 0;
    const write = Atomics.load(this.control, WRITE_POSITION) >>> 0;
    let handled = 0;
    try {
      while (read !== write && handled < maxMessages) {
        const index = read & this.mask;
        const length = this.bytes.readInt32LE(index);
        if (length === WRAP_MARKER) {
          read = (read + (this.capacity - index)) >>> 0;
          continue;
        }
        handle(this.bytes, index + HEADER_BYTES, length);
        read = (read + alignedSize(length)) >>> 0;
        handled++;
      }
    } finally {
      this.release(read);
    }
    return handled;
  }

  private release(read: number): void {
    Atomics.store(this.control, READ_POSITION, read | 0);
    if (Atomics.load(this.control, PRODUCER_SLEEPING) === 1) {
      Atomics.store(this.control, PRODUCER_SLEEPING, 0);
      Atomics.notify(this.control, READ_POSITION);
    }
  }

  get isEmpty(): boolean {
    return Atomics.load(this.control, WRITE_POSITION) === Atomics.load(this.control, READ_POSITION);
  }

  /** Wakes a `waitForData` of this side at once (the writer is gone); see RingWriter.wake. */
  wake(): void {
    Atomics.notify(this.control, WRITE_POSITION);
  }

  /** Resolves when a message may be waiting (READY at once if one already is). */
  waitForData(timeoutMs = Number.POSITIVE_INFINITY): Promise<RingWaitOutcome> {
    const seen = Atomics.load(this.control, WRITE_POSITION);
    Atomics.store(this.control, CONSUMER_SLEEPING, 1);
    if (seen !== Atomics.load(this.control, READ_POSITION)) {
      Atomics.store(this.control, CONSUMER_SLEEPING, 0);
      return Promise.resolve(RingWait.READY);
    }
    return waitOutcome(Atomics.waitAsync(this.control, WRITE_POSITION, seen, timeoutMs));
  }
}
