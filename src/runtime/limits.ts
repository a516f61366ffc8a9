import { ringMaxMessageBytes } from './shared-ring.js';

/**
 * Every fixed bound of the broker, named once, with units in the name. Config may override
 * some of them (see src/config/); these are the defaults and the hard ceilings.
 */
export const Limits = {
  /** socket.request.max.bytes: the largest request frame accepted (Kafka's default). */
  maxRequestSizeBytes: 100 * 1024 * 1024,
  /** Bytes of each SharedArrayBuffer ring between the front end and one node, per direction. */
  ringCapacityBytes: 32 * 1024 * 1024,
  /** Bytes of each ring between two nodes, per direction (follower fetches and their answers). */
  linkRingCapacityBytes: 16 * 1024 * 1024,
  /** When a node cannot reach the controller, its AlterPartition fails after this long (as a network timeout). */
  alterPartitionUnreachableMs: 1_000,
  /** The largest single message a ring accepts (a Fetch response slice, a Produce request). */
  maxRingMessageBytes: 8 * 1024 * 1024,
  /** Bytes of a ring message kept for the fields around one record batch of message.max.bytes. */
  ringMessageHeadroomBytes: 1024,
  /** Cap on the record bytes one Fetch response carries per node, whatever the client asks. */
  maxFetchResponseBytes: 8 * 1024 * 1024,
  /** Requests one connection may have in flight before the front end stops reading it. */
  maxInFlightRequestsPerConnection: 1000,
  /** Bytes of unsent responses queued on one connection before reading it pauses. */
  maxQueuedResponseBytesPerConnection: 64 * 1024 * 1024,
  /** Fetch requests a node keeps parked waiting for data. */
  maxParkedFetchesPerNode: 100_000,
  /** Longest max_wait_ms honoured for a parked Fetch. */
  maxFetchWaitMs: 30_000,
  /** Period of each node's tick (fetch expiry, retention, checkpoints). */
  nodeTickIntervalMs: 5,
  /** Time allowed for a clean shutdown before the process exits anyway. */
  shutdownTimeoutMs: 5_000,
  /** Largest number of partitions one topic may have. */
  maxPartitionsPerTopic: 10_000,
  /** Kafka's limit on topic name length. */
  maxTopicNameLength: 249,
  /** One Raft tick of the metadata quorum. */
  raftTickMs: 10,
  /**
   * Election timeout in ticks (300-600 ms): short enough for a quick controller failover on one
   * host, long enough that a GC pause or a busy core does not start elections.
   */
  raftElectionTicks: 30,
  /** The leader's heartbeat interval in ticks (50 ms). */
  raftHeartbeatTicks: 5,
  /** A voter snapshots its metadata image and cuts its log back every this many entries. */
  raftSnapshotIntervalEntries: 2000,
  /** How long an admin change may wait for a controller and its commit before it fails (retriable). */
  metadataCommitTimeoutMs: 5_000,
  /** How long start-up waits for the metadata quorum to elect a leader and catch up. */
  metadataStartTimeoutMs: 15_000,
  /** Producer ids per block a node takes from the controller (Kafka's ProducerIdsBlock size). */
  producerIdBlockSize: 1000,
  /** A node asks for its next producer id block once this fraction of the current one is used (Kafka: 0.9). */
  producerIdPrefetchFraction: 0.9,
  /**
   * How long an InitProducerId waits for a block when the node has none left, before it gets
   * COORDINATOR_LOAD_IN_PROGRESS (retriable): longer than a controller election (300-600 ms).
   */
  producerIdBlockWaitMs: 2_000,
  /** InitProducerId requests one node keeps waiting for a block; more are answered at once (retriable). */
  maxProducerIdWaitersPerNode: 10_000,
  /** After a failed block allocation, a node waits this long before it asks again. */
  producerIdRetryBackoffMs: 100,
  /** How often waiting InitProducerId requests are checked for their deadline and retries are sent. */
  producerIdTickIntervalMs: 50,
} as const;

/** The limits whose relations `limitRelationProblems` checks (Limits, or a test's variant). */
export interface RingLimits {
  readonly ringCapacityBytes: number;
  readonly maxRingMessageBytes: number;
  readonly ringMessageHeadroomBytes: number;
  readonly maxFetchResponseBytes: number;
}

/**
 * What is wrong between the ring limits and message.max.bytes, one sentence each (empty when
 * consistent): a Produce request or Fetch completion that cannot cross a ring would kill its
 * node, so the broker refuses to start with such limits.
 */
export function limitRelationProblems(limits: RingLimits, messageMaxBytes: number): string[] {
  const problems: string[] = [];
  const { ringCapacityBytes, maxRingMessageBytes, ringMessageHeadroomBytes, maxFetchResponseBytes } = limits;
  if (ringCapacityBytes < 1024 || (ringCapacityBytes & (ringCapacityBytes - 1)) !== 0) {
    problems.push(`ringCapacityBytes (${ringCapacityBytes}) must be a power of two of at least 1024`);
  } else if (maxRingMessageBytes > ringMaxMessageBytes(ringCapacityBytes)) {
    problems.push(`maxRingMessageBytes (${maxRingMessageBytes}) exceeds the ${ringMaxMessageBytes(ringCapacityBytes)} bytes one message of a ${ringCapacityBytes}-byte ring can carry`);
  }
  if (maxFetchResponseBytes > maxRingMessageBytes) {
    problems.push(`maxFetchResponseBytes (${maxFetchResponseBytes}) exceeds maxRingMessageBytes (${maxRingMessageBytes}): a node could not hand such a fetch response to the front end`);
  }
  if (messageMaxBytes + ringMessageHeadroomBytes > maxRingMessageBytes) {
    problems.push(`message.max.bytes (${messageMaxBytes}) plus ${ringMessageHeadroomBytes} bytes of request fields exceeds maxRingMessageBytes (${maxRingMessageBytes}): such a batch could not reach its node`);
  }
  return problems;
}
