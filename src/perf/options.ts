/**
 * What a load-generator run is asked to do, its defaults and its bounds, named once.
 */
import type { Acks } from '../client/producer.js';

export type PerfMode = 'produce' | 'consume' | 'e2e';
export type PerfClientName = 'ours' | 'kafkajs';

export interface PerfOptions {
  readonly mode: PerfMode;
  readonly client: PerfClientName;
  readonly bootstrapServers: string;
  readonly topic: string;
  /** Partitions of the topic when this run creates it; null: the broker's num.partitions. */
  readonly partitions: number | null;
  readonly messageSizeBytes: number;
  /** Messages to measure (after warm-up); null when the run is bounded by `durationS`. */
  readonly messages: number | null;
  /** Seconds to measure (after warm-up); null when bounded by `messages`. */
  readonly durationS: number | null;
  /** Messages per second; 0 = unlimited. */
  readonly ratePerSecond: number;
  /** Give each message an 8-byte key (partitioned by murmur2, as Kafka's default partitioner). */
  readonly keyed: boolean;
  readonly acks: Acks;
  /** Kafka's batch.size: a partition's batch is sent when the next record would overflow it. */
  readonly batchSizeBytes: number;
  /** Kafka's linger.ms: how long a partial batch waits for more records. */
  readonly lingerMs: number;
  /** Requests in flight per connection (Kafka's max.in.flight.requests.per.connection). */
  readonly inFlightPerConnection: number;
  /** Connections per broker. */
  readonly connectionsPerBroker: number;
  readonly warmupS: number;
  /** Fetch max_bytes per request and per partition (consume and e2e). */
  readonly fetchMaxBytes: number;
  /** Print a progress line a second here (null: quiet). */
  readonly progressStream: NodeJS.WritableStream | null;
}

export const PerfDefaults = {
  bootstrapServers: '127.0.0.1:9092',
  topic: 'perf-test',
  messageSizeBytes: 100,
  /** Produce and e2e without --messages or --duration-s. */
  messages: 1_000_000,
  ratePerSecond: 0,
  acks: 1 as Acks,
  batchSizeBytes: 16_384,
  lingerMs: 0,
  inFlightPerConnection: 5,
  connectionsPerBroker: 1,
  warmupS: 0,
  fetchMaxBytes: 8 * 1024 * 1024,
} as const;

/**
 * Options for a run started from code (benches): the CLI's defaults, no progress lines, a
 * produce bounded by `messages` unless told otherwise; `overrides` name the rest.
 */
export function quietPerfOptions(overrides: Partial<PerfOptions> & Pick<PerfOptions, 'mode' | 'bootstrapServers' | 'topic'>): PerfOptions {
  return {
    client: 'ours',
    partitions: 1,
    messageSizeBytes: PerfDefaults.messageSizeBytes,
    messages: null,
    durationS: null,
    ratePerSecond: PerfDefaults.ratePerSecond,
    keyed: false,
    acks: PerfDefaults.acks,
    batchSizeBytes: PerfDefaults.batchSizeBytes,
    lingerMs: PerfDefaults.lingerMs,
    inFlightPerConnection: PerfDefaults.inFlightPerConnection,
    connectionsPerBroker: PerfDefaults.connectionsPerBroker,
    warmupS: PerfDefaults.warmupS,
    fetchMaxBytes: PerfDefaults.fetchMaxBytes,
    progressStream: null,
    ...overrides,
  };
}

export const PerfLimits = {
  maxMessageSizeBytes: 1024 * 1024,
  maxBatchSizeBytes: 1024 * 1024,
  maxInFlightPerConnection: 1000,
  maxConnectionsPerBroker: 1000,
  maxRatePerSecond: 100_000_000,
  /** Bytes at the start of each value holding its send time in e2e runs (a float64). */
  sendTimeBytes: 8,
  /**
   * e2e values this long or longer also carry, after the intended send time, the time the
   * message was handed to the client (a float64): the latency from there leaves out the load
   * generator's own lateness, as Kafka's EndToEndLatency tool measures.
   */
  appendTimeBytes: 16,
  /** Key size with --keyed. */
  keyBytes: 8,
  /** Records generated per event-loop turn at an unlimited rate, before requests are sent. */
  maxMessagesPerGenerateTurn: 16_384,
  /** A consumer that gets no record for this long ends the run (with an error if short). */
  consumeIdleTimeoutMs: 15_000,
  /** Time the e2e consumer has, after the last ack, to read the last records. */
  e2eDrainTimeoutMs: 30_000,
  /** Fetch long-poll wait: appends wake it, so this only bounds how fast a stop is noticed. */
  fetchMaxWaitMs: 200,
  requestTimeoutMs: 60_000,
} as const;

/** Bytes of payload a message carries (value and key), the base of MB/s for produce and e2e. */
export function messagePayloadBytes(options: Pick<PerfOptions, 'messageSizeBytes' | 'keyed'>): number {
  return options.messageSizeBytes + (options.keyed ? PerfLimits.keyBytes : 0);
}
