/**
 * Metadata quorum figures: CreateTopics of 1-partition topics one at a time and 100 per request
 * against a 3-node broker (each operation is one Raft entry, committed by a majority's fsync),
 * and the deterministic simulation's seeds per second.
 *
 *   node dist/native-free-bench/metadata.bench.js [--runs 3] [--topics 200]
 */
import { parseArgs } from 'node:util';
import { Admin } from '../src/client/admin.js';
import { ClusterClient } from '../src/client/cluster-client.js';
import { startBroker } from '../src/embedded.js';
import { runSimulation } from '../test/sim/cluster.js';
import { machineNote, median, printTable } from './bench-util.js';

async function createTopicsRate(topicCount: number, perRequest: number): Promise<number> {
  const broker = await startBroker({ nodes: 3, logLevel: 'silent' });
  const cluster = new ClusterClient({ bootstrapServers: broker.bootstrapServers, clientId: 'metadata-bench' });
  const admin = new Admin(cluster);
  try {
    await admin.createTopics([{ name: 'warm-up', partitions: 1, replicationFactor: 1 }], { waitForLeaders: false });
    const startedMs = performance.now();
    for (let first = 0; first < topicCount; first += perRequest) {
      const topics = Array.from({ length: Math.min(perRequest, topicCount - first) }, (_, index) => ({ name: `bench-${first + index}`, partitions: 1, replicationFactor: 1 }));
      await admin.createTopics(topics, { waitForLeaders: false });
    }
    return topicCount / ((performance.now() - startedMs) / 1000);
  } finally {
    await cluster.close();
    await broker.stop();
  }
}

function simulationRate(seeds: number): number {
  const startedMs = performance.now();
  for (let seed = 1; seed <= seeds; seed++) {
    const result = runSimulation({ seed });
    if (result.violations.length > 0) throw new Error(`seed ${seed}: ${result.violations.join('; ')}`);
  }
  return seeds / ((performance.now() - startedMs) / 1000);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, topics: { type: 'string', default: '200' } } });
  const runs = Number(values.runs);
  const topics = Number(values.topics);
  const oneAtATime: number[] = [];
  const hundredPerRequest: number[] = [];
  const seedsPerSecond: number[] = [];
  for (let run = 0; run < runs; run++) {
    oneAtATime.push(await createTopicsRate(topics, 1));
    hundredPerRequest.push(await createTopicsRate(topics * 10, 100));
    seedsPerSecond.push(simulationRate(200));
  }
  console.log(`machine: ${machineNote()}; medians of ${runs} runs`);
  printTable([
    { measure: 'CreateTopics, 1 topic per request (3 nodes)', median: `${median(oneAtATime).toFixed(0)} topics/s`, runs: oneAtATime.map((value) => value.toFixed(0)).join(' ') },
    { measure: 'CreateTopics, 100 topics per request (3 nodes)', median: `${median(hundredPerRequest).toFixed(0)} topics/s`, runs: hundredPerRequest.map((value) => value.toFixed(0)).join(' ') },
    { measure: 'Raft simulation (200 seeds)', median: `${median(seedsPerSecond).toFixed(0)} seeds/s`, runs: seedsPerSecond.map((value) => value.toFixed(0)).join(' ') },
  ]);
}

await main();
