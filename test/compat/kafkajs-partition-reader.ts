/**
 * Reads whole partitions with kafkajs 2.2.4 without a consumer group.
 *
 * kafkajs has no public assign() API: its Consumer always joins a group. Its internal modules are
 * plain CommonJS and are used here unmodified: a `Cluster` (what `new Kafka().consumer()` builds
 * internally) loads metadata, `fetchTopicsOffset` sends ListOffsets to each leader for the end
 * offsets, `findLeaderForPartitions` groups partitions by leader, and `Broker.fetch` sends Fetch
 * (v11 against our broker) to that leader, decoding record batches (gzip included) the way the
 * kafkajs consumer does.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);

/** The slice of kafkajs' internal Cluster used here (see node_modules/kafkajs/src/cluster/index.js). */
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string | number }): Promise<KafkajsBroker>;
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

interface KafkajsFetchRequest {
  replicaId: number;
  isolationLevel: number;
  maxWaitTime: number;
  minBytes: number;
  maxBytes: number;
  topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
}

interface KafkajsRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  isControlRecord: boolean;
}

interface KafkajsFetchResponse {
  responses: { topicName: string; partitions: { partition: number; errorCode: number; highWatermark: string; messages: KafkajsRecord[] }[] }[];
}

interface KafkajsBroker {
  fetch(request: KafkajsFetchRequest): Promise<KafkajsFetchResponse>;
}

type ClusterConstructor = new (options: Record<string, unknown>) => KafkajsCluster;

const Cluster = require('kafkajs/src/cluster') as ClusterConstructor;
const { createLogger, LEVELS } = require('kafkajs/src/loggers') as {
  createLogger(options: { level: number; logCreator: unknown }): unknown;
  LEVELS: Record<'NOTHING' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG', number>;
};
const LoggerConsole = require('kafkajs/src/loggers/console') as unknown;
const socketFactory = require('kafkajs/src/network/socketFactory') as () => unknown;
const InstrumentationEventEmitter = require('kafkajs/src/instrumentation/emitter') as new () => unknown;
const ISOLATION_LEVEL = require('kafkajs/src/protocol/isolationLevel') as { READ_COMMITTED: number };

export interface PartitionRecord {
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

export interface ReadOptions {
  /** Per-partition fetch size; kafkajs' consumer default is 1 MiB. A larger first batch must still come back (KIP-74). */
  partitionMaxBytes?: number;
  /** Whole-response size. */
  responseMaxBytes?: number;
  timeoutMs?: number;
  maxFetches?: number;
}

/** Builds the same Cluster object `new Kafka(...)` would, with the client's defaults. */
function createCluster(bootstrapServers: string): KafkajsCluster {
  return new Cluster({
    logger: createLogger({ level: LEVELS.ERROR, logCreator: LoggerConsole }),
    socketFactory: socketFactory(),
    brokers: bootstrapServers.split(','),
    clientId: 'compat-kafkajs-reader',
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    enforceRequestTimeout: true,
    metadataMaxAge: 300_000,
    retry: { retries: 3, initialRetryTime: 100 },
    allowAutoTopicCreation: false,
    maxInFlightRequests: null,
    isolationLevel: ISOLATION_LEVEL.READ_COMMITTED,
    instrumentationEmitter: new InstrumentationEventEmitter(),
  });
}

/**
 * Reads every partition of `topic` from offset 0 to the end offset reported by ListOffsets at the
 * start, asking each partition's leader directly. Records come back per partition in offset order.
 */
export async function readTopicWithKafkajs(bootstrapServers: string, topic: string, options: ReadOptions = {}): Promise<PartitionRecord[]> {
  const cluster = createCluster(bootstrapServers);
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    const partitions = cluster.findTopicPartitionMetadata(topic).map((metadata) => metadata.partitionId);
    if (partitions.length === 0) throw new Error(`kafkajs sees no partitions for ${topic}`);
    const [offsets] = await cluster.fetchTopicsOffset([{ topic, fromBeginning: false, partitions: partitions.map((partition) => ({ partition })) }]);
    const endOffsets = new Map<number, bigint>();
    for (const { partition, offset } of offsets?.partitions ?? []) endOffsets.set(partition, BigInt(offset));
    const leaders = cluster.findLeaderForPartitions(topic, partitions);
    const perLeader = await Promise.all(
      Object.entries(leaders).map(async ([nodeId, leaderPartitions]) => {
        const broker = await cluster.findBroker({ nodeId });
        return readFromLeader(broker, topic, leaderPartitions, endOffsets, options);
      }),
    );
    return perLeader.flat().sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : 1));
  } finally {
    await cluster.disconnect();
  }
}

/** Fetch loop against one leader; bounded by `maxFetches` and `timeoutMs`. */
async function readFromLeader(
  broker: KafkajsBroker,
  topic: string,
  partitions: number[],
  endOffsets: ReadonlyMap<number, bigint>,
  options: ReadOptions,
): Promise<PartitionRecord[]> {
  const partitionMaxBytes = options.partitionMaxBytes ?? 1024 * 1024;
  const maxFetches = options.maxFetches ?? 500;
  const deadline = performance.now() + (options.timeoutMs ?? 15_000);
  const positions = new Map<number, bigint>(partitions.map((partition) => [partition, 0n]));
  const records: PartitionRecord[] = [];
  for (let fetchCount = 0; fetchCount < maxFetches; fetchCount += 1) {
    const pending = partitions.filter((partition) => (positions.get(partition) ?? 0n) < (endOffsets.get(partition) ?? 0n));
    if (pending.length === 0) return records;
    if (performance.now() > deadline) break;
    const response = await broker.fetch({
      replicaId: -1,
      isolationLevel: ISOLATION_LEVEL.READ_COMMITTED,
      maxWaitTime: 100,
      minBytes: 1,
      maxBytes: options.responseMaxBytes ?? 64 * 1024 * 1024,
      topics: [{ topic, partitions: pending.map((partition) => ({ partition, fetchOffset: String(positions.get(partition)), maxBytes: partitionMaxBytes })) }],
    });
    for (const topicResponse of response.responses) {
      for (const partitionResponse of topicResponse.partitions) {
        if (partitionResponse.errorCode !== 0) throw new Error(`fetch ${topic}/${partitionResponse.partition}: error code ${partitionResponse.errorCode}`);
        const position = positions.get(partitionResponse.partition) ?? 0n;
        let next = position;
        for (const message of partitionResponse.messages) {
          const offset = BigInt(message.offset);
          // A compressed batch is returned whole, so it can start before the fetch offset.
          if (offset < next || message.isControlRecord) continue;
          records.push({ partition: partitionResponse.partition, offset, key: message.key, value: message.value });
          next = offset + 1n;
        }
        positions.set(partitionResponse.partition, next);
      }
    }
  }
  const stuck = partitions.map((partition) => `${partition}: ${positions.get(partition)}/${endOffsets.get(partition)}`).join(', ');
  throw new Error(`kafkajs fetch of ${topic} did not reach the end offsets (${stuck}) within the bounds`);
}
