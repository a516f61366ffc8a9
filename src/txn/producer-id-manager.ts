/**
 * Hands out producer ids on one node's listener (Kafka's RPCProducerIdManager): ids come from a
 * block the controller allocated through the metadata log, so no two nodes give out the same
 * id. The next block is asked for once `prefetchFraction` of the current one is used; when no
 * id is left, InitProducerId waits for the block up to `blockWaitMs`, then gets
 * COORDINATOR_LOAD_IN_PROGRESS (Kafka answers that at once: older clients treat
 * REQUEST_TIMED_OUT as fatal, kafkajs among them, while they retry this one).
 *
 * Pure: the clock is injected and time moves through `tick()`; the block comes from the
 * injected `requestBlock` (the controller), whose answer may arrive at any later time.
 */
import { ErrorCode } from '../protocol/errors.js';
import { assert } from '../runtime/assert.js';
import type { Clock } from '../runtime/clock.js';

/** The ids [firstProducerId, firstProducerId + size). */
export interface ProducerIdBlock {
  readonly firstProducerId: number;
  readonly size: number;
}

/** The controller's answer to a block request: a block, or a Kafka error code and why. */
export interface ProducerIdBlockAnswer {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly block: ProducerIdBlock | null;
}

export interface ProducerIdAnswer {
  readonly errorCode: number;
  /** -1 with an error. */
  readonly producerId: number;
}

export interface ProducerIdManagerOptions {
  readonly prefetchFraction: number;
  readonly blockWaitMs: number;
  readonly maxWaiters: number;
  readonly retryBackoffMs: number;
}

interface Waiter {
  readonly deadlineMs: number;
  readonly resolve: (answer: ProducerIdAnswer) => void;
}

const notReady: ProducerIdAnswer = { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, producerId: -1 };

export class ProducerIdManager {
  private current: ProducerIdBlock | null = null;
  /** The next id of `current` to hand out. */
  private nextProducerId = 0;
  /** The block after `current`, once it arrived. */
  private prefetched: ProducerIdBlock | null = null;
  /** Where the last block received ends: each new block starts at or after it. */
  private blocksEndProducerId = 0;
  private requestInFlight = false;
  /** After a failed request none is sent before this time. */
  private retryAtMs = 0;
  /** Requests waiting for a block, oldest first (equal waits: deadlines ascend); at most maxWaiters. */
  private readonly waiters: Waiter[] = [];
  private closed = false;

  constructor(
    readonly nodeId: number,
    private readonly requestBlock: () => Promise<ProducerIdBlockAnswer>,
    private readonly clock: Clock,
    private readonly options: ProducerIdManagerOptions,
    /** Told why a block request failed (it is retried after retryBackoffMs). */
    private readonly onBlockFailed: (errorCode: number, message: string) => void = () => undefined,
  ) {
    assert(options.prefetchFraction > 0 && options.prefetchFraction <= 1, () => `prefetchFraction ${options.prefetchFraction} must be in (0, 1]`);
  }

  /** A new producer id, at once when the node holds one, else once a block arrives (bounded wait). */
  generateProducerId(): Promise<ProducerIdAnswer> {
    const producerId = this.take();
    if (producerId !== null) return Promise.resolve({ errorCode: ErrorCode.NONE, producerId });
    this.maybeRequestBlock();
    if (this.closed || this.waiters.length >= this.options.maxWaiters) return Promise.resolve(notReady);
    return new Promise((resolve) => this.waiters.push({ deadlineMs: this.clock.nowMs() + this.options.blockWaitMs, resolve }));
  }

  /** Answers waiters whose wait is over, and asks again for a block they still need. */
  tick(): void {
    const nowMs = this.clock.nowMs();
    while (this.waiters.length > 0 && this.waiters[0]!.deadlineMs <= nowMs) this.waiters.shift()!.resolve(notReady);
    if (this.waiters.length > 0) this.maybeRequestBlock();
  }

  /** Stops: waiters are answered (retriable) and blocks arriving later are dropped. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.resolve(notReady);
  }

  get waitingCount(): number {
    return this.waiters.length;
  }

  /** The next id of the current block (moving to the prefetched one when it is used up), or null. */
  private take(): number | null {
    if (this.current !== null && this.nextProducerId >= this.current.firstProducerId + this.current.size) this.current = null;
    if (this.current === null) {
      if (this.prefetched === null) return null;
      this.current = this.prefetched;
      this.prefetched = null;
      this.nextProducerId = this.current.firstProducerId;
    }
    const producerId = this.nextProducerId++;
    const prefetchAt = this.current.firstProducerId + Math.floor(this.current.size * this.options.prefetchFraction);
    // At or past the mark (Kafka: exactly at it), so a failed prefetch is asked again by later ids.
    if (producerId >= prefetchAt) this.maybeRequestBlock();
    return producerId;
  }

  private maybeRequestBlock(): void {
    if (this.closed || this.requestInFlight || this.prefetched !== null || this.clock.nowMs() < this.retryAtMs) return;
    this.requestInFlight = true;
    this.requestBlock().then(
      (answer) => this.blockAnswered(answer),
      (error: unknown) => this.blockAnswered({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: error instanceof Error ? error.message : String(error), block: null }),
    );
  }

  private blockAnswered(answer: ProducerIdBlockAnswer): void {
    this.requestInFlight = false;
    if (this.closed) return;
    if (answer.errorCode !== ErrorCode.NONE || answer.block === null) {
      this.retryAtMs = this.clock.nowMs() + this.options.retryBackoffMs;
      this.onBlockFailed(answer.errorCode, answer.errorMessage ?? 'no block');
      return;
    }
    const block = answer.block;
    assert(Number.isSafeInteger(block.firstProducerId) && block.firstProducerId >= 0 && block.size > 0, () => `producer id block ${block.firstProducerId}+${block.size} is invalid`);
    assert(block.firstProducerId >= this.blocksEndProducerId, () => `node ${this.nodeId}: producer id block from ${block.firstProducerId} overlaps an earlier one ending at ${this.blocksEndProducerId}`);
    this.blocksEndProducerId = block.firstProducerId + block.size;
    this.prefetched = block;
    this.serveWaiters();
  }

  private serveWaiters(): void {
    while (this.waiters.length > 0) {
      const producerId = this.take();
      if (producerId === null) break;
      this.waiters.shift()!.resolve({ errorCode: ErrorCode.NONE, producerId });
    }
    if (this.waiters.length > 0) this.maybeRequestBlock();
  }
}
