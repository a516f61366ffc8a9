/**
 * Producer: partitions records (explicit partition, else Java-compatible murmur2 of the key,
 * else round robin), cuts each partition's records into record batches, and sends one Produce
 * request per leader per round. Round r carries the r-th batch of every partition, so a
 * partition's batches are appended in order even when some of them are retried.
 */
import { ApiKey } from '../protocol/schema/index.js';
import type { ResponseBody } from '../protocol/codec/index.js';
import { ErrorCode, KafkaError, errorInfo } from '../protocol/errors.js';
import { Compression, encodeRecordBatch, type CompressionCode, type RecordHeader } from '../protocol/records/index.js';
import { groupByLeader, type ClusterClient } from './cluster-client.js';
import { ClientDefaults } from './defaults.js';
import { groupByTopic, partitionKey, settleAll } from './grouping.js';
import { partitionForKey } from './murmur2.js';

export type Acks = -1 | 0 | 1;
export type CompressionName = 'none' | 'gzip';

export interface ProducerRecord {
  readonly topic: string;
  /** Chosen by key hash (or round robin for null keys) when left out. */
  readonly partition?: number;
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?: readonly RecordHeader[];
  /** Create time; default: the time of the `send` call. */
  readonly timestampMs?: number;
}

export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  /** The record's offset; -1n with acks=0, where the broker says nothing. */
  readonly offset: bigint;
}

export interface ProducerOptions {
  /** -1 = all in-sync replicas (default), 1 = leader only, 0 = no response. */
  readonly acks?: Acks;
  readonly compression?: CompressionName;
  /** Time the broker may take to replicate (Produce timeout_ms). */
  readonly timeoutMs?: number;
  /** Uncompressed bytes per batch, estimated from keys, values and headers. */
  readonly maxBatchSizeBytes?: number;
  readonly maxRecordsPerBatch?: number;
}

const compressionCodes: Readonly<Record<CompressionName, CompressionCode>> = {
  none: Compression.NONE,
  gzip: Compression.GZIP,
};

/** Rough per-record overhead in a batch (length, attributes, deltas, header count). */
const recordOverheadBytes = 16;

interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  readonly recordIndexes: readonly number[];
  readonly records: Buffer;
  baseOffset: bigint | null;
}

export class Producer {
  readonly acks: Acks;
  private readonly cluster: ClusterClient;
  private readonly compression: CompressionCode;
  private readonly timeoutMs: number;
  private readonly maxBatchSizeBytes: number;
  private readonly maxRecordsPerBatch: number;
  private roundRobinCounter = 0;

  constructor(cluster: ClusterClient, options: ProducerOptions = {}) {
    const acks = options.acks ?? -1;
    if (acks !== -1 && acks !== 0 && acks !== 1) throw new RangeError(`acks must be -1, 0 or 1, got ${String(acks)}`);
    const compression = compressionCodes[options.compression ?? 'none'];
    if (compression === undefined) throw new RangeError(`unsupported compression "${String(options.compression)}"`);
    this.cluster = cluster;
    this.acks = acks;
    this.compression = compression;
    this.timeoutMs = options.timeoutMs ?? ClientDefaults.produceTimeoutMs;
    this.maxBatchSizeBytes = options.maxBatchSizeBytes ?? ClientDefaults.maxBatchSizeBytes;
    this.maxRecordsPerBatch = options.maxRecordsPerBatch ?? ClientDefaults.maxRecordsPerBatch;
  }

  /** Sends the records and returns, per record in input order, where it was written. */
  async send(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    if (records.length === 0) return [];
    const partitions = await this.assignPartitions(records);
    const batchesByPartition = this.buildBatches(records, partitions);
    const roundCount = Math.max(...batchesByPartition.map((batches) => batches.length));
    for (let round = 0; round < roundCount; round++) {
      const roundBatches: PartitionBatch[] = [];
      for (const batches of batchesByPartition) {
        const batch = batches[round];
        if (batch !== undefined) roundBatches.push(batch);
      }
      await this.sendRound(roundBatches);
    }
    const offsets = new Array<bigint>(records.length).fill(-1n);
    for (const batches of batchesByPartition) {
      for (const batch of batches) {
        if (batch.baseOffset === null || batch.baseOffset < 0n) continue;
        for (let position = 0; position < batch.recordIndexes.length; position++) {
          offsets[batch.recordIndexes[position]!] = batch.baseOffset + BigInt(position);
        }
      }
    }
    return records.map((record, index) => ({ topic: record.topic, partition: partitions[index]!, offset: offsets[index]! }));
  }

  /** The partition a record with this key goes to (round robin for a null key). */
  async partitionFor(topic: string, key: Buffer | string | null | undefined): Promise<number> {
    const partitionCount = await this.partitionCount(topic);
    return this.choosePartition(key, partitionCount);
  }

  private async partitionCount(topic: string): Promise<number> {
    const metadata = await this.cluster.retry(`Metadata of "${topic}"`, () => this.cluster.topic(topic));
    return metadata.partitions.length;
  }

  private choosePartition(key: Buffer | string | null | undefined, partitionCount: number): number {
    if (key === null || key === undefined) {
      const partition = this.roundRobinCounter % partitionCount;
      this.roundRobinCounter = (this.roundRobinCounter + 1) & 0x7fffffff;
      return partition;
    }
    return partitionForKey(typeof key === 'string' ? Buffer.from(key) : key, partitionCount);
  }

  private async assignPartitions(records: readonly ProducerRecord[]): Promise<number[]> {
    const partitionCounts = new Map<string, number>();
    for (const record of records) {
      if (!partitionCounts.has(record.topic)) partitionCounts.set(record.topic, await this.partitionCount(record.topic));
    }
    const partitions = new Array<number>(records.length);
    for (let index = 0; index < records.length; index++) {
      const record = records[index]!;
      const partitionCount = partitionCounts.get(record.topic)!;
      if (record.partition === undefined) {
        partitions[index] = this.choosePartition(record.key, partitionCount);
      } else if (Number.isInteger(record.partition) && record.partition >= 0 && record.partition < partitionCount) {
        partitions[index] = record.partition;
      } else {
        throw new RangeError(`partition ${record.partition} of "${record.topic}" does not exist (${partitionCount} partitions)`);
      }
    }
    return partitions;
  }

  /** Per partition (first-seen order), its batches in record order. */
  private buildBatches(records: readonly ProducerRecord[], partitions: readonly number[]): PartitionBatch[][] {
    const indexesByPartition = new Map<string, number[]>();
    for (let index = 0; index < records.length; index++) {
      const key = partitionKey(records[index]!.topic, partitions[index]!);
      let indexes = indexesByPartition.get(key);
      if (indexes === undefined) {
        indexes = [];
        indexesByPartition.set(key, indexes);
      }
      indexes.push(index);
    }
    const timestampMs = this.cluster.clock.nowMs();
    const result: PartitionBatch[][] = [];
    for (const indexes of indexesByPartition.values()) {
      const topic = records[indexes[0]!]!.topic;
      const partition = partitions[indexes[0]!]!;
      result.push(this.cutBatches(records, indexes, topic, partition, timestampMs));
    }
    return result;
  }

  private cutBatches(
    records: readonly ProducerRecord[],
    indexes: readonly number[],
    topic: string,
    partition: number,
    timestampMs: number,
  ): PartitionBatch[] {
    const batches: PartitionBatch[] = [];
    let start = 0;
    let sizeBytes = 0;
    for (let position = 0; position < indexes.length; position++) {
      const recordBytes = estimateRecordBytes(records[indexes[position]!]!);
      const full = position - start >= this.maxRecordsPerBatch || sizeBytes + recordBytes > this.maxBatchSizeBytes;
      if (position > start && full) {
        batches.push(this.encodeBatch(records, indexes.slice(start, position), topic, partition, timestampMs));
        start = position;
        sizeBytes = 0;
      }
      sizeBytes += recordBytes;
    }
    batches.push(this.encodeBatch(records, indexes.slice(start), topic, partition, timestampMs));
    return batches;
  }

  private encodeBatch(
    records: readonly ProducerRecord[],
    recordIndexes: number[],
    topic: string,
    partition: number,
    timestampMs: number,
  ): PartitionBatch {
    const bytes = encodeRecordBatch({
      records: recordIndexes.map((index) => {
        const record = records[index]!;
        return {
          key: record.key ?? null,
          value: record.value,
          headers: record.headers ?? [],
          timestampMs: record.timestampMs ?? timestampMs,
        };
      }),
      compression: this.compression,
      timestampMs,
    });
    return { topic, partition, recordIndexes, records: bytes, baseOffset: null };
  }

  private async sendRound(batches: readonly PartitionBatch[]): Promise<void> {
    let remaining = batches;
    await this.cluster.retry('Produce', async () => {
      const byLeader = await groupByLeader(this.cluster, remaining);
      const failures: KafkaError[] = [];
      await settleAll([...byLeader].map(([leaderId, group]) => this.sendToLeader(leaderId, group, failures)));
      remaining = remaining.filter((batch) => batch.baseOffset === null);
      const fatal = failures.find((failure) => !errorInfo(failure.code).retriable);
      if (fatal !== undefined) throw fatal;
      if (remaining.length > 0) {
        throw failures[0] ?? new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'Produce response left partitions out');
      }
    });
  }

  private async sendToLeader(leaderId: number, batches: readonly PartitionBatch[], failures: KafkaError[]): Promise<void> {
    const connection = await this.cluster.connectionTo(leaderId);
    const version = connection.versionFor(ApiKey.Produce);
    const body = {
      transactionalId: null,
      acks: this.acks,
      timeoutMs: this.timeoutMs,
      topics: [...groupByTopic(batches)].map(([name, group]) => ({
        name,
        partitions: group.map((batch) => ({ partitionIndex: batch.partition, records: batch.records })),
      })),
    };
    if (this.acks === 0) {
      await connection.sendWithoutResponse(ApiKey.Produce, version, body);
      for (const batch of batches) batch.baseOffset = -1n;
      return;
    }
    const requestTimeoutMs = Math.max(this.cluster.requestTimeoutMs, this.timeoutMs + ClientDefaults.requestTimeoutMs);
    const response = await connection.request(ApiKey.Produce, version, body, requestTimeoutMs);
    applyProduceResponse(response, batches, failures);
  }
}

function applyProduceResponse(
  response: ResponseBody<typeof ApiKey.Produce>,
  batches: readonly PartitionBatch[],
  failures: KafkaError[],
): void {
  const byPartition = new Map<string, PartitionBatch>();
  for (const batch of batches) byPartition.set(partitionKey(batch.topic, batch.partition), batch);
  for (const topic of response.responses) {
    for (const partition of topic.partitions) {
      const batch = byPartition.get(partitionKey(topic.name, partition.partitionIndex));
      if (batch === undefined) continue;
      if (partition.errorCode === ErrorCode.NONE) {
        batch.baseOffset = partition.baseOffset;
      } else {
        failures.push(new KafkaError(partition.errorCode, `produce to ${topic.name}-${partition.partitionIndex}`));
      }
    }
  }
}

function estimateRecordBytes(record: ProducerRecord): number {
  let sizeBytes = recordOverheadBytes + byteLength(record.key) + byteLength(record.value);
  const headers = record.headers;
  if (headers !== undefined) {
    for (const header of headers) sizeBytes += Buffer.byteLength(header.key) + (header.value?.length ?? 0) + 2;
  }
  return sizeBytes;
}

function byteLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}
