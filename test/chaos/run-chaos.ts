/**
 * `npm run chaos -- [--seconds S] [--seed N] [--nodes 3|5] [--report FILE]`: a fresh broker in
 * its own process with fault injection, an RF 3 topic, real clients producing and consuming
 * while the seeded nemesis kills, pauses and cuts off nodes; then everything heals, the clients
 * finish, the topic is read back and the checker holds every acknowledgement to account. Ends
 * with a line `chaos: <N> acknowledged ... <V> violations` (exit 1 when V > 0); a failure prints
 * the seed, the schedule and the smallest examples. `--report FILE` writes the report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { machineNote } from '../../native-free-bench/bench-util.js';
import { startBrokerProcess } from '../../native-free-bench/broker-process.js';
import { readTopicWithKafkajs } from '../compat/kafkajs-partition-reader.js';
import { checkHistory, type CheckResult, type CommittedSample } from './checker.js';
import { AdminClient, healEverything, planFaults, runNemesis, type AppliedFault } from './nemesis.js';
import { renderReport } from './report.js';
import { isChaosValue, isIdempotentValue, Workload } from './workload.js';

export interface ChaosOptions {
  readonly seconds: number;
  readonly seed: number;
  readonly nodes: number;
  readonly log: (line: string) => void;
}

export interface ChaosOutcome {
  readonly check: CheckResult;
  readonly commits: ReadonlyArray<{ atMs: number; partition: number; offset: number }>;
  readonly committed: readonly CommittedSample[];
  readonly faults: AppliedFault[];
  readonly report: string;
}

const TOPIC = 'chaos';
const SETTLE_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export async function runChaos(options: ChaosOptions): Promise<ChaosOutcome> {
  const broker = await startBrokerProcess({
    nodes: options.nodes,
    faultInjection: true,
    fixedPorts: true,
    brokerSettings: { 'default.replication.factor': 3, 'min.insync.replicas': 2, 'broker.session.timeout.ms': 1000, 'broker.heartbeat.interval.ms': 100, 'group.initial.rebalance.delay.ms': 0, 'leader.imbalance.check.interval.seconds': 5 },
  });
  const startedAt = new Date().toISOString();
  const admin = new AdminClient(broker.adminAddress!);
  const nodeIds = Array.from({ length: options.nodes }, (_, id) => id);
  try {
    const workload = new Workload({ bootstrapServers: broker.bootstrapServers, topic: TOPIC, producers: 3, idempotentProducers: 2, streamsPerProducer: 2, keysPerStream: 4, nowMs: () => performance.now() - runStartMs });
    const kafkaAdmin = workload.admin();
    await kafkaAdmin.connect();
    await kafkaAdmin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    await settle(kafkaAdmin, options.nodes);
    let runStartMs = performance.now();
    await workload.start();
    runStartMs = performance.now();
    const plan = planFaults(options.seed, options.seconds * 1000);
    const busyLeader = async () => {
      const metadata = await kafkaAdmin.fetchTopicMetadata({ topics: [TOPIC] });
      return metadata.topics[0]?.partitions.find((partition) => partition.partitionId === 0)?.leader ?? -1;
    };
    const committed: CommittedSample[] = [];
    const sampler = setInterval(() => {
      const atMs = performance.now() - runStartMs;
      kafkaAdmin.fetchOffsets({ groupId: 'chaos-readers', topics: [TOPIC] }).then(
        (topics) => committed.push({ atMs, offsets: new Map((topics[0]?.partitions ?? []).map((entry) => [entry.partition, Number(entry.offset)])) }),
        () => undefined,
      );
    }, 1000);
    const faults = await runNemesis(plan, { admin, nodeIds, busyLeader, nowMs: () => performance.now() - runStartMs, sleepUntil: async (atMs) => { await sleep(atMs - (performance.now() - runStartMs)); }, log: options.log, crashBroker: (downMs) => broker.crashAndRestart(downMs) }, options.seed);
    await sleep(options.seconds * 1000 - (performance.now() - runStartMs));
    await healEverything(admin, nodeIds);
    await workload.stopProducing();
    await settle(kafkaAdmin, options.nodes);
    const final = await readBack(broker.bootstrapServers, kafkaAdmin, options.nodes);
    await waitForConsumer(workload, final);
    clearInterval(sampler);
    await workload.stopConsuming();
    await kafkaAdmin.disconnect();
    const check = checkHistory(workload.acked, workload.consumed, final, isChaosValue, isIdempotentValue, committed, workload.commits);
    const summary = { seed: options.seed, seconds: options.seconds, nodes: options.nodes, startedAt, faults, ackTimesMs: workload.ackTimesMs, failedSends: workload.failedSends, check, machine: machineNote() };
    return { check, faults, commits: workload.commits, committed, report: renderReport(summary, `npm run chaos -- --seconds ${options.seconds} --seed ${options.seed} --nodes ${options.nodes} --report docs/chaos/REPORT.md`) };
  } finally {
    await broker.stop();
  }
}

/**
 * The whole topic, read from its leaders. A leadership move during the read (the preferred
 * leader coming back) fails it with NOT_LEADER_OR_FOLLOWER: it settles and reads again.
 */
async function readBack(bootstrapServers: string, admin: Parameters<typeof settle>[0], nodes: number): Promise<Array<{ partition: number; offset: number; value: string }>> {
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const records = await readTopicWithKafkajs(bootstrapServers, TOPIC, { timeoutMs: 30_000, maxFetches: 100_000 });
      return records.map((record) => ({ partition: record.partition, offset: Number(record.offset), value: record.value?.toString() ?? '' }));
    } catch (error) {
      lastError = error;
      await settle(admin, nodes);
    }
  }
  throw lastError;
}

/** Every partition has a leader and a full ISR (bounded). */
async function settle(admin: { fetchTopicMetadata(options: { topics: string[] }): Promise<{ topics: Array<{ partitions: Array<{ leader: number; isr: number[] }> }> }> }, nodes: number): Promise<void> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  const wanted = Math.min(3, nodes);
  for (let attempt = 0; attempt < 10_000 && performance.now() < deadline; attempt++) {
    const metadata = await admin.fetchTopicMetadata({ topics: [TOPIC] }).catch(() => null);
    const partitions = metadata?.topics[0]?.partitions ?? [];
    if (partitions.length > 0 && partitions.every((partition) => partition.leader >= 0 && partition.isr.length === wanted)) return;
    await sleep(100);
  }
  throw new Error(`the topic did not settle (leaders and full ISRs) within ${SETTLE_TIMEOUT_MS} ms`);
}

/** The live consumer catches up with the final log (bounded; what it missed is not a violation). */
async function waitForConsumer(workload: Workload, final: ReadonlyArray<{ partition: number; offset: number }>): Promise<void> {
  const ends = new Map<number, number>();
  for (const record of final) ends.set(record.partition, Math.max(ends.get(record.partition) ?? 0, record.offset + 1));
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    const consumed = workload.consumedEnds();
    if ([...ends].every(([partition, end]) => (consumed.get(partition) ?? 0) >= end)) return;
    await sleep(100);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, seed: { type: 'string' }, nodes: { type: 'string', default: '3' }, report: { type: 'string' } } });
  const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : Number(values.seed);
  const seconds = Number(values.seconds);
  const nodes = Number(values.nodes);
  if (!Number.isInteger(seed) || !(seconds >= 10) || ![3, 5].includes(nodes)) throw new Error('--seed takes an integer, --seconds at least 10, --nodes 3 or 5');
  console.log(`chaos: seed ${seed}, ${seconds} s, ${nodes} nodes (replay: npm run chaos -- --seconds ${seconds} --seed ${seed} --nodes ${nodes})`);
  const outcome = await runChaos({ seconds, seed, nodes, log: (line) => console.log(`  ${line}`) });
  if (values.report !== undefined) {
    mkdirSync(dirname(values.report), { recursive: true });
    writeFileSync(values.report, outcome.report);
  }
  const check = outcome.check;
  if (process.env.CHAOS_DUMP_COMMITS === '1') {
    for (const commit of outcome.commits) console.log(`commit ${(commit.atMs / 1000).toFixed(2)} p${commit.partition} ${commit.offset}`);
    for (const sample of outcome.committed) console.log(`sample ${(sample.atMs / 1000).toFixed(2)} ${[...sample.offsets].map(([p, o]) => `p${p}=${o}`).join(' ')}`);
  }
  if (check.violations > 0) {
    console.log(`FAILED seed ${seed}; schedule: ${outcome.faults.map((fault) => `${(fault.appliedAtMs / 1000).toFixed(1)}s ${fault.kind} ${fault.nodeId}`).join(', ')}`);
    for (const example of check.examples) console.log(`  ${example}`);
  }
  console.log(`chaos: ${check.acknowledged} acknowledged, ${check.finalRecords} in the log, ${check.liveReads} read live, ${check.lost} lost, ${check.inconsistent} inconsistent, ${check.gaps} gaps, ${check.reordered} reordered, ${check.duplicates} duplicates (${check.idempotentDuplicates} of the idempotent producer), ${check.committedBack} acknowledged commits lost, ${outcome.faults.length} faults: ${check.violations} violations`);
  return check.violations > 0 ? 1 : 0;
}

if (process.argv[1]?.endsWith('run-chaos.js')) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.stack ?? error.message : String(error));
      process.exit(2);
    },
  );
}
