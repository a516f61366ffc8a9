/**
 * Errors the client raises besides `KafkaError` (a Kafka error code from a broker).
 * Each says where it happened; `isRetriable` tells the retry loop which ones to try again.
 */
import { ErrorCode, KafkaError, errorInfo } from '../protocol/errors.js';

/** The TCP connection could not be opened, or closed with requests in flight. */
export class ConnectionError extends Error {
  readonly address: string;

  constructor(address: string, message: string, options?: { cause?: unknown }) {
    super(`${address}: ${message}`, options);
    this.name = 'ConnectionError';
    this.address = address;
  }
}

/** A broker did not answer one request in time; the connection is closed with it. */
export class RequestTimeoutError extends Error {
  readonly address: string;
  readonly timeoutMs: number;

  constructor(address: string, requestName: string, timeoutMs: number) {
    super(`${address}: ${requestName} got no response within ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
    this.address = address;
    this.timeoutMs = timeoutMs;
  }
}

/** A Fetch asked for an offset outside [logStartOffset, logEndOffset] of its partition. */
export class OffsetOutOfRangeError extends KafkaError {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly logStartOffset: bigint;
  readonly logEndOffset: bigint;

  constructor(topic: string, partition: number, offset: bigint, logStartOffset: bigint, logEndOffset: bigint) {
    super(
      ErrorCode.OFFSET_OUT_OF_RANGE,
      `offset ${offset} of ${topic}-${partition} is out of range; valid offsets are ` +
        `${logStartOffset} (log start) to ${logEndOffset} (log end)`,
    );
    this.name = 'OffsetOutOfRangeError';
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.logStartOffset = logStartOffset;
    this.logEndOffset = logEndOffset;
  }
}

/**
 * A Kafka error whose code is retriable in general but final where it was raised: e.g.
 * UNKNOWN_TOPIC_OR_PARTITION from DeleteTopics means "no such topic", not "not yet".
 */
export class FinalKafkaError extends KafkaError {
  constructor(code: number, message: string) {
    super(code, message);
    this.name = 'KafkaError';
  }
}

/** Errors worth another attempt after a metadata refresh and a backoff. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof FinalKafkaError) return false;
  if (error instanceof KafkaError) return errorInfo(error.code).retriable;
  return error instanceof ConnectionError || error instanceof RequestTimeoutError;
}

/** Errors after which the cached metadata (leaders, brokers) may be wrong. */
export function invalidatesMetadata(error: unknown): boolean {
  if (!(error instanceof KafkaError)) return error instanceof ConnectionError || error instanceof RequestTimeoutError;
  switch (error.code) {
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.LEADER_NOT_AVAILABLE:
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_CONTROLLER:
    case ErrorCode.FENCED_LEADER_EPOCH:
    case ErrorCode.UNKNOWN_LEADER_EPOCH:
    case ErrorCode.REPLICA_NOT_AVAILABLE:
    case ErrorCode.BROKER_NOT_AVAILABLE:
      return true;
    default:
      return false;
  }
}
