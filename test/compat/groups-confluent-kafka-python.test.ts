/**
 * confluent-kafka-python (Debian python3-confluent-kafka 1.7.0 on librdkafka 2.0.2) in consumer
 * groups: every member is /usr/bin/python3 python/group_member.py, reporting its on_assign /
 * on_revoke callbacks, its records and its synchronous commits (see helpers.ts, "Consumer groups").
 *
 * Besides the scenarios every client runs (split, clean leave, crash, resume, broker restart), two
 * that only librdkafka can drive here: the cooperative-sticky assignor (KIP-429: only the
 * partitions that move are revoked) and static membership (KIP-345: a member restarted within its
 * session timeout gets its partitions back without a rebalance).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertKeyedDelivery,
  groupKeyCount,
  groupMemberConfig,
  groupTestBrokerSettings,
  groupTopicPartitionCount,
  keyedMessages,
  lastAssignedAtMs,
  openGroupObserver,
  ownedSetsSplitTopic,
  recordsOfPhase,
  requirePythonModules,
  runResumeScenario,
  runSplitLeaveCrashScenario,
  sleep,
  startCompatBroker,
  startPythonGroupMember,
  uniqueTopic,
  waitForCommittedOffsets,
  waitForMembers,
  waitForPhase,
  waitForStableGroup,
  type GroupAssignmentStrategy,
  type GroupClientUnderTest,
  type GroupMemberConfig,
  type GroupMemberProcess,
  type GroupObserver,
} from './helpers.js';

/** Each test starts a broker, three Python processes and waits for a session timeout at most once. */
const groupTestTimeoutMs = 90_000;
/** Session timeout of the static members: long enough to restart a Python process well within it. */
const staticSessionTimeoutMs = 10_000;
/** How long the other static members must stay quiet after the restart (many heartbeats). */
const staticQuietWindowMs = 2_000;

const client: GroupClientUnderTest = {
  name: 'confluent',
  strategy: 'range',
  startMember: (config) => startPythonGroupMember('confluent-kafka-python', config),
};

const sortedPartitions = (partitions: Iterable<number>) => [...partitions].sort((a, b) => a - b);

/** A broker, an observer, a topic of six partitions and a group; everything stopped after `body`. */
async function withGroupFixture(
  prefix: string,
  body: (fixture: { observer: GroupObserver; topic: string; groupId: string; start: (name: string, strategy: GroupAssignmentStrategy, overrides?: Partial<GroupMemberConfig>) => GroupMemberProcess }) => Promise<void>,
): Promise<void> {
  const broker = await startCompatBroker({ broker: { ...groupTestBrokerSettings } });
  const members: GroupMemberProcess[] = [];
  let observer: GroupObserver | undefined;
  try {
    observer = await openGroupObserver(broker.bootstrapServers);
    const topic = uniqueTopic(`groups-${prefix}`);
    const groupId = uniqueTopic(`group-${prefix}`);
    await observer.createTopic(topic, groupTopicPartitionCount);
    const start = (name: string, strategy: GroupAssignmentStrategy, overrides: Partial<GroupMemberConfig> = {}) => {
      const member = client.startMember(groupMemberConfig(broker.bootstrapServers, topic, groupId, name, strategy, overrides));
      members.push(member);
      return member;
    };
    await body({ observer, topic, groupId, start });
  } finally {
    await Promise.all(members.map((member) => member.stop()));
    await observer?.close().catch(() => {});
    await broker.stop();
  }
}

test('confluent-kafka-python groups: 3 members split 6 partitions; clean leave (timed) and crash takeovers', { timeout: groupTestTimeoutMs }, async () => {
  await requirePythonModules(['confluent_kafka']);
  const report = await runSplitLeaveCrashScenario(client);
  console.log(
    `[rebalance] confluent-kafka-python: clean leave -> survivors reassigned in ${report.leaveRebalanceMs} ms ` +
      `(close took ${report.leaveCloseMs} ms); SIGKILL -> takeover in ${report.crashTakeoverMs} ms (session timeout 3000 ms)`,
  );
});

test('confluent-kafka-python groups: committed offsets resume after a clean close and after a broker restart', { timeout: groupTestTimeoutMs }, async () => {
  await requirePythonModules(['confluent_kafka']);
  await runResumeScenario(client);
});

test('confluent-kafka-python groups: cooperative-sticky revokes only the partitions that move', { timeout: groupTestTimeoutMs }, async () => {
  await requirePythonModules(['confluent_kafka']);
  await withGroupFixture('coop', async ({ observer, topic, groupId, start }) => {
    const messages = keyedMessages(600, groupKeyCount);
    const phases = [messages.slice(0, 300), messages.slice(300)] as const;
    const first = start('confluent-coop-first', 'cooperative-sticky');
    await waitForMembers([first], `${first.name} to own all partitions`, () => ownedSetsSplitTopic([first]));
    await observer.produce(topic, phases[0]);
    await waitForPhase([first], phases[0], `${first.name} to read phase 1`);
    const afterPhase1 = assertKeyedDelivery(first.records, phases[0]);
    await waitForCommittedOffsets(observer, groupId, topic, afterPhase1);

    const firstEventCount = first.events.length;
    const joinAtMs = performance.now();
    const second = start('confluent-coop-second', 'cooperative-sticky');
    const settledAtMs = await waitForMembers(
      [first, second],
      'the second member to get its share',
      () => lastAssignedAtMs(second) >= joinAtMs && ownedSetsSplitTopic([first, second]),
    );
    const moved = sortedPartitions(second.owned);
    const firstEvents = first.events.slice(firstEventCount).map(({ event }) => event);
    const revocations = firstEvents.flatMap((event) => (event.event === 'revoked' ? [event] : []));
    console.log(
      `[rebalance] confluent-kafka-python cooperative-sticky: join -> split in ${Math.round(settledAtMs - joinAtMs)} ms; ` +
        `moved [${moved}], first member's callbacks: ${JSON.stringify(firstEvents.filter((event) => event.event !== 'records' && event.event !== 'committed'))}`,
    );
    assert.equal(moved.length, groupTopicPartitionCount / 2, 'the sticky assignor balances 3/3');
    assert.ok(revocations.length >= 1, 'the first member was asked to revoke the partitions that move');
    assert.deepEqual(sortedPartitions(revocations.flatMap((event) => event.removed)), moved, 'revoked exactly the partitions that moved');
    assert.ok(revocations.every((event) => event.owned.length > 0), 'never a full revocation');
    assert.deepEqual(
      sortedPartitions(first.owned),
      [...Array(groupTopicPartitionCount).keys()].filter((partition) => !moved.includes(partition)),
      'the first member kept the rest',
    );
    const group = await waitForStableGroup(observer, groupId, topic, [first, second]);
    assert.equal(group.length, 2);

    await observer.produce(topic, phases[1]);
    await waitForPhase([first, second], phases[1], 'both members to read phase 2');
    assertKeyedDelivery(recordsOfPhase([first, second], phases[1]), phases[1], afterPhase1);
    assertKeyedDelivery(recordsOfPhase([first, second], phases[0]), phases[0]);
  });
});

test('confluent-kafka-python groups: a static member restarted within its session gets its partitions back without a rebalance', { timeout: groupTestTimeoutMs }, async () => {
  await requirePythonModules(['confluent_kafka']);
  await withGroupFixture('static', async ({ observer, topic, groupId, start }) => {
    const staticConfig = (index: number) => ({ groupInstanceId: `confluent-static-${index}`, sessionTimeoutMs: staticSessionTimeoutMs });
    const members = [0, 1, 2].map((index) => start(`confluent-static-${index}`, 'range', staticConfig(index)));
    await waitForMembers(members, 'three static members to split the partitions', () => ownedSetsSplitTopic(members));
    await waitForStableGroup(observer, groupId, topic, members);
    const messages = keyedMessages(600, groupKeyCount);
    const phases = [messages.slice(0, 300), messages.slice(300)] as const;
    await observer.produce(topic, phases[0]);
    await waitForPhase(members, phases[0], 'the group to read phase 1');
    const afterPhase1 = assertKeyedDelivery(recordsOfPhase(members, phases[0]), phases[0]);
    await waitForCommittedOffsets(observer, groupId, topic, afterPhase1);

    const [keeperA, keeperB, victim] = members as [GroupMemberProcess, GroupMemberProcess, GroupMemberProcess];
    const ownedBefore = members.map((member) => sortedPartitions(member.owned));
    const restartAtMs = performance.now();
    await victim.kill();
    const restarted = start(victim.name, 'range', staticConfig(2));
    const regainedAtMs = await waitForMembers(
      [restarted, keeperA, keeperB],
      `${restarted.name} to get its partitions back`,
      () => lastAssignedAtMs(restarted) >= restartAtMs && sortedPartitions(restarted.owned).join(',') === ownedBefore[2]!.join(','),
    );
    await sleep(staticQuietWindowMs);
    console.log(`[rebalance] confluent-kafka-python static member: SIGKILL + restart -> old partitions back in ${Math.round(regainedAtMs - restartAtMs)} ms`);
    for (const [index, keeper] of [keeperA, keeperB].entries()) {
      const callbacks = keeper.eventsSince(restartAtMs).filter((event) => event.event === 'assigned' || event.event === 'revoked');
      assert.deepEqual(callbacks, [], `${keeper.name} saw no rebalance`);
      assert.deepEqual(sortedPartitions(keeper.owned), ownedBefore[index], `${keeper.name} kept its partitions`);
    }
    await waitForStableGroup(observer, groupId, topic, [keeperA, keeperB, restarted]);

    await observer.produce(topic, phases[1]);
    const everyone = [keeperA, keeperB, restarted];
    await waitForPhase(everyone, phases[1], 'the group to read phase 2', everyone);
    assertKeyedDelivery(recordsOfPhase(everyone, phases[1]), phases[1], afterPhase1);
  });
});
