/**
 * kafka-python (Debian python3-kafka 2.0.2) in consumer groups: every member is /usr/bin/python3
 * python/group_member.py with a KafkaConsumer and a ConsumerRebalanceListener, reporting its
 * callbacks, records and synchronous commits (see helpers.ts, "Consumer groups"). kafka-python
 * guesses broker 2.3 and speaks JoinGroup v2, SyncGroup/Heartbeat/LeaveGroup v1, OffsetCommit v2
 * and OffsetFetch v1. It has no cooperative assignor and no static membership in 2.0.2.
 */
import { test } from 'node:test';
import {
  requirePythonModules,
  runResumeScenario,
  runSplitLeaveCrashScenario,
  startPythonGroupMember,
  type GroupClientUnderTest,
} from './helpers.js';

const groupTestTimeoutMs = 90_000;

const client: GroupClientUnderTest = {
  name: 'kafka-python',
  strategy: 'range',
  startMember: (config) => startPythonGroupMember('kafka-python', config),
};

test('kafka-python groups: 3 members split 6 partitions; clean leave (timed) and crash takeovers', { timeout: groupTestTimeoutMs }, async () => {
  await requirePythonModules(['kafka']);
  const report = await runSplitLeaveCrashScenario(client);
  console.log(
    `[rebalance] kafka-python: clean leave -> survivors reassigned in ${report.leaveRebalanceMs} ms ` +
      `(close took ${report.leaveCloseMs} ms); SIGKILL -> takeover in ${report.crashTakeoverMs} ms (session timeout 3000 ms)`,
  );
});

test('kafka-python groups: committed offsets resume after a clean close and after a broker restart', { timeout: groupTestTimeoutMs }, async () => {
  await requirePythonModules(['kafka']);
  await runResumeScenario(client);
});
