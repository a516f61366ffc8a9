/**
 * A BrokerNode on this thread (its rings driven directly), so node:fs can be intercepted: a
 * failed fdatasync of the node journal answers KAFKA_STORAGE_ERROR instead of leaving the
 * covered produce requests unanswered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { ErrorCode } from '../../src/protocol/errors.js';
import { encodeRecordBatch } from '../../src/protocol/records/records.js';
import { systemClock } from '../../src/runtime/clock.js';
import { Logger } from '../../src/runtime/logger.js';
import { createRingBuffer, RingReader, RingWriter } from '../../src/runtime/shared-ring.js';
import { defaultLogConfig } from '../../src/storage/log-config.js';
import { BrokerNode } from '../../src/workers/broker-node.js';
import { MessageKind, messageKind, readControl, readProduceCompletion, writeControl, writeProduceRequest, type ProducePartitionResult } from '../../src/workers/node-protocol.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';

class NodeOnThisThread {
  private readonly requests: RingWriter;
  private readonly completions: RingReader;
  private readonly node: BrokerNode;
  private readonly serving: Promise<void>;
  private nextRequestId = 1;
  private readonly done = new Map<number, unknown>();

  constructor(dataDir: string) {
    const requestRing = createRingBuffer(1 << 20);
    const completionRing = createRingBuffer(1 << 20);
    this.requests = new RingWriter(requestRing);
    this.completions = new RingReader(completionRing);
    this.node = new BrokerNode({
      nodeId: 0,
      dataDir,
      requestRing,
      completionRing,
      topicConfigs: {},
      defaultLogConfig: { ...defaultLogConfig },
      retentionCheckIntervalMs: 60_000,
      checkpointIntervalMs: 60_000,
      groupConfig: {},
      journal: 'auto',
      journalCheckpointIntervalMs: 600_000,
      clock: systemClock,
      // Inline fsyncs take no time on this clock: the inline-flush policy never backs off to
      // the threadpool (whose async fdatasync this test does not intercept), however slow the disk.
      monotonicClock: { monotonicNowMs: () => 0 },
      logger: new Logger('test', 'silent'),
    });
    this.serving = this.node.serve();
  }

  private async wait(requestId: number): Promise<unknown> {
    const deadline = Date.now() + 10_000;
    while (!this.done.has(requestId)) {
      if (Date.now() > deadline) throw new Error(`no completion for request ${requestId} within 10 s`);
      this.completions.drain((bytes, offset, length) => {
        if (messageKind(bytes, offset) === MessageKind.PRODUCE) {
          const { requestId: id, results } = readProduceCompletion(bytes, offset);
          this.done.set(id, results);
        } else {
          const { requestId: id, message } = readControl(bytes, offset, length);
          this.done.set(id, message);
        }
      });
      await new Promise((resolve) => setImmediate(resolve));
    }
    const value = this.done.get(requestId);
    this.done.delete(requestId);
    return value;
  }

  async control(message: unknown): Promise<unknown> {
    const requestId = this.nextRequestId++;
    assert.ok(writeControl(this.requests, requestId, message));
    return this.wait(requestId);
  }

  async produce(partitions: number[]): Promise<number[]> {
    const requestId = this.nextRequestId++;
    const records = partitions.map((partition) => ({ topic: 't', partition, records: encodeRecordBatch({ records: [{ key: `k${partition}`, value: `v${requestId}` }] }) }));
    assert.ok(writeProduceRequest(this.requests, { requestId, acks: -1, timeoutMs: 5000, partitions: records }));
    return ((await this.wait(requestId)) as ProducePartitionResult[]).map((result) => result.errorCode);
  }

  async stop(): Promise<void> {
    await this.control({ op: 'shutdown' });
    await this.serving;
  }
}

test('a failed journal fdatasync answers KAFKA_STORAGE_ERROR, and the journal refuses what would need it', { timeout: 30_000 }, async () => {
  const original = fs.fdatasyncSync;
  let failNext = false;
  fs.fdatasyncSync = (fd: number) => {
    if (failNext) {
      failNext = false;
      throw Object.assign(new Error('EIO: injected fdatasync failure'), { code: 'EIO' });
    }
    original(fd);
  };
  syncBuiltinESMExports();
  const node = new NodeOnThisThread(temporaryDirectory());
  try {
    const assignment = (partition: number) => ({ topic: 't', partition, leaderEpoch: 0, config: { ...defaultLogConfig }, partitionCount: 3 });
    assert.deepEqual(await node.control({ op: 'becomeLeader', partitions: [assignment(0), assignment(1), assignment(2)] }), { ok: true, value: null });
    assert.deepEqual(await node.produce([0, 1]), [ErrorCode.NONE, ErrorCode.NONE], 'two partitions: through the journal');
    failNext = true;
    assert.deepEqual(await node.produce([0, 1]), [ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.KAFKA_STORAGE_ERROR], 'the covering journal fsync failed');
    assert.equal(failNext, false, 'the journal fsync was the one that failed');
    assert.deepEqual(await node.produce([1, 2]), [ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.KAFKA_STORAGE_ERROR], 'the journal is offline');
    assert.deepEqual(await node.produce([2]), [ErrorCode.NONE], 'a single partition still fsyncs its own log');
    assert.deepEqual(await node.produce([0]), [ErrorCode.KAFKA_STORAGE_ERROR], 'the logs the failure covered stay offline');
  } finally {
    fs.fdatasyncSync = original;
    syncBuiltinESMExports();
    await node.stop();
  }
});
