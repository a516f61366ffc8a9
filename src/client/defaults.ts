/**
 * Every default and bound of the client, named once, with units in the name. Options of
 * `ClusterClient`, `Producer` and `Consumer` override the defaults; the bounds stay.
 */
export const ClientDefaults = {
  clientId: 'minikafka-client',
  /** Sent in ApiVersions v3 (KIP-511). */
  clientSoftwareName: 'minikafka',
  clientSoftwareVersion: '0.1.0',
  connectTimeoutMs: 10_000,
  /** Time a broker has to answer one request (Fetch adds its own max wait to this). */
  requestTimeoutMs: 30_000,
  /** Period of each connection's timeout scan: the granularity of request timeouts. */
  timeoutCheckIntervalMs: 100,
  /** Time `close()` waits for queued writes to flush before it destroys the socket. */
  closeFlushTimeoutMs: 1_000,
  /** The largest response frame accepted; anything larger is a broken stream. */
  maxResponseFrameSizeBytes: 256 * 1024 * 1024,
  /** Kafka's metadata.max.age.ms: cached topic metadata is refreshed after this long. */
  metadataMaxAgeMs: 300_000,
  retryMaxAttempts: 10,
  retryInitialBackoffMs: 50,
  retryMaxBackoffMs: 1_000,
  /** How long Admin.createTopics waits for every new partition to have a leader. */
  topicReadyTimeoutMs: 15_000,
  /** Time the broker may take to replicate a Produce (its `timeout_ms`). */
  produceTimeoutMs: 30_000,
  /** A partition's records are cut into batches of at most this many bytes (before compression). */
  maxBatchSizeBytes: 1024 * 1024,
  maxRecordsPerBatch: 10_000,
  fetchMaxWaitMs: 500,
  fetchMinBytes: 1,
  /** Kafka's fetch.max.bytes. */
  fetchMaxBytes: 50 * 1024 * 1024,
  /** Kafka's max.partition.fetch.bytes. */
  partitionMaxBytes: 1024 * 1024,
  /** Ceiling for the growth of partitionMaxBytes when one batch does not fit. */
  partitionMaxBytesCeiling: 64 * 1024 * 1024,
  /** Consecutive Fetch rounds without a usable reply before `poll` gives up. */
  maxConsecutiveFailedPolls: 10,
} as const;

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: ClientDefaults.retryMaxAttempts,
  initialBackoffMs: ClientDefaults.retryInitialBackoffMs,
  maxBackoffMs: ClientDefaults.retryMaxBackoffMs,
};
