/**
 * The acks=-1 produce requests of one partition leader waiting for replication (Kafka's
 * DelayedProduce for one partition), pure. An ack completes once: NONE when the high watermark
 * covers it and the committed ISR has min.insync.replicas members, NOT_ENOUGH_REPLICAS_AFTER_APPEND
 * when it is covered but the ISR shrank below that, REQUEST_TIMED_OUT at its deadline, or with
 * the error of `failAll` (the replica stopped leading).
 */
import { assert } from '../runtime/assert.js';
import { ErrorCode } from '../protocol/errors.js';

export interface CompletedAck {
  readonly ackId: number;
  readonly errorCode: number;
}

interface PendingAck {
  readonly ackId: number;
  /** The last offset of the append + 1: covered when the high watermark reaches it. */
  readonly requiredOffset: number;
  readonly deadlineMs: number;
  readonly minInsyncReplicas: number;
}

export class PendingAcks {
  /** By ack id, in arrival order. */
  private readonly acks = new Map<number, PendingAck>();

  constructor(private readonly maxPendingAcks: number) {
    assert(Number.isSafeInteger(maxPendingAcks) && maxPendingAcks > 0, () => `pending acks: bound ${maxPendingAcks}`);
  }

  get size(): number {
    return this.acks.size;
  }

  /**
   * Waits for `requiredOffset`. When `maxPendingAcks` are already waiting the ack completes at
   * once with REQUEST_TIMED_OUT: the records are in the leader's log but their replication is
   * not waited for, which is what a timeout tells a producer (it retries; an idempotent one
   * is deduplicated).
   */
  add(ackId: number, requiredOffset: number, deadlineMs: number, minInsyncReplicas: number, completed: CompletedAck[]): void {
    assert(!this.acks.has(ackId), () => `pending acks: ack ${ackId} is already waiting`);
    if (this.acks.size >= this.maxPendingAcks) {
      completed.push({ ackId, errorCode: ErrorCode.REQUEST_TIMED_OUT });
      return;
    }
    this.acks.set(ackId, { ackId, requiredOffset, deadlineMs, minInsyncReplicas });
  }

  /** Completes every ack the high watermark covers, judged by the committed ISR size. */
  completeCovered(highWatermark: number, isrSize: number, completed: CompletedAck[]): void {
    for (const ack of this.acks.values()) {
      if (ack.requiredOffset > highWatermark) continue;
      const errorCode = isrSize >= ack.minInsyncReplicas ? ErrorCode.NONE : ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND;
      this.acks.delete(ack.ackId);
      completed.push({ ackId: ack.ackId, errorCode });
    }
  }

  /** Completes with REQUEST_TIMED_OUT every ack whose deadline has come. */
  expire(nowMs: number, completed: CompletedAck[]): void {
    for (const ack of this.acks.values()) {
      if (ack.deadlineMs > nowMs) continue;
      this.acks.delete(ack.ackId);
      completed.push({ ackId: ack.ackId, errorCode: ErrorCode.REQUEST_TIMED_OUT });
    }
  }

  failAll(errorCode: number, completed: CompletedAck[]): void {
    for (const ack of this.acks.values()) completed.push({ ackId: ack.ackId, errorCode });
    this.acks.clear();
  }
}
