/**
 * A BrokerNode on the test's own thread, its rings driven directly: tests can inject its
 * clocks and storage seam (file operations), which a worker thread would not take.
 */
import assert from 'node:assert/strict';
import { encodeRecordBatch } from '../../src/protocol/records/records.js';
import { systemClock } from '../../src/runtime/clock.js';
import { createDoorbell, Doorbell } from '../../src/runtime/doorbell.js';
import { Logger } from '../../src/runtime/logger.js';
import { createRingBuffer, RingReader, RingWriter } from '../../src/runtime/shared-ring.js';
import type { StorageFileOps } from '../../src/storage/file-ops.js';
import { defaultLogConfig, type LogConfig } from '../../src/storage/log-config.js';
import { BrokerNode } from '../../src/workers/broker-node.js';
import {
  MessageKind,
  messageKind,
  readControl,
  readFetchCompletion,
  readProduceCompletion,
  writeControl,
  writeFetchRequest,
  writeProduceRequest,
  type ControlRequest,
  type FetchPartitionResult,
  type ProducePartitionResult,
} from '../../src/workers/node-protocol.js';

export interface NodeOnThisThreadOptions {
  dataDir: string;
  journal?: 'off' | 'auto' | 'always';
  files?: StorageFileOps;
  logConfig?: Partial<LogConfig>;
  onLogDirOffline?: (reason: string) => void;
}

export class NodeOnThisThread {
  private readonly requests: RingWriter;
  private readonly completions: RingReader;
  readonly node: BrokerNode;
  private readonly serving: Promise<void>;
  private nextRequestId = 1;
  private readonly done = new Map<number, unknown>();
  readonly logConfig: LogConfig;

  constructor(options: NodeOnThisThreadOptions) {
    const requestRing = createRingBuffer(1 << 20);
    const completionRing = createRingBuffer(1 << 20);
    const doorbell = createDoorbell();
    this.requests = new RingWriter(requestRing, { doorbell: new Doorbell(doorbell) });
    this.completions = new RingReader(completionRing);
    this.logConfig = { ...defaultLogConfig, ...options.logConfig };
    this.node = new BrokerNode({
      nodeId: 0,
      dataDir: options.dataDir,
      requestRing,
      completionRing,
      doorbell,
      topicConfigs: { t: this.logConfig },
      defaultLogConfig: this.logConfig,
      retentionCheckIntervalMs: 600_000,
      checkpointIntervalMs: 600_000,
      groupConfig: {},
      journal: options.journal ?? 'auto',
      journalCheckpointIntervalMs: 600_000,
      clock: systemClock,
      // Inline fsyncs take no time on this clock: the inline-flush policy never backs off to
      // the threadpool, however slow the disk (tests that count or fail fsyncs rely on it).
      monotonicClock: { monotonicNowMs: () => 0 },
      logger: new Logger('test', 'silent'),
      ...(options.files === undefined ? {} : { files: options.files }),
      ...(options.onLogDirOffline === undefined ? {} : { onLogDirOffline: options.onLogDirOffline }),
    });
    this.serving = this.node.serve();
  }

  private async wait(requestId: number): Promise<unknown> {
    const deadline = Date.now() + 10_000;
    while (!this.done.has(requestId)) {
      if (Date.now() > deadline) throw new Error(`no completion for request ${requestId} within 10 s`);
      this.completions.drain((bytes, offset, length) => {
        const kind = messageKind(bytes, offset);
        if (kind === MessageKind.PRODUCE) {
          const { requestId: id, results } = readProduceCompletion(bytes, offset);
          this.done.set(id, results);
        } else if (kind === MessageKind.FETCH) {
          const { requestId: id, results } = readFetchCompletion(bytes, offset);
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

  async control(message: ControlRequest): Promise<unknown> {
    const requestId = this.nextRequestId++;
    assert.ok(writeControl(this.requests, requestId, message));
    return this.wait(requestId);
  }

  /** Leads partitions [0, count) of topic t. */
  async lead(count: number): Promise<void> {
    const partitions = Array.from({ length: count }, (_, partition) => ({ topic: 't', partition, leaderEpoch: 0, config: this.logConfig, partitionCount: count }));
    assert.deepEqual(await this.control({ op: 'becomeLeader', partitions }), { ok: true, value: null });
  }

  /** acks=all: one batch of one record `value` for each of `partitions` of topic t. */
  async produce(partitions: readonly number[], value: string | Buffer = `v${this.nextRequestId}`): Promise<ProducePartitionResult[]> {
    const requestId = this.nextRequestId++;
    const records = partitions.map((partition) => ({ topic: 't', partition, records: encodeRecordBatch({ records: [{ key: `k${partition}`, value }] }) }));
    assert.ok(writeProduceRequest(this.requests, { requestId, acks: -1, timeoutMs: 5000, partitions: records }));
    return (await this.wait(requestId)) as ProducePartitionResult[];
  }

  async produceCodes(partitions: readonly number[], value?: string | Buffer): Promise<number[]> {
    return (await this.produce(partitions, value)).map((result) => result.errorCode);
  }

  /** Fetches one partition of topic t; with `maxWaitMs` > 0 it parks until data or expiry. */
  async fetch(partition: number, fetchOffset: number, maxBytes = 1 << 19, maxWaitMs = 0): Promise<FetchPartitionResult> {
    const requestId = this.nextRequestId++;
    const request = { requestId, maxWaitMs, minBytes: 1, maxBytes, isolationLevel: 0, partitions: [{ topic: 't', partition, fetchOffset, partitionMaxBytes: maxBytes }] };
    assert.ok(writeFetchRequest(this.requests, request));
    return ((await this.wait(requestId)) as FetchPartitionResult[])[0]!;
  }

  async stop(): Promise<void> {
    await this.control({ op: 'shutdown' });
    await this.serving;
  }
}
