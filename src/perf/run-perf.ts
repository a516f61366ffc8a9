/**
 * One load-generator run, `produce`, `consume` or `e2e`, with our client or kafkajs: prepares
 * the topic, runs the loads with a progress reporter, and returns a `PerfResult` that the JSON
 * and HTML reports are made from. Used by `minikafka perf` and by native-free-bench.
 *
 * e2e timing: the producer writes each message's intended send time (epoch ms as a float64,
 * big-endian, from `perfClock`) into the first 8 bytes of its value; the consumer, in the same
 * process and on the same clock, records `receive time - send time`. The record timestamp
 * carries the same time in whole milliseconds, too coarse for sub-millisecond latencies.
 */
import { cpus, totalmem } from 'node:os';
import { ClusterClient } from '../client/cluster-client.js';
import { listOffsets } from '../client/list-offsets.js';
import type { Clock } from '../runtime/clock.js';
import { perfClock } from './clock.js';
import { ConsumerLoad, type ConsumerLoadResult } from './consumer-load.js';
import { LatencyHistogram, type LatencySummary, type PercentilePoint } from './histogram.js';
import { KafkajsConsumerLoad, KafkajsProducerLoad } from './kafkajs-load.js';
import { PerfLimits, type PerfClientName, type PerfMode, type PerfOptions } from './options.js';
import { ProducerLoad, type ProducerLoadResult } from './producer-load.js';
import { ProgressReporter, type ThroughputSample } from './progress.js';
import { prepareTopic, type TopicLayout } from './topic-setup.js';

export interface LatencyReport extends LatencySummary {
  /** The percentile distribution, for plots (see `LatencyHistogram.percentileCurve`). */
  readonly curve: readonly PercentilePoint[];
  /** The whole histogram (microseconds), compressed base64, for merging or re-plotting. */
  readonly histogramBase64: string;
}

/** What MB/s counts: message keys and values, or whole record batches as fetched. */
export type BytesBasis = 'payload' | 'record batches';

export interface PerfResult {
  readonly tool: 'minikafka perf';
  readonly schemaVersion: 1;
  readonly mode: PerfMode;
  readonly client: PerfClientName;
  readonly startedAt: string;
  readonly bootstrapServers: string;
  readonly topic: string;
  readonly partitions: number;
  readonly leaders: number;
  readonly settings: Record<string, number | string | boolean | null>;
  /** Measured messages (warm-up excluded). */
  readonly messages: number;
  readonly bytes: number;
  readonly bytesBasis: BytesBasis;
  readonly durationS: number;
  readonly messagesPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly latency: {
    /** Produce: from each message's intended send time to its acknowledgement. */
    readonly produce: LatencyReport | null;
    /** e2e: from intended send time to receipt by the consumer. */
    readonly endToEnd: LatencyReport | null;
    /**
     * e2e: from the time each message was handed to the client to its receipt: the same path
     * without the load generator's lateness against its schedule (values of 16+ bytes).
     */
    readonly endToEndFromAppend: LatencyReport | null;
    /** Rate-limited runs: how late generation turns ran against the schedule (included above). */
    readonly scheduleLag: LatencySummary | null;
  };
  readonly timeSeries: readonly ThroughputSample[];
  readonly details: Record<string, number | string>;
  readonly notes: readonly string[];
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly memoryGiB: number; readonly platform: string; readonly node: string };
}

/** A run that could not measure what it was asked to (the result still says what happened). */
export class PerfRunError extends Error {
  readonly result: PerfResult;

  constructor(message: string, result: PerfResult) {
    super(message);
    this.name = 'PerfRunError';
    this.result = result;
  }
}

const bytesPerMegabyte = 1e6;

export async function runPerf(options: PerfOptions, clock: Clock = perfClock): Promise<PerfResult> {
  if (options.mode === 'e2e' && options.messageSizeBytes < PerfLimits.sendTimeBytes) {
    throw new RangeError(`e2e needs --message-size of at least ${PerfLimits.sendTimeBytes} bytes (the send time rides in the value)`);
  }
  const startedAt = new Date().toISOString();
  const cpuAtStart = process.cpuUsage();
  const cluster = new ClusterClient({ bootstrapServers: options.bootstrapServers, clientId: 'minikafka-perf', requestTimeoutMs: PerfLimits.requestTimeoutMs });
  try {
    const layout = await prepareTopic(cluster, options.topic, options.partitions);
    const run: RunContext = { options, clock, cluster, layout, startedAt, cpuAtStart, notes: [...layout.notes] };
    if (options.client === 'kafkajs') {
      run.notes.push('kafkajs: one connection per broker and no linger; --connections and --linger-ms do not apply');
    }
    switch (options.mode) {
      case 'produce':
        return await runProduce(run);
      case 'consume':
        return await runConsume(run);
      case 'e2e':
        return await runEndToEnd(run);
    }
  } finally {
    await cluster.close();
  }
}

interface RunContext {
  readonly options: PerfOptions;
  readonly clock: Clock;
  readonly cluster: ClusterClient;
  readonly layout: TopicLayout;
  readonly startedAt: string;
  readonly cpuAtStart: NodeJS.CpuUsage;
  readonly notes: string[];
}

type AnyProducerLoad = ProducerLoad | KafkajsProducerLoad;
type AnyConsumerLoad = ConsumerLoad | KafkajsConsumerLoad;

function openProducer(run: RunContext, latency: LatencyHistogram, scheduleLag: LatencyHistogram): Promise<AnyProducerLoad> {
  const { options, clock, layout } = run;
  const common = {
    layout,
    clock,
    acks: options.acks,
    batchSizeBytes: options.batchSizeBytes,
    inFlightPerConnection: options.inFlightPerConnection,
    messageSizeBytes: options.messageSizeBytes,
    keyed: options.keyed,
    ratePerSecond: options.ratePerSecond,
    messages: options.messages,
    durationMs: options.durationS === null ? null : options.durationS * 1000,
    warmupMs: options.warmupS * 1000,
    stampSendTime: options.mode === 'e2e',
    latency,
  };
  if (options.client === 'kafkajs') return KafkajsProducerLoad.open({ ...common, bootstrapServers: options.bootstrapServers });
  return ProducerLoad.open({
    ...common,
    clientId: 'minikafka-perf-producer',
    lingerMs: options.lingerMs,
    connectionsPerBroker: options.connectionsPerBroker,
    scheduleLag,
  });
}

interface ConsumerPlan {
  readonly startOffsets: readonly number[];
  readonly endOffsets: readonly number[] | null;
  readonly maxMeasuredMessages: number | null;
  readonly measureStartMs: number;
  readonly endToEndLatency: LatencyHistogram | null;
  readonly measureFromSendTimeMs: number;
  readonly endToEndFromAppend?: LatencyHistogram | null;
}

function openConsumer(run: RunContext, plan: ConsumerPlan): Promise<AnyConsumerLoad> {
  const { options, clock, layout } = run;
  const common = { layout, clock, fetchMaxBytes: options.fetchMaxBytes, ...plan };
  if (options.client === 'kafkajs') return KafkajsConsumerLoad.open({ ...common, bootstrapServers: options.bootstrapServers });
  return ConsumerLoad.open({ ...common, clientId: 'minikafka-perf-consumer', connectionsPerBroker: options.connectionsPerBroker });
}

async function logOffsets(run: RunContext, query: 'earliest' | 'latest'): Promise<number[]> {
  const topic = run.layout.topic;
  const requests = run.layout.leaderByPartition.map((_, partition) => ({ topic, partition, query }));
  const offsets = await listOffsets(run.cluster, requests);
  return offsets.map((entry) => Number(entry.offset));
}

async function runProduce(run: RunContext): Promise<PerfResult> {
  const latency = new LatencyHistogram();
  const scheduleLag = new LatencyHistogram();
  const producer = await openProducer(run, latency, scheduleLag);
  const progress = new ProgressReporter('perf produce', run.clock, run.options.progressStream, () => ({
    messages: producer.ackedMessages,
    bytes: producer.ackedBytes,
    p99Ms: latency.count === 0 ? null : latency.percentileMs(99),
  }));
  progress.start();
  let result: ProducerLoadResult;
  try {
    result = await producer.run();
  } finally {
    progress.stop();
    await producer.close();
  }
  const durationS = Math.max(0, result.lastAckMs - result.measureStartMs) / 1000;
  return assemble(run, {
    messages: result.measuredMessages,
    bytes: result.measuredBytes,
    bytesBasis: 'payload',
    durationS,
    produce: latency,
    endToEnd: null,
    scheduleLag,
    timeSeries: progress.samples,
    details: { sentMessages: result.sentMessages, produceRequests: result.requests, batches: result.batches },
  });
}

async function runConsume(run: RunContext): Promise<PerfResult> {
  const { options, clock } = run;
  const startOffsets = await logOffsets(run, 'earliest');
  const toEnd = options.messages === null && options.durationS === null;
  const endOffsets = toEnd ? await logOffsets(run, 'latest') : null;
  const measureStartMs = clock.nowMs() + options.warmupS * 1000;
  const consumer = await openConsumer(run, {
    startOffsets,
    endOffsets,
    maxMeasuredMessages: options.messages,
    measureStartMs,
    endToEndLatency: null,
    measureFromSendTimeMs: 0,
  });
  const progress = new ProgressReporter('perf consume', clock, options.progressStream, () => ({
    messages: consumer.measuredMessages,
    bytes: consumer.measuredBytes,
    p99Ms: null,
  }));
  const stopTimer = options.durationS === null ? null : setTimeout(() => consumer.stop(), options.warmupS * 1000 + options.durationS * 1000);
  progress.start();
  let result: ConsumerLoadResult;
  try {
    result = await consumer.run();
  } finally {
    if (stopTimer !== null) clearTimeout(stopTimer);
    progress.stop();
    await consumer.close();
  }
  const endMs = options.durationS === null ? result.lastRecordMs : Math.max(clock.nowMs(), result.lastRecordMs);
  const perf = assemble(run, {
    messages: result.measuredMessages,
    bytes: result.measuredBytes,
    bytesBasis: options.client === 'ours' ? 'record batches' : 'payload',
    durationS: Math.max(0, endMs - measureStartMs) / 1000,
    produce: null,
    endToEnd: null,
    scheduleLag: null,
    timeSeries: progress.samples,
    details: { consumedMessages: result.consumedMessages, fetches: result.fetches, endReason: result.endReason },
  });
  if (result.endReason === 'idle') {
    const wanted = options.messages === null ? 'the end offsets found at the start' : `${options.messages} messages`;
    throw new PerfRunError(`consume stopped after ${PerfLimits.consumeIdleTimeoutMs} ms without records, before ${wanted}`, perf);
  }
  return perf;
}

async function runEndToEnd(run: RunContext): Promise<PerfResult> {
  const { options, clock } = run;
  const produceLatency = new LatencyHistogram();
  const endToEndLatency = new LatencyHistogram();
  const endToEndFromAppend = new LatencyHistogram();
  const scheduleLag = new LatencyHistogram();
  const startOffsets = await logOffsets(run, 'latest');
  const producer = await openProducer(run, produceLatency, scheduleLag);
  let consumer: AnyConsumerLoad;
  try {
    consumer = await openConsumer(run, {
      startOffsets,
      endOffsets: null,
      maxMeasuredMessages: null,
      measureStartMs: producer.measureStartMs,
      endToEndLatency,
      measureFromSendTimeMs: producer.measureStartMs,
      endToEndFromAppend,
    });
  } catch (error) {
    await producer.close();
    throw error;
  }
  const progress = new ProgressReporter('perf e2e', clock, options.progressStream, () => ({
    messages: consumer.measuredMessages,
    bytes: consumer.measuredBytes,
    p99Ms: endToEndLatency.count === 0 ? null : endToEndLatency.percentileMs(99),
  }));
  progress.start();
  const consuming = consumer.run(PerfLimits.e2eDrainTimeoutMs + PerfLimits.consumeIdleTimeoutMs);
  consuming.catch(() => undefined); // observed below; a producer failure must not leave it unhandled
  let produced: ProducerLoadResult;
  let consumed: ConsumerLoadResult;
  let drainTimer: NodeJS.Timeout | null = null;
  try {
    produced = await producer.run();
    consumer.setTotalTarget(produced.sentMessages);
    drainTimer = setTimeout(() => consumer.stop(), PerfLimits.e2eDrainTimeoutMs);
    consumed = await consuming;
  } finally {
    if (drainTimer !== null) clearTimeout(drainTimer);
    progress.stop();
    consumer.stop();
    await Promise.all([producer.close(), consumer.close()]);
  }
  const perf = assemble(run, {
    messages: consumed.measuredMessages,
    bytes: consumed.measuredBytes,
    bytesBasis: 'payload',
    durationS: Math.max(0, consumed.lastRecordMs - produced.measureStartMs) / 1000,
    produce: produceLatency,
    endToEnd: endToEndLatency,
    endToEndFromAppend,
    scheduleLag,
    timeSeries: progress.samples,
    details: {
      sentMessages: produced.sentMessages,
      consumedMessages: consumed.consumedMessages,
      produceRequests: produced.requests,
      fetches: consumed.fetches,
      endReason: consumed.endReason,
    },
  });
  if (consumed.consumedMessages < produced.sentMessages) {
    throw new PerfRunError(`e2e: consumed ${consumed.consumedMessages} of ${produced.sentMessages} messages sent`, perf);
  }
  return perf;
}

interface Measured {
  readonly messages: number;
  readonly bytes: number;
  readonly bytesBasis: BytesBasis;
  readonly durationS: number;
  readonly produce: LatencyHistogram | null;
  readonly endToEnd: LatencyHistogram | null;
  readonly endToEndFromAppend?: LatencyHistogram | null;
  readonly scheduleLag: LatencyHistogram | null;
  readonly timeSeries: readonly ThroughputSample[];
  readonly details: Record<string, number | string>;
}

function assemble(run: RunContext, measured: Measured): PerfResult {
  const { options, layout } = run;
  const durationS = measured.durationS;
  const notes = [...run.notes];
  for (const histogram of [measured.produce, measured.endToEnd]) {
    if (histogram !== null && histogram.negativeSampleCount > 0) notes.push(`${histogram.negativeSampleCount} negative latency samples were recorded as 0`);
  }
  const processors = cpus();
  // The load generator's own CPU time (this process): evidence of whether the client kept up.
  const cpu = process.cpuUsage(run.cpuAtStart);
  const clientCpuS = (cpu.user + cpu.system) / 1e6;
  return {
    tool: 'minikafka perf',
    schemaVersion: 1,
    mode: options.mode,
    client: options.client,
    startedAt: run.startedAt,
    bootstrapServers: options.bootstrapServers,
    topic: layout.topic,
    partitions: layout.leaderByPartition.length,
    leaders: layout.leaders.size,
    settings: settingsOf(options),
    messages: measured.messages,
    bytes: measured.bytes,
    bytesBasis: measured.bytesBasis,
    durationS,
    messagesPerSecond: durationS > 0 ? measured.messages / durationS : 0,
    megabytesPerSecond: durationS > 0 ? measured.bytes / bytesPerMegabyte / durationS : 0,
    latency: {
      produce: latencyReport(measured.produce),
      endToEnd: latencyReport(measured.endToEnd),
      endToEndFromAppend: measured.endToEndFromAppend == null || measured.endToEndFromAppend.count === 0 ? null : latencyReport(measured.endToEndFromAppend),
      scheduleLag: measured.scheduleLag === null || measured.scheduleLag.count === 0 ? null : measured.scheduleLag.summary(),
    },
    timeSeries: measured.timeSeries,
    details: { ...measured.details, clientCpuS: Number(clientCpuS.toFixed(3)) },
    notes,
    machine: {
      cpus: processors.length,
      cpuModel: processors[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      platform: `${process.platform} ${process.arch}`,
      node: process.version,
    },
  };
}

function latencyReport(histogram: LatencyHistogram | null): LatencyReport | null {
  if (histogram === null) return null;
  return { ...histogram.summary(), curve: histogram.percentileCurve(), histogramBase64: histogram.encode() };
}

function settingsOf(options: PerfOptions): Record<string, number | string | boolean | null> {
  return {
    messageSizeBytes: options.messageSizeBytes,
    messages: options.messages,
    durationS: options.durationS,
    ratePerSecond: options.ratePerSecond,
    keyed: options.keyed,
    acks: options.acks,
    batchSizeBytes: options.batchSizeBytes,
    lingerMs: options.lingerMs,
    inFlightPerConnection: options.inFlightPerConnection,
    connectionsPerBroker: options.connectionsPerBroker,
    warmupS: options.warmupS,
    fetchMaxBytes: options.fetchMaxBytes,
    requestedPartitions: options.partitions,
  };
}
