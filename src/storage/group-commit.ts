/**
 * Group commit: one flush covers every append made before it started. A caller that arrives
 * while a flush runs joins the next round, which starts as soon as the running one ends, so
 * any number of concurrent callers cost at most two flushes.
 *
 * By default a round starts at once when none is running: the caller decides the batching
 * point (a node appends everything a ring drain brought, then asks for one flush). A deferring
 * scheduler (`scheduleOnNextTurn`) instead lets every append of the current event-loop turn
 * join the first round.
 */

interface Round {
  promise: Promise<number>;
  resolve: (durableOffset: number) => void;
  reject: (error: Error) => void;
}

function newRound(): Round {
  let resolve!: (durableOffset: number) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<number>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

export type Scheduler = (task: () => void) => void;

export const scheduleOnNextTurn: Scheduler = (task) => setImmediate(task);
export const startImmediately: Scheduler = (task) => task();

export class GroupCommit {
  private running: Promise<void> | null = null;
  private nextRound: Round | null = null;
  /** Completed flush rounds; tests and metrics read it. */
  roundsCompleted = 0;

  /**
   * @param flushOnce makes every append so far durable and resolves with the offset it covered.
   */
  constructor(
    private readonly flushOnce: () => Promise<number>,
    private readonly schedule: Scheduler = startImmediately,
  ) {}

  get isFlushing(): boolean {
    return this.running !== null;
  }

  /** Resolves with the durable offset once a flush that started after this call completes. */
  flush(): Promise<number> {
    const round = this.nextRound ?? newRound();
    if (this.nextRound === null) {
      this.nextRound = round;
      if (this.running === null) this.schedule(() => this.startRound());
    }
    return round.promise;
  }

  /** Resolves when no flush is running (close and segment deletion wait on it). */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private startRound(): void {
    if (this.running !== null || this.nextRound === null) return;
    const round = this.nextRound;
    this.nextRound = null;
    this.running = this.flushOnce().then(
      (durableOffset) => {
        this.roundsCompleted++;
        this.finishRound();
        round.resolve(durableOffset);
      },
      (error: unknown) => {
        this.finishRound();
        round.reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  private finishRound(): void {
    this.running = null;
    if (this.nextRound !== null) this.schedule(() => this.startRound());
  }
}
