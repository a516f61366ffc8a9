/**
 * What a leader knows about one follower's log (Raft's nextIndex / matchIndex), and how it is
 * sending to it:
 * - probe: one append at a time from `nextIndex`, waiting for the answer (after a rejection or
 *   at the start of a term, while the leader looks for where the logs agree);
 * - replicate: appends sent back to back, `nextIndex` moved optimistically, at most
 *   `maxInflightEntries` beyond `matchIndex`;
 * - snapshot: an InstallSnapshot is on its way; nothing else is sent until it is answered.
 */
export const ProgressState = {
  probe: 'probe',
  replicate: 'replicate',
  snapshot: 'snapshot',
} as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

export class FollowerProgress {
  matchIndex = 0;
  nextIndex: number;
  state: ProgressState = ProgressState.probe;
  /** In probe and snapshot state: a message is out and the leader waits for its answer. */
  paused = false;
  /** Heard from since the last check-quorum round. */
  recentActive = true;
  /**
   * Set when the follower says it lost its log: the leader's last index then, which it must
   * hold before it may vote again.
   */
  rejoinTargetIndex: number | null = null;
  /** The follower's storage identity as last seen (RaftConfig.storageId). */
  storageId: number | null = null;

  constructor(
    readonly nodeId: number,
    leaderLastIndex: number,
    /** An observer (etcd raft's IsLearner): replicated to, never counted toward a majority. */
    readonly isObserver = false,
  ) {
    this.nextIndex = leaderLastIndex + 1;
  }

  /** A successful answer: the follower's log matches ours up to `matchIndex`. */
  acknowledge(matchIndex: number): boolean {
    const advanced = matchIndex > this.matchIndex;
    if (advanced) this.matchIndex = matchIndex;
    if (this.nextIndex <= this.matchIndex) this.nextIndex = this.matchIndex + 1;
    this.state = ProgressState.replicate;
    this.paused = false;
    return advanced;
  }

  /** Back to probing from `nextIndex` (never at or below what is known to match). */
  probeFrom(nextIndex: number): void {
    this.state = ProgressState.probe;
    this.nextIndex = Math.max(nextIndex, this.matchIndex + 1);
    this.paused = false;
  }
}
