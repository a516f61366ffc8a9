/**
 * The follower side of replication (Kafka's ReplicaFetcherManager and its fetcher threads): per
 * leader node, one fetch session that carries every partition this node follows from it. A
 * session has at most one fetch in flight; the next goes once everything the previous answer
 * brought is durable (so a fetch offset is always a durable log end offset, which is what the
 * leader's high watermark counts), or after a backoff when the answer was an error. A fetch
 * unanswered well past its wait (a paused or killed leader, a cut link) is given up and sent
 * again; a late answer to it is ignored.
 *
 * No I/O here: the host sends fetches and applies answers (appends, truncations).
 */
import type { ReplicaFetchPartition, ReplicaFetchPartitionResult, ReplicaFetchRequest } from './replica-protocol.js';
import { replicaKey, type PartitionReplica } from './partition-replica.js';

export interface ReplicaFetchSettings {
  /** replica.fetch.wait.max.ms: how long the leader may hold a fetch with nothing new. */
  maxWaitMs: number;
  /** replica.fetch.response.max.bytes (capped by what one ring message carries). */
  maxBytes: number;
  /** replica.fetch.backoff.ms: the pause after an error answer. */
  backoffMs: number;
  /** A fetch unanswered this long after its wait ended is sent again. */
  lostFetchMs: number;
}

/** What applying one partition's answer needs next. */
export interface FetchedOutcome {
  /** Resolves when what was appended (or truncated) is durable; null when nothing is pending. */
  readonly pending: Promise<void> | null;
  /** The answer was an error: the session waits a backoff before fetching again. */
  readonly backoff: boolean;
}

export interface ReplicaFetcherHost {
  readonly nodeId: number;
  nowMs(): number;
  /** Sends a fetch to the leader's node; false if it could not go (the session retries later). */
  sendFetch(leaderId: number, request: ReplicaFetchRequest): boolean;
  /** Applies one partition's answer (append, truncation, high watermark). */
  applyFetched(replica: PartitionReplica, result: ReplicaFetchPartitionResult): FetchedOutcome;
  /** A partition's log is being truncated: it sits out fetches until that is done. */
  isTruncating(replica: PartitionReplica): boolean;
}

class FetchSession {
  readonly partitions = new Map<string, PartitionReplica>();
  /** The fetch in flight (0: none), its deadline, and the leader epochs it was sent for. */
  inFlightId = 0;
  inFlightDeadlineMs = 0;
  readonly sentEpochs = new Map<string, number>();
  /** Applying the last answer (waiting for its fsyncs). */
  applying = false;
  backoffUntilMs = 0;

  constructor(readonly leaderId: number) {}
}

export class ReplicaFetchers {
  private readonly sessions = new Map<number, FetchSession>();
  /** The leader each followed partition fetches from. */
  private readonly leaderOf = new Map<string, number>();
  private nextFetchId = 1;

  constructor(
    private readonly host: ReplicaFetcherHost,
    private readonly settings: ReplicaFetchSettings,
  ) {}

  /** Fetches `replica` from `leaderId` from now on (a new leader or epoch: the next fetch says so). */
  follow(replica: PartitionReplica, leaderId: number): void {
    const key = replicaKey(replica.topic, replica.partition);
    this.unfollowKey(key);
    if (leaderId < 0 || leaderId === this.host.nodeId) return;
    let session = this.sessions.get(leaderId);
    if (session === undefined) this.sessions.set(leaderId, (session = new FetchSession(leaderId)));
    session.partitions.set(key, replica);
    this.leaderOf.set(key, leaderId);
    // A session waiting on a long poll without this partition answers late for it: ask anew.
    if (session.inFlightId !== 0 && !session.applying) session.inFlightId = 0;
    this.maybeSend(session);
  }

  unfollow(replica: PartitionReplica): void {
    this.unfollowKey(replicaKey(replica.topic, replica.partition));
  }

  private unfollowKey(key: string): void {
    const leaderId = this.leaderOf.get(key);
    if (leaderId === undefined) return;
    this.leaderOf.delete(key);
    const session = this.sessions.get(leaderId);
    session?.partitions.delete(key);
    if (session !== undefined && session.partitions.size === 0) this.sessions.delete(leaderId);
  }

  /** How many partitions this node follows, by leader (for status and tests). */
  followedCounts(): Map<number, number> {
    return new Map([...this.sessions].map(([leaderId, session]) => [leaderId, session.partitions.size]));
  }

  /** The links to `leaderId` were renewed (it restarted): what was in flight is gone. */
  linkRenewed(leaderId: number): void {
    const session = this.sessions.get(leaderId);
    if (session === undefined) return;
    session.inFlightId = 0;
    session.backoffUntilMs = 0;
    this.maybeSend(session);
  }

  /** Lost fetches go again; backoffs end. */
  tick(nowMs: number): void {
    for (const session of this.sessions.values()) {
      if (session.inFlightId !== 0 && !session.applying && nowMs >= session.inFlightDeadlineMs) session.inFlightId = 0;
      this.maybeSend(session);
    }
  }

  /** An answer from `leaderId`; `results` are ring views, applied before this returns. */
  onResponse(leaderId: number, fetchId: number, results: readonly ReplicaFetchPartitionResult[]): void {
    const session = this.sessions.get(leaderId);
    if (session === undefined || session.inFlightId !== fetchId || session.applying) return;
    const pending: Array<Promise<void>> = [];
    let backoff = false;
    for (const result of results) {
      const key = replicaKey(result.topic, result.partition);
      const replica = session.partitions.get(key);
      // Unfollowed, or a new leader epoch since the fetch went: this answer is not for it.
      if (replica === undefined || replica.leaderEpoch !== session.sentEpochs.get(key)) continue;
      const outcome = this.host.applyFetched(replica, result);
      if (outcome.pending !== null) pending.push(outcome.pending);
      if (outcome.backoff) backoff = true;
    }
    session.applying = true;
    const done = () => {
      session.applying = false;
      session.inFlightId = 0;
      if (backoff) session.backoffUntilMs = this.host.nowMs() + this.settings.backoffMs;
      this.maybeSend(session);
    };
    if (pending.length === 0) done();
    else Promise.all(pending).then(done, () => {
      backoff = true;
      done();
    });
  }

  private maybeSend(session: FetchSession): void {
    if (session.inFlightId !== 0 || session.applying || this.sessions.get(session.leaderId) !== session) return;
    const nowMs = this.host.nowMs();
    if (nowMs < session.backoffUntilMs) return;
    const partitions: ReplicaFetchPartition[] = [];
    session.sentEpochs.clear();
    for (const [key, replica] of session.partitions) {
      if (this.host.isTruncating(replica) || replica.log.isOffline) continue;
      const log = replica.log;
      partitions.push({ topic: replica.topic, partition: replica.partition, currentLeaderEpoch: replica.leaderEpoch, fetchOffset: log.logEndOffset, lastFetchedEpoch: log.lastFetchedEpoch });
      session.sentEpochs.set(key, replica.leaderEpoch);
    }
    if (partitions.length === 0) return;
    const fetchId = this.nextFetchId;
    this.nextFetchId = this.nextFetchId >= 0x7ffffff0 ? 1 : this.nextFetchId + 1;
    const request: ReplicaFetchRequest = { fetchId, replicaId: this.host.nodeId, maxWaitMs: this.settings.maxWaitMs, maxBytes: this.settings.maxBytes, partitions };
    session.inFlightId = fetchId;
    session.inFlightDeadlineMs = nowMs + this.settings.maxWaitMs + this.settings.lostFetchMs;
    // Not sent (a cut link, a full ring): the fetch counts as lost and goes again at its deadline.
    this.host.sendFetch(session.leaderId, request);
  }
}
