/** The Raft metadata quorum inside a real broker: nodes as voters, the front thread as observer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, validateConfig } from '../../src/config/broker-config.js';
import { MetadataImage } from '../../src/metadata/image.js';
import { MetadataLog } from '../../src/metadata/metadata-log.js';
import type { MetadataRecord } from '../../src/metadata/records.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { Broker, nodesThatLostMetadata } from '../../src/server/broker.js';
import { RawConnection } from '../helpers/raw-client.js';

function config(dataDir: string, nodes: number, broker: Record<string, unknown> = {}) {
  return validateConfig({ dataDir, nodes, port: 0, logLevel: 'silent', broker }, defaultConfig(), 'test');
}

async function withDataDir(run: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'minikafka-quorum-'));
  try {
    await run(dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function metadata(broker: Broker): Promise<{ controllerId: number; topics: Array<{ name: string; errorCode: number }> }> {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  try {
    return await connection.request(ApiKey.Metadata, 8, { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  } finally {
    connection.close();
  }
}

async function createTopic(broker: Broker, name: string): Promise<number> {
  const [result] = await broker.controller.createTopics([{ name, numPartitions: 2, replicationFactor: 1 }]);
  return result!.errorCode;
}

/** Resolves once `condition` holds after some quorum event; fails after `timeoutMs`. */
function quorumCondition(broker: Broker, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error('quorum condition not reached'));
    }, timeoutMs);
    const stop = broker.quorum.watch(() => {
      if (!condition()) return false;
      clearTimeout(timer);
      resolve();
      return true;
    });
  });
}

test('three nodes form one quorum: one leader, the same term everywhere, and Metadata names it as controller', async () => {
  await withDataDir(async (dataDir) => {
    const broker = await Broker.start(config(dataDir, 3));
    try {
      assert.equal(await createTopic(broker, 'q'), ErrorCode.NONE);
      const leaderId = broker.quorum.leaderId;
      assert.ok(leaderId >= 0 && leaderId < 3);
      await quorumCondition(broker, () => [0, 1, 2].every((nodeId) => broker.quorum.nodeView(nodeId)?.leaderId === leaderId));
      const terms = new Set([0, 1, 2].map((nodeId) => broker.quorum.nodeView(nodeId)!.term));
      assert.equal(terms.size, 1);
      const response = await metadata(broker);
      assert.equal(response.controllerId, leaderId);
      assert.ok(response.topics.some((topic) => topic.name === 'q'));
      for (const nodeId of [0, 1, 2]) assert.ok(existsSync(join(dataDir, `node-${nodeId}`, '__cluster_metadata-0', 'quorum-state')));
    } finally {
      await broker.stop();
    }
  });
});

test('a data dir of the single-voter version opens: its metadata becomes the quorum state, the old log is kept aside', async () => {
  await withDataDir(async (dataDir) => {
    const image = new MetadataImage();
    const old = MetadataLog.open(join(dataDir, 'metadata'), new ManualClock(), image);
    await old.append([
      { type: 'cluster', clusterId: 'old-cluster-id-000000' },
      { type: 'topic', name: 'from-before', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', configs: { 'retention.ms': '1234' } },
      // Written before partition records had a partitionEpoch.
      { type: 'partition', topic: 'from-before', partition: 0, replicas: [0], isr: [0], leader: 0, leaderEpoch: 0 } as MetadataRecord,
    ]);
    await old.close();
    let broker = await Broker.start(config(dataDir, 1));
    try {
      assert.equal(broker.image.clusterId, 'old-cluster-id-000000');
      assert.equal(broker.image.topic('from-before')?.configs['retention.ms'], '1234');
      assert.ok(existsSync(join(dataDir, 'metadata-pre-raft')));
      assert.ok(!existsSync(join(dataDir, 'metadata')));
      assert.equal(await createTopic(broker, 'after'), ErrorCode.NONE);
    } finally {
      await broker.stop();
    }
    broker = await Broker.start(config(dataDir, 1));
    try {
      assert.deepEqual([...broker.image.topics.keys()].sort(), ['after', 'from-before']);
    } finally {
      await broker.stop();
    }
  });
});

test('a node whose metadata dir was lost rejoins: it is caught up before it votes, and nothing is lost', async () => {
  await withDataDir(async (dataDir) => {
    let broker = await Broker.start(config(dataDir, 3));
    try {
      for (const name of ['a', 'b', 'c']) assert.equal(await createTopic(broker, name), ErrorCode.NONE);
    } finally {
      await broker.stop();
    }
    assert.deepEqual(nodesThatLostMetadata(dataDir, 3), []);
    rmSync(join(dataDir, 'node-0', '__cluster_metadata-0'), { recursive: true, force: true });
    assert.deepEqual(nodesThatLostMetadata(dataDir, 3), [0]);
    broker = await Broker.start(config(dataDir, 3));
    try {
      assert.deepEqual([...broker.image.topics.keys()].sort(), ['a', 'b', 'c']);
      assert.notEqual(broker.quorum.leaderId, 0, 'the node that lost its metadata did not become controller');
      await quorumCondition(broker, () => broker.quorum.nodeView(0)?.abstaining === false);
      assert.equal(await createTopic(broker, 'd'), ErrorCode.NONE);
    } finally {
      await broker.stop();
    }
  });
});

test('a node that stops reaching the controller is fenced by a metadata record, and unfenced when it returns', async () => {
  await withDataDir(async (dataDir) => {
    const broker = await Broker.start(config(dataDir, 3, { 'broker.heartbeat.interval.ms': 50, 'broker.session.timeout.ms': 400 }));
    try {
      const isolated = [0, 1, 2].find((nodeId) => nodeId !== broker.quorum.leaderId)!;
      // Cut the node off from every other node (and so from the controller).
      broker.isLinkBlocked = (from, to) => from === isolated || to === isolated;
      await quorumCondition(broker, () => broker.image.fencedNodes.has(isolated));
      assert.deepEqual([...broker.image.fencedNodes], [isolated]);
      broker.isLinkBlocked = () => false;
      await quorumCondition(broker, () => broker.image.fencedNodes.size === 0);
    } finally {
      await broker.stop();
    }
  });
});

test('a controller cut off from the majority steps down; the majority elects another and admin writes go on', async () => {
  await withDataDir(async (dataDir) => {
    const broker = await Broker.start(config(dataDir, 3));
    try {
      assert.equal(await createTopic(broker, 'before'), ErrorCode.NONE);
      const old = broker.quorum.leaderId;
      broker.isLinkBlocked = (from, to) => from === old || to === old;
      await quorumCondition(broker, () => broker.quorum.nodeView(old)?.role !== 'leader' && broker.quorum.leaderId !== -1 && broker.quorum.leaderId !== old);
      const successor = broker.quorum.leaderId;
      assert.ok(broker.quorum.nodeView(successor)!.term > broker.quorum.nodeView(old)!.term, 'a new term');
      assert.equal(await createTopic(broker, 'during'), ErrorCode.NONE);
      broker.isLinkBlocked = () => false;
      // Healed: the old controller follows the new one and has the change made without it.
      await quorumCondition(broker, () => broker.quorum.nodeView(old)?.leaderId === successor);
      assert.equal(broker.quorum.leaderId, successor, 'pre-vote: the returning node did not depose the leader');
      assert.equal(await createTopic(broker, 'after'), ErrorCode.NONE);
    } finally {
      await broker.stop();
    }
  });
});

test('without a majority, admin writes fail with a retriable error (not a hang) and succeed once it returns', async () => {
  await withDataDir(async (dataDir) => {
    const broker = await Broker.start(config(dataDir, 3));
    try {
      broker.isLinkBlocked = () => true;
      const startedMs = Date.now();
      const errorCode = await createTopic(broker, 'no-quorum');
      assert.ok(errorCode === ErrorCode.NOT_CONTROLLER || errorCode === ErrorCode.REQUEST_TIMED_OUT, `error ${errorCode}`);
      assert.ok(Date.now() - startedMs < 15_000, 'answered within the commit timeout, not hung');
      assert.equal(broker.image.topic('no-quorum'), undefined);
      broker.isLinkBlocked = () => false;
      await quorumCondition(broker, () => broker.quorum.leaderId !== -1);
      // A proposal the leader had accepted may still commit once the majority is back (that is
      // what REQUEST_TIMED_OUT says), so the retry creates the topic or finds it created.
      const retried = await createTopic(broker, 'no-quorum');
      assert.ok(retried === ErrorCode.NONE || (retried === ErrorCode.TOPIC_ALREADY_EXISTS && errorCode === ErrorCode.REQUEST_TIMED_OUT), `retry: error ${retried}`);
      assert.ok(broker.image.topic('no-quorum') !== undefined);
    } finally {
      await broker.stop();
    }
  });
});

test('kill a majority: admin writes fail with a retriable error until a node returns, then succeed', async () => {
  await withDataDir(async (dataDir) => {
    const broker = await Broker.start(validateConfig({ dataDir, nodes: 3, port: 0, logLevel: 'silent', faultInjection: true }, defaultConfig(), 'test'));
    try {
      assert.equal(await createTopic(broker, 'before'), ErrorCode.NONE);
      const controller = broker.quorum.leaderId;
      const others = [0, 1, 2].filter((nodeId) => nodeId !== controller);
      // Killing the controller alone: the two others elect one and metadata keeps changing.
      await broker.killNode(controller);
      assert.equal(await createTopic(broker, 'minority-down'), ErrorCode.NONE);
      await broker.killNode(others[0]!);
      const errorCode = await createTopic(broker, 'majority-down');
      assert.ok(errorCode === ErrorCode.NOT_CONTROLLER || errorCode === ErrorCode.REQUEST_TIMED_OUT, `error ${errorCode}`);
      await broker.restartNode(controller);
      await quorumCondition(broker, () => broker.quorum.leaderId !== -1);
      const retried = await createTopic(broker, 'majority-down');
      assert.ok(retried === ErrorCode.NONE || (retried === ErrorCode.TOPIC_ALREADY_EXISTS && errorCode === ErrorCode.REQUEST_TIMED_OUT), `retry: error ${retried}`);
      for (const name of ['before', 'minority-down', 'majority-down']) assert.ok(broker.image.topic(name) !== undefined, name);
    } finally {
      await broker.stop();
    }
  });
});

test('the metadata log survives restart after restart: the node never takes its dir for a partition log', async () => {
  await withDataDir(async (dataDir) => {
    for (const [round, name] of ['one', 'two', 'three'].entries()) {
      const broker = await Broker.start(config(dataDir, 2));
      try {
        assert.deepEqual([...broker.image.topics.keys()].sort(), ['one', 'two', 'three'].slice(0, round).sort());
        assert.equal(await createTopic(broker, name), ErrorCode.NONE);
        const [reserved] = await broker.controller.createTopics([{ name: '__cluster_metadata', numPartitions: 1, replicationFactor: 1 }]);
        assert.equal(reserved!.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
      } finally {
        await broker.stop();
      }
    }
  });
});
