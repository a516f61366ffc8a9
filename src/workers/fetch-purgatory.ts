/**
 * Fetch requests waiting for data (Kafka's fetch purgatory): parked when they cannot fill
 * min_bytes, woken when a watched partition's high watermark advances, expired by the node's
 * tick. No timer per request.
 */
import { Limits } from '../runtime/limits.js';
import type { FetchRequest } from './node-protocol.js';
import { replicaKey } from './partition-replica.js';

/** What a parked request must have: a wait and the partitions it watches. */
export interface WaitingRequest {
  readonly maxWaitMs: number;
  readonly partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
}

export interface ParkedFetch<R extends WaitingRequest = FetchRequest> {
  request: R;
  deadlineMs: number;
  done: boolean;
}

export class FetchPurgatory<R extends WaitingRequest = FetchRequest, P extends ParkedFetch<R> = ParkedFetch<R>> {
  private readonly byPartition = new Map<string, Set<P>>();
  private readonly all = new Set<P>();

  get size(): number {
    return this.all.size;
  }

  get isFull(): boolean {
    return this.all.size >= Limits.maxParkedFetchesPerNode;
  }

  park(request: R, nowMs: number, extra?: Omit<P, keyof ParkedFetch<R>>): P {
    const waitMs = Math.min(Math.max(request.maxWaitMs, 0), Limits.maxFetchWaitMs);
    const parked = { ...extra, request, deadlineMs: nowMs + waitMs, done: false } as P;
    this.all.add(parked);
    for (const partition of request.partitions) {
      const key = replicaKey(partition.topic, partition.partition);
      let watchers = this.byPartition.get(key);
      if (watchers === undefined) this.byPartition.set(key, (watchers = new Set()));
      watchers.add(parked);
    }
    return parked;
  }

  remove(parked: P): void {
    parked.done = true;
    this.all.delete(parked);
    for (const partition of parked.request.partitions) {
      const key = replicaKey(partition.topic, partition.partition);
      const watchers = this.byPartition.get(key);
      if (watchers === undefined) continue;
      watchers.delete(parked);
      if (watchers.size === 0) this.byPartition.delete(key);
    }
  }

  /** Fetches watching this partition (a snapshot: callers may remove while iterating). */
  watching(topic: string, partition: number): P[] {
    const watchers = this.byPartition.get(replicaKey(topic, partition));
    return watchers === undefined ? [] : [...watchers];
  }

  /** Fetches whose wait is over. */
  expired(nowMs: number): P[] {
    const due: P[] = [];
    for (const parked of this.all) if (parked.deadlineMs <= nowMs) due.push(parked);
    return due;
  }

  drainAll(): P[] {
    const everything = [...this.all];
    for (const parked of everything) this.remove(parked);
    return everything;
  }
}
