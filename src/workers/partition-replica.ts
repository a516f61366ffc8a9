/**
 * A partition replica hosted by a node: its log, leader epoch and high watermark.
 *
 * With one replica per partition the high watermark is the durable log end offset under the
 * `always` flush policy (consumers never see what a crash could take back), and the log end
 * offset under `interval` and `never`, where acknowledgements do not wait for fsync either.
 */
import { FlushPolicy } from '../storage/log-config.js';
import type { PartitionLog } from '../storage/partition-log.js';

export class PartitionReplica {
  private hw = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: PartitionLog,
    public leaderEpoch: number,
  ) {
    this.refreshHighWatermark();
  }

  get highWatermark(): number {
    return this.hw;
  }

  /** Transactions are not in yet: the last stable offset is the high watermark. */
  get lastStableOffset(): number {
    return this.hw;
  }

  get waitsForFsync(): boolean {
    return this.log.config.flushPolicy === FlushPolicy.ALWAYS;
  }

  /** Moves the high watermark to what may be exposed now; returns whether it advanced. */
  refreshHighWatermark(): boolean {
    const next = this.waitsForFsync ? Math.min(this.log.durableEndOffset, this.log.logEndOffset) : this.log.logEndOffset;
    if (next === this.hw) return false;
    if (next < this.hw && next >= this.log.logStartOffset) {
      // Only truncation (not yet possible with one replica) may move it back.
      throw new Error(`high watermark of ${this.topic}-${this.partition} would move back from ${this.hw} to ${next}`);
    }
    this.hw = next;
    return true;
  }
}

export function replicaKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
