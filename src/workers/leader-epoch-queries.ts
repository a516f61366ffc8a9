/**
 * The node side of OffsetForLeaderEpoch (Kafka's ReplicaManager.lastOffsetForLeaderEpoch and
 * Partition.lastOffsetForLeaderEpoch), one partition at a time, with the checks in Kafka's
 * order: a partition this node does not host, a log dir gone offline, the current leader epoch
 * against this replica's (it may be a moment behind the front's metadata image), leadership
 * (Kafka answers only from the leader, whoever asks), then the leader-epoch cache.
 */
import { ErrorCode } from '../protocol/errors.js';
import { InvariantError } from '../runtime/assert.js';
import { UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET } from '../replication/leader-epoch-cache.js';
import { currentLeaderEpochError } from '../replication/leader-epoch-fencing.js';
import type { OffsetForLeaderEpochPartition, OffsetForLeaderEpochResult } from './node-protocol.js';
import type { PartitionReplica } from './partition-replica.js';

export type ReplicaLookup = (topic: string, partition: number) => PartitionReplica | undefined;

export function offsetsForLeaderEpoch(partitions: readonly OffsetForLeaderEpochPartition[], replicaOf: ReplicaLookup): OffsetForLeaderEpochResult[] {
  const results: OffsetForLeaderEpochResult[] = [];
  for (const query of partitions) results.push(offsetForLeaderEpoch(replicaOf(query.topic, query.partition), query));
  return results;
}

function failed(errorCode: number): OffsetForLeaderEpochResult {
  return { errorCode, leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
}

/**
 * The end offset of the largest epoch <= `query.leaderEpoch` in the leader's log: the start of
 * the next epoch, or the log end offset for the current one (see LeaderEpochCache.endOffsetFor).
 * An undefined end offset answers NONE with -1 / -1 (Kafka's UnifiedLog.endOffsetForEpoch).
 */
export function offsetForLeaderEpoch(replica: PartitionReplica | undefined, query: OffsetForLeaderEpochPartition): OffsetForLeaderEpochResult {
  if (replica === undefined) return failed(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  if (replica.log.isOffline) return failed(ErrorCode.KAFKA_STORAGE_ERROR);
  const fencing = currentLeaderEpochError(query.currentLeaderEpoch, replica.leaderEpoch);
  if (fencing !== ErrorCode.NONE) return failed(fencing);
  if (!replica.isLeader) return failed(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const logEndOffset = replica.log.logEndOffset;
  const found = replica.log.leaderEpochs.endOffsetFor(query.leaderEpoch, logEndOffset);
  if (found.endOffset === UNDEFINED_EPOCH_OFFSET) return failed(ErrorCode.NONE);
  if (!(found.endOffset <= logEndOffset && found.epoch <= query.leaderEpoch)) {
    throw new InvariantError(`${replica.topic}-${replica.partition}: epoch ${query.leaderEpoch} ends at ${found.endOffset} in epoch ${found.epoch}, past the log end ${logEndOffset} or the epoch asked for`);
  }
  return { errorCode: ErrorCode.NONE, leaderEpoch: found.epoch, endOffset: found.endOffset };
}
