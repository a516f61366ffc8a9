/**
 * The simulated log of one partition replica: batches in memory, a durable end offset moved
 * only by an explicit fsync, a leader-epoch cache (the real LeaderEpochCache) and a high
 * watermark checkpoint. A crash keeps only what was fsynced: the log and its epoch cache are
 * truncated to the durable end (as Kafka's log recovery truncates the cache to the log end).
 * Truncation of a diverged follower is durable at once (a file truncate).
 */
import { LeaderEpochCache } from '../../src/replication/leader-epoch-cache.js';

/** One produced batch as it sits in any log: identical copies share the object. */
export interface SimBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly leaderEpoch: number;
  /** Unique per produce: two batches with one payload id are copies of one write. */
  readonly payloadId: number;
}

export function sameBatch(a: SimBatch | undefined, b: SimBatch | undefined): boolean {
  return a !== undefined && b !== undefined && a.payloadId === b.payloadId && a.leaderEpoch === b.leaderEpoch && a.baseOffset === b.baseOffset;
}

export function batchText(batch: SimBatch | undefined): string {
  return batch === undefined ? 'none' : `[${batch.baseOffset}..${batch.lastOffset} e${batch.leaderEpoch} p${batch.payloadId}]`;
}

export class SimReplicaLog {
  /** batchAt[offset]: the batch holding that offset (one entry per offset, so lookups are direct). */
  private readonly batchAt: SimBatch[] = [];
  private readonly batches: SimBatch[] = [];
  readonly epochCache = new LeaderEpochCache();
  durableEndOffset = 0;
  /** The high watermark last checkpointed (durable: an atomic file replace). */
  checkpointedHighWatermark = 0;
  /** The lowest offset changed (truncated) since the checker last looked; Infinity if none. */
  lowestChangedOffset = Number.POSITIVE_INFINITY;

  get logEndOffset(): number {
    return this.batchAt.length;
  }

  get batchCount(): number {
    return this.batches.length;
  }

  get isFullyDurable(): boolean {
    return this.durableEndOffset === this.logEndOffset;
  }

  batchAtOffset(offset: number): SimBatch | undefined {
    return this.batchAt[offset];
  }

  /** Appends a batch at the log end; its epoch enters the cache when it is a new one. */
  append(batch: SimBatch): void {
    if (batch.baseOffset !== this.logEndOffset || batch.lastOffset < batch.baseOffset) {
      throw new Error(`sim log: batch ${batchText(batch)} appended at log end ${this.logEndOffset}`);
    }
    this.epochCache.assign(batch.leaderEpoch, batch.baseOffset);
    this.batches.push(batch);
    for (let offset = batch.baseOffset; offset <= batch.lastOffset; offset++) this.batchAt.push(batch);
  }

  fsync(): boolean {
    if (this.durableEndOffset === this.logEndOffset) return false;
    this.durableEndOffset = this.logEndOffset;
    return true;
  }

  /**
   * The batches from `fetchOffset` on, at most `maxBatches`; null when `fetchOffset` is inside a
   * batch (a follower's log end is always a batch boundary of the logs it agrees with).
   */
  read(fetchOffset: number, maxBatches: number): SimBatch[] | null {
    if (fetchOffset === this.logEndOffset) return [];
    const first = this.batchAt[fetchOffset];
    if (first === undefined || first.baseOffset !== fetchOffset) return null;
    const result: SimBatch[] = [];
    let index = this.indexOfBatchAt(fetchOffset);
    for (let count = 0; count < maxBatches && index < this.batches.length; count++, index++) result.push(this.batches[index]!);
    return result;
  }

  /** Cuts the log at `offset`; false when that is inside a batch (nothing changes then). */
  truncateTo(offset: number): boolean {
    if (offset >= this.logEndOffset) {
      // No batch goes, but an epoch that started here without one does (as PartitionLog.truncateTo).
      this.epochCache.truncateFromEnd(offset);
      return true;
    }
    const holder = this.batchAt[offset];
    if (holder !== undefined && holder.baseOffset !== offset) return false;
    this.batches.length = this.indexOfBatchAt(offset);
    this.batchAt.length = offset;
    this.epochCache.truncateFromEnd(offset);
    this.durableEndOffset = Math.min(this.durableEndOffset, offset);
    this.lowestChangedOffset = Math.min(this.lowestChangedOffset, offset);
    return true;
  }

  /** A crash: whatever was not fsynced is gone. */
  crash(): void {
    // Also drops the epoch of a leader that started at the durable end with no batch in the log.
    this.truncateTo(this.durableEndOffset);
  }

  private indexOfBatchAt(offset: number): number {
    let low = 0;
    let high = this.batches.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.batches[middle]!.baseOffset < offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
