/**
 * The produce side of the load generator, on our own protocol code and lean enough that the
 * client is not what is measured:
 *
 * - records are appended straight into preallocated `BatchBuilder`s (one open batch per
 *   partition, a fixed pool of them in all), with no per-record object;
 * - a partition's batch is sent when the next record would overflow `batchSizeBytes`, or when
 *   a connection is free and the batch has lingered `lingerMs` (Kafka's batch.size and
 *   linger.ms); one Produce request per leader connection carries at most one batch per
 *   partition, and up to `inFlightPerConnection` requests are pipelined per connection;
 * - each record's intended send time is kept in a Float64Array beside its batch, and its
 *   latency (ack time minus intended time) recorded when the batch is acknowledged.
 *
 * Unkeyed records use a sticky partitioner (Kafka's default since 2.4): they fill one
 * partition's batch, then move to the next partition.
 */
import { BrokerConnection } from '../client/connection.js';
import { partitionForKey } from '../client/murmur2.js';
import type { Acks } from '../client/producer.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { BatchBuilder, maxRecordSizeBytes, recordSizeBytes } from '../protocol/records/batch-builder.js';
import { RECORDS_OFFSET } from '../protocol/records/layout.js';
import { ApiKey } from '../protocol/schema/index.js';
import type { ResponseBody } from '../protocol/codec/index.js';
import type { Clock } from '../runtime/clock.js';
import type { LatencyHistogram } from './histogram.js';
import { PerfLimits } from './options.js';
import { RateLimiter } from './rate-limiter.js';
import type { TopicLayout } from './topic-setup.js';

export interface ProducerLoadOptions {
  readonly layout: TopicLayout;
  readonly clock: Clock;
  readonly clientId: string;
  readonly acks: Acks;
  readonly batchSizeBytes: number;
  readonly lingerMs: number;
  readonly inFlightPerConnection: number;
  readonly connectionsPerBroker: number;
  readonly messageSizeBytes: number;
  readonly keyed: boolean;
  readonly ratePerSecond: number;
  /** Measured messages to send after warm-up, or null to run for `durationMs`. */
  readonly messages: number | null;
  readonly durationMs: number | null;
  readonly warmupMs: number;
  /** e2e: the first 8 bytes of each value carry its intended send time (float64 epoch ms). */
  readonly stampSendTime: boolean;
  /** Acknowledgement latency of measured messages. */
  readonly latency: LatencyHistogram;
  /** How late the generator ran against the schedule, sampled once per generation turn. */
  readonly scheduleLag: LatencyHistogram;
}

export interface ProducerLoadResult {
  /** Every message sent, warm-up included. */
  readonly sentMessages: number;
  readonly measuredMessages: number;
  readonly measuredBytes: number;
  readonly measureStartMs: number;
  readonly lastAckMs: number;
  readonly requests: number;
  readonly batches: number;
}

/** A batch being filled or on its way, with the intended send time of each of its records. */
interface BatchSlot {
  readonly builder: BatchBuilder;
  readonly intendedMs: Float64Array;
  partition: number;
  openedAtMs: number;
  sealed: Buffer | null;
}

interface ProduceConnection {
  readonly connection: BrokerConnection;
  readonly version: number;
  inFlight: number;
}

interface LeaderGroup {
  readonly nodeId: number;
  readonly partitions: readonly number[];
  readonly connections: readonly ProduceConnection[];
}

export class ProducerLoad {
  readonly measureStartMs: number;
  private readonly options: ProducerLoadOptions;
  private readonly clock: Clock;
  private readonly limiter: RateLimiter;
  private readonly groups: readonly LeaderGroup[];
  private readonly partitionCount: number;
  private readonly payload: Buffer;
  private readonly payloadBytes: number;
  private readonly key: Buffer | null;
  private readonly endMs: number;
  private readonly freeSlots: BatchSlot[];
  private readonly openSlots: (BatchSlot | null)[];
  private readonly sealedQueues: BatchSlot[][];
  private stickyPartition = 0;
  private sent = 0;
  private measuredSent = 0;
  private acked = 0;
  private lastAckAtMs = 0;
  private requestCount = 0;
  private batchCount = 0;
  private generationDone = false;
  /** When the current generation turn began: the time its messages are handed to the client. */
  private turnStartedMs = 0;
  private stalled = false;
  private generateScheduled = false;
  private lingerTimer: NodeJS.Timeout | null = null;
  private generateTimer: NodeJS.Timeout | null = null;
  private failure: Error | null = null;
  private settle: { resolve: (result: ProducerLoadResult) => void; reject: (error: Error) => void } | null = null;

  private constructor(options: ProducerLoadOptions, groups: readonly LeaderGroup[]) {
    this.options = options;
    this.clock = options.clock;
    this.groups = groups;
    this.partitionCount = options.layout.leaderByPartition.length;
    const startMs = this.clock.nowMs();
    this.limiter = new RateLimiter(options.ratePerSecond, this.clock, startMs);
    this.measureStartMs = startMs + options.warmupMs;
    this.endMs = options.durationMs === null ? Number.POSITIVE_INFINITY : this.measureStartMs + options.durationMs;
    this.payload = randomPayload(options.messageSizeBytes);
    this.key = options.keyed ? Buffer.alloc(PerfLimits.keyBytes) : null;
    this.payloadBytes = options.messageSizeBytes + (this.key === null ? 0 : this.key.length);
    const totalConnections = groups.reduce((sum, group) => sum + group.connections.length, 0);
    const slotCount = totalConnections * options.inFlightPerConnection + 2 * this.partitionCount;
    this.freeSlots = createSlots(slotCount, options.batchSizeBytes, this.key === null ? -1 : this.key.length, options.messageSizeBytes);
    this.openSlots = new Array<BatchSlot | null>(this.partitionCount).fill(null);
    this.sealedQueues = Array.from({ length: this.partitionCount }, () => []);
  }

  /** Opens `connectionsPerBroker` connections to every leader of the topic. */
  static async open(options: ProducerLoadOptions): Promise<ProducerLoad> {
    const groups: LeaderGroup[] = [];
    try {
      for (const leader of options.layout.leaders.values()) {
        const connections: ProduceConnection[] = [];
        groups.push({ nodeId: leader.nodeId, partitions: partitionsLedBy(options.layout, leader.nodeId), connections });
        for (let index = 0; index < options.connectionsPerBroker; index++) {
          const connection = await BrokerConnection.connect({
            host: leader.host,
            port: leader.port,
            clientId: options.clientId,
            requestTimeoutMs: PerfLimits.requestTimeoutMs,
          });
          connections.push({ connection, version: connection.versionFor(ApiKey.Produce), inFlight: 0 });
        }
      }
    } catch (error) {
      await closeGroups(groups);
      throw error;
    }
    return new ProducerLoad(options, groups);
  }

  /** Measured messages acknowledged so far (for progress lines). */
  get ackedMessages(): number {
    return this.acked;
  }

  get ackedBytes(): number {
    return this.acked * this.payloadBytes;
  }

  get sentMessages(): number {
    return this.sent;
  }

  run(): Promise<ProducerLoadResult> {
    if (this.settle !== null) throw new Error('ProducerLoad.run called twice');
    return new Promise<ProducerLoadResult>((resolve, reject) => {
      this.settle = { resolve, reject };
      this.scheduleGenerate(0);
    });
  }

  async close(): Promise<void> {
    this.clearTimers();
    await closeGroups(this.groups);
  }

  private generateTurn(): void {
    this.generateScheduled = false;
    this.generateTimer = null;
    if (this.failure !== null || this.generationDone) return;
    const limiter = this.limiter;
    const limit = limiter.isUnlimited ? PerfLimits.maxMessagesPerGenerateTurn : limiter.due(PerfLimits.maxMessagesPerGenerateTurn);
    if (limit > 0 && !limiter.isUnlimited) {
      this.options.scheduleLag.recordMs(this.clock.nowMs() - limiter.intendedTimeMs(limiter.released));
    }
    let generated = 0;
    this.turnStartedMs = this.clock.nowMs();
    while (generated < limit) {
      const intendedMs = limiter.isUnlimited ? this.clock.nowMs() : limiter.intendedTimeMs(limiter.released + generated);
      if (this.isPastEnd(intendedMs)) {
        this.generationDone = true;
        break;
      }
      if (!this.appendMessage(intendedMs)) {
        this.stalled = true;
        break;
      }
      generated++;
    }
    limiter.release(generated);
    this.dispatchAll();
    if (this.generationDone) this.checkDone();
    else if (!this.stalled) this.scheduleGenerate(limiter.delayUntilNextMs());
  }

  private isPastEnd(intendedMs: number): boolean {
    if (this.options.messages !== null) return this.measuredSent >= this.options.messages;
    return intendedMs >= this.endMs;
  }

  /** Appends one message to its partition's open batch; false when no batch buffer is free. */
  private appendMessage(intendedMs: number): boolean {
    const partition = this.choosePartition();
    let slot = this.openSlots[partition] ?? this.openSlot(partition, intendedMs);
    if (slot === null) return false;
    const timestampMs = Math.floor(intendedMs);
    let valueAt = slot.builder.append(timestampMs, this.key, this.payload);
    if (valueAt < 0) {
      this.sealOpenSlot(partition);
      slot = this.openSlot(partition, intendedMs);
      if (slot === null) return false;
      valueAt = slot.builder.append(timestampMs, this.key, this.payload);
      if (valueAt < 0) throw new Error(`a ${this.payloadBytes}-byte record does not fit an empty batch`);
    }
    if (this.options.stampSendTime) {
      slot.builder.buffer.writeDoubleBE(intendedMs, valueAt);
      if (this.payload.length >= PerfLimits.appendTimeBytes) slot.builder.buffer.writeDoubleBE(this.turnStartedMs, valueAt + PerfLimits.sendTimeBytes);
    }
    slot.intendedMs[slot.builder.recordCount - 1] = intendedMs;
    this.sent++;
    if (intendedMs >= this.measureStartMs) this.measuredSent++;
    return true;
  }

  private choosePartition(): number {
    const key = this.key;
    if (key === null) return this.stickyPartition;
    // Key = the message's sequence number, so keyed runs spread like real distinct keys.
    key.writeUInt32BE(Math.floor(this.sent / 0x1_0000_0000), 0);
    key.writeUInt32BE(this.sent >>> 0, 4);
    return partitionForKey(key, this.partitionCount);
  }

  private openSlot(partition: number, nowMs: number): BatchSlot | null {
    const slot = this.freeSlots.pop();
    if (slot === undefined) return null;
    slot.builder.reset();
    slot.partition = partition;
    slot.openedAtMs = nowMs;
    slot.sealed = null;
    this.openSlots[partition] = slot;
    return slot;
  }

  private sealOpenSlot(partition: number): BatchSlot {
    const slot = this.openSlots[partition]!;
    slot.sealed = slot.builder.seal();
    this.openSlots[partition] = null;
    this.sealedQueues[partition]!.push(slot);
    if (partition === this.stickyPartition) this.stickyPartition = (partition + 1) % this.partitionCount;
    return slot;
  }

  private dispatchAll(): void {
    if (this.failure !== null) return;
    const nowMs = this.clock.nowMs();
    for (const group of this.groups) this.dispatch(group, nowMs);
    this.armLingerTimer(nowMs);
  }

  private dispatch(group: LeaderGroup, nowMs: number): void {
    for (;;) {
      const target = leastLoaded(group.connections, this.options.inFlightPerConnection);
      if (target === null) return;
      const slots = this.takeReadyBatches(group, nowMs);
      if (slots.length === 0) return;
      this.send(target, slots);
    }
  }

  /** Per partition of the group: its oldest sealed batch, else its open batch if ready. */
  private takeReadyBatches(group: LeaderGroup, nowMs: number): BatchSlot[] {
    const slots: BatchSlot[] = [];
    for (const partition of group.partitions) {
      const queued = this.sealedQueues[partition]!.shift();
      if (queued !== undefined) {
        slots.push(queued);
        continue;
      }
      const open = this.openSlots[partition];
      if (open !== undefined && open !== null && this.isReady(open, nowMs)) {
        this.sealOpenSlot(partition);
        slots.push(this.sealedQueues[partition]!.shift()!);
      }
    }
    return slots;
  }

  private isReady(slot: BatchSlot, nowMs: number): boolean {
    return this.generationDone || this.options.lingerMs === 0 || nowMs - slot.openedAtMs >= this.options.lingerMs;
  }

  private send(target: ProduceConnection, slots: BatchSlot[]): void {
    target.inFlight++;
    this.requestCount++;
    this.batchCount += slots.length;
    const partitions = slots.map((slot) => ({ partitionIndex: slot.partition, records: slot.sealed }));
    const body = { transactionalId: null, acks: this.options.acks, timeoutMs: PerfLimits.requestTimeoutMs, topics: [{ name: this.options.layout.topic, partitions }] };
    const onError = (error: unknown): void => this.fail(error instanceof Error ? error : new Error(String(error)));
    if (this.options.acks === 0) {
      target.connection.sendWithoutResponse(ApiKey.Produce, target.version, body).then(() => this.onAcknowledged(target, slots, null), onError);
    } else {
      target.connection
        .request(ApiKey.Produce, target.version, body, PerfLimits.requestTimeoutMs)
        .then((response) => this.onAcknowledged(target, slots, response), onError);
    }
  }

  private onAcknowledged(target: ProduceConnection, slots: readonly BatchSlot[], response: ResponseBody<typeof ApiKey.Produce> | null): void {
    if (this.failure !== null) return;
    const ackMs = this.clock.nowMs();
    if (response !== null) {
      for (const topic of response.responses) {
        for (const partition of topic.partitions) {
          if (partition.errorCode !== ErrorCode.NONE) {
            this.fail(new KafkaError(partition.errorCode, `produce to ${topic.name}-${partition.partitionIndex}`));
            return;
          }
        }
      }
    }
    target.inFlight--;
    for (const slot of slots) {
      this.recordAcknowledged(slot, ackMs);
      this.freeSlots.push(slot);
    }
    this.lastAckAtMs = ackMs;
    this.dispatchAll();
    if (this.generationDone) {
      this.checkDone();
    } else if (this.stalled) {
      this.stalled = false;
      this.scheduleGenerate(this.limiter.delayUntilNextMs());
    }
  }

  private recordAcknowledged(slot: BatchSlot, ackMs: number): void {
    const count = slot.builder.recordCount;
    const intendedMs = slot.intendedMs;
    const measureStartMs = this.measureStartMs;
    const latency = this.options.latency;
    for (let index = 0; index < count; index++) {
      const sentAtMs = intendedMs[index]!;
      if (sentAtMs < measureStartMs) continue;
      latency.recordMs(ackMs - sentAtMs);
      this.acked++;
    }
  }

  private scheduleGenerate(delayMs: number): void {
    if (this.generateScheduled || this.failure !== null) return;
    this.generateScheduled = true;
    // setImmediate lets responses in between turns; a rate-limited run sleeps until the next
    // message is due, at the timer's 1 ms granularity (lateness that the latencies include).
    if (delayMs <= 0) setImmediate(() => this.generateTurn());
    else this.generateTimer = setTimeout(() => this.generateTurn(), Math.max(1, Math.floor(delayMs)));
  }

  /** With linger, wakes the dispatcher when the oldest open batch has waited long enough. */
  private armLingerTimer(nowMs: number): void {
    if (this.options.lingerMs === 0 || this.lingerTimer !== null || this.generationDone) return;
    let oldestMs = Number.POSITIVE_INFINITY;
    for (const slot of this.openSlots) if (slot !== null && slot.openedAtMs < oldestMs) oldestMs = slot.openedAtMs;
    if (oldestMs === Number.POSITIVE_INFINITY) return;
    const delayMs = Math.max(0, oldestMs + this.options.lingerMs - nowMs);
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = null;
      this.dispatchAll();
    }, Math.ceil(delayMs));
  }

  private checkDone(): void {
    if (this.settle === null || this.failure !== null) return;
    for (const group of this.groups) for (const connection of group.connections) if (connection.inFlight > 0) return;
    for (let partition = 0; partition < this.partitionCount; partition++) {
      if (this.openSlots[partition] !== null || this.sealedQueues[partition]!.length > 0) return;
    }
    this.clearTimers();
    const settle = this.settle;
    this.settle = null;
    settle.resolve({
      sentMessages: this.sent,
      measuredMessages: this.acked,
      measuredBytes: this.acked * this.payloadBytes,
      measureStartMs: this.measureStartMs,
      lastAckMs: this.lastAckAtMs,
      requests: this.requestCount,
      batches: this.batchCount,
    });
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    this.clearTimers();
    const settle = this.settle;
    this.settle = null;
    settle?.reject(error);
  }

  private clearTimers(): void {
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    if (this.generateTimer !== null) clearTimeout(this.generateTimer);
    this.lingerTimer = null;
    this.generateTimer = null;
  }
}

function createSlots(count: number, batchSizeBytes: number, keyBytes: number, valueBytes: number): BatchSlot[] {
  const capacityBytes = Math.max(batchSizeBytes, RECORDS_OFFSET + maxRecordSizeBytes(keyBytes, valueBytes));
  const maxRecords = Math.floor((capacityBytes - RECORDS_OFFSET) / recordSizeBytes(0, 0, keyBytes, valueBytes)) + 1;
  const slots: BatchSlot[] = [];
  for (let index = 0; index < count; index++) {
    slots.push({ builder: new BatchBuilder(capacityBytes), intendedMs: new Float64Array(maxRecords), partition: -1, openedAtMs: 0, sealed: null });
  }
  return slots;
}

/** Random bytes, so that nothing along the way can profit from a compressible payload. */
function randomPayload(sizeBytes: number): Buffer {
  const payload = Buffer.allocUnsafe(sizeBytes);
  let seed = 0x2545f491;
  for (let index = 0; index < sizeBytes; index++) {
    seed = (Math.imul(seed, 1103515245) + 12345) | 0;
    payload[index] = seed >>> 24;
  }
  return payload;
}

function partitionsLedBy(layout: TopicLayout, nodeId: number): number[] {
  const partitions: number[] = [];
  layout.leaderByPartition.forEach((leaderId, partition) => {
    if (leaderId === nodeId) partitions.push(partition);
  });
  return partitions;
}

function leastLoaded(connections: readonly ProduceConnection[], maxInFlight: number): ProduceConnection | null {
  let best: ProduceConnection | null = null;
  for (const candidate of connections) {
    if (candidate.inFlight >= maxInFlight) continue;
    if (best === null || candidate.inFlight < best.inFlight) best = candidate;
  }
  return best;
}

async function closeGroups(groups: readonly LeaderGroup[]): Promise<void> {
  await Promise.all(groups.flatMap((group) => group.connections.map((entry) => entry.connection.close())));
}
