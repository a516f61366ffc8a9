/**
 * Consumer with manual partition assignment (no groups): each `poll` sends one Fetch to the
 * leader of every assigned partition, decodes the batches, drops control batches and records
 * below the position (a batch may start before it), and advances each partition's position.
 */
import { ApiKey } from '../protocol/schema/index.js';
import type { ResponseBody } from '../protocol/codec/index.js';
import { ErrorCode, KafkaError, errorInfo } from '../protocol/errors.js';
import {
  ATTRIBUTES_OFFSET,
  Attribute,
  BATCH_LENGTH_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD_BYTES,
  MAGIC_OFFSET,
  decodeRecordBatch,
  readInt64,
  type RecordHeader,
} from '../protocol/records/index.js';
import { groupByLeader, type ClusterClient } from './cluster-client.js';
import { ClientDefaults } from './defaults.js';
import { OffsetOutOfRangeError, invalidatesMetadata, isRetriable } from './errors.js';
import { groupByTopic, partitionKey } from './grouping.js';
import { IsolationLevel, listOffsets, type IsolationLevelValue, type OffsetQuery } from './list-offsets.js';

/** A start position: an exact offset, or a ListOffsets query. */
export type StartOffset = bigint | OffsetQuery;

export interface PartitionAssignment {
  readonly topic: string;
  readonly partition: number;
  readonly offset: StartOffset;
}

export interface ConsumerRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: RecordHeader[];
  readonly timestampMs: number;
}

/** What to do when a Fetch position is outside the log: fail (default) or jump to an end. */
export type OffsetResetPolicy = 'none' | 'earliest' | 'latest';

export interface ConsumerOptions {
  readonly maxWaitMs?: number;
  readonly minBytes?: number;
  readonly maxBytes?: number;
  readonly partitionMaxBytes?: number;
  readonly isolationLevel?: IsolationLevelValue;
  readonly offsetResetPolicy?: OffsetResetPolicy;
}

export interface PartitionPosition {
  readonly topic: string;
  readonly partition: number;
  /** The next offset `poll` asks for. */
  readonly offset: bigint;
  /** From the last Fetch response; -1n before the first. */
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
}

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  position: bigint;
  highWatermark: bigint;
  logStartOffset: bigint;
  partitionMaxBytes: number;
}

export class Consumer {
  private readonly cluster: ClusterClient;
  private readonly maxWaitMs: number;
  private readonly minBytes: number;
  private readonly maxBytes: number;
  private readonly partitionMaxBytes: number;
  private readonly isolationLevel: IsolationLevelValue;
  private readonly offsetResetPolicy: OffsetResetPolicy;
  private readonly states = new Map<string, PartitionState>();
  private consecutiveFailedPolls = 0;

  constructor(cluster: ClusterClient, options: ConsumerOptions = {}) {
    this.cluster = cluster;
    this.maxWaitMs = options.maxWaitMs ?? ClientDefaults.fetchMaxWaitMs;
    this.minBytes = options.minBytes ?? ClientDefaults.fetchMinBytes;
    this.maxBytes = options.maxBytes ?? ClientDefaults.fetchMaxBytes;
    this.partitionMaxBytes = options.partitionMaxBytes ?? ClientDefaults.partitionMaxBytes;
    this.isolationLevel = options.isolationLevel ?? IsolationLevel.READ_UNCOMMITTED;
    this.offsetResetPolicy = options.offsetResetPolicy ?? 'none';
  }

  /** Adds (or moves) partitions; queries are resolved with ListOffsets now. */
  async assign(assignments: readonly PartitionAssignment[]): Promise<void> {
    const queries = assignments.filter(
      (assignment): assignment is PartitionAssignment & { offset: OffsetQuery } => typeof assignment.offset !== 'bigint',
    );
    const resolved = await this.resolveQueries(queries);
    for (const assignment of assignments) {
      const key = partitionKey(assignment.topic, assignment.partition);
      const offset = typeof assignment.offset === 'bigint' ? assignment.offset : resolved.get(key)!;
      if (offset < 0n) throw new RangeError(`offset of ${assignment.topic}-${assignment.partition} must be >= 0, got ${offset}`);
      this.states.set(key, {
        topic: assignment.topic,
        partition: assignment.partition,
        position: offset,
        highWatermark: -1n,
        logStartOffset: -1n,
        partitionMaxBytes: this.partitionMaxBytes,
      });
    }
  }

  /** Assigns every partition of a topic (as of fresh metadata) at the same start position. */
  async assignTopic(topic: string, offset: StartOffset): Promise<number[]> {
    this.cluster.invalidateMetadata();
    const metadata = await this.cluster.retry(`Metadata of "${topic}"`, () => this.cluster.topic(topic));
    const partitions = metadata.partitions.map((partition) => partition.partition);
    await this.assign(partitions.map((partition) => ({ topic, partition, offset })));
    return partitions;
  }

  unassign(topic: string, partition: number): void {
    this.states.delete(partitionKey(topic, partition));
  }

  positions(): PartitionPosition[] {
    return [...this.states.values()].map((state) => ({
      topic: state.topic,
      partition: state.partition,
      offset: state.position,
      highWatermark: state.highWatermark,
      logStartOffset: state.logStartOffset,
    }));
  }

  /**
   * One Fetch round: records from every assigned partition whose leader answered, in
   * partition order per leader. Waits at most about maxWaitMs when there is nothing new.
   */
  async poll(): Promise<ConsumerRecord[]> {
    if (this.states.size === 0) throw new Error('poll() before assign(): no partitions assigned');
    const records: ConsumerRecord[] = [];
    try {
      const byLeader = await groupByLeader(this.cluster, [...this.states.values()]);
      const outcomes = await Promise.allSettled(
        [...byLeader].map(([leaderId, states]) => this.fetchFromLeader(leaderId, states, records)),
      );
      const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
      this.consecutiveFailedPolls = 0;
    } catch (error) {
      await this.recoverFromPollFailure(error);
    }
    return records;
  }

  /** Retriable failures cost a metadata refresh and a backoff, up to a bound; others throw. */
  private async recoverFromPollFailure(error: unknown): Promise<void> {
    this.consecutiveFailedPolls++;
    if (!isRetriable(error) || this.consecutiveFailedPolls >= ClientDefaults.maxConsecutiveFailedPolls) {
      throw error;
    }
    if (invalidatesMetadata(error)) this.cluster.invalidateMetadata();
    const backoffMs = Math.min(
      this.cluster.retryPolicy.initialBackoffMs * 2 ** (this.consecutiveFailedPolls - 1),
      this.cluster.retryPolicy.maxBackoffMs,
    );
    await this.cluster.sleep(backoffMs);
  }

  private async fetchFromLeader(leaderId: number, states: readonly PartitionState[], records: ConsumerRecord[]): Promise<void> {
    const connection = await this.cluster.connectionTo(leaderId);
    const response = await connection.requestNegotiated(
      ApiKey.Fetch,
      {
        replicaId: -1,
        maxWaitMs: this.maxWaitMs,
        minBytes: this.minBytes,
        maxBytes: this.maxBytes,
        isolationLevel: this.isolationLevel,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...groupByTopic(states)].map(([topic, group]) => ({
          topic,
          partitions: group.map((state) => ({
            partition: state.partition,
            currentLeaderEpoch: -1,
            fetchOffset: state.position,
            logStartOffset: -1n,
            partitionMaxBytes: state.partitionMaxBytes,
          })),
        })),
        forgottenTopicsData: [],
        rackId: '',
      },
      this.cluster.requestTimeoutMs + this.maxWaitMs,
    );
    if (response.errorCode !== ErrorCode.NONE) throw new KafkaError(response.errorCode, `Fetch from node ${leaderId}`);
    await this.applyFetchResponse(response, records);
  }

  private async applyFetchResponse(response: ResponseBody<typeof ApiKey.Fetch>, records: ConsumerRecord[]): Promise<void> {
    let retriable: KafkaError | null = null;
    for (const topic of response.responses) {
      for (const partition of topic.partitions) {
        const state = this.states.get(partitionKey(topic.topic, partition.partitionIndex));
        if (state === undefined) continue;
        if (partition.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          await this.handleOffsetOutOfRange(state);
          continue;
        }
        if (partition.errorCode !== ErrorCode.NONE) {
          const error = new KafkaError(partition.errorCode, `fetch ${state.topic}-${state.partition} at offset ${state.position}`);
          if (!errorInfo(partition.errorCode).retriable) throw error;
          retriable ??= error;
          continue;
        }
        state.highWatermark = partition.highWatermark;
        if (partition.logStartOffset >= 0n) state.logStartOffset = partition.logStartOffset;
        if (partition.records !== null && partition.records.length > 0) appendRecords(state, partition.records, records);
      }
    }
    if (retriable !== null) throw retriable;
  }

  private async handleOffsetOutOfRange(state: PartitionState): Promise<void> {
    const request = (query: OffsetQuery): { topic: string; partition: number; query: OffsetQuery } => ({
      topic: state.topic,
      partition: state.partition,
      query,
    });
    const [[earliest], [latest]] = await Promise.all([
      listOffsets(this.cluster, [request('earliest')], this.isolationLevel),
      listOffsets(this.cluster, [request('latest')], this.isolationLevel),
    ]);
    if (this.offsetResetPolicy === 'none') {
      throw new OffsetOutOfRangeError(state.topic, state.partition, state.position, earliest!.offset, latest!.offset);
    }
    state.position = this.offsetResetPolicy === 'earliest' ? earliest!.offset : latest!.offset;
  }

  private async resolveQueries(
    assignments: readonly (PartitionAssignment & { offset: OffsetQuery })[],
  ): Promise<Map<string, bigint>> {
    const resolved = new Map<string, bigint>();
    if (assignments.length === 0) return resolved;
    const offsets = await listOffsets(
      this.cluster,
      assignments.map((assignment) => ({ topic: assignment.topic, partition: assignment.partition, query: assignment.offset })),
      this.isolationLevel,
    );
    const needLatest = offsets.filter((entry) => entry.offset < 0n);
    // A timestamp after the last record finds nothing: start at the log end, as Kafka's tools do.
    const latest = await listOffsets(
      this.cluster,
      needLatest.map((entry) => ({ topic: entry.topic, partition: entry.partition, query: 'latest' as const })),
      this.isolationLevel,
    );
    for (const entry of [...offsets, ...latest]) {
      if (entry.offset >= 0n) resolved.set(partitionKey(entry.topic, entry.partition), entry.offset);
    }
    return resolved;
  }
}

/**
 * Walks the batches in a Fetch response's records: skips control batches and batches wholly
 * below the position by their headers alone, decodes the others, and moves the position past
 * every whole batch. A trailing partial batch is left for the next Fetch.
 */
function appendRecords(state: PartitionState, bytes: Buffer, out: ConsumerRecord[]): void {
  let position = 0;
  let wholeBatches = 0;
  while (position + LOG_OVERHEAD_BYTES <= bytes.length) {
    const batchSizeBytes = LOG_OVERHEAD_BYTES + bytes.readInt32BE(position + BATCH_LENGTH_OFFSET);
    if (position + batchSizeBytes > bytes.length) break;
    const magic = bytes.readInt8(position + MAGIC_OFFSET);
    if (magic !== CURRENT_MAGIC) {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `${state.topic}-${state.partition}: record batch magic ${magic} is not supported`);
    }
    const baseOffset = readInt64(bytes, position);
    const nextOffset = BigInt(baseOffset + bytes.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET) + 1);
    const isControl = (bytes.readInt16BE(position + ATTRIBUTES_OFFSET) & Attribute.CONTROL) !== 0;
    if (!isControl && nextOffset > state.position) appendBatch(state, bytes, position, out);
    if (nextOffset > state.position) state.position = nextOffset;
    position += batchSizeBytes;
    wholeBatches++;
  }
  if (wholeBatches === 0 && bytes.length >= state.partitionMaxBytes) {
    // One batch is larger than we asked for; ask for more next time (bounded).
    state.partitionMaxBytes = Math.min(state.partitionMaxBytes * 2, ClientDefaults.partitionMaxBytesCeiling);
  }
}

function appendBatch(state: PartitionState, bytes: Buffer, position: number, out: ConsumerRecord[]): void {
  const batch = decodeRecordBatch(bytes, position);
  const topic = state.topic;
  const partition = state.partition;
  const minimumOffset = state.position;
  for (const record of batch.records) {
    const offset = BigInt(record.offset);
    if (offset < minimumOffset) continue;
    out.push({
      topic,
      partition,
      offset,
      key: record.key,
      value: record.value,
      headers: record.headers,
      timestampMs: record.timestampMs,
    });
  }
}
