/**
 * Every fixed bound of the broker, named once, with units in the name. Config may override
 * some of them (see src/config/); these are the defaults and the hard ceilings.
 */
export const Limits = {
  /** socket.request.max.bytes: the largest request frame accepted (Kafka's default). */
  maxRequestSizeBytes: 100 * 1024 * 1024,
  /** Bytes of each SharedArrayBuffer ring between the front end and one node, per direction. */
  ringCapacityBytes: 32 * 1024 * 1024,
  /** The largest single message a ring accepts (a Fetch response slice, a Produce request). */
  maxRingMessageBytes: 8 * 1024 * 1024,
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
} as const;
