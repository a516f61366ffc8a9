/**
 * Cost growth: produce latency and broker memory as partitions and client connections grow.
 * A broker (child process) takes a steady, modest load (`--rate`, default 20,000 msgs/s of
 * 100-byte messages, keyed so every partition gets records) for `--seconds` per point; we read
 * the produce p50/p99 from the load generator and the broker's RSS from /proc.
 *
 *   node dist/native-free-bench/scaling.bench.js [--nodes 1] [--rate 20000] [--seconds 6]
 *       [--partitions 1,100,1000,10000] [--connections 10,100,1000] [--journal auto|always|off]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { quietPerfOptions, type PerfOptions } from '../src/perf/options.js';
import { runPerf } from '../src/perf/run-perf.js';
import { machineNote, printTable } from './bench-util.js';
import { startBrokerProcess } from './broker-process.js';

const argument = (name: string, fallback: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1]! : fallback;
};
const nodes = Number(argument('nodes', '1'));
const rate = Number(argument('rate', '20000'));
const seconds = Number(argument('seconds', '6'));
const partitionPoints = argument('partitions', '1,100,1000,10000').split(',').map(Number);
const connectionPoints = argument('connections', '10,100,1000').split(',').map(Number);
const journal = argument('journal', 'auto');

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

function options(bootstrapServers: string, topic: string, partitions: number, connectionsPerBroker: number): PerfOptions {
  return quietPerfOptions({ mode: 'produce', bootstrapServers, topic, partitions, durationS: seconds, ratePerSecond: rate, keyed: true, connectionsPerBroker, warmupS: 1 });
}

interface Point {
  [column: string]: string | number;
}

async function measure(label: string, partitions: number, connections: number): Promise<Point> {
  const broker = await startBrokerProcess({ nodes, brokerSettings: { 'num.partitions': 1, 'log.journal': journal } });
  try {
    const idleRss = rssMiB(broker.pid);
    const result = await runPerf(options(broker.bootstrapServers, 'scaling', partitions, connections));
    const loadedRss = rssMiB(broker.pid);
    return {
      point: label,
      partitions,
      connections: connections * nodes,
      'msgs/s': Math.round(result.messagesPerSecond),
      'p50 ms': result.latency.produce!.p50Ms.toFixed(2),
      'p99 ms': result.latency.produce!.p99Ms.toFixed(2),
      'schedule lag p99 ms': result.latency.scheduleLag?.p99Ms.toFixed(2) ?? '-',
      'RSS idle MiB': idleRss.toFixed(0),
      'RSS loaded MiB': loadedRss.toFixed(0),
    };
  } finally {
    await broker.stop();
  }
}

console.log(`scaling bench: ${machineNote()}; ${nodes} node(s), journal ${journal}, ${rate} msgs/s keyed 100-byte messages, ${seconds} s per point, load average ${loadavg()[0]!.toFixed(2)}`);
const rows: Point[] = [];
for (const partitions of partitionPoints) {
  process.stderr.write(`scaling: ${partitions} partitions\n`);
  rows.push(await measure(`${partitions} partitions`, partitions, 1));
}
for (const connections of connectionPoints) {
  process.stderr.write(`scaling: ${connections} connections\n`);
  rows.push(await measure(`${connections} connections`, 1, connections));
}
printTable(rows);
console.log(`load average at the end ${loadavg()[0]!.toFixed(2)}`);
