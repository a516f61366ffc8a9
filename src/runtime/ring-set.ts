/**
 * The reading side of a node: its inbound rings (the front end's request ring and one ring per
 * peer node, each written by one thread) drained together and waited on through one Doorbell,
 * which every writer of these rings must be given (RingWriter's `doorbell` option).
 *
 * Fairness: a drain visits the rings round-robin, taking at most MESSAGES_PER_RING_TURN from
 * each per turn, and the ring it starts at rotates from one drain to the next. Under load every
 * ring therefore gets a turn after at most (rings - 1) turns of the others: a ring full of
 * replication traffic cannot hold back the front end's requests, nor the reverse.
 */
import { assert } from './assert.js';
import { Doorbell } from './doorbell.js';
import { RingReader, type RingWaitOutcome } from './shared-ring.js';

/** The source id of the front end's request ring; peers use their node ids (>= 0). */
export const FRONT_SOURCE_ID = -1;
/** Most messages one ring hands over before the next ring's turn in a drain. */
export const MESSAGES_PER_RING_TURN = 16;

export type RingSetMessageHandler = (sourceId: number, bytes: Buffer, offset: number, length: number) => void;

/** One inbound ring; `forward` is made once so a drain allocates nothing per ring or message. */
class InboundRing {
  /** Cleared when the ring is replaced or removed: its remaining messages are dropped. */
  active = true;
  readonly forward: (bytes: Buffer, offset: number, length: number) => void;

  constructor(
    readonly sourceId: number,
    readonly reader: RingReader,
    owner: RingSet,
  ) {
    this.forward = (bytes, offset, length) => {
      if (this.active) owner.handleMessage(sourceId, bytes, offset, length);
    };
  }
}

const ignoreMessage: RingSetMessageHandler = () => {};

export class RingSet {
  private readonly doorbell: Doorbell;
  /** Replaced, never changed in place: a drain keeps the array it started with. */
  private rings: readonly InboundRing[] = [];
  private readonly bySource = new Map<number, InboundRing>();
  private nextStart = 0;
  private handler: RingSetMessageHandler = ignoreMessage;
  private readonly hasMessages = (): boolean => !this.isEmpty;

  constructor(doorbellBuffer: SharedArrayBuffer) {
    this.doorbell = new Doorbell(doorbellBuffer);
  }

  /**
   * Adds the ring `sourceId` writes; replacing one goes through `replace`. Its writer may have
   * committed (and rung) before the ring was here to see: a `waitForAny` under way wakes.
   */
  add(sourceId: number, ringBuffer: SharedArrayBuffer): void {
    assert(Number.isSafeInteger(sourceId) && sourceId >= FRONT_SOURCE_ID, () => `ring source id ${sourceId} is not the front (-1) or a node id`);
    assert(!this.bySource.has(sourceId), () => `ring source ${sourceId} is already in the set`);
    const ring = new InboundRing(sourceId, new RingReader(ringBuffer), this);
    this.bySource.set(sourceId, ring);
    this.rings = [...this.rings, ring];
    this.doorbell.ring();
  }

  /**
   * Swaps in a fresh ring for `sourceId` (a restarted peer), or adds it: messages left in the
   * old ring are dropped, even during a drain that is handling one of them.
   */
  replace(sourceId: number, ringBuffer: SharedArrayBuffer): void {
    const old = this.bySource.get(sourceId);
    if (old === undefined) {
      this.add(sourceId, ringBuffer);
      return;
    }
    old.active = false;
    const ring = new InboundRing(sourceId, new RingReader(ringBuffer), this);
    this.bySource.set(sourceId, ring);
    this.rings = this.rings.map((each) => (each === old ? ring : each));
    this.doorbell.ring();
  }

  /** Stops reading `sourceId`'s ring (its remaining messages are dropped); false if absent. */
  remove(sourceId: number): boolean {
    const old = this.bySource.get(sourceId);
    if (old === undefined) return false;
    old.active = false;
    this.bySource.delete(sourceId);
    this.rings = this.rings.filter((each) => each !== old);
    if (this.nextStart >= this.rings.length) this.nextStart = 0;
    return true;
  }

  has(sourceId: number): boolean {
    return this.bySource.has(sourceId);
  }

  get sourceIds(): number[] {
    return this.rings.map((ring) => ring.sourceId);
  }

  /**
   * Hands up to `maxMessages` queued messages to `handle`, round-robin over the rings (see the
   * header); each message's bytes are valid only during the call. Returns how many were handled.
   */
  drain(handle: RingSetMessageHandler, maxMessages = Number.POSITIVE_INFINITY): number {
    const rings = this.rings;
    const count = rings.length;
    if (count === 0) return 0;
    const start = this.nextStart % count;
    this.nextStart = (start + 1) % count;
    this.handler = handle;
    let handled = 0;
    try {
      for (;;) {
        const handledBefore = handled;
        for (let turn = 0; turn < count && handled < maxMessages; turn++) {
          const ring = rings[(start + turn) % count]!;
          if (!ring.active) continue;
          handled += ring.reader.drain(ring.forward, Math.min(MESSAGES_PER_RING_TURN, maxMessages - handled));
        }
        if (handled === handledBefore || handled >= maxMessages) return handled;
      }
    } finally {
      this.handler = ignoreMessage;
    }
  }

  /** For InboundRing.forward only. */
  handleMessage(sourceId: number, bytes: Buffer, offset: number, length: number): void {
    this.handler(sourceId, bytes, offset, length);
  }

  get isEmpty(): boolean {
    for (const ring of this.rings) if (!ring.reader.isEmpty) return false;
    return true;
  }

  /**
   * Resolves READY at once when a ring holds a message, else WOKEN at the next commit into any
   * ring (or `wake`), or TIMED_OUT after `timeoutMs`. One wait at a time.
   */
  waitForAny(timeoutMs = Number.POSITIVE_INFINITY): Promise<RingWaitOutcome> {
    return this.doorbell.wait(this.hasMessages, timeoutMs);
  }

  /** Ends a `waitForAny` now (the node stops, or a ring was added while it waited). */
  wake(): void {
    this.doorbell.ring();
  }
}
