/**
 * Consumer groups under load, on a 3-node broker started as a child process (`minikafka start
 * --port 0`, a temp data dir, the default flush policy `always`). Each run starts its own broker.
 *
 * 1. Group consume beside partition-assigned consume. N 100-byte messages (default 3,000,000)
 *    go into a 3-partition topic through the load generator's producer (`runPerf`, acks=1);
 *    then the time to consume all of them is measured
 *    (a) with 3 partition-assigned consumers, one per partition, each on its own connection;
 *    (b) with a 3-member consumer group doing the same Fetch work. Each member is our client's
 *        GroupMember (src/client/group-member.ts): FindCoordinator, JoinGroup (rejoining with the
 *        id MEMBER_ID_REQUIRED hands out), SyncGroup (the leader runs the range assignor: one
 *        partition each), OffsetFetch for its start, a Heartbeat every 3 s, and here an
 *        OffsetCommit of its position after every Fetch that moved it (asynchronous,
 *        at most one in flight, like the Java client's commitAsync); its Fetch loop is the one
 *        (a) runs (`PartitionFetcher`, the load generator's: 8 MiB, records counted from batch
 *        headers). All members stay until every partition is read, commit, then leave.
 *    For the client-side view, (c) 3 kafkajs 2.2.4 group consumers (`eachBatch`, autoCommit on:
 *    kafkajs commits after every batch and waits for it) beside (d) kafkajs' own fetch path
 *    without a group (its internal Cluster and Broker.fetch, one Cluster per partition, at the
 *    kafkajs consumer's fetch sizes), as in test/compat/kafkajs-partition-reader.ts.
 *    Each figure is given from the start (connecting, and joining for groups) to the last record,
 *    and from the first Fetch sent to the last record.
 * 2. OffsetCommit rate and latency. A group without members takes "simple" commits (generation
 *    -1, empty member id). One OffsetCommit (3 partitions) is due every 1/rate s, pipelined on one
 *    connection to the coordinator, for --commit-seconds (default 10) after a 1 s warm-up at the
 *    same rate. Latency runs from each commit's intended send time to its response, so a stall
 *    shows in the percentiles instead of delaying later sends (no coordinated omission). At
 *    1,000/s, then at 5,000/s if 1,000/s sustained.
 *
 *   node dist/native-free-bench/groups.bench.js [--runs 3] [--messages 3000000] [--commit-seconds 10] [--out DIR]
 *
 * Prints one table of medians over the runs and writes bench-results/groups-<timestamp>.json.
 */
import { mkdirSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import kafkajs, { type Consumer as KafkajsConsumer } from 'kafkajs';
import { rangeAssignor, type AssignorMember } from '../src/client/assignors.js';
import type { HostAndPort } from '../src/client/broker-address.js';
import { ClusterClient } from '../src/client/cluster-client.js';
import { BrokerConnection } from '../src/client/connection.js';
import { GroupMember, type MemberAssignment } from '../src/client/group-member.js';
import { partitionKey } from '../src/client/grouping.js';
import { GroupsAdmin, type GroupCoordinatorNode } from '../src/client/groups-admin.js';
import { listOffsets, type OffsetQuery } from '../src/client/list-offsets.js';
import { perfClock as clock } from '../src/perf/clock.js';
import { LatencyHistogram, type LatencySummary } from '../src/perf/histogram.js';
import { PerfDefaults, PerfLimits, quietPerfOptions, type PerfOptions } from '../src/perf/options.js';
import { runPerf } from '../src/perf/run-perf.js';
import { perfFetchRequest } from '../src/perf/consumer-load.js';
import { prepareTopic, type LeaderAddress, type TopicLayout } from '../src/perf/topic-setup.js';
import type { RequestInput, ResponseBody } from '../src/protocol/codec/index.js';
import { ErrorCode, KafkaError } from '../src/protocol/errors.js';
import { batchSizeBytes, isControlBatch, readBaseOffset, readLastOffsetDelta, readRecordsCount } from '../src/protocol/records/batch.js';
import { RECORDS_OFFSET } from '../src/protocol/records/layout.js';
import { ApiKey } from '../src/protocol/schema/index.js';
import { GroupCommit } from '../src/storage/group-commit.js';
import { machineNote, median, printTable, scratchDirectory } from './bench-util.js';
import { startBrokerProcess } from './broker-process.js';

const { Kafka, logLevel } = kafkajs;
const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Settings and bounds, named once
// ---------------------------------------------------------------------------------------------

const Scenario = {
  nodes: 3,
  partitions: 3,
  messageSizeBytes: 100,
  defaultMessages: 3_000_000,
  defaultRuns: 3,
  defaultCommitSeconds: 10,
  /** The group figure should be within 10 % of the assigned one. */
  groupTargetRatio: 0.9,
} as const;

const BenchLimits = {
  maxRuns: 20,
  minMessages: 3,
  maxMessages: 100_000_000,
  maxCommitSeconds: 120,
  /** Any one consume (a-d) must finish within this. */
  consumeTimeoutMs: 300_000,
  /** A consumer that gets no record for this long fails the run. */
  consumeIdleTimeoutMs: PerfLimits.consumeIdleTimeoutMs,
  /** Per consumer and consume; 1 M fetches of 1 MiB or more is far beyond any --messages. */
  maxFetchesPerConsumer: 1_000_000,
  requestTimeoutMs: PerfLimits.requestTimeoutMs,
  maxFindCoordinatorAttempts: 50,
  findCoordinatorBackoffMs: 100,
  /** JoinGroup requests in one join (MEMBER_ID_REQUIRED costs one). */
  maxJoinRequests: 10,
  /** JoinGroup + SyncGroup rounds before the generation must hold every member. */
  maxJoinRounds: 10,
  /** While a generation lacks a member, heartbeat this often to learn of the next rebalance. */
  rebalancePollIntervalMs: 100,
  maxHeartbeatsPerMember: 10_000,
  maxRejoinsPerMember: 5,
  maxCommitsPerMember: 1_000_000,
  /** How often the kafkajs runs look whether every partition is read. */
  progressPollIntervalMs: 20,
  /** Time for pipelined commits to come back after the last one is due. */
  commitDrainTimeoutMs: 30_000,
  /** Sampling resolution of the client's event-loop delay during a commit schedule. */
  eventLoopResolutionMs: 5,
  /** Outstanding commits beyond this: the broker is not keeping up, the schedule stops. */
  maxCommitsInFlight: 20_000,
} as const;

const GroupSettings = {
  memberCount: 3,
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  protocolType: 'consumer',
  /** With as many members as partitions, range gives each member one partition, as we do. */
  assignorName: 'range',
  consumerProtocolVersion: 0,
  /** FindCoordinator key type of a group. */
  groupKeyType: 0,
  noGeneration: -1,
  noLeaderEpoch: -1,
  /** OffsetCommit v2-4 retention: -1 = the broker's. */
  defaultRetentionTimeMs: -1n,
} as const;

/** kafkajs 2.2.4 consumer defaults; (d) fetches with them too, so (c) and (d) fetch alike. */
const KafkajsFetchDefaults = {
  maxWaitTimeMs: 5_000,
  minBytes: 1,
  maxBytes: 10_485_760,
  maxBytesPerPartition: 1_048_576,
  /** kafkajs consumers read committed by default. */
  isolationLevel: 1,
} as const;

const CommitSettings = {
  partitionsPerCommit: 3,
  warmupMs: 1_000,
  rates: [1_000, 5_000],
  /** Achieved / target at or above this, every commit answered, no error: sustained. */
  sustainedRatio: 0.95,
  p99TargetMs: 5,
  /** The raw reference's record: about what a 3-partition commit appends (3 records, one batch header). */
  rawRecordBytes: 360,
} as const;

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : undefined;
};
const runs = Number(option('runs') ?? Scenario.defaultRuns);
const messageCount = Number(option('messages') ?? Scenario.defaultMessages);
const commitSeconds = Number(option('commit-seconds') ?? Scenario.defaultCommitSeconds);
const outDirectory = resolve(option('out') ?? 'bench-results');
if (!Number.isInteger(runs) || runs < 1 || runs > BenchLimits.maxRuns) throw new Error(`--runs must be 1..${BenchLimits.maxRuns}, got ${option('runs')}`);
if (!Number.isInteger(messageCount) || messageCount < BenchLimits.minMessages || messageCount > BenchLimits.maxMessages) {
  throw new Error(`--messages must be ${BenchLimits.minMessages}..${BenchLimits.maxMessages}, got ${option('messages')}`);
}
if (!(commitSeconds > 0 && commitSeconds <= BenchLimits.maxCommitSeconds)) {
  throw new Error(`--commit-seconds must be in (0, ${BenchLimits.maxCommitSeconds}], got ${option('commit-seconds')}`);
}

// ---------------------------------------------------------------------------------------------
// Shared shapes and small helpers
// ---------------------------------------------------------------------------------------------

/** The produced topic: where its partitions live and what each consume must read. */
interface TopicUnderTest {
  readonly bootstrapServers: string;
  readonly layout: TopicLayout;
  readonly startOffsets: readonly number[];
  readonly endOffsets: readonly number[];
  readonly messages: number;
}

interface ConsumeFigures {
  readonly messages: number;
  readonly startToLastRecordMs: number;
  readonly firstFetchToLastRecordMs: number;
  readonly messagesPerSecond: number;
  readonly fetchPhaseMessagesPerSecond: number;
  readonly fetches: number;
  readonly details: Record<string, unknown>;
}

const sleep = (durationMs: number): Promise<void> => new Promise((settled) => setTimeout(settled, durationMs));

function consumeFigures(messages: number, startMs: number, firstFetchMs: number, lastRecordMs: number, fetches: number, details: Record<string, unknown>): ConsumeFigures {
  const startToLastRecordMs = lastRecordMs - startMs;
  const firstFetchToLastRecordMs = lastRecordMs - firstFetchMs;
  return {
    messages,
    startToLastRecordMs,
    firstFetchToLastRecordMs,
    messagesPerSecond: (messages * 1000) / startToLastRecordMs,
    fetchPhaseMessagesPerSecond: (messages * 1000) / firstFetchToLastRecordMs,
    fetches,
    details,
  };
}

/** Waits for every promise; then throws the first failure, if any (nothing is left running). */
async function settleAllOrThrow<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const outcomes = await Promise.allSettled(promises);
  const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}

function partitionsOf(topic: TopicUnderTest): number[] {
  return topic.layout.leaderByPartition.map((_, partition) => partition);
}

function leaderOf(topic: TopicUnderTest, partition: number): LeaderAddress {
  const leader = topic.layout.leaders.get(topic.layout.leaderByPartition[partition]!);
  if (leader === undefined) throw new Error(`${topic.layout.topic}-${partition} has no leader address`);
  return leader;
}

function connect(address: HostAndPort, clientId: string): Promise<BrokerConnection> {
  return BrokerConnection.connect({ host: address.host, port: address.port, clientId, requestTimeoutMs: BenchLimits.requestTimeoutMs });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// OffsetCommit requests of the simple committer (2)
// ---------------------------------------------------------------------------------------------

function commitRequest(groupId: string, generationId: number, memberId: string, topic: string, offsets: ReadonlyMap<number, number>): RequestInput<typeof ApiKey.OffsetCommit> {
  return {
    groupId,
    generationId,
    memberId,
    groupInstanceId: null,
    retentionTimeMs: GroupSettings.defaultRetentionTimeMs,
    topics: [
      {
        name: topic,
        partitions: [...offsets].map(([partition, offset]) => ({
          partitionIndex: partition,
          committedOffset: BigInt(offset),
          committedLeaderEpoch: GroupSettings.noLeaderEpoch,
          committedMetadata: '',
        })),
      },
    ],
  };
}

function firstCommitError(response: ResponseBody<typeof ApiKey.OffsetCommit>): number {
  for (const topic of response.topics) for (const partition of topic.partitions) if (partition.errorCode !== ErrorCode.NONE) return partition.errorCode;
  return ErrorCode.NONE;
}

/** The group's coordinator, through our client's GroupsAdmin (FindCoordinator with retries). */
async function findCoordinator(bootstrapServers: string, groupId: string, clientId: string): Promise<GroupCoordinatorNode> {
  const cluster = new ClusterClient({ bootstrapServers, clientId, requestTimeoutMs: BenchLimits.requestTimeoutMs });
  try {
    return await new GroupsAdmin(cluster).findCoordinator(groupId);
  } finally {
    await cluster.close();
  }
}

/** The group's committed offset of each partition (-1: none). */
async function committedOffsets(bootstrapServers: string, groupId: string, topic: string, partitions: readonly number[]): Promise<Map<number, number>> {
  const cluster = new ClusterClient({ bootstrapServers, clientId: 'groups-bench-check', requestTimeoutMs: BenchLimits.requestTimeoutMs });
  try {
    const committed = await new GroupsAdmin(cluster).committedOffsets(groupId, [topic]);
    const byPartition = new Map(committed.map((entry) => [entry.partition, Number(entry.offset)]));
    return new Map(partitions.map((partition) => [partition, byPartition.get(partition) ?? -1]));
  } finally {
    await cluster.close();
  }
}

// ---------------------------------------------------------------------------------------------
// (a) and (b): one Fetch loop per partition, the load generator's
// ---------------------------------------------------------------------------------------------

/**
 * One partition's Fetch loop as the load generator's consumer runs it (src/perf/consumer-load.ts):
 * Fetch at the negotiated version, 8 MiB max bytes, 200 ms max wait, records counted from batch
 * headers without decoding. (a) and (b) both use it, so they differ only in group membership.
 */
class PartitionFetcher {
  readonly partition: number;
  position: number;
  consumed = 0;
  fetches = 0;
  firstFetchAtMs = -1;
  lastRecordAtMs = -1;
  private readonly connection: BrokerConnection;
  private readonly version: number;
  private readonly topic: string;
  private readonly endOffset: number;

  constructor(connection: BrokerConnection, topic: string, partition: number, startOffset: number, endOffset: number) {
    this.connection = connection;
    this.version = connection.versionFor(ApiKey.Fetch);
    this.topic = topic;
    this.partition = partition;
    this.position = startOffset;
    this.endOffset = endOffset;
  }

  get done(): boolean {
    return this.position >= this.endOffset;
  }

  /** Fetches up to the end offset; `onProgress` after every Fetch that moved the position. */
  async run(deadlineMs: number, onProgress: ((position: number) => void) | null): Promise<void> {
    let lastProgressMs = clock.nowMs();
    for (let fetch = 0; fetch < BenchLimits.maxFetchesPerConsumer && !this.done; fetch++) {
      const nowMs = clock.nowMs();
      if (nowMs > deadlineMs || nowMs - lastProgressMs > BenchLimits.consumeIdleTimeoutMs) {
        throw new Error(`${this.topic}-${this.partition} stuck at offset ${this.position} of ${this.endOffset} after ${this.fetches} fetches`);
      }
      if (this.firstFetchAtMs < 0) this.firstFetchAtMs = nowMs;
      const response = await this.connection.request(ApiKey.Fetch, this.version, this.fetchRequest(), BenchLimits.requestTimeoutMs + PerfLimits.fetchMaxWaitMs);
      this.fetches++;
      const before = this.position;
      this.onResponse(response);
      if (this.position > before) {
        lastProgressMs = clock.nowMs();
        onProgress?.(this.position);
      }
    }
    if (!this.done) throw new Error(`${this.topic}-${this.partition} not read to its end in ${BenchLimits.maxFetchesPerConsumer} fetches`);
  }

  private fetchRequest(): RequestInput<typeof ApiKey.Fetch> {
    return perfFetchRequest(this.topic, [{ partition: this.partition, fetchOffset: this.position }], PerfDefaults.fetchMaxBytes);
  }

  private onResponse(response: ResponseBody<typeof ApiKey.Fetch>): void {
    if (response.errorCode !== ErrorCode.NONE) throw new KafkaError(response.errorCode, `fetch ${this.topic}-${this.partition}`);
    for (const topic of response.responses) {
      for (const partition of topic.partitions) {
        if (partition.partitionIndex !== this.partition) continue;
        if (partition.errorCode !== ErrorCode.NONE) throw new KafkaError(partition.errorCode, `fetch ${this.topic}-${this.partition} at offset ${this.position}`);
        if (partition.records !== null && partition.records.length > 0) this.countBatches(partition.records);
      }
    }
  }

  /** The load generator's count: whole batches at or past the position; offsets are dense. */
  private countBatches(records: Buffer): void {
    let next = this.position;
    const before = this.consumed;
    let position = 0;
    while (position + RECORDS_OFFSET <= records.length) {
      const sizeBytes = batchSizeBytes(records, position);
      if (position + sizeBytes > records.length) break;
      const baseOffset = readBaseOffset(records, position);
      const lastOffset = baseOffset + readLastOffsetDelta(records, position);
      if (lastOffset >= next) {
        if (!isControlBatch(records, position)) this.consumed += baseOffset >= next ? readRecordsCount(records, position) : lastOffset - next + 1;
        next = lastOffset + 1;
      }
      position += sizeBytes;
    }
    this.position = next;
    if (this.consumed > before) this.lastRecordAtMs = clock.nowMs();
  }
}

function fetcherFigures(topic: TopicUnderTest, startMs: number, fetchers: readonly PartitionFetcher[], details: Record<string, unknown>): ConsumeFigures {
  const consumed = fetchers.reduce((sum, fetcher) => sum + fetcher.consumed, 0);
  if (consumed !== topic.messages) throw new Error(`consumed ${consumed} records, the topic holds ${topic.messages}`);
  return consumeFigures(
    consumed,
    startMs,
    Math.min(...fetchers.map((fetcher) => fetcher.firstFetchAtMs)),
    Math.max(...fetchers.map((fetcher) => fetcher.lastRecordAtMs)),
    fetchers.reduce((sum, fetcher) => sum + fetcher.fetches, 0),
    details,
  );
}

/** (a): one consumer per partition, each with its own connection to the partition's leader. */
async function consumeAssigned(topic: TopicUnderTest): Promise<ConsumeFigures> {
  const startMs = clock.nowMs();
  const connections: BrokerConnection[] = [];
  try {
    const fetchers = await settleAllOrThrow(
      partitionsOf(topic).map(async (partition) => {
        const connection = await connect(leaderOf(topic, partition), `groups-bench-assigned-${partition}`);
        connections.push(connection);
        return new PartitionFetcher(connection, topic.layout.topic, partition, topic.startOffsets[partition]!, topic.endOffsets[partition]!);
      }),
    );
    await settleAllOrThrow(fetchers.map((fetcher) => fetcher.run(startMs + BenchLimits.consumeTimeoutMs, null)));
    return fetcherFigures(topic, startMs, fetchers, {});
  } finally {
    await Promise.allSettled(connections.map((connection) => connection.close()));
  }
}

// ---------------------------------------------------------------------------------------------
// (b): group members from our client (src/client/group-member.ts)
// ---------------------------------------------------------------------------------------------

/** The leader's user data in every assignment: the generation's member count (int32). */
function memberCountUserData(members: readonly AssignorMember[]): Buffer {
  const userData = Buffer.alloc(4);
  userData.writeInt32BE(members.length, 0);
  return userData;
}

function memberCountOf(assignment: MemberAssignment): number {
  return assignment.userData !== null && assignment.userData.length === 4 ? assignment.userData.readInt32BE(0) : 0;
}

/**
 * One consumer-group member: our client's `GroupMember` (its own ClusterClient, so its parked
 * JoinGroup holds no one else's connection; range assignor; heartbeats every 3 s), waiting until
 * a generation holds every member, then fetching its partition with `PartitionFetcher` and
 * committing its position after every Fetch that moved it (one commit in flight at most).
 * Anything a stable group should not see (a rebalance, a failed commit or heartbeat) goes to
 * `events`; a rebalance that moves partitions fails the run.
 */
class BenchGroupMember {
  readonly index: number;
  readonly member: GroupMember;
  partitions: number[] = [];
  joinRounds = 0;
  commits = 0;
  fetcher: PartitionFetcher | null = null;
  failure: Error | null = null;
  readonly commitLatency = new LatencyHistogram();
  readonly heartbeatLatency = new LatencyHistogram();
  readonly events: string[] = [];
  private readonly cluster: ClusterClient;
  private readonly topic: TopicUnderTest;
  private readonly startMs: number;
  private fetchConnection: BrokerConnection | null = null;
  private formed = false;
  private committedOffset = -1;
  private wantedOffset = -1;
  private committing: Promise<void> | null = null;

  constructor(index: number, groupId: string, topic: TopicUnderTest, startMs: number) {
    this.index = index;
    this.topic = topic;
    this.startMs = startMs;
    const clientId = `groups-bench-member-${index}`;
    this.cluster = new ClusterClient({ bootstrapServers: topic.bootstrapServers, clientId, requestTimeoutMs: BenchLimits.requestTimeoutMs });
    this.member = new GroupMember(this.cluster, {
      groupId,
      topics: [topic.layout.topic],
      assignor: rangeAssignor,
      sessionTimeoutMs: GroupSettings.sessionTimeoutMs,
      rebalanceTimeoutMs: GroupSettings.rebalanceTimeoutMs,
      heartbeatIntervalMs: GroupSettings.heartbeatIntervalMs,
      assignmentUserData: memberCountUserData,
      onAssignment: (assignment) => this.onAssignment(assignment),
      onHeartbeat: (errorCode, latencyMs) => {
        this.heartbeatLatency.recordMs(latencyMs);
        if (errorCode !== ErrorCode.NONE && this.formed) this.note(`Heartbeat answered error ${errorCode}`);
      },
      onError: (error) => {
        this.note(`Heartbeat or rejoin failed: ${errorText(error)}`);
        this.failure ??= error;
      },
    });
  }

  get isLeader(): boolean {
    return this.member.isLeader;
  }

  /** Joins until a generation holds every member. */
  async join(): Promise<void> {
    let assignment = await this.member.join();
    for (let round = 1; round <= BenchLimits.maxJoinRounds; round++) {
      this.joinRounds++;
      if (memberCountOf(assignment) === GroupSettings.memberCount) {
        this.partitions = assignment.partitions.map((entry) => entry.partition);
        this.formed = true;
        return;
      }
      this.note(`generation ${assignment.generationId} holds ${memberCountOf(assignment)} of ${GroupSettings.memberCount} members: waiting for the next rebalance`);
      assignment = await this.awaitRebalance();
    }
    throw new Error(`member ${this.index}: no generation with all ${GroupSettings.memberCount} members in ${BenchLimits.maxJoinRounds} rounds`);
  }

  /** Reads the assigned partition to its end, from the committed offset (or the log start). */
  async consume(deadlineMs: number): Promise<void> {
    if (this.partitions.length !== 1) throw new Error(`member ${this.index} holds partitions [${this.partitions.join(', ')}], expected exactly one`);
    const partition = this.partitions[0]!;
    const committed = (await this.committedOffsetsOfGroup([partition])).get(partition) ?? -1;
    const startOffset = committed >= 0 ? committed : this.topic.startOffsets[partition]!;
    this.fetchConnection = await connect(leaderOf(this.topic, partition), `groups-bench-member-${this.index}`);
    this.fetcher = new PartitionFetcher(this.fetchConnection, this.topic.layout.topic, partition, startOffset, this.topic.endOffsets[partition]!);
    await this.fetcher.run(deadlineMs, (position) => this.commitSoon(position));
  }

  /** Waits for the commit in flight, then commits the last position if it is not yet. */
  async flushCommits(): Promise<void> {
    await this.committing;
    if (this.wantedOffset > this.committedOffset) {
      this.commitSoon(this.wantedOffset);
      await this.committing;
    }
  }

  async committedOffsetsOfGroup(partitions: readonly number[]): Promise<Map<number, number>> {
    const name = this.topic.layout.topic;
    const committed = await this.member.committedOffsets(partitions.map((partition) => ({ topic: name, partition })));
    return new Map(partitions.map((partition) => [partition, Number(committed.get(partitionKey(name, partition)) ?? -1n)]));
  }

  /** Leaves the group, closes every connection. Never throws. */
  async leave(): Promise<void> {
    try {
      await this.member.leave();
    } catch (error) {
      this.note(`LeaveGroup failed: ${errorText(error)}`);
    } finally {
      await Promise.allSettled([this.fetchConnection?.close(), this.cluster.close()]);
    }
  }

  private note(event: string): void {
    this.events.push(`member ${this.index} at +${(clock.nowMs() - this.startMs).toFixed(0)} ms: ${event}`);
  }

  /** Heartbeats quickly until the coordinator announces the rebalance a late member causes. */
  private async awaitRebalance(): Promise<MemberAssignment> {
    const polls = Math.ceil(GroupSettings.rebalanceTimeoutMs / BenchLimits.rebalancePollIntervalMs);
    for (let poll = 0; poll < polls; poll++) {
      await sleep(BenchLimits.rebalancePollIntervalMs);
      if (await this.member.heartbeat()) return this.member.assignment!;
    }
    throw new Error(`member ${this.index}: no rebalance within ${GroupSettings.rebalanceTimeoutMs} ms`);
  }

  /** A rebalance after the group formed: fine if it keeps the partitions, fatal if it moves them. */
  private onAssignment(assignment: MemberAssignment): void {
    if (!this.formed) return;
    const before = this.partitions.join(',');
    const after = assignment.partitions.map((entry) => entry.partition).join(',');
    this.note(`rejoined: generation ${assignment.generationId}`);
    if (after !== before) this.failure ??= new Error(`a rebalance moved member ${this.index} from [${before}] to [${after}]: figures invalid`);
  }

  private commitSoon(position: number): void {
    this.wantedOffset = position;
    if (this.committing !== null) return;
    this.committing = this.commitLoop().finally(() => {
      this.committing = null;
    });
  }

  /** Commits the latest position until it is committed; never rejects (failures are events). */
  private async commitLoop(): Promise<void> {
    const partition = this.partitions[0]!;
    for (let sent = 0; sent < BenchLimits.maxCommitsPerMember && this.wantedOffset > this.committedOffset; sent++) {
      const offset = this.wantedOffset;
      const sentMs = clock.nowMs();
      try {
        await this.member.commitOffsets([{ topic: this.topic.layout.topic, partition, offset: BigInt(offset) }]);
        this.commits++;
        this.commitLatency.recordMs(clock.nowMs() - sentMs);
        this.committedOffset = offset;
      } catch (error) {
        this.note(`OffsetCommit of offset ${offset} failed: ${errorText(error)}`);
        return;
      }
    }
  }
}

/** (b): three members join one group, each reads its partition, commits, and they leave. */
async function consumeAsGroup(topic: TopicUnderTest, groupId: string): Promise<ConsumeFigures> {
  const startMs = clock.nowMs();
  const members = Array.from({ length: GroupSettings.memberCount }, (_, index) => new BenchGroupMember(index, groupId, topic, startMs));
  try {
    await settleAllOrThrow(members.map((member) => member.join()));
    const formedMs = clock.nowMs();
    await settleAllOrThrow(members.map((member) => member.consume(startMs + BenchLimits.consumeTimeoutMs)));
    await settleAllOrThrow(members.map((member) => member.flushCommits()));
    const committed = await members[0]!.committedOffsetsOfGroup(partitionsOf(topic));
    const events = members.flatMap((member) => member.events);
    for (const partition of partitionsOf(topic)) {
      const offset = committed.get(partition) ?? -1;
      if (offset !== topic.endOffsets[partition]) events.push(`committed offset of partition ${partition} is ${offset}, its end offset ${topic.endOffsets[partition]}`);
    }
    for (const member of members) if (member.failure !== null) throw member.failure;
    return fetcherFigures(topic, startMs, members.map((member) => member.fetcher!), groupDetails(members, startMs, formedMs, events));
  } finally {
    await Promise.allSettled(members.map((member) => member.leave()));
  }
}

function groupDetails(members: readonly BenchGroupMember[], startMs: number, formedMs: number, events: readonly string[]): Record<string, unknown> {
  const commitLatency = new LatencyHistogram();
  const heartbeatLatency = new LatencyHistogram();
  for (const member of members) {
    commitLatency.add(member.commitLatency);
    heartbeatLatency.add(member.heartbeatLatency);
  }
  return {
    joinMs: formedMs - startMs,
    joinRequests: members.reduce((sum, member) => sum + member.member.joinRequests, 0),
    joinRounds: members.reduce((sum, member) => sum + member.joinRounds, 0),
    generationId: members[0]!.member.generationId,
    leader: members.findIndex((member) => member.isLeader),
    assignment: members.map((member) => member.partitions),
    commits: members.reduce((sum, member) => sum + member.commits, 0),
    commitLatency: commitLatency.summary(),
    heartbeats: members.reduce((sum, member) => sum + member.member.heartbeats, 0),
    heartbeatLatency: heartbeatLatency.summary(),
    events,
  };
}

// ---------------------------------------------------------------------------------------------
// (c) and (d): kafkajs
// ---------------------------------------------------------------------------------------------

/** Counts records per partition up to the end offsets, for the kafkajs runs. */
class RecordCounter {
  consumed = 0;
  fetches = 0;
  firstFetchAtMs = -1;
  lastRecordAtMs = -1;
  private readonly topic: TopicUnderTest;
  private readonly positions: number[];
  private lastProgressMs: number;
  private failure: Error | null = null;

  constructor(topic: TopicUnderTest) {
    this.topic = topic;
    this.positions = [...topic.startOffsets];
    this.lastProgressMs = clock.nowMs();
  }

  get done(): boolean {
    return this.positions.every((position, partition) => position >= this.topic.endOffsets[partition]!);
  }

  position(partition: number): number {
    return this.positions[partition]!;
  }

  noteFetch(): void {
    this.fetches++;
    if (this.firstFetchAtMs < 0) this.firstFetchAtMs = clock.nowMs();
  }

  count(partition: number, messages: readonly { readonly offset: string }[]): void {
    let next = this.positions[partition]!;
    const before = this.consumed;
    for (const message of messages) {
      const offset = Number(message.offset);
      if (offset < next) continue;
      next = offset + 1;
      this.consumed++;
    }
    this.positions[partition] = next;
    if (this.consumed === before) return;
    this.lastRecordAtMs = clock.nowMs();
    this.lastProgressMs = this.lastRecordAtMs;
  }

  fail(error: Error): void {
    this.failure ??= error;
  }

  /** Resolves once every partition is read; throws on a failure, the deadline or idleness. */
  async waitUntilDone(deadlineMs: number): Promise<void> {
    const polls = Math.ceil(BenchLimits.consumeTimeoutMs / BenchLimits.progressPollIntervalMs);
    for (let poll = 0; poll < polls; poll++) {
      if (this.failure !== null) throw this.failure;
      if (this.done) return;
      const nowMs = clock.nowMs();
      if (nowMs > deadlineMs || nowMs - this.lastProgressMs > BenchLimits.consumeIdleTimeoutMs) break;
      await sleep(BenchLimits.progressPollIntervalMs);
    }
    const where = this.positions.map((position, partition) => `${partition}: ${position}/${this.topic.endOffsets[partition]}`).join(', ');
    throw new Error(`kafkajs did not read ${this.topic.layout.topic} to its end within the bounds (${where})`);
  }
}

interface KafkajsTimings {
  lastJoinAtMs: number;
  joins: number;
  rebalancing: number;
  commits: number;
}

function createKafkajsGroupConsumer(topic: TopicUnderTest, groupId: string, index: number, counter: RecordCounter, timings: KafkajsTimings): KafkajsConsumer {
  const kafka = new Kafka({ clientId: `groups-bench-kafkajs-${index}`, brokers: topic.bootstrapServers.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId });
  consumer.on(consumer.events.FETCH_START, () => counter.noteFetch());
  consumer.on(consumer.events.GROUP_JOIN, () => {
    timings.joins++;
    timings.lastJoinAtMs = clock.nowMs();
  });
  consumer.on(consumer.events.REBALANCING, () => {
    timings.rebalancing++;
  });
  consumer.on(consumer.events.COMMIT_OFFSETS, () => {
    timings.commits++;
  });
  consumer.on(consumer.events.CRASH, (event) => counter.fail(new Error(`kafkajs consumer ${index} crashed: ${errorText(event.payload.error)}`)));
  return consumer;
}

/** (c): three kafkajs consumers in one group, eachBatch, autoCommit (after every batch). */
async function consumeKafkajsGroup(topic: TopicUnderTest, groupId: string): Promise<ConsumeFigures> {
  const startMs = clock.nowMs();
  const counter = new RecordCounter(topic);
  const timings: KafkajsTimings = { lastJoinAtMs: -1, joins: 0, rebalancing: 0, commits: 0 };
  const consumers: KafkajsConsumer[] = [];
  try {
    for (let index = 0; index < GroupSettings.memberCount; index++) consumers.push(createKafkajsGroupConsumer(topic, groupId, index, counter, timings));
    await settleAllOrThrow(
      consumers.map(async (consumer) => {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic.layout.topic], fromBeginning: true });
        await consumer.run({ eachBatch: async ({ batch }) => counter.count(batch.partition, batch.messages) });
      }),
    );
    await counter.waitUntilDone(startMs + BenchLimits.consumeTimeoutMs);
    if (counter.consumed !== topic.messages) throw new Error(`kafkajs group consumed ${counter.consumed} records, the topic holds ${topic.messages}`);
    const details = { joinMs: timings.lastJoinAtMs - startMs, groupJoins: timings.joins, rebalancing: timings.rebalancing, commits: timings.commits };
    return consumeFigures(counter.consumed, startMs, counter.firstFetchAtMs, counter.lastRecordAtMs, counter.fetches, details);
  } finally {
    await Promise.allSettled(consumers.map((consumer) => consumer.disconnect()));
  }
}

/** The slice of kafkajs' internal Cluster and Broker used for (d) (see kafkajs/src/cluster). */
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<KafkajsBroker>;
}

interface KafkajsBroker {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: { partition: number; errorCode: number; messages: { offset: string }[] }[] }[] }>;
}

/** The Cluster `new Kafka(...)` builds, with kafkajs' defaults and its own connections. */
function createKafkajsCluster(bootstrapServers: string, clientId: string): KafkajsCluster {
  const Cluster = require('kafkajs/src/cluster') as new (options: Record<string, unknown>) => KafkajsCluster;
  const { createLogger, LEVELS } = require('kafkajs/src/loggers') as { createLogger(options: Record<string, unknown>): unknown; LEVELS: { NOTHING: number } };
  const LoggerConsole = require('kafkajs/src/loggers/console') as unknown;
  const socketFactory = require('kafkajs/src/network/socketFactory') as () => unknown;
  const InstrumentationEventEmitter = require('kafkajs/src/instrumentation/emitter') as new () => unknown;
  return new Cluster({
    logger: createLogger({ level: LEVELS.NOTHING, logCreator: LoggerConsole }),
    socketFactory: socketFactory(),
    brokers: bootstrapServers.split(','),
    clientId,
    connectionTimeout: 3000,
    requestTimeout: BenchLimits.requestTimeoutMs,
    enforceRequestTimeout: true,
    metadataMaxAge: 300_000,
    retry: { retries: 3, initialRetryTime: 100 },
    allowAutoTopicCreation: false,
    maxInFlightRequests: null,
    isolationLevel: KafkajsFetchDefaults.isolationLevel,
    instrumentationEmitter: new InstrumentationEventEmitter(),
  });
}

async function kafkajsFetchLoop(broker: KafkajsBroker, topic: TopicUnderTest, partition: number, counter: RecordCounter, deadlineMs: number): Promise<void> {
  const name = topic.layout.topic;
  const endOffset = topic.endOffsets[partition]!;
  for (let fetch = 0; fetch < BenchLimits.maxFetchesPerConsumer && counter.position(partition) < endOffset; fetch++) {
    if (clock.nowMs() > deadlineMs) throw new Error(`kafkajs reader of ${name}-${partition} past its deadline at offset ${counter.position(partition)}`);
    counter.noteFetch();
    const response = await broker.fetch({
      replicaId: -1,
      isolationLevel: KafkajsFetchDefaults.isolationLevel,
      maxWaitTime: KafkajsFetchDefaults.maxWaitTimeMs,
      minBytes: KafkajsFetchDefaults.minBytes,
      maxBytes: KafkajsFetchDefaults.maxBytes,
      topics: [{ topic: name, partitions: [{ partition, fetchOffset: String(counter.position(partition)), maxBytes: KafkajsFetchDefaults.maxBytesPerPartition }] }],
    });
    for (const topicResponse of response.responses) {
      for (const partitionResponse of topicResponse.partitions) {
        if (partitionResponse.errorCode !== 0) throw new Error(`kafkajs fetch ${name}-${partitionResponse.partition}: error code ${partitionResponse.errorCode}`);
        counter.count(partitionResponse.partition, partitionResponse.messages);
      }
    }
  }
  if (counter.position(partition) < endOffset) throw new Error(`kafkajs reader of ${name}-${partition} not done in ${BenchLimits.maxFetchesPerConsumer} fetches`);
}

/** (d): kafkajs' fetch path without a group, one Cluster (its own connections) per partition. */
async function consumeKafkajsAssigned(topic: TopicUnderTest): Promise<ConsumeFigures> {
  const startMs = clock.nowMs();
  const counter = new RecordCounter(topic);
  const clusters: KafkajsCluster[] = [];
  try {
    await settleAllOrThrow(
      partitionsOf(topic).map(async (partition) => {
        const cluster = createKafkajsCluster(topic.bootstrapServers, `groups-bench-kafkajs-reader-${partition}`);
        clusters.push(cluster);
        await cluster.connect();
        await cluster.addTargetTopic(topic.layout.topic);
        const [nodeId] = Object.keys(cluster.findLeaderForPartitions(topic.layout.topic, [partition]));
        if (nodeId === undefined) throw new Error(`kafkajs knows no leader of ${topic.layout.topic}-${partition}`);
        await kafkajsFetchLoop(await cluster.findBroker({ nodeId }), topic, partition, counter, startMs + BenchLimits.consumeTimeoutMs);
      }),
    );
    if (counter.consumed !== topic.messages) throw new Error(`kafkajs readers consumed ${counter.consumed} records, the topic holds ${topic.messages}`);
    return consumeFigures(counter.consumed, startMs, counter.firstFetchAtMs, counter.lastRecordAtMs, counter.fetches, {});
  } finally {
    await Promise.allSettled(clusters.map((cluster) => cluster.disconnect()));
  }
}

// ---------------------------------------------------------------------------------------------
// 2: OffsetCommit at a steady rate, beside a raw group-committed fdatasync log at the same rate
// ---------------------------------------------------------------------------------------------

interface ScheduleResult {
  readonly due: number;
  readonly sent: number;
  readonly completed: number;
  readonly errors: number;
  readonly firstErrorCode: number;
  readonly maxInFlight: number;
  readonly stoppedForBacklog: boolean;
  readonly elapsedMs: number;
  readonly achievedPerSecond: number;
  readonly latency: LatencySummary;
  readonly scheduleLag: LatencySummary;
  /** The worst latency of the operations due in each second of the schedule: where stalls fell. */
  readonly maxLatencyBySecondMs: readonly number[];
  /** This process's event-loop delay beyond the sampling interval meanwhile: a client or machine stall shows here too. */
  readonly clientEventLoopDelay: { readonly p99Ms: number; readonly maxMs: number };
}

/** Starts operation `index` and resolves with its error code (0 = none). */
type Operation = (index: number) => Promise<number>;

/**
 * Operation i is due at start + i / rate; its latency runs from that intended time to its
 * completion, whatever happened before (no coordinated omission). Wakes on a 1 ms timer, as the
 * load generator does (its lateness is in the latencies, and reported as scheduleLag), and
 * pipelines: operations do not wait for each other.
 */
class RateSchedule {
  private readonly operation: Operation;
  private readonly intervalMs: number;
  private readonly due: number;
  private readonly drainTimeoutMs: number;
  private readonly latency = new LatencyHistogram();
  private readonly scheduleLag = new LatencyHistogram();
  private readonly maxLatencyBySecondMs: number[];
  private readonly eventLoopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: BenchLimits.eventLoopResolutionMs });
  private startMs = 0;
  private sent = 0;
  private completed = 0;
  private errors = 0;
  private firstErrorCode: number = ErrorCode.NONE;
  private inFlight = 0;
  private maxInFlight = 0;
  private lastCompletionMs = 0;
  private stoppedForBacklog = false;
  private timer: NodeJS.Timeout | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private settle: { resolve: (result: ScheduleResult) => void; reject: (error: Error) => void } | null = null;

  constructor(ratePerSecond: number, durationMs: number, operation: Operation) {
    this.operation = operation;
    this.intervalMs = 1000 / ratePerSecond;
    this.due = Math.max(1, Math.round((ratePerSecond * durationMs) / 1000));
    this.drainTimeoutMs = durationMs + BenchLimits.commitDrainTimeoutMs;
    this.maxLatencyBySecondMs = new Array<number>(Math.ceil(durationMs / 1000)).fill(0);
  }

  run(): Promise<ScheduleResult> {
    if (this.settle !== null) throw new Error('RateSchedule.run called twice');
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      this.startMs = clock.nowMs();
      this.eventLoopDelay.enable();
      this.drainTimer = setTimeout(() => this.finish(), this.drainTimeoutMs);
      this.turn();
    });
  }

  private intendedMs(index: number): number {
    return this.startMs + index * this.intervalMs;
  }

  private turn(): void {
    this.timer = null;
    if (this.settle === null) return;
    const nowMs = clock.nowMs();
    const dueNow = Math.min(this.due, Math.floor((nowMs - this.startMs) / this.intervalMs) + 1);
    if (dueNow > this.sent) this.scheduleLag.recordMs(nowMs - this.intendedMs(this.sent));
    while (this.sent < dueNow) {
      if (this.inFlight >= BenchLimits.maxCommitsInFlight) {
        this.stoppedForBacklog = true;
        break;
      }
      this.start(this.sent);
      this.sent++;
    }
    if (this.sent < this.due && !this.stoppedForBacklog) {
      const delayMs = this.intendedMs(this.sent) - clock.nowMs();
      this.timer = setTimeout(() => this.turn(), Math.max(1, Math.floor(delayMs)));
    } else {
      this.finishIfDrained();
    }
  }

  private start(index: number): void {
    const intendedMs = this.intendedMs(index);
    this.inFlight++;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
    this.operation(index).then(
      (errorCode) => this.onCompleted(intendedMs, errorCode),
      (error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))),
    );
  }

  private onCompleted(intendedMs: number, errorCode: number): void {
    if (this.settle === null) return;
    const nowMs = clock.nowMs();
    this.inFlight--;
    this.completed++;
    this.lastCompletionMs = nowMs;
    const latencyMs = nowMs - intendedMs;
    this.latency.recordMs(latencyMs);
    const second = Math.min(this.maxLatencyBySecondMs.length - 1, Math.floor((intendedMs - this.startMs) / 1000));
    if (latencyMs > this.maxLatencyBySecondMs[second]!) this.maxLatencyBySecondMs[second] = latencyMs;
    if (errorCode !== ErrorCode.NONE) {
      this.errors++;
      if (this.firstErrorCode === ErrorCode.NONE) this.firstErrorCode = errorCode;
    }
    this.finishIfDrained();
  }

  private finishIfDrained(): void {
    if ((this.sent >= this.due || this.stoppedForBacklog) && this.inFlight === 0) this.finish();
  }

  /** The histogram holds whole sampling intervals (about 5.1 ms when idle): keep the excess. */
  private eventLoopExcessMs(nanoseconds: number): number {
    return Math.max(0, nanoseconds / 1e6 - BenchLimits.eventLoopResolutionMs);
  }

  private clearTimers(): void {
    this.eventLoopDelay.disable();
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.timer = null;
    this.drainTimer = null;
  }

  private finish(): void {
    const settle = this.settle;
    if (settle === null) return;
    this.settle = null;
    this.clearTimers();
    const elapsedMs = this.lastCompletionMs - this.startMs;
    settle.resolve({
      due: this.due,
      sent: this.sent,
      completed: this.completed,
      errors: this.errors,
      firstErrorCode: this.firstErrorCode,
      maxInFlight: this.maxInFlight,
      stoppedForBacklog: this.stoppedForBacklog,
      elapsedMs,
      achievedPerSecond: elapsedMs > 0 ? (this.completed * 1000) / elapsedMs : 0,
      latency: this.latency.summary(),
      scheduleLag: this.scheduleLag.summary(),
      maxLatencyBySecondMs: this.maxLatencyBySecondMs.map((value) => Math.round(value * 100) / 100),
      clientEventLoopDelay: { p99Ms: this.eventLoopExcessMs(this.eventLoopDelay.percentile(99)), maxMs: this.eventLoopExcessMs(this.eventLoopDelay.max) },
    });
  }

  private fail(error: Error): void {
    const settle = this.settle;
    if (settle === null) return;
    this.settle = null;
    this.clearTimers();
    settle.reject(error);
  }
}

interface CommitFigures {
  readonly targetPerSecond: number;
  readonly commits: ScheduleResult;
  readonly sustained: boolean;
  readonly coordinatorNodeId: number;
  readonly committedCheck: string;
  /** The same schedule appending to a plain file, group-committed with fdatasync. */
  readonly rawLog: ScheduleResult;
}

function isSustained(result: ScheduleResult, ratePerSecond: number): boolean {
  return !result.stoppedForBacklog && result.completed === result.due && result.errors === 0 && result.achievedPerSecond >= CommitSettings.sustainedRatio * ratePerSecond;
}

/** Simple commits (generation -1, no member id) on one coordinator connection: warm-up, then measured. */
async function measureCommits(topic: TopicUnderTest, groupId: string, ratePerSecond: number, durationMs: number): Promise<Omit<CommitFigures, 'rawLog'>> {
  const clientId = 'groups-bench-committer';
  const coordinator = await findCoordinator(topic.bootstrapServers, groupId, clientId);
  const connection = await connect(coordinator, clientId);
  try {
    const version = connection.versionFor(ApiKey.OffsetCommit);
    const partitions = partitionsOf(topic).slice(0, CommitSettings.partitionsPerCommit);
    let firstOffset = 0;
    const commit: Operation = async (index) => {
      const offsets = new Map(partitions.map((partition) => [partition, firstOffset + index]));
      const request = commitRequest(groupId, GroupSettings.noGeneration, '', topic.layout.topic, offsets);
      return firstCommitError(await connection.request(ApiKey.OffsetCommit, version, request, BenchLimits.requestTimeoutMs));
    };
    const warmup = await new RateSchedule(ratePerSecond, CommitSettings.warmupMs, commit).run();
    firstOffset = warmup.sent;
    const commits = await new RateSchedule(ratePerSecond, durationMs, commit).run();
    const lastOffset = firstOffset + commits.sent - 1;
    const committed = await committedOffsets(topic.bootstrapServers, groupId, topic.layout.topic, partitions);
    const mismatched = [...committed].filter(([, offset]) => offset !== lastOffset);
    const committedCheck = mismatched.length === 0 ? `ok (${lastOffset})` : `expected ${lastOffset}, found ${mismatched.map(([partition, offset]) => `${partition}: ${offset}`).join(', ')}`;
    return { targetPerSecond: ratePerSecond, commits, sustained: isSustained(commits, ratePerSecond), coordinatorNodeId: coordinator.nodeId, committedCheck };
  } finally {
    await connection.close();
  }
}

/**
 * The floor for a durable commit at this rate on this disk and machine: each operation writes
 * one commit-sized record to a plain file (in the broker's scratch filesystem) and waits for an
 * fdatasync that covers it, group-committed as the broker does (`GroupCommit`), on the same
 * schedule and in this process.
 */
async function measureRawLog(ratePerSecond: number, durationMs: number): Promise<ScheduleResult> {
  const scratch = scratchDirectory('mk-bench-raw-commit-');
  const file = await open(join(scratch.path, 'commits.log'), 'w');
  try {
    const record = Buffer.alloc(CommitSettings.rawRecordBytes, 0x5a);
    const groupCommit = new GroupCommit(async () => {
      await file.datasync();
      return 0;
    });
    const append: Operation = async () => {
      writeSync(file.fd, record);
      await groupCommit.flush();
      return ErrorCode.NONE;
    };
    await new RateSchedule(ratePerSecond, CommitSettings.warmupMs, append).run();
    const measured = await new RateSchedule(ratePerSecond, durationMs, append).run();
    await groupCommit.idle();
    return measured;
  } finally {
    await file.close();
    scratch.remove();
  }
}

async function measureCommitRate(run: number, topic: TopicUnderTest, ratePerSecond: number): Promise<CommitFigures> {
  const durationMs = commitSeconds * 1000;
  const [ours, rawLog] = await pair(
    run,
    () => measureCommits(topic, `groups-bench-commits-${run}-${ratePerSecond}`, ratePerSecond, durationMs),
    () => measureRawLog(ratePerSecond, durationMs),
  );
  return { ...ours, rawLog };
}

// ---------------------------------------------------------------------------------------------
// One run: a broker, the produced topic, the four consumes, the commit rates
// ---------------------------------------------------------------------------------------------

interface RunResult {
  readonly run: number;
  readonly brokerReadyMs: number;
  readonly produceMessagesPerSecond: number;
  /** The first FindCoordinator, which creates `__consumer_offsets` (setup, not measured). */
  readonly offsetsTopicReadyMs: number;
  readonly assigned: ConsumeFigures;
  readonly group: ConsumeFigures;
  readonly kafkajsAssigned: ConsumeFigures;
  readonly kafkajsGroup: ConsumeFigures;
  readonly commits: readonly CommitFigures[];
}

function produceOptions(bootstrapServers: string, topic: string): PerfOptions {
  return quietPerfOptions({ mode: 'produce', bootstrapServers, topic, partitions: Scenario.partitions, messageSizeBytes: Scenario.messageSizeBytes, messages: messageCount });
}

/** Produces the messages with the load generator, then reads the layout and the offsets. */
async function produceTopic(bootstrapServers: string, name: string): Promise<{ topic: TopicUnderTest; messagesPerSecond: number }> {
  const produced = await runPerf(produceOptions(bootstrapServers, name), clock);
  const cluster = new ClusterClient({ bootstrapServers, clientId: 'groups-bench-setup', requestTimeoutMs: BenchLimits.requestTimeoutMs });
  try {
    const layout = await prepareTopic(cluster, name, Scenario.partitions);
    const offsets = async (query: OffsetQuery): Promise<number[]> =>
      (await listOffsets(cluster, layout.leaderByPartition.map((_, partition) => ({ topic: name, partition, query })))).map((entry) => Number(entry.offset));
    const startOffsets = await offsets('earliest');
    const endOffsets = await offsets('latest');
    const messages = endOffsets.reduce((sum, end, partition) => sum + end - startOffsets[partition]!, 0);
    if (messages !== messageCount) throw new Error(`the topic holds ${messages} records, ${messageCount} were produced`);
    return { topic: { bootstrapServers, layout, startOffsets, endOffsets, messages }, messagesPerSecond: produced.messagesPerSecond };
  } finally {
    await cluster.close();
  }
}

/**
 * The first FindCoordinator creates `__consumer_offsets`; done in setup, as a deployed cluster
 * has it already, so that whichever consume goes first does not pay for it.
 */
async function prepareCoordinators(topic: TopicUnderTest): Promise<number> {
  const startMs = clock.nowMs();
  await findCoordinator(topic.bootstrapServers, 'groups-bench-setup', 'groups-bench-setup');
  return clock.nowMs() - startMs;
}

/** Runs the pair in the order the run's parity gives, so neither always goes first. */
async function pair<A, B>(run: number, first: () => Promise<A>, second: () => Promise<B>): Promise<[A, B]> {
  if (run % 2 === 0) {
    const a = await first();
    return [a, await second()];
  }
  const b = await second();
  return [await first(), b];
}

function progress(run: number, step: string): void {
  process.stderr.write(`groups bench: run ${run + 1}/${runs}: ${step}\n`);
}

async function runOnce(run: number): Promise<RunResult> {
  const broker = await startBrokerProcess({ nodes: Scenario.nodes });
  progress(run, `broker pid ${broker.pid} ready (${broker.bootstrapServers}); producing ${messageCount.toLocaleString('en-US')} messages`);
  try {
    const { topic, messagesPerSecond } = await produceTopic(broker.bootstrapServers, `groups-bench-${run}`);
    const offsetsTopicReadyMs = await prepareCoordinators(topic);
    progress(run, 'consuming: (a) assigned and (b) group');
    const [assigned, group] = await pair(run, () => consumeAssigned(topic), () => consumeAsGroup(topic, `groups-bench-ours-${run}`));
    progress(run, 'consuming: (d) kafkajs without a group and (c) kafkajs group');
    const [kafkajsAssigned, kafkajsGroup] = await pair(run, () => consumeKafkajsAssigned(topic), () => consumeKafkajsGroup(topic, `groups-bench-kafkajs-${run}`));
    const commits: CommitFigures[] = [];
    for (const rate of CommitSettings.rates) {
      if (commits.length > 0 && !commits.at(-1)!.sustained) break;
      progress(run, `OffsetCommit at ${rate}/s for ${commitSeconds} s, and the raw fdatasync log at the same rate`);
      commits.push(await measureCommitRate(run, topic, rate));
    }
    return { run, brokerReadyMs: broker.readyMs, produceMessagesPerSecond: messagesPerSecond, offsetsTopicReadyMs, assigned, group, kafkajsAssigned, kafkajsGroup, commits };
  } finally {
    await broker.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

interface Row {
  scenario: string;
  result: string;
  beside: string;
  ratio: string;
}

const rate = (value: number, unit = 'msgs/s'): string => `${Math.round(value).toLocaleString('en-US')} ${unit}`;
const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));
const ratio = (ours: number, other: number): string => (other > 0 ? (ours / other).toFixed(2) : '-');
const medianOf = <T>(items: readonly T[], pick: (item: T) => number): number => median(items.map(pick));
const detail = (figures: ConsumeFigures, key: string): number => Number(figures.details[key]);

function consumeRows(results: readonly RunResult[], label: string, pick: (result: RunResult) => ConsumeFigures, beside: { label: string; pick: (result: RunResult) => ConsumeFigures } | null): Row[] {
  const whole = medianOf(results, (result) => pick(result).messagesPerSecond);
  const fetchPhase = medianOf(results, (result) => pick(result).fetchPhaseMessagesPerSecond);
  const besideWhole = beside === null ? 0 : medianOf(results, (result) => beside.pick(result).messagesPerSecond);
  const besideFetch = beside === null ? 0 : medianOf(results, (result) => beside.pick(result).fetchPhaseMessagesPerSecond);
  return [
    { scenario: `${label}: start -> last record`, result: rate(whole), beside: beside === null ? '' : `${beside.label}: ${rate(besideWhole)}`, ratio: beside === null ? '' : ratio(whole, besideWhole) },
    { scenario: `${label}: first Fetch -> last record`, result: rate(fetchPhase), beside: beside === null ? '' : `${beside.label}: ${rate(besideFetch)}`, ratio: beside === null ? '' : ratio(fetchPhase, besideFetch) },
  ];
}

function groupRows(results: readonly RunResult[]): Row[] {
  const commitP50 = medianOf(results, (result) => (result.group.details.commitLatency as LatencySummary).p50Ms);
  const commitP99 = medianOf(results, (result) => (result.group.details.commitLatency as LatencySummary).p99Ms);
  const commitMax = medianOf(results, (result) => (result.group.details.commitLatency as LatencySummary).maxMs);
  return [
    {
      scenario: '(b) ours: group formed, start -> all 3 members assigned',
      result: `${ms(medianOf(results, (result) => detail(result.group, 'joinMs')))} ms`,
      beside: `JoinGroup requests: ${medianOf(results, (result) => detail(result.group, 'joinRequests'))} (3 x 2 expected)`,
      ratio: '',
    },
    {
      scenario: '(b) ours: OffsetCommits while consuming (async, after each Fetch)',
      result: `${medianOf(results, (result) => detail(result.group, 'commits'))} commits, p50 ${ms(commitP50)} / p99 ${ms(commitP99)} / max ${ms(commitMax)} ms`,
      beside: `heartbeats: ${medianOf(results, (result) => detail(result.group, 'heartbeats'))}`,
      ratio: '',
    },
  ];
}

const latencyText = (latency: { p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number }): string =>
  `p50 ${ms(latency.p50Ms)} / p99 ${ms(latency.p99Ms)} / p99.9 ${ms(latency.p999Ms)} / max ${ms(latency.maxMs)} ms`;

function medianLatency(items: readonly LatencySummary[]): { p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number } {
  return {
    p50Ms: medianOf(items, (item) => item.p50Ms),
    p99Ms: medianOf(items, (item) => item.p99Ms),
    p999Ms: medianOf(items, (item) => item.p999Ms),
    maxMs: medianOf(items, (item) => item.maxMs),
  };
}

function commitRows(results: readonly RunResult[]): Row[] {
  const rows: Row[] = [];
  for (const [index, target] of CommitSettings.rates.entries()) {
    const figures = results.map((result) => result.commits[index]).filter((entry): entry is CommitFigures => entry !== undefined);
    const label = `OffsetCommit at ${target.toLocaleString('en-US')}/s (3 partitions each, ${commitSeconds} s)`;
    if (figures.length === 0) {
      rows.push({ scenario: label, result: `not run: ${CommitSettings.rates[index - 1]}/s did not sustain`, beside: '', ratio: '' });
      continue;
    }
    const achieved = medianOf(figures, (entry) => entry.commits.achievedPerSecond);
    const sustained = figures.filter((entry) => entry.sustained).length;
    rows.push({ scenario: `${label}: achieved`, result: rate(achieved, 'commits/s'), beside: `target ${rate(target, '/s')}; sustained in ${sustained}/${figures.length} runs`, ratio: ratio(achieved, target) });
    const ours = medianLatency(figures.map((entry) => entry.commits.latency));
    const raw = medianLatency(figures.map((entry) => entry.rawLog.latency));
    const verdict = ours.p99Ms < CommitSettings.p99TargetMs ? 'met' : 'missed';
    rows.push({ scenario: `${label}: latency from intended send (target p99 < ${CommitSettings.p99TargetMs} ms: ${verdict})`, result: latencyText(ours), beside: `raw write+fdatasync log, same schedule: ${latencyText(raw)}`, ratio: `p50 ${ratio(ours.p50Ms, raw.p50Ms)}, p99 ${ratio(ours.p99Ms, raw.p99Ms)}` });
  }
  return rows;
}

function tableRows(results: readonly RunResult[]): Row[] {
  const assignedBeside = { label: '(a)', pick: (result: RunResult) => result.assigned };
  const kafkajsBeside = { label: '(d)', pick: (result: RunResult) => result.kafkajsAssigned };
  return [
    { scenario: `produce ${messageCount.toLocaleString('en-US')} x 100 B into 3 partitions (setup, load generator, acks=1)`, result: rate(medianOf(results, (result) => result.produceMessagesPerSecond)), beside: '', ratio: '' },
    { scenario: 'setup: first FindCoordinator (creates __consumer_offsets)', result: `${ms(medianOf(results, (result) => result.offsetsTopicReadyMs))} ms`, beside: '', ratio: '' },
    ...consumeRows(results, '(a) ours, 3 assigned consumers', (result) => result.assigned, null),
    ...consumeRows(results, '(b) ours, 3-member group', (result) => result.group, assignedBeside),
    ...groupRows(results),
    ...consumeRows(results, '(d) kafkajs client, 3 partition readers, no group', (result) => result.kafkajsAssigned, null),
    ...consumeRows(results, '(c) kafkajs client, 3 group consumers (eachBatch, autoCommit)', (result) => result.kafkajsGroup, kafkajsBeside),
    {
      scenario: '(c) kafkajs client: group formed, start -> last GROUP_JOIN',
      result: `${ms(medianOf(results, (result) => detail(result.kafkajsGroup, 'joinMs')))} ms`,
      beside: `GROUP_JOIN events: ${medianOf(results, (result) => detail(result.kafkajsGroup, 'groupJoins'))}; commits: ${medianOf(results, (result) => detail(result.kafkajsGroup, 'commits'))}`,
      ratio: '',
    },
    ...commitRows(results),
  ];
}

function problems(results: readonly RunResult[]): string[] {
  const found: string[] = [];
  for (const result of results) {
    for (const event of result.group.details.events as string[]) found.push(`run ${result.run + 1}, (b): ${event}`);
    if (detail(result.kafkajsGroup, 'groupJoins') !== GroupSettings.memberCount) found.push(`run ${result.run + 1}, (c): ${detail(result.kafkajsGroup, 'groupJoins')} GROUP_JOIN events for 3 members (a rebalance)`);
    for (const commit of result.commits) {
      const { achievedPerSecond, completed, due, errors, firstErrorCode, stoppedForBacklog } = commit.commits;
      if (!commit.sustained) {
        found.push(`run ${result.run + 1}: ${commit.targetPerSecond}/s commits did not sustain (achieved ${achievedPerSecond.toFixed(0)}/s, ${completed}/${due} answered, ${errors} errors (first ${firstErrorCode}), backlog stop ${stoppedForBacklog})`);
      }
      if (commit.commits.latency.p99Ms >= CommitSettings.p99TargetMs) {
        const delay = commit.commits.clientEventLoopDelay;
        found.push(
          `run ${result.run + 1}: ${commit.targetPerSecond}/s commits p99 ${ms(commit.commits.latency.p99Ms)} ms, max ${ms(commit.commits.latency.maxMs)} ms ` +
            `(raw log p99 ${ms(commit.rawLog.latency.p99Ms)} ms; max in flight ${commit.commits.maxInFlight}; client event-loop delay p99 ${ms(delay.p99Ms)} / max ${ms(delay.maxMs)} ms; ` +
            `worst per second: ${commit.commits.maxLatencyBySecondMs.map((value) => value.toFixed(0)).join(' ')})`,
        );
      }
      if (!commit.committedCheck.startsWith('ok')) found.push(`run ${result.run + 1}: committed offsets after ${commit.targetPerSecond}/s: ${commit.committedCheck}`);
    }
  }
  return found;
}

/** Runs, then the table, the problems seen, and the JSON (per-run figures; latencies as summaries). */
async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = loadavg();
  console.log(`groups bench: ${machineNote()}; ${runs} run(s), medians; ${messageCount.toLocaleString('en-US')} x 100 B messages; 3-node broker as a child process, flush policy always`);
  console.log(`load average at start: ${loadAtStart.map((value) => value.toFixed(2)).join(' ')}`);
  const results: RunResult[] = [];
  for (let run = 0; run < runs; run++) results.push(await runOnce(run));
  const loadAtEnd = loadavg();
  const rows = tableRows(results);
  const found = problems(results);
  console.log('');
  printTable(rows.map((row) => ({ scenario: row.scenario, result: row.result, beside: row.beside, 'result / beside': row.ratio })));
  console.log('');
  console.log(`(b) / (a) is the group's cost in our client (target >= ${Scenario.groupTargetRatio}); (c) / (d) is the same in kafkajs, whose group consumer also decodes every record and waits for a commit after every batch.`);
  console.log(`load average at end: ${loadAtEnd.map((value) => value.toFixed(2)).join(' ')}`);
  for (const problem of found) console.log(`problem: ${problem}`);
  mkdirSync(outDirectory, { recursive: true });
  const file = join(outDirectory, `groups-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const report = { startedAt: startedAt.toISOString(), machine: machineNote(), runs, messages: messageCount, commitSeconds, loadAverage: { start: loadAtStart, end: loadAtEnd }, rows, problems: found, results };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

await main();
