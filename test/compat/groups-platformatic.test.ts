/**
 * @platformatic/kafka 2.12.1 in consumer groups (classic protocol, its 'roundrobin' assignor run
 * by the group leader). Each member is a child process: this compiled file run by node with
 * MINIKAFKA_COMPAT_GROUP_MEMBER set (member mode), so a member can be SIGKILLed. The library needs
 * Node >= 22 (Promise.withResolvers); loadPlatformatic() installs the polyfill before importing it.
 * The member reads with consume({ mode: 'committed', fallbackMode: 'earliest' }), commits every
 * message (the stream coalesces commits per partition) and reports 'consumer:group:join' as its
 * assignment callback; close(true) closes the stream, flushes commits and sends LeaveGroup.
 */
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  groupMemberConfigFromEnvironment,
  runResumeScenario,
  runSplitLeaveCrashScenario,
  serveGroupMember,
  startNodeGroupMember,
  type GroupClientUnderTest,
  type GroupMemberConfig,
  type GroupMemberEvent,
  type GroupWireRecord,
  type RunningGroupMember,
} from './helpers.js';
import { loadPlatformatic } from './platformatic.js';

const groupTestTimeoutMs = 90_000;
/** The consumer heartbeats on its own timer, but a short Fetch wait keeps reads prompt. */
const maxWaitTimeMs = 100;

/** Member mode: one platformatic consumer that reports on stdout (see serveGroupMember). */
async function startPlatformaticMember(config: GroupMemberConfig, emit: (event: GroupMemberEvent) => void): Promise<RunningGroupMember> {
  const { Consumer, stringDeserializers } = await loadPlatformatic();
  const consumer = new Consumer({
    clientId: config.memberName,
    bootstrapBrokers: config.bootstrap.split(','),
    groupId: config.groupId,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: config.heartbeatIntervalMs,
    rebalanceTimeout: config.rebalanceTimeoutMs,
    autocommit: false,
    maxWaitTime: maxWaitTimeMs,
    deserializers: stringDeserializers,
    retries: 10,
    retryDelay: 100,
    timeout: 10_000,
  });
  let owned: number[] = [];
  consumer.on('consumer:group:join', ({ assignments }) => {
    const next = [...(assignments?.find((assignment) => assignment.topic === config.topic)?.partitions ?? [])].sort((a, b) => a - b);
    emit({ event: 'assigned', added: next.filter((partition) => !owned.includes(partition)), owned: next });
    owned = next;
  });
  const stream = await consumer.consume({ topics: [config.topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false, maxWaitTime: maxWaitTimeMs });
  // One 'records' line per turn of the event loop rather than one per message.
  let pending: GroupWireRecord[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    emit({ event: 'records', records: pending });
    pending = [];
  };
  stream.on('data', (message) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push({ partition: message.partition, offset: String(message.offset), key: message.key ?? null, value: message.value ?? null });
    void message.commit((error) => {
      if (error) emit({ event: 'commit_failed', message: error.message });
    });
  });
  stream.on('autocommit', (error: Error | null, offsets?: Array<{ partition: number; offset: bigint }>) => {
    if (error || offsets === undefined) return;
    flush();
    emit({ event: 'committed', offsets: Object.fromEntries(offsets.map((entry) => [String(entry.partition), String(entry.offset)])) });
  });
  stream.on('error', (error: Error) => emit({ event: 'fatal', message: `stream error: ${error.message}` }));
  return {
    close: async () => {
      flush();
      await consumer.close(true);
      flush();
    },
  };
}

const memberConfig = groupMemberConfigFromEnvironment();
if (memberConfig !== undefined) {
  await serveGroupMember(memberConfig, startPlatformaticMember);
} else {
  const thisFile = fileURLToPath(import.meta.url);
  const client: GroupClientUnderTest = {
    name: 'platformatic',
    strategy: 'roundrobin',
    startMember: (config) => startNodeGroupMember(thisFile, config),
    // A Fetch that was in flight when the rebalance completed still delivers (and commits) records
    // of partitions the member just lost: MessagesStream pushes every response without checking
    // the current assignment. Let such fetches (maxWaitTime 100 ms) drain before producing.
    quietAfterRebalanceMs: 500,
  };

  test('platformatic groups: 3 members split 6 partitions; clean leave (timed) and crash takeovers', { timeout: groupTestTimeoutMs }, async () => {
    const report = await runSplitLeaveCrashScenario(client);
    console.log(
      `[rebalance] @platformatic/kafka: clean leave -> survivors reassigned in ${report.leaveRebalanceMs} ms ` +
        `(close took ${report.leaveCloseMs} ms); SIGKILL -> takeover in ${report.crashTakeoverMs} ms (session timeout 3000 ms)`,
    );
  });

  test('platformatic groups: committed offsets resume after a clean close and after a broker restart', { timeout: groupTestTimeoutMs }, async () => {
    await runResumeScenario(client);
  });
}
