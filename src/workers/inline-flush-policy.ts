/**
 * When a node may fdatasync on its own thread (see NodeDurability.flushInlineIfSingle). Inline
 * fsyncs win while they are short: the thread would only wait for them anyway, and skipping the
 * threadpool hand-off saves a fifth of a produce round trip. On a slow disk (a spinning one,
 * network storage: 5-50 ms per fdatasync) the thread would stall its fetches and control work
 * for that long, so a running average of inline fsync times above `slowMs` sends flushes back
 * to the threadpool for `backoffMs`; then inline flushing is tried again.
 */
export interface InlineFlushPolicyOptions {
  /** Average inline fsync time above which flushing goes back to the threadpool. */
  readonly slowMs: number;
  /** How long it stays there before inline flushing is tried again. */
  readonly backoffMs: number;
  /** Weight of the newest sample in the running average (0, 1]. */
  readonly weight: number;
}

export const defaultInlineFlushPolicy: InlineFlushPolicyOptions = { slowMs: 2, backoffMs: 5000, weight: 0.1 };

export class InlineFlushPolicy {
  private averageMs = 0;
  private offUntilMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: InlineFlushPolicyOptions = defaultInlineFlushPolicy) {
    if (!(options.weight > 0 && options.weight <= 1)) throw new RangeError(`weight must be in (0, 1], got ${options.weight}`);
  }

  /** Whether a flush that could run inline now should. */
  allows(nowMs: number): boolean {
    if (nowMs < this.offUntilMs) return false;
    if (this.offUntilMs !== Number.NEGATIVE_INFINITY) {
      // Trying again after a back-off: start from a clean average.
      this.offUntilMs = Number.NEGATIVE_INFINITY;
      this.averageMs = 0;
    }
    return true;
  }

  /** Records how long an inline fsync took. */
  record(durationMs: number, nowMs: number): void {
    this.averageMs += this.options.weight * (durationMs - this.averageMs);
    if (this.averageMs > this.options.slowMs) this.offUntilMs = nowMs + this.options.backoffMs;
  }

  /** The running average of inline fsync times (ms). */
  get averageInlineMs(): number {
    return this.averageMs;
  }
}
