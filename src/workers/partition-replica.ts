/**
 * A partition replica hosted by a node: its log and its replication state (the pure
 * PartitionState: role, leader epoch, ISR, high watermark, pending acks). The node feeds the
 * state from the log and hands its effects out (see BrokerNode.processReady).
 *
 * Durability as replication sees it: under the `always` flush policy a replica's durable end
 * is what is fsynced (or journaled); under `interval` and `never` acknowledgements do not wait
 * for fsync, so the log end counts as durable, on leaders and followers alike.
 */
import { FlushPolicy } from '../storage/log-config.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { PartitionState, ReplicaRole, type LocalLogPosition } from '../replication/partition-state.js';
import { LogProducerState } from '../storage/log-producer-state.js';
import type { StorageFileOps } from '../storage/file-ops.js';

export class PartitionReplica {
  readonly state: PartitionState;
  /** Idempotent producers' sequences and epochs (built on first use; see LogProducerState). */
  readonly producers: LogProducerState;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: PartitionLog,
    localNodeId: number,
    replicaLagTimeMaxMs: number,
    /** The high watermark checkpointed before a restart (0 if none): where this replica resumes. */
    private readonly checkpointedHighWatermark = 0,
    files?: StorageFileOps,
    logLine: (message: string) => void = () => {},
  ) {
    this.state = new PartitionState({ topic, partition, localNodeId, replicaLagTimeMaxMs });
    this.producers = new LogProducerState(log, files, logLine);
  }

  get leaderEpoch(): number {
    return this.state.leaderEpoch;
  }

  get isLeader(): boolean {
    return this.state.role === ReplicaRole.LEADER;
  }

  get highWatermark(): number {
    return this.state.highWatermark;
  }

  get lastStableOffset(): number {
    return this.state.lastStableOffset;
  }

  get waitsForFsync(): boolean {
    return this.log.config.flushPolicy === FlushPolicy.ALWAYS;
  }

  /** The end of what a crash cannot take back (see the header). */
  get durableEndOffset(): number {
    const logEnd = this.log.logEndOffset;
    return this.waitsForFsync ? Math.min(this.log.durableEndOffset, logEnd) : logEnd;
  }

  /** The log's position for a partition record (the state starts a new epoch from it). */
  localPosition(): LocalLogPosition {
    const logEndOffset = this.log.logEndOffset;
    return { logEndOffset, durableEndOffset: this.durableEndOffset, highWatermark: Math.min(Math.max(this.checkpointedHighWatermark, this.state.highWatermark), logEndOffset) };
  }

  /** Tells the state the log grew or became more durable. */
  syncLocalLog(): void {
    this.state.onLocalLogChanged(this.log.logEndOffset, this.durableEndOffset);
  }
}

export function replicaKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
