/**
 * The same produce / consume / e2e loads through kafkajs 2.2.4 (a dev dependency, loaded only
 * when `--client kafkajs` asks for it), to compare clients against the same broker.
 *
 * Produce uses kafkajs' public producer: each `send` carries about one `batchSizeBytes` batch
 * per partition, and up to in-flight x leaders sends run at once. kafkajs has no linger and one
 * connection per broker, so --linger-ms and --connections do not apply.
 *
 * Consume: kafkajs' only public consumer joins a consumer group, which the broker does not serve
 * yet. Its internal modules are plain CommonJS and are used unmodified instead: a `Cluster` (what
 * `new Kafka()` builds) for metadata and leaders, and `Broker.fetch`, which sends Fetch to a
 * leader and decodes the record batches exactly as kafkajs' consumer does.
 */
import { ConsumerProgress } from './consumer-progress.js';
import { createRequire } from 'node:module';
import type { Acks } from '../client/producer.js';
import type { Clock } from '../runtime/clock.js';
import type { ConsumerLoadResult } from './consumer-load.js';
import type { LatencyHistogram } from './histogram.js';
import { PerfLimits } from './options.js';
import type { ProducerLoadResult } from './producer-load.js';
import { RateLimiter } from './rate-limiter.js';
import type { TopicLayout } from './topic-setup.js';

const require = createRequire(import.meta.url);

interface KafkajsMessage {
  key?: Buffer;
  value: Buffer;
  timestamp: string;
}

interface KafkajsProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: KafkajsMessage[]; acks: number; timeout: number }): Promise<unknown>;
}

interface KafkajsModule {
  Kafka: new (config: Record<string, unknown>) => { producer(config: Record<string, unknown>): KafkajsProducer };
  logLevel: { NOTHING: number; ERROR: number };
}

interface KafkajsFetchMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  isControlRecord?: boolean;
}

interface KafkajsBroker {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: { partition: number; errorCode: number; messages: KafkajsFetchMessage[] }[] }[] }>;
}

interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string | number }): Promise<KafkajsBroker>;
}

function loadKafkajs(): KafkajsModule {
  try {
    return require('kafkajs') as KafkajsModule;
  } catch (error) {
    throw new Error(`--client kafkajs needs the kafkajs package (a dev dependency): ${(error as Error).message}`);
  }
}

function brokerList(bootstrapServers: string): string[] {
  return bootstrapServers.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
}

export interface KafkajsProducerOptions {
  readonly bootstrapServers: string;
  readonly layout: TopicLayout;
  readonly clock: Clock;
  readonly acks: Acks;
  readonly batchSizeBytes: number;
  readonly inFlightPerConnection: number;
  readonly messageSizeBytes: number;
  readonly keyed: boolean;
  readonly ratePerSecond: number;
  readonly messages: number | null;
  readonly durationMs: number | null;
  readonly warmupMs: number;
  readonly stampSendTime: boolean;
  readonly latency: LatencyHistogram;
}

/** Rough bytes a record adds to a batch beyond its key and value (kafkajs' own encoding). */
const recordOverheadBytes = 10;

export class KafkajsProducerLoad {
  readonly measureStartMs: number;
  private readonly options: KafkajsProducerOptions;
  private readonly producer: KafkajsProducer;
  private readonly limiter: RateLimiter;
  private readonly endMs: number;
  private readonly payload: Buffer;
  private readonly payloadBytes: number;
  private readonly messagesPerSend: number;
  private readonly maxConcurrentSends: number;
  private inFlight = 0;
  private sent = 0;
  private measuredSent = 0;
  private acked = 0;
  private lastAckAtMs = 0;
  private requests = 0;
  private generationDone = false;
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private failure: Error | null = null;
  private settle: { resolve: (result: ProducerLoadResult) => void; reject: (error: Error) => void } | null = null;

  private constructor(options: KafkajsProducerOptions, producer: KafkajsProducer) {
    this.options = options;
    this.producer = producer;
    const startMs = options.clock.nowMs();
    this.limiter = new RateLimiter(options.ratePerSecond, options.clock, startMs);
    this.measureStartMs = startMs + options.warmupMs;
    this.endMs = options.durationMs === null ? Number.POSITIVE_INFINITY : this.measureStartMs + options.durationMs;
    this.payload = Buffer.alloc(options.messageSizeBytes, 0x6b);
    this.payloadBytes = options.messageSizeBytes + (options.keyed ? PerfLimits.keyBytes : 0);
    const recordsPerBatch = Math.max(1, Math.floor(options.batchSizeBytes / (this.payloadBytes + recordOverheadBytes)));
    this.messagesPerSend = recordsPerBatch * options.layout.leaderByPartition.length;
    this.maxConcurrentSends = options.inFlightPerConnection * options.layout.leaders.size;
  }

  static async open(options: KafkajsProducerOptions): Promise<KafkajsProducerLoad> {
    const { Kafka, logLevel } = loadKafkajs();
    const kafka = new Kafka({ clientId: 'minikafka-perf-kafkajs', brokers: brokerList(options.bootstrapServers), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: options.inFlightPerConnection });
    await producer.connect();
    return new KafkajsProducerLoad(options, producer);
  }

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
    return new Promise<ProducerLoadResult>((resolve, reject) => {
      this.settle = { resolve, reject };
      this.schedule(0);
    });
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    await this.producer.disconnect();
  }

  private turn(): void {
    this.scheduled = false;
    this.timer = null;
    if (this.failure !== null || this.generationDone) return;
    while (this.inFlight < this.maxConcurrentSends && !this.generationDone) {
      const due = this.limiter.isUnlimited ? this.messagesPerSend : this.limiter.due(this.messagesPerSend);
      if (due === 0) break;
      this.sendChunk(due);
    }
    if (this.generationDone) this.checkDone();
    else if (this.inFlight < this.maxConcurrentSends) this.schedule(this.limiter.delayUntilNextMs());
  }

  private sendChunk(limit: number): void {
    const clock = this.options.clock;
    const messages: KafkajsMessage[] = [];
    const intendedMs = new Float64Array(limit);
    for (let index = 0; index < limit; index++) {
      const sentAtMs = this.limiter.isUnlimited ? clock.nowMs() : this.limiter.intendedTimeMs(this.limiter.released + index);
      if (this.options.messages !== null ? this.measuredSent >= this.options.messages : sentAtMs >= this.endMs) {
        this.generationDone = true;
        break;
      }
      messages.push(this.message(sentAtMs));
      intendedMs[messages.length - 1] = sentAtMs;
      this.sent++;
      if (sentAtMs >= this.measureStartMs) this.measuredSent++;
    }
    this.limiter.release(messages.length);
    if (messages.length === 0) return;
    this.inFlight++;
    this.requests++;
    this.producer
      .send({ topic: this.options.layout.topic, messages, acks: this.options.acks, timeout: PerfLimits.requestTimeoutMs })
      .then(() => this.onAcknowledged(intendedMs, messages.length), (error: Error) => this.fail(error));
  }

  private message(sentAtMs: number): KafkajsMessage {
    let value = this.payload;
    if (this.options.stampSendTime) {
      value = Buffer.from(this.payload);
      value.writeDoubleBE(sentAtMs, 0);
      if (value.length >= PerfLimits.appendTimeBytes) value.writeDoubleBE(this.options.clock.nowMs(), PerfLimits.sendTimeBytes);
    }
    const message: KafkajsMessage = { value, timestamp: String(Math.floor(sentAtMs)) };
    if (this.options.keyed) {
      const key = Buffer.allocUnsafe(PerfLimits.keyBytes);
      key.writeUInt32BE(Math.floor(this.sent / 0x1_0000_0000), 0);
      key.writeUInt32BE(this.sent >>> 0, 4);
      message.key = key;
    }
    return message;
  }

  private onAcknowledged(intendedMs: Float64Array, count: number): void {
    if (this.failure !== null) return;
    const ackMs = this.options.clock.nowMs();
    for (let index = 0; index < count; index++) {
      const sentAtMs = intendedMs[index]!;
      if (sentAtMs < this.measureStartMs) continue;
      this.options.latency.recordMs(ackMs - sentAtMs);
      this.acked++;
    }
    this.lastAckAtMs = ackMs;
    this.inFlight--;
    if (this.generationDone) this.checkDone();
    else this.schedule(this.limiter.delayUntilNextMs());
  }

  private schedule(delayMs: number): void {
    if (this.scheduled || this.failure !== null) return;
    this.scheduled = true;
    if (delayMs <= 0) setImmediate(() => this.turn());
    else this.timer = setTimeout(() => this.turn(), Math.max(1, Math.floor(delayMs)));
  }

  private checkDone(): void {
    if (this.inFlight > 0 || this.settle === null) return;
    const settle = this.settle;
    this.settle = null;
    settle.resolve({
      sentMessages: this.sent,
      measuredMessages: this.acked,
      measuredBytes: this.acked * this.payloadBytes,
      measureStartMs: this.measureStartMs,
      lastAckMs: this.lastAckAtMs,
      requests: this.requests,
      batches: this.requests,
    });
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    const settle = this.settle;
    this.settle = null;
    settle?.reject(error);
  }
}

export interface KafkajsConsumerOptions {
  readonly bootstrapServers: string;
  readonly layout: TopicLayout;
  readonly clock: Clock;
  readonly fetchMaxBytes: number;
  readonly startOffsets: readonly number[];
  readonly endOffsets: readonly number[] | null;
  /** Stop once this many records are measured; null: no limit. */
  readonly maxMeasuredMessages: number | null;
  readonly measureStartMs: number;
  readonly endToEndLatency: LatencyHistogram | null;
  readonly measureFromSendTimeMs: number;
  readonly endToEndFromAppend?: LatencyHistogram | null;
}

/** Builds the same Cluster object `new Kafka(...)` builds internally, with kafkajs' defaults. */
function createCluster(bootstrapServers: string): KafkajsCluster {
  const Cluster = require('kafkajs/src/cluster') as new (options: Record<string, unknown>) => KafkajsCluster;
  const { createLogger, LEVELS } = require('kafkajs/src/loggers') as { createLogger(options: Record<string, unknown>): unknown; LEVELS: { NOTHING: number } };
  const LoggerConsole = require('kafkajs/src/loggers/console') as unknown;
  const socketFactory = require('kafkajs/src/network/socketFactory') as () => unknown;
  const InstrumentationEventEmitter = require('kafkajs/src/instrumentation/emitter') as new () => unknown;
  return new Cluster({
    logger: createLogger({ level: LEVELS.NOTHING, logCreator: LoggerConsole }),
    socketFactory: socketFactory(),
    brokers: brokerList(bootstrapServers),
    clientId: 'minikafka-perf-kafkajs',
    connectionTimeout: 3000,
    requestTimeout: PerfLimits.requestTimeoutMs,
    enforceRequestTimeout: true,
    metadataMaxAge: 300_000,
    retry: { retries: 3, initialRetryTime: 100 },
    allowAutoTopicCreation: false,
    maxInFlightRequests: null,
    isolationLevel: 0,
    instrumentationEmitter: new InstrumentationEventEmitter(),
  });
}

export class KafkajsConsumerLoad extends ConsumerProgress {
  private readonly options: KafkajsConsumerOptions;
  private readonly cluster: KafkajsCluster;
  private readonly positions: number[];
  private lastRecordAtMs = 0;
  private lastProgressMs = 0;
  private fetches = 0;
  private endReason: ConsumerLoadResult['endReason'] = 'stopped';

  private constructor(options: KafkajsConsumerOptions, cluster: KafkajsCluster) {
    super(options.maxMeasuredMessages);
    this.options = options;
    this.cluster = cluster;
    this.positions = [...options.startOffsets];
  }

  static async open(options: KafkajsConsumerOptions): Promise<KafkajsConsumerLoad> {
    loadKafkajs();
    const cluster = createCluster(options.bootstrapServers);
    await cluster.connect();
    await cluster.addTargetTopic(options.layout.topic);
    return new KafkajsConsumerLoad(options, cluster);
  }


  async run(idleTimeoutMs: number = PerfLimits.consumeIdleTimeoutMs): Promise<ConsumerLoadResult> {
    this.lastProgressMs = this.options.clock.nowMs();
    const partitions = this.options.layout.leaderByPartition.map((_, partition) => partition);
    const byLeader = this.cluster.findLeaderForPartitions(this.options.layout.topic, partitions);
    await Promise.all(
      Object.entries(byLeader).map(async ([nodeId, led]) => this.fetchLoop(await this.cluster.findBroker({ nodeId }), led, idleTimeoutMs)),
    );
    return {
      consumedMessages: this.consumed,
      measuredMessages: this.measured,
      measuredBytes: this.measuredByteCount,
      measureStartMs: this.options.measureStartMs,
      lastRecordMs: this.lastRecordAtMs,
      fetches: this.fetches,
      endReason: this.endReason,
    };
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.cluster.disconnect();
  }

  private reachedEnd(partition: number): boolean {
    const endOffsets = this.options.endOffsets;
    return endOffsets !== null && this.positions[partition]! >= endOffsets[partition]!;
  }

  private finish(reason: ConsumerLoadResult['endReason']): void {
    if (!this.stopped) this.endReason = reason;
    this.stopped = true;
  }

  private async fetchLoop(broker: KafkajsBroker, partitions: readonly number[], idleTimeoutMs: number): Promise<void> {
    const clock = this.options.clock;
    while (!this.stopped) {
      if (this.reachedTarget()) return this.finish('target');
      const pending = partitions.filter((partition) => !this.reachedEnd(partition));
      if (pending.length === 0) {
        if (this.options.layout.leaderByPartition.every((_, partition) => this.reachedEnd(partition))) this.finish('target');
        return;
      }
      if (clock.nowMs() - this.lastProgressMs > idleTimeoutMs) return this.finish('idle');
      const response = await broker.fetch({
        replicaId: -1,
        isolationLevel: 0,
        maxWaitTime: PerfLimits.fetchMaxWaitMs,
        minBytes: 1,
        maxBytes: this.options.fetchMaxBytes,
        topics: [
          {
            topic: this.options.layout.topic,
            partitions: pending.map((partition) => ({ partition, fetchOffset: String(this.positions[partition]), maxBytes: this.options.fetchMaxBytes })),
          },
        ],
      });
      this.fetches++;
      const receivedMs = clock.nowMs();
      for (const topic of response.responses) {
        for (const partition of topic.partitions) {
          if (partition.errorCode !== 0) throw new Error(`kafkajs fetch ${topic.topicName}-${partition.partition}: error code ${partition.errorCode}`);
          this.countMessages(partition.partition, partition.messages, receivedMs);
        }
      }
    }
  }

  private countMessages(partition: number, messages: readonly KafkajsFetchMessage[], receivedMs: number): void {
    let next = this.positions[partition]!;
    const before = this.consumed;
    let bytes = 0;
    const latency = this.options.endToEndLatency;
    for (const message of messages) {
      const offset = Number(message.offset);
      if (offset < next) continue;
      next = offset + 1;
      if (message.isControlRecord === true) continue;
      this.consumed++;
      const value = message.value;
      const messageBytes = (value === null ? 0 : value.length) + (message.key === null ? 0 : message.key.length);
      bytes += messageBytes;
      if (latency !== null && value !== null && value.length >= PerfLimits.sendTimeBytes) {
        const sentAtMs = value.readDoubleBE(0);
        if (sentAtMs >= this.options.measureFromSendTimeMs) {
          latency.recordMs(receivedMs - sentAtMs);
          if (value.length >= PerfLimits.appendTimeBytes) this.options.endToEndFromAppend?.recordMs(receivedMs - value.readDoubleBE(PerfLimits.sendTimeBytes));
          this.measured++;
          this.measuredByteCount += messageBytes;
        }
      }
    }
    this.positions[partition] = next;
    if (this.consumed === before) return;
    this.lastProgressMs = receivedMs;
    this.lastRecordAtMs = receivedMs;
    if (latency === null && receivedMs >= this.options.measureStartMs) {
      const counted = this.consumed - before;
      const maxMeasured = this.options.maxMeasuredMessages;
      const taken = maxMeasured === null ? counted : Math.min(counted, maxMeasured - this.measured);
      this.measured += taken;
      this.measuredByteCount += Math.round((bytes * taken) / counted);
    }
  }
}
