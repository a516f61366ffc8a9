/**
 * Per-log configuration, named after the Kafka topic configs they mirror. Defaults follow
 * Kafka's, except where a single host wants smaller files (noted).
 */

export const FlushPolicy = {
  /** Acknowledgements wait for the fdatasync that covers them (default; safe). */
  ALWAYS: 'always',
  /** fdatasync every `flushIntervalMs`; acknowledgements do not wait. */
  INTERVAL: 'interval',
  /** Never fdatasync except on roll and close. Unsafe: for benchmarks only. */
  NEVER: 'never',
} as const;
export type FlushPolicyName = (typeof FlushPolicy)[keyof typeof FlushPolicy];

export const CleanupPolicy = {
  DELETE: 'delete',
  COMPACT: 'compact',
} as const;

export interface LogConfig {
  /** segment.bytes: roll the active segment before it would exceed this size. */
  segmentBytes: number;
  /** segment.ms: roll the active segment once it is this old. */
  segmentMs: number;
  /** segment.index.bytes: roll once the offset index would exceed this size. */
  segmentIndexBytes: number;
  /** index.interval.bytes: bytes of log between two sparse index entries. */
  indexIntervalBytes: number;
  /** retention.ms: delete closed segments whose newest record is older; -1 keeps forever. */
  retentionMs: number;
  /** retention.bytes: delete the oldest closed segments beyond this size; -1 means no limit. */
  retentionBytes: number;
  /** max.message.bytes: the largest record batch accepted. */
  maxMessageBytes: number;
  /** message.timestamp.type. */
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  /** cleanup.policy: 'delete', 'compact' or both. */
  cleanupPolicy: string;
  /** delete.retention.ms: how long compaction keeps tombstones. */
  deleteRetentionMs: number;
  /** min.cleanable.dirty.ratio. */
  minCleanableDirtyRatio: number;
  /** How appends become durable; see FlushPolicy. */
  flushPolicy: FlushPolicyName;
  /** With the interval policy: ms between flushes. */
  flushIntervalMs: number;
  /** log.preallocate: zero-fill segment files ahead of appends so fdatasync is cheaper. */
  preallocate: boolean;
  /** min.insync.replicas: ISR members an acks=all append needs (replication reads it, not the log). */
  minInsyncReplicas: number;
}

export const defaultLogConfig: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 4096,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  maxMessageBytes: 1024 * 1024 + 12,
  messageTimestampType: 'CreateTime',
  cleanupPolicy: CleanupPolicy.DELETE,
  deleteRetentionMs: 24 * 60 * 60 * 1000,
  minCleanableDirtyRatio: 0.5,
  flushPolicy: FlushPolicy.ALWAYS,
  flushIntervalMs: 1000,
  preallocate: false,
  minInsyncReplicas: 1,
});

/** Parsed cleanup.policy strings: this runs on every append, so it must not allocate. */
const parsedPolicies = new Map<string, ReadonlySet<string>>();

function policiesOf(config: LogConfig): ReadonlySet<string> {
  let policies = parsedPolicies.get(config.cleanupPolicy);
  if (policies === undefined) {
    policies = new Set(config.cleanupPolicy.split(',').map((policy) => policy.trim()));
    parsedPolicies.set(config.cleanupPolicy, policies);
  }
  return policies;
}

export function isCompacted(config: LogConfig): boolean {
  return policiesOf(config).has(CleanupPolicy.COMPACT);
}

export function hasDeleteRetention(config: LogConfig): boolean {
  return policiesOf(config).has(CleanupPolicy.DELETE);
}
