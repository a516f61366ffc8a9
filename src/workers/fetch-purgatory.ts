/**
 * Fetch requests waiting for data (Kafka's fetch purgatory): parked when they cannot fill
 * min_bytes, woken when a watched partition's high watermark advances, expired by the node's
 * tick. No timer per request.
 */
import { Limits } from '../runtime/limits.js';
import type { FetchRequest } from './node-protocol.js';
import { replicaKey } from './partition-replica.js';

export interface ParkedFetch {
  request: FetchRequest;
  deadlineMs: number;
  done: boolean;
}

export class FetchPurgatory {
  private readonly byPartition = new Map<string, Set<ParkedFetch>>();
  private readonly all = new Set<ParkedFetch>();

  get size(): number {
    return this.all.size;
  }

  get isFull(): boolean {
    return this.all.size >= Limits.maxParkedFetchesPerNode;
  }

  park(request: FetchRequest, nowMs: number): ParkedFetch {
    const waitMs = Math.min(Math.max(request.maxWaitMs, 0), Limits.maxFetchWaitMs);
    const parked: ParkedFetch = { request, deadlineMs: nowMs + waitMs, done: false };
    this.all.add(parked);
    for (const partition of request.partitions) {
      const key = replicaKey(partition.topic, partition.partition);
      let watchers = this.byPartition.get(key);
      if (watchers === undefined) this.byPartition.set(key, (watchers = new Set()));
      watchers.add(parked);
    }
    return parked;
  }

  remove(parked: ParkedFetch): void {
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
  watching(topic: string, partition: number): ParkedFetch[] {
    const watchers = this.byPartition.get(replicaKey(topic, partition));
    return watchers === undefined ? [] : [...watchers];
  }

  /** Fetches whose wait is over. */
  expired(nowMs: number): ParkedFetch[] {
    const due: ParkedFetch[] = [];
    for (const parked of this.all) if (parked.deadlineMs <= nowMs) due.push(parked);
    return due;
  }

  drainAll(): ParkedFetch[] {
    const everything = [...this.all];
    for (const parked of everything) this.remove(parked);
    return everything;
  }
}
