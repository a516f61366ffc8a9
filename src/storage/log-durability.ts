/**
 * What of one partition log is durable, and who waits for it (pure: no I/O). Two offsets:
 *
 * - `recoveryPoint` (Kafka's name): every offset below it is fdatasynced in the segment files.
 *   It is checkpointed, and recovery after a crash scans the segments from it.
 * - `durableEndOffset`: every offset below it is durable somewhere: in the segment files or in
 *   the node journal, whose replay after a crash puts it back. Acknowledgements and the high
 *   watermark follow it. Never below the recovery point.
 *
 * The journal makes ranges of a log durable out of order with the log's own flushes (a log
 * may take journaled and non-journaled appends), so a journaled range counts only once every
 * offset below it is durable too.
 */
export interface OffsetRange {
  from: number;
  /** Exclusive. */
  to: number;
}

interface DurabilityWaiter {
  readonly offset: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class LogDurability {
  #recoveryPoint: number;
  #durableEndOffset: number;
  /** Journal-durable ranges not yet joined to the durable prefix. */
  private pendingJournalRanges: OffsetRange[] = [];
  /** Acknowledgements waiting for the durable end to pass their offset, in offset order. */
  private waiters: DurabilityWaiter[] = [];

  constructor(recoveryPoint: number) {
    this.#recoveryPoint = recoveryPoint;
    this.#durableEndOffset = recoveryPoint;
  }

  get recoveryPoint(): number {
    return this.#recoveryPoint;
  }

  get durableEndOffset(): number {
    return this.#durableEndOffset;
  }

  /** The segment files are fdatasynced up to `offset` (a flush that started at that log end). */
  markFlushed(offset: number): void {
    if (offset > this.#recoveryPoint) this.#recoveryPoint = offset;
    if (offset > this.#durableEndOffset) this.#durableEndOffset = offset;
    this.joinJournalRanges();
  }

  /** The node journal made `range` durable (the segment files follow at its checkpoint). */
  markJournaled(range: OffsetRange): void {
    if (range.to <= this.#durableEndOffset) return;
    this.pendingJournalRanges.push({ from: range.from, to: range.to });
    this.joinJournalRanges();
  }

  /** Resolves once the durable end passes `offset`; rejects if `failWaiters` runs first. */
  whenDurable(offset: number): Promise<void> {
    if (offset < this.#durableEndOffset) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ offset, resolve, reject }));
  }

  /** Rejects every waiting acknowledgement (the log went offline). */
  failWaiters(error: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  /** The log was truncated to `logEndOffset`: nothing past it is durable any more. */
  truncateTo(logEndOffset: number): void {
    if (this.#recoveryPoint > logEndOffset) this.#recoveryPoint = logEndOffset;
    if (this.#durableEndOffset > logEndOffset) this.#durableEndOffset = logEndOffset;
    this.pendingJournalRanges = this.pendingJournalRanges.filter((range) => range.to <= logEndOffset);
  }

  /** Extends the durable prefix with every pending journal range that now touches it. */
  private joinJournalRanges(): void {
    let joined = true;
    while (joined && this.pendingJournalRanges.length > 0) {
      joined = false;
      const remaining: OffsetRange[] = [];
      for (const range of this.pendingJournalRanges) {
        if (range.from <= this.#durableEndOffset) {
          if (range.to > this.#durableEndOffset) this.#durableEndOffset = range.to;
          joined = true;
        } else {
          remaining.push(range);
        }
      }
      this.pendingJournalRanges = remaining;
    }
    this.releaseWaiters();
  }

  private releaseWaiters(): void {
    const waiters = this.waiters;
    let released = 0;
    while (released < waiters.length && waiters[released]!.offset < this.#durableEndOffset) waiters[released++]!.resolve();
    if (released > 0) this.waiters = waiters.slice(released);
  }
}
