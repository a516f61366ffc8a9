/**
 * An in-memory Kafka cluster of N fake nodes for client tests: topics, leaders per partition,
 * logs of record batches, and injectable error codes. Each node answers NOT_LEADER_OR_FOLLOWER
 * for partitions it does not lead, like the real broker. Node 0 is the controller.
 */
import { ApiKey } from '../../src/protocol/schema/index.js';
import {
  decodeRequestBody,
  encodeResponse,
  supportedVersionRanges,
} from '../../src/protocol/codec/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  decodeRecordBatches,
  readLastOffsetDelta,
  readMaxTimestamp,
  setBaseOffset,
  type DecodedRecord,
} from '../../src/protocol/records/index.js';
import { FakeServer, type FakeReply, type FakeRequest } from './fake-server.js';

export interface FakePartition {
  leaderId: number;
  replicas: number[];
  batches: { baseOffset: number; lastOffset: number; bytes: Buffer }[];
  logStartOffset: number;
  logEndOffset: number;
}

export interface FakeTopic {
  readonly name: string;
  readonly partitions: FakePartition[];
  configs: Map<string, string>;
}

export interface Fault {
  readonly apiKey: number;
  readonly errorCode: number;
  /** How many partition (or topic) results get this error. */
  remaining: number;
}

export class FakeCluster {
  readonly nodes: FakeServer[] = [];
  readonly topics = new Map<string, FakeTopic>();
  readonly faults: Fault[] = [];
  /** [nodeId, apiKey, apiVersion] of every request. */
  readonly requests: [number, number, number][] = [];

  static async start(nodeCount: number): Promise<FakeCluster> {
    const cluster = new FakeCluster();
    for (let nodeId = 0; nodeId < nodeCount; nodeId++) {
      cluster.nodes.push(await FakeServer.start((request) => cluster.handle(nodeId, request)));
    }
    return cluster;
  }

  get bootstrapServers(): string {
    return this.nodes.map((node) => node.address).join(',');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.close()));
  }

  createTopic(name: string, partitionCount: number, replicationFactor = Math.min(3, this.nodes.length)): FakeTopic {
    const topicIndex = this.topics.size;
    const partitions: FakePartition[] = [];
    for (let partition = 0; partition < partitionCount; partition++) partitions.push(this.newPartition(topicIndex + partition, replicationFactor));
    const topic: FakeTopic = { name, partitions, configs: new Map() };
    this.topics.set(name, topic);
    return topic;
  }

  moveLeader(topic: string, partition: number, nodeId: number): void {
    this.topics.get(topic)!.partitions[partition]!.leaderId = nodeId;
  }

  injectFault(apiKey: number, errorCode: number, count = 1): void {
    this.faults.push({ apiKey, errorCode, remaining: count });
  }

  records(topic: string, partition: number): DecodedRecord[] {
    const log = this.topics.get(topic)!.partitions[partition]!;
    return decodeRecordBatches(Buffer.concat(log.batches.map((batch) => batch.bytes))).flatMap((batch) => batch.records);
  }

  private newPartition(seed: number, replicationFactor: number): FakePartition {
    const replicas: number[] = [];
    for (let index = 0; index < replicationFactor; index++) replicas.push((seed + index) % this.nodes.length);
    return { leaderId: replicas[0]!, replicas, batches: [], logStartOffset: 0, logEndOffset: 0 };
  }

  private takeFault(apiKey: number): number {
    const fault = this.faults.find((candidate) => candidate.apiKey === apiKey && candidate.remaining > 0);
    if (fault === undefined) return ErrorCode.NONE;
    fault.remaining--;
    return fault.errorCode;
  }

  private handle(nodeId: number, request: FakeRequest): FakeReply | Promise<FakeReply> {
    const { apiKey, apiVersion, correlationId } = request.header;
    this.requests.push([nodeId, apiKey, apiVersion]);
    const body = (): Record<string, unknown> =>
      decodeRequestBody(apiKey, apiVersion, request.frame, request.header.headerSizeBytes);
    switch (apiKey) {
      case ApiKey.ApiVersions:
        return encodeResponse(apiKey, apiVersion, correlationId, { apiKeys: supportedVersionRanges() });
      case ApiKey.Metadata:
        return encodeResponse(apiKey, apiVersion, correlationId, this.metadata(body()));
      case ApiKey.CreateTopics:
        return encodeResponse(apiKey, apiVersion, correlationId, this.createTopics(nodeId, body()));
      case ApiKey.DeleteTopics:
        return encodeResponse(apiKey, apiVersion, correlationId, this.deleteTopics(body()));
      case ApiKey.Produce:
        return this.produce(nodeId, request, body());
      case ApiKey.Fetch:
        return this.fetch(nodeId, request, body());
      case ApiKey.ListOffsets:
        return encodeResponse(apiKey, apiVersion, correlationId, this.listOffsets(nodeId, body()));
      case ApiKey.DescribeConfigs:
        return encodeResponse(apiKey, apiVersion, correlationId, this.describeConfigs(body()));
      case ApiKey.AlterConfigs:
        return encodeResponse(apiKey, apiVersion, correlationId, this.alterConfigs(body()));
      case ApiKey.CreatePartitions:
        return encodeResponse(apiKey, apiVersion, correlationId, this.createPartitions(body()));
      case ApiKey.DeleteRecords:
        return encodeResponse(apiKey, apiVersion, correlationId, this.deleteRecords(nodeId, body()));
      default:
        return 'close';
    }
  }

  private metadata(body: Record<string, unknown>): unknown {
    const requested = body.topics as { name: string }[] | null;
    const names = requested === null ? [...this.topics.keys()] : requested.map((topic) => topic.name);
    return {
      brokers: this.nodes.map((node, nodeId) => ({ nodeId, host: '127.0.0.1', port: node.port })),
      clusterId: 'fake',
      controllerId: 0,
      topics: names.map((name) => {
        const topic = this.topics.get(name);
        if (topic === undefined) return { name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partitions: [] };
        return {
          name,
          partitions: topic.partitions.map((partition, partitionIndex) => ({
            partitionIndex,
            leaderId: partition.leaderId,
            leaderEpoch: 0,
            replicaNodes: partition.replicas,
            isrNodes: partition.replicas,
          })),
        };
      }),
    };
  }

  private createTopics(nodeId: number, body: Record<string, unknown>): unknown {
    const topics = body.topics as { name: string; numPartitions: number; replicationFactor: number; configs: { name: string; value: string | null }[] }[];
    return {
      topics: topics.map((request) => {
        const fault = this.takeFault(ApiKey.CreateTopics);
        if (fault !== ErrorCode.NONE) return { name: request.name, errorCode: fault, errorMessage: null };
        if (nodeId !== 0) return { name: request.name, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: null };
        if (this.topics.has(request.name)) {
          return { name: request.name, errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${request.name}' already exists.` };
        }
        const replicationFactor = request.replicationFactor === -1 ? Math.min(3, this.nodes.length) : request.replicationFactor;
        if (replicationFactor > this.nodes.length) {
          return { name: request.name, errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: 'too few brokers' };
        }
        const topic = this.createTopic(request.name, request.numPartitions === -1 ? 1 : request.numPartitions, replicationFactor);
        for (const config of request.configs) topic.configs.set(config.name, config.value ?? '');
        return { name: request.name, errorCode: ErrorCode.NONE, errorMessage: null };
      }),
    };
  }

  private deleteTopics(body: Record<string, unknown>): unknown {
    const names = body.topicNames as string[];
    return {
      responses: names.map((name) => ({
        name,
        errorCode: this.topics.delete(name) ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      })),
    };
  }

  private partitionError(nodeId: number, apiKey: number, topic: string, partition: number): number {
    const log = this.topics.get(topic)?.partitions[partition];
    if (log === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    if (log.leaderId !== nodeId) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    return this.takeFault(apiKey);
  }

  private produce(nodeId: number, request: FakeRequest, body: Record<string, unknown>): FakeReply {
    const topics = body.topics as { name: string; partitions: { partitionIndex: number; records: Buffer | null }[] }[];
    const responses = topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((partition) => {
        const errorCode = this.partitionError(nodeId, ApiKey.Produce, topic.name, partition.partitionIndex);
        if (errorCode !== ErrorCode.NONE) return { partitionIndex: partition.partitionIndex, errorCode, baseOffset: -1n };
        const log = this.topics.get(topic.name)!.partitions[partition.partitionIndex]!;
        const bytes = Buffer.from(partition.records!);
        const baseOffset = log.logEndOffset;
        setBaseOffset(bytes, 0, baseOffset);
        log.logEndOffset = baseOffset + readLastOffsetDelta(bytes, 0) + 1;
        log.batches.push({ baseOffset, lastOffset: log.logEndOffset - 1, bytes });
        return { partitionIndex: partition.partitionIndex, errorCode, baseOffset: BigInt(baseOffset), logStartOffset: BigInt(log.logStartOffset) };
      }),
    }));
    if (body.acks === 0) return 'no-response';
    return encodeResponse(ApiKey.Produce, request.header.apiVersion, request.header.correlationId, { responses });
  }

  private async fetch(nodeId: number, request: FakeRequest, body: Record<string, unknown>): Promise<FakeReply> {
    let response = this.fetchOnce(nodeId, body);
    if (!response.hasData && (body.maxWaitMs as number) > 0) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(body.maxWaitMs as number, 100)));
      response = this.fetchOnce(nodeId, body);
    }
    return encodeResponse(ApiKey.Fetch, request.header.apiVersion, request.header.correlationId, { responses: response.responses });
  }

  private fetchOnce(nodeId: number, body: Record<string, unknown>): { hasData: boolean; responses: unknown[] } {
    type FetchTopic = { topic: string; partitions: { partition: number; fetchOffset: bigint; partitionMaxBytes: number }[] };
    let hasData = false;
    const responses = (body.topics as FetchTopic[]).map((topic) => ({
      topic: topic.topic,
      partitions: topic.partitions.map((request) => {
        const errorCode = this.partitionError(nodeId, ApiKey.Fetch, topic.topic, request.partition);
        if (errorCode !== ErrorCode.NONE) return { partitionIndex: request.partition, errorCode, highWatermark: -1n, records: null };
        const log = this.topics.get(topic.topic)!.partitions[request.partition]!;
        const fetchOffset = Number(request.fetchOffset);
        const base = { partitionIndex: request.partition, highWatermark: BigInt(log.logEndOffset), logStartOffset: BigInt(log.logStartOffset) };
        if (fetchOffset < log.logStartOffset || fetchOffset > log.logEndOffset) {
          return { ...base, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: null };
        }
        const chosen: Buffer[] = [];
        let sizeBytes = 0;
        for (const batch of log.batches) {
          if (batch.lastOffset < fetchOffset) continue;
          if (chosen.length > 0 && sizeBytes + batch.bytes.length > request.partitionMaxBytes) break;
          chosen.push(batch.bytes);
          sizeBytes += batch.bytes.length;
        }
        if (chosen.length > 0) hasData = true;
        return { ...base, errorCode, records: Buffer.concat(chosen) };
      }),
    }));
    return { hasData, responses };
  }

  private listOffsets(nodeId: number, body: Record<string, unknown>): unknown {
    type ListTopic = { name: string; partitions: { partitionIndex: number; timestamp: bigint }[] };
    return {
      topics: (body.topics as ListTopic[]).map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((request) => {
          const errorCode = this.partitionError(nodeId, ApiKey.ListOffsets, topic.name, request.partitionIndex);
          if (errorCode !== ErrorCode.NONE) return { partitionIndex: request.partitionIndex, errorCode };
          const log = this.topics.get(topic.name)!.partitions[request.partitionIndex]!;
          let offset = -1;
          if (request.timestamp === -2n) offset = log.logStartOffset;
          else if (request.timestamp === -1n) offset = log.logEndOffset;
          else offset = log.batches.find((batch) => readMaxTimestamp(batch.bytes, 0) >= Number(request.timestamp))?.baseOffset ?? -1;
          return { partitionIndex: request.partitionIndex, errorCode, timestamp: -1n, offset: BigInt(offset) };
        }),
      })),
    };
  }

  private describeConfigs(body: Record<string, unknown>): unknown {
    type Resource = { resourceType: number; resourceName: string };
    return {
      results: (body.resources as Resource[]).map((resource) => {
        const topic = this.topics.get(resource.resourceName);
        if (topic === undefined) {
          return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'no such topic', ...resource, configs: [] };
        }
        const configs = [...topic.configs].map(([name, value]) => ({ name, value, configSource: 1 }));
        if (!topic.configs.has('retention.ms')) configs.push({ name: 'retention.ms', value: '604800000', configSource: 5 });
        return { errorCode: 0, errorMessage: null, ...resource, configs };
      }),
    };
  }

  private alterConfigs(body: Record<string, unknown>): unknown {
    type Resource = { resourceType: number; resourceName: string; configs: { name: string; value: string | null }[] };
    return {
      responses: (body.resources as Resource[]).map((resource) => {
        const topic = this.topics.get(resource.resourceName);
        if (topic === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null, ...resource };
        topic.configs = new Map(resource.configs.map((config) => [config.name, config.value ?? '']));
        return { errorCode: 0, errorMessage: null, resourceType: resource.resourceType, resourceName: resource.resourceName };
      }),
    };
  }

  private createPartitions(body: Record<string, unknown>): unknown {
    type Request = { name: string; count: number };
    return {
      results: (body.topics as Request[]).map((request) => {
        const topic = this.topics.get(request.name);
        if (topic === undefined) return { name: request.name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        if (request.count <= topic.partitions.length) return { name: request.name, errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'must grow' };
        while (topic.partitions.length < request.count) topic.partitions.push(this.newPartition(topic.partitions.length, 1));
        return { name: request.name, errorCode: 0 };
      }),
    };
  }

  private deleteRecords(nodeId: number, body: Record<string, unknown>): unknown {
    type Request = { name: string; partitions: { partitionIndex: number; offset: bigint }[] };
    return {
      topics: (body.topics as Request[]).map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((request) => {
          const errorCode = this.partitionError(nodeId, ApiKey.DeleteRecords, topic.name, request.partitionIndex);
          if (errorCode !== ErrorCode.NONE) return { partitionIndex: request.partitionIndex, errorCode, lowWatermark: -1n };
          const log = this.topics.get(topic.name)!.partitions[request.partitionIndex]!;
          log.logStartOffset = request.offset === -1n ? log.logEndOffset : Number(request.offset);
          log.batches = log.batches.filter((batch) => batch.lastOffset >= log.logStartOffset);
          return { partitionIndex: request.partitionIndex, errorCode, lowWatermark: BigInt(log.logStartOffset) };
        }),
      })),
    };
  }
}
