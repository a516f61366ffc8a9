/**
 * Group coordinator settings, named after Kafka's broker configs, with units in the names.
 */
export interface GroupCoordinatorConfig {
  /** group.min.session.timeout.ms: JoinGroup below it gets INVALID_SESSION_TIMEOUT. */
  readonly groupMinSessionTimeoutMs: number;
  /** group.max.session.timeout.ms: JoinGroup above it gets INVALID_SESSION_TIMEOUT. */
  readonly groupMaxSessionTimeoutMs: number;
  /**
   * group.initial.rebalance.delay.ms: how long the first rebalance of an empty group waits for
   * more members before completing; each newcomer during generation 0 extends it by the same
   * amount, up to the rebalance timeout. 0 disables it (the rebalance completes as soon as every
   * known member joined).
   */
  readonly groupInitialRebalanceDelayMs: number;
  /** group.max.size: members beyond it get GROUP_MAX_SIZE_REACHED. */
  readonly groupMaxSize: number;
  /** offsets.retention.minutes in ms: how long offsets of an empty group survive. */
  readonly offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms: how often expired offsets are looked for. */
  readonly offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes: longer commit metadata gets OFFSET_METADATA_TOO_LARGE. */
  readonly offsetMetadataMaxBytes: number;
  /**
   * How long a brand-new member's first JoinGroup may stay parked before the member is dropped
   * (Kafka's GroupCoordinator.NewMemberJoinTimeoutMs, not configurable there).
   */
  readonly newMemberJoinTimeoutMs: number;
}

const dayMs = 24 * 60 * 60 * 1000;

/**
 * Kafka's defaults, except the initial rebalance delay: Kafka waits 3000 ms so consumers started
 * together land in one generation. We wait 300 ms. A test suite that starts one consumer gets its
 * assignment 2.7 s sooner on every group, and consumers started together still share a generation:
 * a client's FindCoordinator + JoinGroup + MEMBER_ID_REQUIRED rejoin takes a few ms on loopback,
 * and every newcomer extends the delay by another 300 ms. Going to 0 would be slower, not faster:
 * the second consumer would force a second rebalance, which the first only notices on its next
 * heartbeat (3 s by default in kafkajs and librdkafka).
 */
export const defaultGroupCoordinatorConfig: GroupCoordinatorConfig = {
  groupMinSessionTimeoutMs: 6_000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 300,
  groupMaxSize: 2_147_483_647,
  offsetsRetentionMs: 7 * dayMs,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4_096,
  newMemberJoinTimeoutMs: 300_000,
};

/** Defaults plus overrides, checked. Throws on nonsense (a programmer or config error). */
export function resolveGroupCoordinatorConfig(
  overrides: Partial<GroupCoordinatorConfig> = {},
): GroupCoordinatorConfig {
  const config: GroupCoordinatorConfig = { ...defaultGroupCoordinatorConfig, ...overrides };
  for (const [name, value] of Object.entries(config)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`group coordinator config ${name} must be a non-negative integer, got ${value}`);
    }
  }
  if (config.groupMinSessionTimeoutMs > config.groupMaxSessionTimeoutMs) {
    throw new RangeError('groupMinSessionTimeoutMs must not exceed groupMaxSessionTimeoutMs');
  }
  if (config.groupMaxSize < 1) throw new RangeError('groupMaxSize must be at least 1');
  if (config.offsetsRetentionCheckIntervalMs < 1) {
    throw new RangeError('offsetsRetentionCheckIntervalMs must be at least 1');
  }
  return config;
}
