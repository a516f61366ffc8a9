/**
 * What a client is told when appending to `__consumer_offsets` fails, following Kafka's
 * GroupMetadataManager (storeOffsets / storeGroup / maybeConvertOffsetCommitError).
 *
 * The injected `persist` reports failures as an Error; when the log layer knows the Kafka error
 * (leadership lost, storage failure, ISR too small, batch too large), it attaches it as a numeric
 * `errorCode` property, e.g. `new OffsetsAppendError('not leader', ErrorCode.NOT_LEADER_OR_FOLLOWER)`.
 * An Error without a code is reported as COORDINATOR_NOT_AVAILABLE: retriable in every client,
 * which then looks the coordinator up again and retries — the right answer to an unknown,
 * probably transient, failure (UNKNOWN_SERVER_ERROR would fail the commit for good in kafkajs).
 */
import { ErrorCode } from '../protocol/errors.js';

/** An append failure that carries the Kafka error the log layer saw. */
export class OffsetsAppendError extends Error {
  readonly errorCode: number;

  constructor(message: string, errorCode: number) {
    super(message);
    this.name = 'OffsetsAppendError';
    this.errorCode = errorCode;
  }
}

/** The Kafka error attached to an append failure, or null if there is none. */
export function appendErrorCode(error: Error): number | null {
  const code = (error as { errorCode?: unknown }).errorCode;
  return typeof code === 'number' && Number.isInteger(code) ? code : null;
}

/** For OffsetCommit, OffsetDelete and DeleteGroups (Kafka's maybeConvertOffsetCommitError). */
export function offsetCommitErrorFor(error: Error): number {
  const code = appendErrorCode(error);
  switch (code) {
    case null:
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    default:
      return code;
  }
}

/** For group metadata written at the end of a rebalance (Kafka's storeGroup). */
export function storeGroupErrorFor(error: Error): number {
  const code = appendErrorCode(error);
  switch (code) {
    case null:
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.REBALANCE_IN_PROGRESS;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}
