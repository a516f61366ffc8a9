/**
 * The simulation's only source of time: a queue of events ordered by simulated time, ties
 * broken by insertion order, so one seed always runs the same events in the same order.
 */
export interface SimEvent {
  readonly atMs: number;
  readonly sequence: number;
  readonly label: string;
  readonly run: () => void;
}

export class Scheduler {
  nowMs = 0;
  /** The event running now (its label names the event a failure happened in). */
  current: SimEvent | null = null;
  private sequence = 0;
  private readonly heap: SimEvent[] = [];

  get pending(): number {
    return this.heap.length;
  }

  at(atMs: number, label: string, run: () => void): void {
    const event: SimEvent = { atMs: Math.max(atMs, this.nowMs), sequence: this.sequence++, label, run };
    this.heap.push(event);
    this.siftUp(this.heap.length - 1);
  }

  after(delayMs: number, label: string, run: () => void): void {
    this.at(this.nowMs + delayMs, label, run);
  }

  /** Runs the next event; returns it, or null when the queue is empty. */
  runNext(): SimEvent | null {
    const event = this.pop();
    if (event === undefined) return null;
    this.nowMs = event.atMs;
    this.current = event;
    event.run();
    this.current = null;
    return event;
  }

  private pop(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private before(a: SimEvent, b: SimEvent): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.sequence < b.sequence);
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(heap[index]!, heap[parent]!)) return;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && this.before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && this.before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === index) return;
      [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
      index = smallest;
    }
  }
}
