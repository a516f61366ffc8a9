/**
 * The benchmark run behind `npm run bench`: starts brokers as child processes (data in the OS
 * temp dir or $BENCH_DIR), drives them with the load generator (`src/perf/`), measures the raw
 * limits beside them in the same run, and prints one table of medians and ratios. Results also
 * go to bench-results/bench-<timestamp>.json.
 *
 *   node dist/native-free-bench/run-all.js [--runs 3] [--quick] [--out DIR] [--no-redis]
 *
 * Scenarios (100-byte messages unless said; acks=1; the broker's default flush policy, which
 * acknowledges only after the covering fdatasync):
 *   produce, 1 node / 1 partition, unlimited rate            msgs/s, beside Redis XADD pipelined
 *   produce, 3 nodes / 3 partitions                          msgs/s, beside 1 node
 *   consume from the beginning (batch headers only)          msgs/s
 *   produce 16 KiB messages (batch.size 16 KiB, and 1 MiB)   MB/s, beside write 1 MiB + fdatasync
 *   e2e at 50,000 msgs/s                                     p50 / p99 / p99.9
 *   e2e at 20,000 msgs/s, flush always and interval (1 s)    beside Redis appendfsync always / everysec
 *   start to ready, 3 nodes; idle RSS                        beside `node -e 0`; an idle bare node
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { PerfDefaults, quietPerfOptions, type PerfOptions } from '../src/perf/options.js';
import { runPerf, type LatencyReport, type PerfResult } from '../src/perf/run-perf.js';
import { recordSizeBytes } from '../src/protocol/records/batch-builder.js';
import { RECORDS_OFFSET } from '../src/protocol/records/layout.js';
import { machineNote, median, printTable } from './bench-util.js';
import { startBrokerProcess, type BrokerProcess, type BrokerProcessOptions } from './broker-process.js';
import { bareNodeIdleRssMiB, bareNodeStartMs, rawFdatasyncMegabytesPerSecond, rssMiB } from './raw-limits.js';
import {
  measureRedisEndToEnd,
  measureXaddThroughput,
  redisServerVersion,
  setAppendFsync,
  startRedisServer,
  type RedisEndToEnd,
} from './redis-streams.js';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : undefined;
};
const quick = argv.includes('--quick');
const runs = Number(option('runs') ?? (quick ? 1 : 3));
const skipRedis = argv.includes('--no-redis');
const outDirectory = resolve(option('out') ?? 'bench-results');
if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error(`--runs must be 1..20, got ${option('runs')}`);

/** Sizes of each scenario: a full run stays under ~5 minutes on 2 cores. */
const sizes = quick
  ? { smallMessages: 100_000, warmupMessages: 50_000, bigMessages: 1024, rawMiB: 32, e2eSeconds: 1.5, e2eWarmupSeconds: 0.5, settleMs: 500 }
  : { smallMessages: 1_000_000, warmupMessages: 500_000, bigMessages: 8192, rawMiB: 128, e2eSeconds: 5, e2eWarmupSeconds: 1, settleMs: 1000 };
const smallBytes = 100;
const bigBytes = 16 * 1024;
const bigBatchBytes = 1024 * 1024;
const highRate = 50_000;
const redisRate = 20_000;

interface Row {
  scenario: string;
  ours: string;
  beside: string;
  ratio: string;
}

const rows: Row[] = [];
const raw: Record<string, unknown> = {};
const notes: string[] = [];

function perfOptions(overrides: Partial<PerfOptions> & Pick<PerfOptions, 'mode' | 'bootstrapServers' | 'topic'>): PerfOptions {
  return quietPerfOptions({ messageSizeBytes: smallBytes, ...overrides });
}

async function repeat<T>(label: string, body: (run: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let run = 0; run < runs; run++) {
    process.stderr.write(`bench: ${label}, run ${run + 1}/${runs}\n`);
    results.push(await body(run));
  }
  raw[label] = results;
  return results;
}

async function withBroker<T>(options: BrokerProcessOptions, body: (broker: BrokerProcess) => Promise<T>): Promise<T> {
  const broker = await startBrokerProcess(options);
  try {
    return await body(broker);
  } finally {
    await broker.stop();
  }
}

const rate = (value: number, unit = 'msgs/s'): string => `${Math.round(value).toLocaleString('en-US')} ${unit}`;
const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));
const ratio = (ours: number, other: number): string => (other > 0 ? `${(ours / other).toFixed(2)}` : '-');

interface LatencyMedians {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}

function latencyMedians(reports: readonly { p50Ms: number; p99Ms: number; p999Ms: number }[]): LatencyMedians {
  return {
    p50Ms: median(reports.map((report) => report.p50Ms)),
    p99Ms: median(reports.map((report) => report.p99Ms)),
    p999Ms: median(reports.map((report) => report.p999Ms)),
  };
}

const latencyText = (latency: LatencyMedians): string => `p50 ${ms(latency.p50Ms)} / p99 ${ms(latency.p99Ms)} / p99.9 ${ms(latency.p999Ms)} ms`;
const latencyRatio = (ours: LatencyMedians, other: LatencyMedians): string =>
  `p50 ${ratio(ours.p50Ms, other.p50Ms)}, p99 ${ratio(ours.p99Ms, other.p99Ms)}, p99.9 ${ratio(ours.p999Ms, other.p999Ms)}`;

function endToEnd(result: PerfResult): LatencyReport {
  if (result.latency.endToEnd === null) throw new Error('e2e result without end-to-end latency');
  return result.latency.endToEnd;
}

/**
 * An unmeasured produce and consume on a fresh broker before its measured runs, as benchmark
 * harnesses warm up (OpenMessaging Benchmark, JMH): V8 compiles the hot paths of the broker's
 * threads during their first few hundred thousand messages, and the first run was 20-40% slower
 * than the next two (consume: 2-3x) on the dev box.
 */
async function warmUp(bootstrapServers: string, partitions: number): Promise<void> {
  process.stderr.write('bench: warm-up (not measured)\n');
  const topic = 'bench-warmup';
  await runPerf(perfOptions({ mode: 'produce', bootstrapServers, topic, partitions, messages: sizes.warmupMessages }));
  await runPerf(perfOptions({ mode: 'consume', bootstrapServers, topic }));
}

async function oneNodeScenarios(): Promise<{ produceMsgsPerSecond: number; e2eAlways: LatencyMedians | null }> {
  return withBroker({ nodes: 1 }, async (broker) => {
    const bootstrapServers = broker.bootstrapServers;
    await warmUp(bootstrapServers, 1);
    const produced = await repeat('produce 100 B, 1 node', (run) =>
      runPerf(perfOptions({ mode: 'produce', bootstrapServers, topic: `bench-p1-${run}`, messages: sizes.smallMessages })),
    );
    const produceMsgsPerSecond = median(produced.map((result) => result.messagesPerSecond));
    // The same with batch.size 64 KiB: what a throughput-tuned producer sends (the default 16 KiB
    // is bound by the acknowledgement round trip, see the README).
    const producedBig = await repeat('produce 100 B, 1 node, batch.size 64 KiB', (run) =>
      runPerf(perfOptions({ mode: 'produce', bootstrapServers, topic: `bench-p1b-${run}`, messages: sizes.smallMessages, batchSizeBytes: 64 * 1024 })),
    );
    const produceBigMsgsPerSecond = median(producedBig.map((result) => result.messagesPerSecond));
    rows.push({
      scenario: 'produce 100 B, 1 node, 1 partition, acks=1, batch.size 64 KiB',
      ours: rate(produceBigMsgsPerSecond),
      beside: `batch.size 16 KiB: ${rate(produceMsgsPerSecond)}`,
      ratio: ratio(produceBigMsgsPerSecond, produceMsgsPerSecond),
    });
    const consumed = await repeat('consume from the beginning', () =>
      runPerf(perfOptions({ mode: 'consume', bootstrapServers, topic: 'bench-p1-0' })),
    );
    const consumeMsgsPerSecond = median(consumed.map((result) => result.messagesPerSecond));
    rows.push({
      scenario: `consume from the beginning (${sizes.smallMessages.toLocaleString('en-US')} x 100 B)`,
      ours: rate(consumeMsgsPerSecond),
      beside: `produce: ${rate(produceMsgsPerSecond)}`,
      ratio: ratio(consumeMsgsPerSecond, produceMsgsPerSecond),
    });
    await bigMessageScenarios(bootstrapServers);
    const e2e = await repeat(`e2e at ${highRate}/s`, (run) =>
      runPerf(perfOptions({ mode: 'e2e', bootstrapServers, topic: `bench-e50-${run}`, ratePerSecond: highRate, durationS: sizes.e2eSeconds, warmupS: sizes.e2eWarmupSeconds })),
    );
    const e2eLatency = latencyMedians(e2e.map(endToEnd));
    const achieved = median(e2e.map((result) => result.messagesPerSecond));
    // The same messages timed from their hand-off to the client: without the load generator's
    // own lateness against its schedule (a 1 ms timer), as Kafka's EndToEndLatency times them.
    const fromHandOff = e2e.map((result) => result.latency.endToEndFromAppend).filter((report) => report !== null);
    rows.push({
      scenario: `e2e latency at ${highRate.toLocaleString('en-US')} msgs/s (achieved ${rate(achieved)})`,
      ours: latencyText(e2eLatency),
      beside: fromHandOff.length === e2e.length ? `from hand-off to the client: ${latencyText(latencyMedians(fromHandOff))}` : '',
      ratio: '',
    });
    let e2eAlways: LatencyMedians | null = null;
    if (redisWanted()) {
      const always = await repeat(`e2e at ${redisRate}/s, flush always`, (run) =>
        runPerf(perfOptions({ mode: 'e2e', bootstrapServers, topic: `bench-e20-${run}`, ratePerSecond: redisRate, durationS: sizes.e2eSeconds, warmupS: sizes.e2eWarmupSeconds })),
      );
      e2eAlways = latencyMedians(always.map(endToEnd));
    }
    return { produceMsgsPerSecond, e2eAlways };
  });
}

async function bigMessageScenarios(bootstrapServers: string): Promise<void> {
  const diskRates: number[] = [];
  const defaultBatch: number[] = [];
  const bigBatch: number[] = [];
  await repeat('produce 16 KiB messages', async (run) => {
    // Alternate the order so neither side always runs first on a quiet disk.
    if (run % 2 === 0) diskRates.push(rawFdatasyncMegabytesPerSecond(sizes.rawMiB));
    const small = await runPerf(perfOptions({ mode: 'produce', bootstrapServers, topic: `bench-big-${run}`, messageSizeBytes: bigBytes, messages: sizes.bigMessages }));
    const large = await runPerf(
      perfOptions({ mode: 'produce', bootstrapServers, topic: `bench-bigb-${run}`, messageSizeBytes: bigBytes, messages: sizes.bigMessages, batchSizeBytes: bigBatchBytes }),
    );
    if (run % 2 === 1) diskRates.push(rawFdatasyncMegabytesPerSecond(sizes.rawMiB));
    defaultBatch.push(small.megabytesPerSecond);
    bigBatch.push(large.megabytesPerSecond);
    return { disk: diskRates.at(-1), batch16KiB: small.megabytesPerSecond, batch1MiB: large.megabytesPerSecond };
  });
  const disk = median(diskRates);
  rows.push({
    scenario: 'produce 16 KiB msgs, batch.size 16 KiB (1 per batch), 1 node',
    ours: rate(median(defaultBatch), 'MB/s'),
    beside: `raw write 1 MiB + fdatasync: ${rate(disk, 'MB/s')}`,
    ratio: ratio(median(defaultBatch), disk),
  });
  rows.push({
    scenario: 'produce 16 KiB msgs, batch.size 1 MiB, 1 node',
    ours: rate(median(bigBatch), 'MB/s'),
    beside: `raw write 1 MiB + fdatasync: ${rate(disk, 'MB/s')}`,
    ratio: ratio(median(bigBatch), disk),
  });
}

async function threeNodeProduce(): Promise<number> {
  return withBroker({ nodes: 3 }, async (broker) => {
    await warmUp(broker.bootstrapServers, 3);
    const results = await repeat('produce 100 B, 3 nodes', (run) =>
      runPerf(perfOptions({ mode: 'produce', bootstrapServers: broker.bootstrapServers, topic: `bench-p3-${run}`, partitions: 3, messages: sizes.smallMessages })),
    );
    return median(results.map((result) => result.messagesPerSecond));
  });
}

async function startupScenarios(): Promise<void> {
  const ready: number[] = [];
  const bare: number[] = [];
  const rss: number[] = [];
  await repeat('start to ready, 3 nodes', async () => {
    bare.push(bareNodeStartMs());
    const broker = await startBrokerProcess({ nodes: 3 });
    try {
      ready.push(broker.readyMs);
      await new Promise((settled) => setTimeout(settled, sizes.settleMs)); // idle RSS, not the start-up peak
      rss.push(rssMiB(broker.pid));
    } finally {
      await broker.stop();
    }
    return { readyMs: ready.at(-1), bareNodeMs: bare.at(-1), rssMiB: rss.at(-1) };
  });
  const bareRss = await bareNodeIdleRssMiB(sizes.settleMs);
  raw['bare node idle RSS MiB'] = bareRss;
  rows.push({ scenario: 'start to ready, 3 nodes', ours: `${median(ready).toFixed(0)} ms`, beside: `node -e 0: ${median(bare).toFixed(0)} ms`, ratio: ratio(median(ready), median(bare)) });
  rows.push({ scenario: 'idle RSS, 3 nodes', ours: `${median(rss).toFixed(0)} MiB`, beside: `idle bare node: ${bareRss.toFixed(0)} MiB`, ratio: ratio(median(rss), bareRss) });
  if (process.env.NODE_EXTRA_CA_CERTS) notes.push('NODE_EXTRA_CA_CERTS is set: it slows every node start-up, bare node included');
}

let redisVersion: string | null = null;
function redisWanted(): boolean {
  return !skipRedis && redisVersion !== null;
}

async function redisScenarios(produceMsgsPerSecond: number, e2eAlways: LatencyMedians): Promise<void> {
  const interval = await withBroker({ nodes: 1, brokerSettings: { 'log.flush.policy': 'interval', 'log.flush.interval.ms': 1000 } }, async (broker) => {
    const results = await repeat(`e2e at ${redisRate}/s, flush interval 1 s`, (run) =>
      runPerf(perfOptions({ mode: 'e2e', bootstrapServers: broker.bootstrapServers, topic: `bench-e20i-${run}`, ratePerSecond: redisRate, durationS: sizes.e2eSeconds, warmupS: sizes.e2eWarmupSeconds })),
    );
    return latencyMedians(results.map(endToEnd));
  });
  const redis = await startRedisServer();
  process.stderr.write(`bench: redis-server ${redisVersion} started (pid ${redis.pid}, port ${redis.port})\n`);
  try {
    const recordsPerGroup = Math.floor((PerfDefaults.batchSizeBytes - RECORDS_OFFSET) / recordSizeBytes(0, 0, -1, smallBytes));
    const xadd = await repeat('Redis XADD pipelined', () =>
      measureXaddThroughput(redis.port, { messages: sizes.smallMessages, valueBytes: smallBytes, recordsPerGroup, inFlight: PerfDefaults.inFlightPerConnection }),
    );
    const xaddRate = median(xadd.map((result) => result.messagesPerSecond));
    rows.unshift({
      scenario: `produce 100 B, 1 node, 1 partition, acks=1 (Redis: XADD, ${recordsPerGroup} x ${PerfDefaults.inFlightPerConnection} pipelined, AOF everysec)`,
      ours: rate(produceMsgsPerSecond),
      beside: `Redis XADD: ${rate(xaddRate)}`,
      ratio: ratio(produceMsgsPerSecond, xaddRate),
    });
    const measure = (): Promise<RedisEndToEnd> =>
      measureRedisEndToEnd(redis.port, { ratePerSecond: redisRate, durationS: sizes.e2eSeconds, warmupS: sizes.e2eWarmupSeconds, valueBytes: smallBytes });
    const everysec = latencyMedians((await repeat('Redis e2e, appendfsync everysec', measure)).map((result) => result.latency));
    await setAppendFsync(redis.port, 'always');
    // Our default acknowledges after the covering fdatasync, as Redis does with appendfsync always.
    const xaddAlways = await repeat('Redis XADD pipelined, appendfsync always', () =>
      measureXaddThroughput(redis.port, { messages: sizes.smallMessages, valueBytes: smallBytes, recordsPerGroup, inFlight: PerfDefaults.inFlightPerConnection }),
    );
    const xaddAlwaysRate = median(xaddAlways.map((result) => result.messagesPerSecond));
    rows.splice(1, 0, {
      scenario: `produce 100 B, 1 node, 1 partition, acks=1 (Redis: XADD pipelined, AOF appendfsync always)`,
      ours: rate(produceMsgsPerSecond),
      beside: `Redis XADD: ${rate(xaddAlwaysRate)}`,
      ratio: ratio(produceMsgsPerSecond, xaddAlwaysRate),
    });
    const always = latencyMedians((await repeat('Redis e2e, appendfsync always', measure)).map((result) => result.latency));
    rows.push({ scenario: `e2e at ${redisRate.toLocaleString('en-US')}/s, flush always (Redis: appendfsync always)`, ours: latencyText(e2eAlways), beside: latencyText(always), ratio: latencyRatio(e2eAlways, always) });
    rows.push({ scenario: `e2e at ${redisRate.toLocaleString('en-US')}/s, flush interval 1 s (Redis: everysec)`, ours: latencyText(interval), beside: latencyText(everysec), ratio: latencyRatio(interval, everysec) });
  } finally {
    await redis.stop();
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = loadavg();
  redisVersion = redisServerVersion();
  console.log(`minikafka bench: ${machineNote()}; ${runs} run(s) per figure, medians${quick ? ' (quick: small counts)' : ''}`);
  console.log(`load average at start: ${loadAtStart.map((value) => value.toFixed(2)).join(' ')}`);
  const { produceMsgsPerSecond, e2eAlways } = await oneNodeScenarios();
  const threeNodes = await threeNodeProduce();
  rows.unshift({ scenario: 'produce 100 B, 3 nodes, 3 partitions, acks=1', ours: rate(threeNodes), beside: `1 node: ${rate(produceMsgsPerSecond)}`, ratio: ratio(threeNodes, produceMsgsPerSecond) });
  await startupScenarios();
  if (redisWanted() && e2eAlways !== null) {
    await redisScenarios(produceMsgsPerSecond, e2eAlways);
  } else {
    rows.unshift({ scenario: 'produce 100 B, 1 node, 1 partition, acks=1', ours: rate(produceMsgsPerSecond), beside: '', ratio: '' });
    notes.push(skipRedis ? 'Redis rows skipped (--no-redis)' : 'redis-server is not installed (Debian package redis-server): Redis rows skipped');
  }
  const loadAtEnd = loadavg();
  console.log('');
  printTable(rows.map((row) => ({ scenario: row.scenario, ours: row.ours, beside: row.beside, 'ours / beside': row.ratio })));
  console.log('');
  console.log('ratios: ours / beside; above 1 is more for throughput, but slower for times and latencies (ms), and more memory for RSS.');
  console.log(`load average at end: ${loadAtEnd.map((value) => value.toFixed(2)).join(' ')}`);
  for (const note of notes) console.log(`note: ${note}`);
  mkdirSync(outDirectory, { recursive: true });
  const file = join(outDirectory, `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), machine: machineNote(), runs, quick, redisVersion, loadAverage: { start: loadAtStart, end: loadAtEnd }, rows, notes, raw }, jsonReplacer, 2)}\n`,
  );
  console.log(`wrote ${file}`);
}

/** Per-run PerfResults are kept whole except for the encoded histograms and curves. */
function jsonReplacer(key: string, value: unknown): unknown {
  if (key === 'histogramBase64' || key === 'curve' || key === 'timeSeries') return undefined;
  return value;
}

await main();
