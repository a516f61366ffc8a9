/**
 * Controller failover time: kill the node holding the active controller of a 3-node broker and
 * time until a CreateTopics from a real client (kafkajs admin, connected to the survivors)
 * succeeds. Medians over --runs (default 10) fresh brokers.
 *
 *   node dist/native-free-bench/controller-failover.bench.js [--runs 10]
 */
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { startBroker } from '../src/embedded.js';
import { machineNote, median } from './bench-util.js';

const { Kafka, logLevel } = kafkajs;

async function oneFailover(run: number): Promise<number> {
  const broker = await startBroker({ nodes: 3, logLevel: 'silent', faultInjection: true });
  try {
    const controller = broker.nodes.list().find((node) => node.controller)!.id;
    const survivors = broker.nodes.filter((node) => node.nodeId !== controller).map((node) => `${node.host}:${node.port}`);
    const admin = new Kafka({ clientId: 'failover-bench', brokers: survivors, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 20, retries: 50, maxRetryTime: 200 } }).admin();
    await admin.connect();
    // kafkajs's admin fails while any partition is leaderless (replication factor 1), so the
    // warm-up topic lives on a node that stays up.
    const survivor = broker.nodes.find((node) => node.nodeId !== controller)!.nodeId;
    await admin.createTopics({ topics: [{ topic: `warm-${run}`, replicaAssignment: [{ partition: 0, replicas: [survivor] }] }] });
    const startedMs = performance.now();
    await broker.nodes.kill(controller);
    const created = await admin.createTopics({ topics: [{ topic: `after-${run}`, numPartitions: 1, replicationFactor: 1 }] });
    const elapsedMs = performance.now() - startedMs;
    if (!created) throw new Error('CreateTopics after the failover did not create the topic');
    await admin.disconnect();
    return elapsedMs;
  } finally {
    await broker.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
  const runs = Number(values.runs);
  const times: number[] = [];
  for (let run = 0; run < runs; run++) times.push(await oneFailover(run));
  console.log(`machine: ${machineNote()}`);
  console.log(`controller failover (kill the controller node -> kafkajs CreateTopics succeeds), ${runs} runs: median ${median(times).toFixed(0)} ms; min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}; all: ${times.map((time) => time.toFixed(0)).join(' ')}`);
}

await main();
