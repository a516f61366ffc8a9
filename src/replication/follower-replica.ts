/**
 * What a partition leader knows of one follower (Kafka's Replica / ReplicaState), pure: the
 * follower's durable log end offset from its last fetch, and when it was last caught up, which
 * decides ISR shrink and whether the high watermark waits for it.
 */

/** A time before any other: "never", for a follower not caught up in this leader epoch. */
export const NEVER_MS = Number.NEGATIVE_INFINITY;

/** The follower's position before its first fetch in this leader epoch. */
export const UNKNOWN_OFFSET = -1;

export class FollowerReplica {
  /** The fetch offset of its last fetch: every offset below it is in its log and fsynced. */
  logEndOffset = UNKNOWN_OFFSET;
  /** The leader's log end offset when that fetch arrived. */
  private lastFetchLeaderLogEndOffset = UNKNOWN_OFFSET;
  private lastFetchTimeMs = NEVER_MS;
  /** The latest time at which the follower had everything the leader had. */
  lastCaughtUpTimeMs = NEVER_MS;

  constructor(readonly nodeId: number) {}

  /**
   * A new leader epoch on this leader: the position is unknown until the follower's first fetch
   * in it. An ISR member counts as caught up now, so it has replicaLagTimeMaxMs to fetch before
   * it is shrunk out; any other as never (it does not hold the high watermark back).
   */
  resetForLeaderEpoch(nowMs: number, inIsr: boolean): void {
    this.logEndOffset = UNKNOWN_OFFSET;
    this.lastFetchLeaderLogEndOffset = UNKNOWN_OFFSET;
    this.lastFetchTimeMs = NEVER_MS;
    this.lastCaughtUpTimeMs = inIsr ? nowMs : NEVER_MS;
  }

  /**
   * Kafka's updateFetchStateOrThrow: a fetch that reaches the leader's log end offset at its
   * arrival makes the follower caught up now; one that reaches the leader's log end offset at the
   * previous fetch makes it caught up as of that fetch. So a follower that never quite reaches
   * the end under a steady stream of small appends still counts as in sync.
   */
  recordFetch(fetchOffset: number, nowMs: number, leaderLogEndOffset: number): void {
    if (fetchOffset >= leaderLogEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, nowMs);
    } else if (fetchOffset >= this.lastFetchLeaderLogEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, this.lastFetchTimeMs);
    }
    this.logEndOffset = fetchOffset;
    this.lastFetchLeaderLogEndOffset = Math.max(this.lastFetchLeaderLogEndOffset, leaderLogEndOffset);
    this.lastFetchTimeMs = nowMs;
  }

  /** Kafka's isCaughtUp: at the leader's log end, or caught up within the last `replicaLagTimeMaxMs`. */
  isCaughtUp(leaderLogEndOffset: number, nowMs: number, replicaLagTimeMaxMs: number): boolean {
    return this.logEndOffset === leaderLogEndOffset || nowMs - this.lastCaughtUpTimeMs <= replicaLagTimeMaxMs;
  }
}
