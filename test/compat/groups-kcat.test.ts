/**
 * kcat 1.7.1 -G (librdkafka 2.0.2's balanced consumer) in consumer groups: each member is a kcat
 * process printing records as JSON (-J -u) and its rebalance callback ("% Group ... rebalanced:
 * assigned: ..." / "revoked: ...") on stderr; it auto-commits (every 5 s, see startKcatGroupMember)
 * and closes cleanly (commit, LeaveGroup) on SIGTERM. It runs the same scenarios as the other
 * clients; the scenarios wait for the commits, so the 5 s interval makes these the slowest.
 */
import { test } from 'node:test';
import {
  requireCommand,
  runResumeScenario,
  runSplitLeaveCrashScenario,
  startKcatGroupMember,
  type GroupClientUnderTest,
} from './helpers.js';

const groupTestTimeoutMs = 90_000;

const client: GroupClientUnderTest = { name: 'kcat', strategy: 'range', startMember: startKcatGroupMember };

test('kcat -G groups: 3 members split 6 partitions; clean leave (timed) and crash takeovers', { timeout: groupTestTimeoutMs }, async () => {
  requireCommand('kcat');
  const report = await runSplitLeaveCrashScenario(client);
  console.log(
    `[rebalance] kcat -G: clean leave -> survivors reassigned in ${report.leaveRebalanceMs} ms ` +
      `(close took ${report.leaveCloseMs} ms); SIGKILL -> takeover in ${report.crashTakeoverMs} ms (session timeout 3000 ms)`,
  );
});

test('kcat -G groups: committed offsets resume after a clean close and after a broker restart', { timeout: groupTestTimeoutMs }, async () => {
  requireCommand('kcat');
  await runResumeScenario(client);
});
