/**
 * A node's half of partition replication, apart from the produce and fetch paths: as leader it
 * serves its followers' fetches (checked, then answered from the log, or parked until an append
 * wakes them: a long poll); as follower it runs the fetch sessions to its leaders and applies
 * their answers (appends, KIP-320 truncations, the leader's high watermark). The replication
 * state of each partition stays in its PartitionReplica; the node runs the effects
 * (processReady). Messages travel over the node-to-node links.
 */
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import { FetchPurgatory, type ParkedFetch } from './fetch-purgatory.js';
import type { NodeDurability } from './node-durability.js';
import type { NodeLinks, PeerLink } from './node-links.js';
import { replicaKey, type PartitionReplica } from './partition-replica.js';
import { acceptReplicaFetch, fillReplicaRecords } from './replica-fetch-serving.js';
import { ReplicaFetchers, type FetchedOutcome } from './replica-fetcher.js';
import {
  replicaFetchResponseFieldBytes,
  writeReplicaFetch,
  writeReplicaFetchResponse,
  type ReplicaFetchPartitionResult,
  type ReplicaFetchRequest,
} from './replica-protocol.js';

/** replica.fetch.wait.max.ms (Kafka's default). */
const REPLICA_FETCH_WAIT_MAX_MS = 500;
/** replica.fetch.response.max.bytes, capped by what one link ring message carries. */
const REPLICA_FETCH_RESPONSE_MAX_BYTES = 4 * 1024 * 1024;
/** replica.fetch.max.bytes: per partition (Kafka's default). */
const REPLICA_FETCH_PARTITION_MAX_BYTES = 1024 * 1024;
/** After an error answer (Kafka waits 1 s; leadership moves take milliseconds on one host). */
const REPLICA_FETCH_BACKOFF_MS = 50;
/** A follower fetch unanswered this long past its wait is sent again. */
const REPLICA_FETCH_LOST_MS = 1000;

const EMPTY = Buffer.alloc(0);

interface ParkedReplicaFetch extends ParkedFetch<ReplicaFetchRequest> {
  sourceId: number;
  results: ReplicaFetchPartitionResult[];
  /** Per partition: the leader epoch it was accepted in, or -1 when its answer is final. */
  acceptedEpochs: number[];
}

/** What replication needs of its node. */
export interface NodeReplicationHost {
  readonly nodeId: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly links: NodeLinks;
  readonly durability: NodeDurability;
  readonly replicas: ReadonlyMap<string, PartitionReplica>;
  /** Runs a replica's replication effects (acks, AlterPartition, high watermark). */
  processReady(replica: PartitionReplica): void;
}

export class NodeReplication {
  /** Follower fetches with nothing new to read yet, woken by appends (a long poll). */
  private readonly purgatory = new FetchPurgatory<ReplicaFetchRequest, ParkedReplicaFetch>();
  private readonly fetchers: ReplicaFetchers;
  /** Followers whose log is being truncated; they sit out fetches until it is done. */
  private readonly truncating = new Set<PartitionReplica>();
  /** Leaders appended to since the last wake: their parked follower fetches answer then. */
  private readonly appendedThisDrain = new Set<PartitionReplica>();

  constructor(private readonly host: NodeReplicationHost) {
    this.fetchers = new ReplicaFetchers(
      {
        nodeId: host.nodeId,
        nowMs: () => host.clock.nowMs(),
        sendFetch: (leaderId, request) => host.links.send(leaderId, (ring) => writeReplicaFetch(ring, request)),
        applyFetched: (replica, result) => this.applyFetched(replica, result),
        isTruncating: (replica) => this.truncating.has(replica),
      },
      { maxWaitMs: REPLICA_FETCH_WAIT_MAX_MS, maxBytes: REPLICA_FETCH_RESPONSE_MAX_BYTES, backoffMs: REPLICA_FETCH_BACKOFF_MS, lostFetchMs: REPLICA_FETCH_LOST_MS },
    );
  }

  /** A leader's answer to one of this node's fetches; `results` are ring views, applied now. */
  handleResponse(sourceId: number, fetchId: number, results: readonly ReplicaFetchPartitionResult[]): void {
    this.fetchers.onResponse(sourceId, fetchId, results);
  }

  /** This node follows `replica` from `leaderId` now (or leads it, or no longer hosts it: unfollow). */
  follow(replica: PartitionReplica, leaderId: number): void {
    this.fetchers.follow(replica, leaderId);
  }

  unfollow(replica: PartitionReplica): void {
    this.fetchers.unfollow(replica);
  }

  /** The leader appended to `replica`: its parked follower fetches answer at the next wake. */
  appended(replica: PartitionReplica): void {
    this.appendedThisDrain.add(replica);
  }

  /** The partition's role or log changed: parked follower fetches answer now (`force`) or when they can. */
  wake(replica: PartitionReplica, force: boolean): void {
    for (const parked of this.purgatory.watching(replica.topic, replica.partition)) this.tryAnswerReplicaFetch(parked, force);
  }

  /** Expired long polls answer; lost fetches go again. */
  tick(nowMs: number): void {
    for (const parked of this.purgatory.expired(nowMs)) this.tryAnswerReplicaFetch(parked, true);
    this.fetchers.tick(nowMs);
  }

  /** Shutdown: parked follower fetches are dropped (the followers' sessions time out). */
  dropParked(): void {
    this.purgatory.drainAll();
  }

  // ---- the leader's side ------------------------------------------------------------------

  /** A follower's fetch (from `sourceId`, which must be the fetching replica itself). */
  handleFetch(sourceId: number, request: ReplicaFetchRequest): void {
    if (sourceId !== request.replicaId) return;
    const nowMs = this.host.clock.nowMs();
    const results: ReplicaFetchPartitionResult[] = [];
    const acceptedEpochs: number[] = [];
    for (const partition of request.partitions) {
      const replica = this.host.replicas.get(replicaKey(partition.topic, partition.partition));
      const { result, served } = acceptReplicaFetch(replica, request.replicaId, partition, nowMs);
      results.push(result);
      acceptedEpochs.push(served ? replica!.leaderEpoch : -1);
      if (served) this.host.processReady(replica!);
    }
    const parked: ParkedReplicaFetch = { request, deadlineMs: nowMs + request.maxWaitMs, done: false, sourceId, results, acceptedEpochs };
    const finalAnswer = acceptedEpochs.some((epoch) => epoch < 0);
    if (!this.fillReplicaFetch(parked) && !finalAnswer && request.maxWaitMs > 0 && !this.purgatory.isFull) {
      this.purgatory.park(request, nowMs, { sourceId, results, acceptedEpochs });
      return;
    }
    this.answerReplicaFetch(parked);
  }

  /** Reads records for the accepted partitions; true when any were found (or leadership moved). */
  private fillReplicaFetch(parked: ParkedReplicaFetch): boolean {
    const { request, results, acceptedEpochs } = parked;
    const roomBytes = Math.min(request.maxBytes, this.host.links.maxMessageBytes(parked.sourceId) - replicaFetchResponseFieldBytes(results));
    let bytes = 0;
    let changed = false;
    for (let index = 0; index < results.length; index++) {
      const epoch = acceptedEpochs[index]!;
      if (epoch < 0) continue;
      const partition = request.partitions[index]!;
      const replica = this.host.replicas.get(replicaKey(partition.topic, partition.partition));
      const maxBytes = Math.min(REPLICA_FETCH_PARTITION_MAX_BYTES, roomBytes - bytes);
      if (!fillReplicaRecords(replica, epoch, partition, results[index]!, maxBytes, bytes === 0)) changed = true;
      bytes += results[index]!.records.length;
    }
    if (bytes > roomBytes) {
      // Only a first batch larger than a link message: left for the next fetch (cannot happen
      // within message.max.bytes, which config checks against the ring limits).
      for (const result of results) result.records = EMPTY;
      return true;
    }
    return bytes > 0 || changed;
  }

  private tryAnswerReplicaFetch(parked: ParkedReplicaFetch, expired: boolean): void {
    if (parked.done) return;
    if (!this.fillReplicaFetch(parked) && !expired) return;
    this.purgatory.remove(parked);
    this.answerReplicaFetch(parked);
  }

  private answerReplicaFetch(parked: ParkedReplicaFetch): void {
    this.host.links.send(parked.sourceId, (ring) => writeReplicaFetchResponse(ring, parked.request.fetchId, parked.results));
  }

  /** After a drain: the leaders appended to answer their parked follower fetches. */
  wakeAfterDrain(): void {
    if (this.appendedThisDrain.size === 0) return;
    for (const replica of this.appendedThisDrain) {
      for (const parked of this.purgatory.watching(replica.topic, replica.partition)) this.tryAnswerReplicaFetch(parked, false);
    }
    this.appendedThisDrain.clear();
  }

  // ---- the follower's side ----------------------------------------------------------------

  /** One partition of a leader's answer to this node's fetch (see ReplicaFetchers). */
  private applyFetched(replica: PartitionReplica, result: ReplicaFetchPartitionResult): FetchedOutcome {
    if (result.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE && result.logStartOffset > replica.log.logEndOffset) return this.startOverAt(replica, result.logStartOffset);
    if (result.errorCode !== ErrorCode.NONE) {
      this.host.logger.debug('follower fetch answered with an error', { topic: replica.topic, partition: replica.partition, code: result.errorCode });
      return { pending: null, backoff: true };
    }
    const log = replica.log;
    if (result.divergingEndOffset >= 0) return this.truncateDiverged(replica, result);
    let pending: Promise<void> | null = null;
    if (result.records.length > 0) {
      try {
        const appended = log.appendAsFollower(result.records);
        if (appended.sizeBytes > 0) {
          replica.producers.onAppended(result.records, false);
          this.host.durability.recordAppend(replica, result.records, { from: appended.baseOffset, to: appended.lastOffset + 1 }, false);
          if (replica.waitsForFsync) pending = log.whenDurable(appended.lastOffset);
        }
      } catch (error) {
        if (!(error instanceof KafkaError)) throw error;
        this.host.logger.warn('follower append refused', { topic: replica.topic, partition: replica.partition, code: error.code, reason: error.message });
        return { pending: null, backoff: true };
      }
    }
    replica.syncLocalLog();
    replica.state.onLeaderHighWatermark(result.highWatermark, log.logEndOffset);
    this.host.processReady(replica);
    return { pending, backoff: false };
  }

  /**
   * The leader's log starts past this follower's log end (retention or DeleteRecords ran while
   * it was away): what it holds is older than anything the leader has, so the log empties and
   * starts again at the leader's log start (Kafka's truncateFullyAndStartAt), and the journal is
   * cut so a restart never replays what went.
   */
  private startOverAt(replica: PartitionReplica, leaderLogStartOffset: number): FetchedOutcome {
    const log = replica.log;
    this.host.logger.info('follower log starts over at its leader\'s log start', { topic: replica.topic, partition: replica.partition, from: log.logEndOffset, to: leaderLogStartOffset });
    return this.truncate(replica, async () => {
      await log.truncateFullyAndStartAt(leaderLogStartOffset);
      await this.host.durability.forceJournalCheckpoint();
    });
  }

  /** KIP-320: the follower's log diverged from the leader's; it truncates before fetching again. */
  private truncateDiverged(replica: PartitionReplica, result: ReplicaFetchPartitionResult): FetchedOutcome {
    const log = replica.log;
    const offset = log.leaderEpochs.followerTruncationOffset({ epoch: result.divergingEpoch, endOffset: result.divergingEndOffset }, log.logEndOffset);
    if (offset < replica.highWatermark) {
      this.host.logger.error('a diverged follower would truncate below its high watermark; it stops fetching this partition', { topic: replica.topic, partition: replica.partition, offset, highWatermark: replica.highWatermark });
      return { pending: null, backoff: true };
    }
    this.host.logger.info('truncating a diverged follower log', { topic: replica.topic, partition: replica.partition, from: log.logEndOffset, to: offset, leaderEpoch: result.divergingEpoch });
    return this.truncate(replica, () => this.host.durability.truncateLog(replica, offset));
  }

  /** Runs a truncation of `replica`'s log (no fetches meanwhile), then tells its states the new log end. */
  private truncate(replica: PartitionReplica, work: () => Promise<void>): FetchedOutcome {
    this.truncating.add(replica);
    const pending = work().then(
      () => {
        replica.state.onTruncated(replica.log.logEndOffset);
        replica.producers.truncated(replica.log.logEndOffset);
        this.truncating.delete(replica);
      },
      (error: unknown) => {
        this.truncating.delete(replica);
        throw error;
      },
    );
    return { pending, backoff: false };
  }

  /** A peer restarted: its links are new, and what was in flight to or from it is gone. */
  replacePeerLink(link: PeerLink): void {
    this.host.links.replacePeer(link);
    for (const parked of this.purgatory.drainAll()) {
      if (parked.sourceId !== link.peerId) this.purgatory.park(parked.request, this.host.clock.nowMs(), { sourceId: parked.sourceId, results: parked.results, acceptedEpochs: parked.acceptedEpochs });
    }
    this.fetchers.linkRenewed(link.peerId);
  }
}
