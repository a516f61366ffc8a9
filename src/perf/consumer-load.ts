/**
 * The consume side of the load generator: one Fetch loop per connection (the partitions of a
 * leader shared out over `connectionsPerBroker` connections), with large max_bytes.
 *
 * Records are counted from batch headers (baseOffset, lastOffsetDelta, recordsCount) without
 * decoding them. In e2e runs each record's send time is needed, so the records of a batch are
 * walked just far enough to read the first 8 bytes of each value (see `readSendTimes`).
 */
import { ConsumerProgress } from './consumer-progress.js';
import { BrokerConnection } from '../client/connection.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import {
  batchSizeBytes,
  isControlBatch,
  readAttributes,
  readBaseOffset,
  readLastOffsetDelta,
  readRecordsCount,
} from '../protocol/records/batch.js';
import { Attribute, Compression, RECORDS_OFFSET } from '../protocol/records/layout.js';
import { readVarint, readVarlong, type Cursor } from '../protocol/records/varint.js';
import { ApiKey } from '../protocol/schema/index.js';
import type { RequestInput, ResponseBody } from '../protocol/codec/index.js';
import type { Clock } from '../runtime/clock.js';
import type { LatencyHistogram } from './histogram.js';
import { PerfLimits } from './options.js';
import type { TopicLayout } from './topic-setup.js';

export interface ConsumerLoadOptions {
  readonly layout: TopicLayout;
  readonly clock: Clock;
  readonly clientId: string;
  readonly connectionsPerBroker: number;
  readonly fetchMaxBytes: number;
  /** Fetch position of every partition, by partition index. */
  readonly startOffsets: readonly number[];
  /** Stop each partition at this offset (exclusive); null: no end. */
  readonly endOffsets: readonly number[] | null;
  /** Stop once this many records are measured; null: no limit. */
  readonly maxMeasuredMessages: number | null;
  /** Records received before this time are not measured (warm-up). */
  readonly measureStartMs: number;
  /** e2e: read each record's send time and record `receive time - send time` here. */
  readonly endToEndLatency: LatencyHistogram | null;
  /** e2e: only records sent at or after this time are measured. */
  readonly measureFromSendTimeMs: number;
  /** e2e: `receive time - time handed to the client`, for values that carry it. */
  readonly endToEndFromAppend?: LatencyHistogram | null;
}

/**
 * The load generator's Fetch: long-polled (`PerfLimits.fetchMaxWaitMs`, min_bytes 1), no fetch
 * session, read uncommitted, `fetchMaxBytes` per request and per partition.
 */
export function perfFetchRequest(topic: string, partitions: ReadonlyArray<{ partition: number; fetchOffset: number }>, fetchMaxBytes: number): RequestInput<typeof ApiKey.Fetch> {
  return {
    replicaId: -1,
    maxWaitMs: PerfLimits.fetchMaxWaitMs,
    minBytes: 1,
    maxBytes: fetchMaxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: partitions.map(({ partition, fetchOffset }) => ({ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(fetchOffset), logStartOffset: -1n, partitionMaxBytes: fetchMaxBytes })),
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

export interface ConsumerLoadResult {
  readonly consumedMessages: number;
  readonly measuredMessages: number;
  readonly measuredBytes: number;
  readonly measureStartMs: number;
  readonly lastRecordMs: number;
  readonly fetches: number;
  /** Why the loops stopped: 'target' (count or end offsets reached), 'stopped', or 'idle'. */
  readonly endReason: 'target' | 'stopped' | 'idle';
}

interface FetchConnection {
  readonly connection: BrokerConnection;
  readonly version: number;
  readonly partitions: readonly number[];
}

/** Reused by the record walk so it allocates nothing per record. */
const cursor: Cursor = { position: 0 };
const sendTimeBytes = PerfLimits.sendTimeBytes;
const appendTimeBytes = PerfLimits.appendTimeBytes;

export class ConsumerLoad extends ConsumerProgress {
  private readonly options: ConsumerLoadOptions;
  private readonly clock: Clock;
  private readonly connections: readonly FetchConnection[];
  private readonly positions: number[];
  private lastRecordAtMs = 0;
  private lastProgressMs = 0;
  private fetchCount = 0;
  private endReason: ConsumerLoadResult['endReason'] = 'stopped';

  private constructor(options: ConsumerLoadOptions, connections: readonly FetchConnection[]) {
    super(options.maxMeasuredMessages);
    this.options = options;
    this.clock = options.clock;
    this.connections = connections;
    this.positions = [...options.startOffsets];
  }

  static async open(options: ConsumerLoadOptions): Promise<ConsumerLoad> {
    const connections: FetchConnection[] = [];
    try {
      for (const leader of options.layout.leaders.values()) {
        const led: number[] = [];
        options.layout.leaderByPartition.forEach((leaderId, partition) => {
          if (leaderId === leader.nodeId) led.push(partition);
        });
        const count = Math.min(options.connectionsPerBroker, led.length);
        for (let index = 0; index < count; index++) {
          const connection = await BrokerConnection.connect({
            host: leader.host,
            port: leader.port,
            clientId: options.clientId,
            requestTimeoutMs: PerfLimits.requestTimeoutMs,
          });
          const partitions = led.filter((_, position) => position % count === index);
          connections.push({ connection, version: connection.versionFor(ApiKey.Fetch), partitions });
        }
      }
    } catch (error) {
      await Promise.all(connections.map((entry) => entry.connection.close()));
      throw error;
    }
    return new ConsumerLoad(options, connections);
  }


  /** Runs every Fetch loop until the target, the end offsets, `stop()`, or `idleTimeoutMs`. */
  async run(idleTimeoutMs: number = PerfLimits.consumeIdleTimeoutMs): Promise<ConsumerLoadResult> {
    this.lastProgressMs = this.clock.nowMs();
    await Promise.all(this.connections.map((entry) => this.fetchLoop(entry, idleTimeoutMs)));
    return {
      consumedMessages: this.consumed,
      measuredMessages: this.measured,
      measuredBytes: this.measuredByteCount,
      measureStartMs: this.options.measureStartMs,
      lastRecordMs: this.lastRecordAtMs,
      fetches: this.fetchCount,
      endReason: this.endReason,
    };
  }

  async close(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.connections.map((entry) => entry.connection.close()));
  }

  private async fetchLoop(entry: FetchConnection, idleTimeoutMs: number): Promise<void> {
    while (!this.stopped) {
      if (this.reachedTarget()) {
        this.finish('target');
        return;
      }
      const pending = entry.partitions.filter((partition) => !this.reachedEnd(partition));
      if (pending.length === 0) {
        if (this.connections.every((other) => other.partitions.every((partition) => this.reachedEnd(partition)))) this.finish('target');
        return;
      }
      if (this.clock.nowMs() - this.lastProgressMs > idleTimeoutMs) {
        this.finish('idle');
        return;
      }
      const response = await entry.connection.request(ApiKey.Fetch, entry.version, this.fetchRequest(pending), PerfLimits.requestTimeoutMs + PerfLimits.fetchMaxWaitMs);
      this.fetchCount++;
      this.onFetchResponse(response);
    }
  }

  private finish(reason: ConsumerLoadResult['endReason']): void {
    if (!this.stopped) this.endReason = reason;
    this.stopped = true;
  }

  private reachedEnd(partition: number): boolean {
    const endOffsets = this.options.endOffsets;
    return endOffsets !== null && this.positions[partition]! >= endOffsets[partition]!;
  }

  private fetchRequest(partitions: readonly number[]) {
    return perfFetchRequest(this.options.layout.topic, partitions.map((partition) => ({ partition, fetchOffset: this.positions[partition]! })), this.options.fetchMaxBytes);
  }

  private onFetchResponse(response: ResponseBody<typeof ApiKey.Fetch>): void {
    if (response.errorCode !== ErrorCode.NONE) throw new KafkaError(response.errorCode, 'fetch');
    const receivedMs = this.clock.nowMs();
    for (const topic of response.responses) {
      for (const partition of topic.partitions) {
        if (partition.errorCode !== ErrorCode.NONE) {
          throw new KafkaError(partition.errorCode, `fetch ${topic.topic}-${partition.partitionIndex} at offset ${this.positions[partition.partitionIndex]}`);
        }
        const records = partition.records;
        if (records !== null && records.length > 0) this.countBatches(partition.partitionIndex, records, receivedMs);
      }
    }
  }

  /** Counts the records of every whole batch at or past the partition's position. */
  private countBatches(partition: number, records: Buffer, receivedMs: number): void {
    let next = this.positions[partition]!;
    const before = this.consumed;
    let bytes = 0;
    let position = 0;
    while (position + RECORDS_OFFSET <= records.length) {
      const sizeBytes = batchSizeBytes(records, position);
      if (position + sizeBytes > records.length) break; // a partial batch at the end: fetched again next time
      const baseOffset = readBaseOffset(records, position);
      const lastOffset = baseOffset + readLastOffsetDelta(records, position);
      if (lastOffset >= next) {
        if (!isControlBatch(records, position)) {
          // A batch may start before the position; offsets in our batches are dense.
          const count = baseOffset >= next ? readRecordsCount(records, position) : lastOffset - next + 1;
          if (this.options.endToEndLatency !== null) this.readSendTimes(records, position, sizeBytes, next, receivedMs);
          this.consumed += count;
          bytes += sizeBytes;
        }
        next = lastOffset + 1;
      }
      position += sizeBytes;
    }
    this.positions[partition] = next;
    if (this.consumed === before) return;
    this.lastProgressMs = receivedMs;
    this.lastRecordAtMs = receivedMs;
    if (this.options.endToEndLatency === null && receivedMs >= this.options.measureStartMs) {
      // Fetches return whole batches from every partition at once: count no more than asked.
      const counted = this.consumed - before;
      const maxMeasured = this.options.maxMeasuredMessages;
      const taken = maxMeasured === null ? counted : Math.min(counted, maxMeasured - this.measured);
      this.measured += taken;
      this.measuredByteCount += Math.round((bytes * taken) / counted);
    }
  }

  /**
   * Walks the records of one uncompressed batch just far enough to read each value's first
   * 8 bytes: the send time the producer stamped there (float64, epoch ms).
   */
  private readSendTimes(records: Buffer, batchStart: number, sizeBytes: number, fromOffset: number, receivedMs: number): void {
    if ((readAttributes(records, batchStart) & Attribute.COMPRESSION_MASK) !== Compression.NONE) {
      throw new Error('e2e latency needs uncompressed batches: the send time is read from each value');
    }
    const latency = this.options.endToEndLatency!;
    const fromAppend = this.options.endToEndFromAppend;
    const measureFromMs = this.options.measureFromSendTimeMs;
    const baseOffset = readBaseOffset(records, batchStart);
    const batchEnd = batchStart + sizeBytes;
    const count = readRecordsCount(records, batchStart);
    cursor.position = batchStart + RECORDS_OFFSET;
    for (let index = 0; index < count; index++) {
      const length = readVarint(records, cursor, batchEnd);
      const recordEnd = cursor.position + length;
      cursor.position++; // attributes
      readVarlong(records, cursor, recordEnd); // timestamp delta
      const offsetDelta = readVarint(records, cursor, recordEnd);
      const keyBytes = readVarint(records, cursor, recordEnd);
      if (keyBytes > 0) cursor.position += keyBytes;
      const valueBytes = readVarint(records, cursor, recordEnd);
      if (baseOffset + offsetDelta >= fromOffset && valueBytes >= sendTimeBytes) {
        const sentAtMs = records.readDoubleBE(cursor.position);
        if (sentAtMs >= measureFromMs) {
          latency.recordMs(receivedMs - sentAtMs);
          if (fromAppend != null && valueBytes >= appendTimeBytes) fromAppend.recordMs(receivedMs - records.readDoubleBE(cursor.position + sendTimeBytes));
          this.measured++;
          this.measuredByteCount += valueBytes + (keyBytes > 0 ? keyBytes : 0);
        }
      }
      cursor.position = recordEnd;
    }
  }
}
