/**
 * KIP-320 fencing of a request's current leader epoch (Kafka's Partition.checkCurrentLeaderEpoch),
 * shared by the front (against the metadata image) and the nodes (against their replica).
 */
import { ErrorCode } from '../protocol/errors.js';

/** What a request carries when it does not say which leader epoch it expects. */
export const NO_CURRENT_LEADER_EPOCH = -1;

/**
 * NONE when `currentLeaderEpoch` is not given (-1) or equals `localLeaderEpoch`;
 * FENCED_LEADER_EPOCH when it is older (the client's metadata is stale), UNKNOWN_LEADER_EPOCH
 * when it is newer (this side has not seen that epoch yet). Both make a client refresh its
 * metadata and retry.
 */
export function currentLeaderEpochError(currentLeaderEpoch: number, localLeaderEpoch: number): number {
  if (currentLeaderEpoch === NO_CURRENT_LEADER_EPOCH || currentLeaderEpoch === localLeaderEpoch) return ErrorCode.NONE;
  return currentLeaderEpoch < localLeaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH;
}
