/**
 * Replication figures (issue: partition replication), each in one run of this script:
 *   1. produce 100-byte messages to a 3-partition topic at RF 3 acks=all beside RF 1 acks=1, on
 *      the same 3-node broker (a child process, default flush policy), alternating, --runs each;
 *   2. end-to-end latency at a steady 20,000 msgs/s at RF 3 acks=all;
 *   3. leader failover with a real client: kafkajs sends acks=all messages one at a time, the
 *      partition's leader node is killed, and the time to the next acknowledged send counts
 *      (--failovers fresh embedded brokers);
 *   4. rejoin: one node is killed, --rejoin-mib MiB are written without it (RF 3,
 *      min.insync.replicas 2, acks=all), it restarts, and the time until it is back in the ISR
 *      of every partition counts.
 *
 *   node dist/native-free-bench/replication.bench.js [--runs 3] [--failovers 10] [--rejoin-mib 1024] [--only produce,e2e,failover,rejoin]
 */
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { Admin } from '../src/client/admin.js';
import { ClusterClient } from '../src/client/cluster-client.js';
import { startBroker } from '../src/embedded.js';
import { quietPerfOptions } from '../src/perf/options.js';
import { runPerf, type PerfResult } from '../src/perf/run-perf.js';
import { machineNote, median } from './bench-util.js';
import { startBrokerProcess, type BrokerProcess } from './broker-process.js';

const { Kafka, logLevel } = kafkajs;

async function createTopics(bootstrapServers: string, topics: ReadonlyArray<{ name: string; replicationFactor: number }>): Promise<void> {
  const cluster = new ClusterClient({ bootstrapServers });
  try {
    await new Admin(cluster).createTopics(topics.map((topic) => ({ name: topic.name, partitions: 3, replicationFactor: topic.replicationFactor })));
  } finally {
    await cluster.close();
  }
}

async function produceFigures(runs: number, messages: number): Promise<void> {
  const broker = await startBrokerProcess({ nodes: 3, brokerSettings: { 'min.insync.replicas': 2 } });
  try {
    await createTopics(broker.bootstrapServers, [{ name: 'rf1', replicationFactor: 1 }, { name: 'rf3', replicationFactor: 3 }]);
    const produce = (topic: string, acks: -1 | 1, count: number): Promise<PerfResult> =>
      runPerf(quietPerfOptions({ mode: 'produce', bootstrapServers: broker.bootstrapServers, topic, partitions: 3, messages: count, acks }));
    // Unmeasured warm-up of both paths (V8 compiles the hot code).
    await produce('rf1', 1, 300_000);
    await produce('rf3', -1, 300_000);
    const rf1: PerfResult[] = [];
    const rf3: PerfResult[] = [];
    for (let run = 0; run < runs; run++) {
      rf1.push(await produce('rf1', 1, messages));
      rf3.push(await produce('rf3', -1, messages));
    }
    const line = (label: string, results: PerfResult[]) => {
      const rates = results.map((result) => result.messagesPerSecond);
      const p99 = median(results.map((result) => result.latency.produce?.p99Ms ?? 0));
      return `${label}: median ${Math.round(median(rates)).toLocaleString('en-US')} msgs/s (runs ${rates.map((rate) => Math.round(rate).toLocaleString('en-US')).join(', ')}), produce p99 ${p99.toFixed(1)} ms`;
    };
    console.log(line('produce 100 B, 3 nodes, 3 partitions, RF 1 acks=1  ', rf1));
    console.log(line('produce 100 B, 3 nodes, 3 partitions, RF 3 acks=all', rf3));
    console.log(`RF 3 acks=all / RF 1 acks=1: ${(median(rf3.map((result) => result.messagesPerSecond)) / median(rf1.map((result) => result.messagesPerSecond))).toFixed(2)}`);
  } finally {
    await broker.stop();
  }
}

async function endToEndFigures(runs: number): Promise<void> {
  const broker = await startBrokerProcess({ nodes: 3, brokerSettings: { 'min.insync.replicas': 2 } });
  try {
    await createTopics(broker.bootstrapServers, [{ name: 'e2e-rf3', replicationFactor: 3 }, { name: 'e2e-rf1', replicationFactor: 1 }]);
    for (const [topic, acks] of [['e2e-rf1', 1], ['e2e-rf3', -1]] as const) {
      const results: PerfResult[] = [];
      for (let run = 0; run < runs; run++) {
        results.push(await runPerf(quietPerfOptions({ mode: 'e2e', bootstrapServers: broker.bootstrapServers, topic, partitions: 3, durationS: 10, warmupS: 2, ratePerSecond: 20_000, acks })));
      }
      const p50 = median(results.map((result) => result.latency.endToEnd?.p50Ms ?? 0));
      const p99 = median(results.map((result) => result.latency.endToEnd?.p99Ms ?? 0));
      console.log(`e2e at 20,000 msgs/s, ${topic === 'e2e-rf3' ? 'RF 3 acks=all' : 'RF 1 acks=1  '}: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (medians of ${runs})`);
    }
  } finally {
    await broker.stop();
  }
}

async function oneFailover(run: number): Promise<number> {
  const broker = await startBroker({ nodes: 3, logLevel: 'silent', faultInjection: true, broker: { 'min.insync.replicas': 2 } });
  try {
    const kafka = new Kafka({ clientId: 'failover-bench', brokers: broker.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 20, maxRetryTime: 200 } });
    const admin = kafka.admin();
    await admin.connect();
    const topic = `failover-${run}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    const partition = async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions[0]!;
    for (let attempt = 0; attempt < 500 && (await partition()).isr.length < 3; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    const leader = (await partition()).leader;
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1 });
    await producer.connect();
    for (let index = 0; index < 20; index++) await producer.send({ topic, acks: -1, messages: [{ value: `warm-${index}` }] });
    const startedMs = performance.now();
    await broker.nodes.kill(leader);
    await producer.send({ topic, acks: -1, timeout: 10_000, messages: [{ value: 'after' }] });
    const elapsedMs = performance.now() - startedMs;
    await producer.disconnect();
    return elapsedMs;
  } finally {
    await broker.stop();
  }
}

async function adminPost(broker: BrokerProcess, path: string): Promise<void> {
  const response = await fetch(`http://${broker.adminAddress}${path}`, { method: 'POST' });
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
}

async function rejoinFigure(mebibytes: number): Promise<void> {
  const broker = await startBrokerProcess({ nodes: 3, faultInjection: true, brokerSettings: { 'min.insync.replicas': 2 } });
  try {
    await createTopics(broker.bootstrapServers, [{ name: 'rejoin', replicationFactor: 3 }]);
    const away = 2;
    await adminPost(broker, `/nodes/${away}/kill`);
    const live = broker.bootstrapServers.split(',').filter((_, index) => index !== away).join(',');
    const messageSizeBytes = 1024;
    const written = await runPerf(quietPerfOptions({ mode: 'produce', bootstrapServers: live, topic: 'rejoin', partitions: 3, messageSizeBytes, messages: Math.ceil((mebibytes * 1024 * 1024) / messageSizeBytes), acks: -1, batchSizeBytes: 256 * 1024 }));
    const startedMs = performance.now();
    await adminPost(broker, `/nodes/${away}/restart`);
    const restartedMs = performance.now() - startedMs;
    const cluster = new ClusterClient({ bootstrapServers: live });
    try {
      for (let attempt = 0; attempt < 100_000; attempt++) {
        const described = await new Admin(cluster).describeTopics(['rejoin']);
        if (described[0]!.partitions.every((partition) => partition.isr.includes(away))) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await cluster.close();
    }
    const rejoinMs = performance.now() - startedMs;
    const mib = written.bytes / 1024 / 1024;
    console.log(`rejoin: ${mib.toFixed(0)} MiB written (3 partitions, RF 3, acks=all at ${(written.megabytesPerSecond).toFixed(0)} MB/s of 1 KiB messages) while node ${away} was down; its restart took ${restartedMs.toFixed(0)} ms, and it was back in every ISR ${(rejoinMs / 1000).toFixed(1)} s after the restart began (${(mib / (rejoinMs / 1000)).toFixed(0)} MiB/s caught up)`);
  } finally {
    await broker.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      messages: { type: 'string', default: '2000000' },
      failovers: { type: 'string', default: '10' },
      'rejoin-mib': { type: 'string', default: '1024' },
      only: { type: 'string', default: 'produce,e2e,failover,rejoin' },
    },
  });
  const only = new Set(values.only.split(','));
  console.log(`machine: ${machineNote()}`);
  if (only.has('produce')) await produceFigures(Number(values.runs), Number(values.messages));
  if (only.has('e2e')) await endToEndFigures(Number(values.runs));
  if (only.has('failover')) {
    const times: number[] = [];
    for (let run = 0; run < Number(values.failovers); run++) times.push(await oneFailover(run));
    console.log(`leader failover (kill the leader node -> kafkajs's next acks=all send acknowledged), ${times.length} runs: median ${median(times).toFixed(0)} ms; min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}; all: ${times.map((time) => time.toFixed(0)).join(' ')}`);
  }
  if (only.has('rejoin')) await rejoinFigure(Number(values['rejoin-mib']));
}

await main();
