/**
 * The leader side of a follower fetch (Kafka's Partition.fetchRecords for a replica id), one
 * partition at a time: the checks in Kafka's order (leadership, current leader epoch, log start,
 * KIP-320 divergence), then the follower's position recorded in the replication state, then the
 * records from the fetch offset up to the log end (followers read past the high watermark).
 */
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { PartitionReplica } from './partition-replica.js';
import type { ReplicaFetchPartition, ReplicaFetchPartitionResult } from './replica-protocol.js';

const EMPTY = Buffer.alloc(0);

function answer(partition: ReplicaFetchPartition, errorCode: number, replica?: PartitionReplica): ReplicaFetchPartitionResult {
  return {
    topic: partition.topic,
    partition: partition.partition,
    errorCode,
    highWatermark: replica?.highWatermark ?? -1,
    logStartOffset: replica?.log.logStartOffset ?? -1,
    divergingEpoch: -1,
    divergingEndOffset: -1,
    records: EMPTY,
  };
}

/**
 * Checks one partition of a follower's fetch and, when it may be served, records the follower's
 * fetch offset (its durable log end) in the replication state. `served` is false for an error
 * or a diverging answer: those carry no records and move no follower position.
 */
export function acceptReplicaFetch(
  replica: PartitionReplica | undefined,
  followerId: number,
  partition: ReplicaFetchPartition,
  nowMs: number,
): { result: ReplicaFetchPartitionResult; served: boolean } {
  if (replica === undefined || !replica.isLeader) return { result: answer(partition, ErrorCode.NOT_LEADER_OR_FOLLOWER), served: false };
  if (partition.currentLeaderEpoch < replica.leaderEpoch) return { result: answer(partition, ErrorCode.FENCED_LEADER_EPOCH), served: false };
  if (partition.currentLeaderEpoch > replica.leaderEpoch) return { result: answer(partition, ErrorCode.UNKNOWN_LEADER_EPOCH), served: false };
  const log = replica.log;
  if (log.isOffline) return { result: answer(partition, ErrorCode.KAFKA_STORAGE_ERROR), served: false };
  if (partition.fetchOffset < log.logStartOffset) return { result: answer(partition, ErrorCode.OFFSET_OUT_OF_RANGE, replica), served: false };
  let diverging;
  try {
    diverging = log.leaderEpochs.divergence(partition.fetchOffset, partition.lastFetchedEpoch, log.logEndOffset);
  } catch (error) {
    if (error instanceof KafkaError) return { result: answer(partition, error.code, replica), served: false };
    throw error;
  }
  if (diverging !== null) {
    const result = answer(partition, ErrorCode.NONE, replica);
    result.divergingEpoch = diverging.epoch;
    result.divergingEndOffset = diverging.endOffset;
    return { result, served: false };
  }
  if (partition.fetchOffset > log.logEndOffset) return { result: answer(partition, ErrorCode.OFFSET_OUT_OF_RANGE, replica), served: false };
  replica.state.onFollowerFetch(followerId, partition.fetchOffset, nowMs, log.logEndOffset);
  return { result: answer(partition, ErrorCode.NONE, replica), served: true };
}

/**
 * Fills the records of an accepted partition (the first batch whole even past `maxBytes`, as
 * KIP-74) and refreshes its high watermark; false (and no records) when the replica no longer
 * leads that epoch: the answer then says NOT_LEADER_OR_FOLLOWER.
 */
export function fillReplicaRecords(replica: PartitionReplica | undefined, leaderEpoch: number, partition: ReplicaFetchPartition, result: ReplicaFetchPartitionResult, maxBytes: number, minOneBatch: boolean): boolean {
  if (replica === undefined || !replica.isLeader || replica.leaderEpoch !== leaderEpoch || replica.log.isOffline) {
    result.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    result.records = EMPTY;
    return false;
  }
  const log = replica.log;
  result.highWatermark = replica.highWatermark;
  result.logStartOffset = log.logStartOffset;
  if (partition.fetchOffset >= log.logEndOffset || (maxBytes <= 0 && !minOneBatch)) {
    result.records = EMPTY;
    return true;
  }
  result.records = log.read(partition.fetchOffset, Math.max(maxBytes, 0), log.logEndOffset, minOneBatch).records;
  return true;
}
