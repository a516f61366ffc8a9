/**
 * What every consumer load counts, whichever client drives it: records consumed and measured,
 * the total to stop at, and the stop flag.
 */
export abstract class ConsumerProgress {
  protected consumed = 0;
  protected measured = 0;
  protected measuredByteCount = 0;
  protected stopped = false;
  /** e2e: every record sent, warm-up included; set once the producer knows it. */
  protected totalTarget: number | null = null;

  protected constructor(private readonly maxMeasuredMessages: number | null) {}

  get consumedMessages(): number {
    return this.consumed;
  }

  get measuredMessages(): number {
    return this.measured;
  }

  get measuredBytes(): number {
    return this.measuredByteCount;
  }

  /** Stops once this many records are consumed in all (e2e: once the producer is done). */
  setTotalTarget(totalMessages: number): void {
    this.totalTarget = totalMessages;
  }

  protected reachedTarget(): boolean {
    const maxMeasured = this.maxMeasuredMessages;
    return (maxMeasured !== null && this.measured >= maxMeasured) || (this.totalTarget !== null && this.consumed >= this.totalTarget);
  }

  stop(): void {
    this.stopped = true;
  }
}
