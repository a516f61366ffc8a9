/**
 * kafkajs 2.2.4 in consumer groups. Each member is a child process: this compiled file run by node
 * with MINIKAFKA_COMPAT_GROUP_MEMBER set (member mode, bottom of the file), so a member can be
 * SIGKILLed to stop its heartbeats. kafkajs has no revocation callback: its GROUP_JOIN event
 * (after every SyncGroup) gives the whole new assignment, which is what the scenarios time.
 * The member reads with eachBatch and commits after every batch (autoCommitThreshold 1); kafkajs
 * only offers its RoundRobinAssigner, so the strategy in the config is not used.
 */
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import {
  groupMemberConfigFromEnvironment,
  runResumeScenario,
  runSplitLeaveCrashScenario,
  serveGroupMember,
  startNodeGroupMember,
  type GroupMemberConfig,
  type GroupMemberEvent,
  type GroupClientUnderTest,
  type RunningGroupMember,
} from './helpers.js';

const { Kafka, logLevel } = kafkajs;
const groupTestTimeoutMs = 90_000;
/** kafkajs waits this long in Fetch; it heartbeats between fetches, so keep it short. */
const maxWaitTimeMs = 100;

/** Member mode: one kafkajs consumer that reports on stdout (see serveGroupMember). */
async function startKafkajsMember(config: GroupMemberConfig, emit: (event: GroupMemberEvent) => void): Promise<RunningGroupMember> {
  const kafka = new Kafka({
    clientId: config.memberName,
    brokers: config.bootstrap.split(','),
    logLevel: logLevel.WARN,
    // stdout carries the member's reports; kafkajs' own log lines go to stderr.
    logCreator: () => (entry) => process.stderr.write(`${entry.label} ${entry.namespace} ${JSON.stringify(entry.log)}\n`),
  });
  const consumer = kafka.consumer({
    groupId: config.groupId,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: config.heartbeatIntervalMs,
    rebalanceTimeout: config.rebalanceTimeoutMs,
    maxWaitTimeInMs: maxWaitTimeMs,
  });
  let owned: number[] = [];
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const next = [...(payload.memberAssignment[config.topic] ?? [])].sort((a, b) => a - b);
    emit({ event: 'assigned', added: next.filter((partition) => !owned.includes(partition)), owned: next });
    owned = next;
  });
  consumer.on(consumer.events.COMMIT_OFFSETS, ({ payload }) => {
    const offsets: Record<string, string> = {};
    for (const topic of payload.topics) for (const partition of topic.partitions) offsets[String(partition.partition)] = partition.offset;
    emit({ event: 'committed', offsets });
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) emit({ event: 'fatal', message: `consumer crashed: ${payload.error.message}` });
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [config.topic], fromBeginning: true });
  await consumer.run({
    autoCommitThreshold: 1,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      if (batch.messages.length === 0) return;
      emit({
        event: 'records',
        records: batch.messages.map((message) => ({
          partition: batch.partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
        })),
      });
      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary();
    },
  });
  return { close: () => consumer.disconnect() };
}

const memberConfig = groupMemberConfigFromEnvironment();
if (memberConfig !== undefined) {
  await serveGroupMember(memberConfig, startKafkajsMember);
} else {
  const thisFile = fileURLToPath(import.meta.url);
  const client: GroupClientUnderTest = {
    name: 'kafkajs',
    strategy: 'roundrobin',
    startMember: (config) => startNodeGroupMember(thisFile, config),
  };

  test('kafkajs groups: 3 members split 6 partitions; clean leave (timed) and crash takeovers', { timeout: groupTestTimeoutMs }, async () => {
    const report = await runSplitLeaveCrashScenario(client);
    console.log(
      `[rebalance] kafkajs: clean leave -> survivors reassigned in ${report.leaveRebalanceMs} ms ` +
        `(close took ${report.leaveCloseMs} ms); SIGKILL -> takeover in ${report.crashTakeoverMs} ms (session timeout 3000 ms)`,
    );
  });

  test('kafkajs groups: committed offsets resume after a clean close and after a broker restart', { timeout: groupTestTimeoutMs }, async () => {
    await runResumeScenario(client);
  });
}
