/**
 * Consumer-group rebalance time: a 3-node broker in this process, three kafkajs 2.2.4 consumers
 * (in this process too) in one group on a 6-partition topic; once they split the partitions, one
 * disconnects (LeaveGroup) and we time until the two survivors' GROUP_JOIN events (one after each
 * SyncGroup) together cover all six partitions again. Each repetition uses a fresh group.
 *
 * The survivors learn of the rebalance from their next Heartbeat (REBALANCE_IN_PROGRESS), so the
 * figure is where the leave falls in the heartbeat cycle plus the JoinGroup/SyncGroup round. The
 * members' heartbeat clocks all start at the SyncGroup that formed the group, so repetition r
 * leaves (r + 0.5) / runs of an interval after that: the runs sample the cycle evenly and the
 * median is about half an interval plus the round. Measured with kafkajs' default heartbeat (3 s)
 * and with a short one.
 *
 *   node dist/native-free-bench/rebalance.bench.js [--runs 5] [--short-heartbeat-ms 300]
 */
import kafkajs, { type Consumer } from 'kafkajs';
import { startBroker, type BrokerHandle } from '../src/index.js';
import { machineNote, median, printTable } from './bench-util.js';

const { Kafka, logLevel } = kafkajs;

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const runs = argument('runs', 5);
const shortHeartbeatMs = argument('short-heartbeat-ms', 300);
if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error(`--runs must be 1..50, got ${runs}`);
if (!Number.isInteger(shortHeartbeatMs) || shortHeartbeatMs < 50 || shortHeartbeatMs > 3000) {
  throw new Error(`--short-heartbeat-ms must be 50..3000, got ${shortHeartbeatMs}`);
}

const partitionCount = 6;
const memberCount = 3;
/** Bound for the group to form, or to settle after the leave. */
const settleTimeoutMs = 30_000;
/** kafkajs 2.2.4 defaults. */
const kafkajsDefaults = { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 3_000 };

interface Timings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
}

interface Member {
  consumer: Consumer;
  owned: number[];
  lastJoinAtMs: number;
}

/** Resolves when `condition` holds (checked on every GROUP_JOIN and every 50 ms); fails at the bound. */
function waitUntil(description: string, condition: () => boolean, timeoutMs = settleTimeoutMs): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = performance.now() + timeoutMs;
    const timer = setInterval(() => {
      if (condition()) {
        clearInterval(timer);
        resolve();
      } else if (performance.now() > deadline) {
        clearInterval(timer);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}`));
      }
    }, 50);
  });
}

const sleep = (durationMs: number) => new Promise((resolve) => setTimeout(resolve, durationMs));

function splitsTopic(members: readonly Member[]): boolean {
  const owned = members.flatMap((member) => member.owned);
  return members.every((member) => member.owned.length > 0) && owned.length === partitionCount && new Set(owned).size === partitionCount;
}

async function startMember(broker: BrokerHandle, topic: string, groupId: string, index: number, timings: Timings): Promise<Member> {
  const kafka = new Kafka({ clientId: `rebalance-bench-${index}`, brokers: broker.bootstrapServers.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId, sessionTimeout: timings.sessionTimeoutMs, heartbeatInterval: timings.heartbeatIntervalMs, maxWaitTimeInMs: 100 });
  const member: Member = { consumer, owned: [], lastJoinAtMs: 0 };
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    member.owned = [...(payload.memberAssignment[topic] ?? [])];
    member.lastJoinAtMs = performance.now();
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachBatch: async () => {} });
  return member;
}

/** One repetition: form the group, disconnect member 0, time the survivors' takeover. */
async function measureOnce(broker: BrokerHandle, topic: string, repetition: number, timings: Timings): Promise<number> {
  const groupId = `rebalance-bench-${timings.heartbeatIntervalMs}-${repetition}`;
  const members: Member[] = [];
  try {
    for (let index = 0; index < memberCount; index += 1) members.push(await startMember(broker, topic, groupId, index, timings));
    await waitUntil('three members to split the partitions', () => splitsTopic(members));
    const [leaver, ...survivors] = members as [Member, ...Member[]];
    await sleep((timings.heartbeatIntervalMs * (repetition + 0.5)) / runs);
    const leaveStartMs = performance.now();
    await leaver.consumer.disconnect();
    await waitUntil('the survivors to take over', () => survivors.every((member) => member.lastJoinAtMs >= leaveStartMs) && splitsTopic(survivors));
    return Math.max(...survivors.map((member) => member.lastJoinAtMs)) - leaveStartMs;
  } finally {
    await Promise.all(members.map((member) => member.consumer.disconnect().catch(() => {})));
  }
}

console.log(`rebalance bench: ${machineNote()}; ${memberCount} kafkajs consumers, ${partitionCount} partitions, ${runs} runs per setting`);
const broker = await startBroker({ nodes: 3, port: 0, host: '127.0.0.1', logLevel: 'error' });
const rows = [];
try {
  const setupKafka = new Kafka({ clientId: 'rebalance-bench-admin', brokers: broker.bootstrapServers.split(','), logLevel: logLevel.NOTHING });
  const admin = setupKafka.admin();
  await admin.connect();
  const topic = 'rebalance-bench';
  await admin.createTopics({ topics: [{ topic, numPartitions: partitionCount, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const settings: Array<[string, Timings]> = [
    ['kafkajs defaults', kafkajsDefaults],
    [`heartbeat ${shortHeartbeatMs} ms`, { sessionTimeoutMs: 10_000, heartbeatIntervalMs: shortHeartbeatMs }],
  ];
  for (const [label, timings] of settings) {
    const values: number[] = [];
    for (let repetition = 0; repetition < runs; repetition += 1) values.push(await measureOnce(broker, topic, repetition, timings));
    rows.push({
      setting: `${label} (session ${timings.sessionTimeoutMs} ms, heartbeat ${timings.heartbeatIntervalMs} ms)`,
      'leave -> reassigned (median)': `${median(values).toFixed(0)} ms`,
      runs: values.map((value) => value.toFixed(0)).join(', '),
    });
  }
} finally {
  await broker.stop();
}
printTable(rows);
