/**
 * Topic and config administration. Each call retries retriable errors (a moved controller, a
 * leader election) within the cluster's retry policy and throws the first other error,
 * naming the topic or resource it belongs to.
 */
import { ApiKey } from '../protocol/schema/index.js';
import { ErrorCode, KafkaError, errorInfo } from '../protocol/errors.js';
import { groupByLeader, type ClusterClient, type ClusterMetadata } from './cluster-client.js';
import type { BrokerConnection } from './connection.js';
import { ClientDefaults } from './defaults.js';
import { FinalKafkaError } from './errors.js';
import { partitionKey, settleAll } from './grouping.js';
import { listOffsets, type OffsetRequest, type PartitionOffset } from './list-offsets.js';

export interface NewTopic {
  readonly name: string;
  /** Default: the broker's default (-1) where CreateTopics v4+ allows it, else 1. */
  readonly partitions?: number;
  /** Default: the broker's default (-1) where CreateTopics v4+ allows it, else 1. */
  readonly replicationFactor?: number;
  readonly configs?: Readonly<Record<string, string>>;
}

export interface CreateTopicsOptions {
  readonly timeoutMs?: number;
  readonly validateOnly?: boolean;
  /** Wait until every partition of the new topics has a leader. Default true. */
  readonly waitForLeaders?: boolean;
}

export interface PartitionDescription {
  readonly partition: number;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offlineReplicas: readonly number[];
}

export interface TopicDescription {
  readonly name: string;
  readonly isInternal: boolean;
  readonly partitions: readonly PartitionDescription[];
}

/** DescribeConfigs / AlterConfigs resource types. */
export const ConfigResourceType = {
  TOPIC: 2,
  BROKER: 4,
} as const;
export type ConfigResourceTypeValue = (typeof ConfigResourceType)[keyof typeof ConfigResourceType];

/** Where a config value comes from (DescribeConfigs v1+). */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;

export interface ConfigResource {
  readonly type: ConfigResourceTypeValue;
  /** A topic name, or a broker's node id as a string. */
  readonly name: string;
}

export interface ConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly readOnly: boolean;
  readonly isDefault: boolean;
  /** A `ConfigSource` (v1+); -1 when the broker answered v0. */
  readonly source: number;
  readonly isSensitive: boolean;
}

export interface ResourceConfigs extends ConfigResource {
  readonly configs: readonly ConfigEntry[];
}

export interface DeleteRecordsResult {
  readonly partition: number;
  readonly lowWatermark: bigint;
}

const brokerDefault = -1;
const unknownTopicIsFatal: ReadonlySet<number> = new Set([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
const firstVersionWithBrokerDefaults = 4;

export class Admin {
  private readonly cluster: ClusterClient;

  constructor(cluster: ClusterClient) {
    this.cluster = cluster;
  }

  async createTopics(topics: readonly NewTopic[], options: CreateTopicsOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.cluster.requestTimeoutMs;
    let remaining = topics;
    await this.cluster.retry('CreateTopics', async () => {
      const connection = await this.cluster.controllerConnection();
      const version = connection.versionFor(ApiKey.CreateTopics);
      const fallback = version >= firstVersionWithBrokerDefaults ? brokerDefault : 1;
      const response = await connection.request(ApiKey.CreateTopics, version, {
        topics: remaining.map((topic) => ({
          name: topic.name,
          numPartitions: topic.partitions ?? fallback,
          replicationFactor: topic.replicationFactor ?? fallback,
          assignments: [],
          configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
        timeoutMs,
        validateOnly: options.validateOnly ?? false,
      });
      const outcomes = response.topics.map((result) => ({
        name: result.name,
        errorCode: result.errorCode,
        detail: `create topic "${result.name}"${result.errorMessage ? `: ${result.errorMessage}` : ''}`,
      }));
      remaining = remaining.filter((topic) => !succeeded(outcomes, topic.name));
      throwFailures(outcomes, remaining.length);
    });
    this.cluster.invalidateMetadata();
    if (options.validateOnly !== true && options.waitForLeaders !== false) {
      await this.waitForTopics(topics.map((topic) => topic.name), 'leaders');
    }
  }

  /** Deletes topics and waits (bounded) until metadata no longer lists them. */
  async deleteTopics(names: readonly string[], options: { readonly timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.cluster.requestTimeoutMs;
    let remaining = names;
    await this.cluster.retry('DeleteTopics', async () => {
      const connection = await this.cluster.controllerConnection();
      const response = await connection.requestNegotiated(ApiKey.DeleteTopics, { topicNames: remaining, timeoutMs });
      const outcomes = response.responses.map((result) => ({
        name: result.name,
        errorCode: result.errorCode,
        detail: `delete topic "${result.name}"`,
      }));
      remaining = remaining.filter((name) => !succeeded(outcomes, name));
      // Retriable in general (a topic being created), but for a delete it means "no such topic".
      throwFailures(outcomes, remaining.length, unknownTopicIsFatal);
    });
    this.cluster.invalidateMetadata();
    await this.waitForTopics(names, 'gone');
  }

  /** Topic names, sorted. */
  async listTopics(options: { readonly includeInternal?: boolean } = {}): Promise<string[]> {
    const metadata = await this.cluster.retry('Metadata', () => this.cluster.fetchMetadata(null));
    const names: string[] = [];
    for (const topic of metadata.topics.values()) {
      if (options.includeInternal === true || !topic.isInternal) names.push(topic.name);
    }
    return names.sort();
  }

  /** The named topics (all topics when `names` is left out), sorted by name. */
  async describeTopics(names?: readonly string[]): Promise<TopicDescription[]> {
    const metadata = await this.cluster.retry('Metadata', () => this.cluster.fetchMetadata(names ?? null));
    for (const [name, errorCode] of metadata.topicErrors) throw new KafkaError(errorCode, `describe topic "${name}"`);
    const descriptions: TopicDescription[] = [];
    for (const topic of metadata.topics.values()) {
      descriptions.push({
        name: topic.name,
        isInternal: topic.isInternal,
        partitions: topic.partitions.map((partition) => ({
          partition: partition.partition,
          leader: partition.leaderId,
          leaderEpoch: partition.leaderEpoch,
          replicas: partition.replicaNodes,
          isr: partition.isrNodes,
          offlineReplicas: partition.offlineReplicas,
        })),
      });
    }
    return descriptions.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Configs of each resource; `keys` left out means all keys. */
  async describeConfigs(
    resources: readonly (ConfigResource & { readonly keys?: readonly string[] })[],
  ): Promise<ResourceConfigs[]> {
    const results: ResourceConfigs[] = [];
    for (const resource of resources) {
      const described = await this.cluster.retry('DescribeConfigs', async () => {
        const connection = await this.connectionFor(resource);
        const version = connection.versionFor(ApiKey.DescribeConfigs);
        const response = await connection.request(ApiKey.DescribeConfigs, version, {
          resources: [
            { resourceType: resource.type, resourceName: resource.name, configurationKeys: resource.keys ?? null },
          ],
          includeSynonyms: false,
        });
        const result = response.results[0];
        if (result === undefined) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'DescribeConfigs: empty response');
        if (result.errorCode !== ErrorCode.NONE) {
          throw adminError(result.errorCode, `describe configs of ${describeResource(resource)}${suffix(result.errorMessage)}`);
        }
        return result.configs.map((entry) => toConfigEntry(entry, version));
      });
      results.push({ type: resource.type, name: resource.name, configs: described });
    }
    return results;
  }

  /**
   * Sets the resource's configs. Surprise (Kafka's AlterConfigs): the set given REPLACES the
   * resource's dynamic configs; keys left out return to their defaults.
   */
  async alterConfigs(
    resource: ConfigResource,
    configs: Readonly<Record<string, string | null>>,
    options: { readonly validateOnly?: boolean } = {},
  ): Promise<void> {
    await this.cluster.retry('AlterConfigs', async () => {
      const connection = await this.connectionFor(resource);
      const response = await connection.requestNegotiated(ApiKey.AlterConfigs, {
        resources: [
          {
            resourceType: resource.type,
            resourceName: resource.name,
            configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
          },
        ],
        validateOnly: options.validateOnly ?? false,
      });
      for (const result of response.responses) {
        if (result.errorCode !== ErrorCode.NONE) {
          throw adminError(result.errorCode, `alter configs of ${describeResource(resource)}${suffix(result.errorMessage)}`);
        }
      }
    });
  }

  /** Grows a topic to `totalCount` partitions (the new total, not the number to add). */
  async createPartitions(topic: string, totalCount: number, options: { readonly timeoutMs?: number } = {}): Promise<void> {
    await this.cluster.retry('CreatePartitions', async () => {
      const connection = await this.cluster.controllerConnection();
      const response = await connection.requestNegotiated(ApiKey.CreatePartitions, {
        topics: [{ name: topic, count: totalCount, assignments: null }],
        timeoutMs: options.timeoutMs ?? this.cluster.requestTimeoutMs,
        validateOnly: false,
      });
      for (const result of response.results) {
        if (result.errorCode !== ErrorCode.NONE) {
          throw adminError(result.errorCode, `create partitions of "${result.name}"${suffix(result.errorMessage)}`);
        }
      }
    });
    this.cluster.invalidateMetadata();
  }

  /** Moves each partition's log start offset up to `offset` (-1n: to the high watermark). */
  async deleteRecords(
    topic: string,
    offsets: readonly { readonly partition: number; readonly offset: bigint }[],
    options: { readonly timeoutMs?: number } = {},
  ): Promise<DeleteRecordsResult[]> {
    const timeoutMs = options.timeoutMs ?? this.cluster.requestTimeoutMs;
    const results = new Map<number, DeleteRecordsResult>();
    let remaining = offsets.map((entry) => ({ topic, partition: entry.partition, offset: entry.offset }));
    await this.cluster.retry('DeleteRecords', async () => {
      const byLeader = await groupByLeader(this.cluster, remaining);
      const failures: KafkaError[] = [];
      await settleAll(
        [...byLeader].map(async ([leaderId, group]) => {
          const connection = await this.cluster.connectionTo(leaderId);
          const response = await connection.requestNegotiated(ApiKey.DeleteRecords, {
            topics: [{ name: topic, partitions: group.map((entry) => ({ partitionIndex: entry.partition, offset: entry.offset })) }],
            timeoutMs,
          });
          for (const partition of response.topics.flatMap((result) => result.partitions)) {
            if (partition.errorCode === ErrorCode.NONE) {
              results.set(partition.partitionIndex, { partition: partition.partitionIndex, lowWatermark: partition.lowWatermark });
            } else {
              failures.push(new KafkaError(partition.errorCode, `delete records of ${topic}-${partition.partitionIndex}`));
            }
          }
        }),
      );
      remaining = remaining.filter((entry) => !results.has(entry.partition));
      const fatal = failures.find((failure) => !errorInfo(failure.code).retriable);
      if (fatal !== undefined) throw fatal;
      if (remaining.length > 0) throw failures[0] ?? new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'DeleteRecords left partitions out');
    });
    return offsets.map((entry) => results.get(entry.partition)!);
  }

  listOffsets(requests: readonly OffsetRequest[]): Promise<PartitionOffset[]> {
    return listOffsets(this.cluster, requests);
  }

  /** Log start and log end offsets of every partition of a topic, by partition. */
  async logOffsets(topic: string, partitions: readonly number[]): Promise<{ partition: number; logStartOffset: bigint; logEndOffset: bigint }[]> {
    const earliest = await listOffsets(this.cluster, partitions.map((partition) => ({ topic, partition, query: 'earliest' as const })));
    const latest = await listOffsets(this.cluster, partitions.map((partition) => ({ topic, partition, query: 'latest' as const })));
    const latestByPartition = new Map(latest.map((entry) => [partitionKey(entry.topic, entry.partition), entry.offset]));
    return earliest.map((entry) => ({
      partition: entry.partition,
      logStartOffset: entry.offset,
      logEndOffset: latestByPartition.get(partitionKey(entry.topic, entry.partition))!,
    }));
  }

  private async connectionFor(resource: ConfigResource): Promise<BrokerConnection> {
    if (resource.type === ConfigResourceType.BROKER) return this.cluster.connectionTo(Number(resource.name));
    return this.cluster.anyConnection();
  }

  /** Polls metadata until every topic has all partitions led ('leaders') or is gone ('gone'). */
  private async waitForTopics(names: readonly string[], until: 'leaders' | 'gone'): Promise<void> {
    const deadlineMs = this.cluster.clock.nowMs() + ClientDefaults.topicReadyTimeoutMs;
    let backoffMs = this.cluster.retryPolicy.initialBackoffMs;
    for (;;) {
      const metadata = await this.cluster.retry('Metadata', () => this.cluster.fetchMetadata(names));
      if (names.every((name) => topicReached(metadata, name, until))) return;
      if (this.cluster.clock.nowMs() >= deadlineMs) {
        const what = until === 'leaders' ? 'have a leader for every partition' : 'disappear from metadata';
        throw new KafkaError(
          ErrorCode.REQUEST_TIMED_OUT,
          `topics ${names.join(', ')} did not ${what} within ${ClientDefaults.topicReadyTimeoutMs} ms`,
        );
      }
      await this.cluster.sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, this.cluster.retryPolicy.maxBackoffMs);
    }
  }
}

function topicReached(metadata: ClusterMetadata, name: string, until: 'leaders' | 'gone'): boolean {
  const topic = metadata.topics.get(name);
  if (until === 'gone') return topic === undefined;
  return topic !== undefined && topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leaderId >= 0);
}

interface Outcome {
  readonly name: string;
  readonly errorCode: number;
  readonly detail: string;
}

function succeeded(outcomes: readonly Outcome[], name: string): boolean {
  return outcomes.some((outcome) => outcome.name === name && outcome.errorCode === ErrorCode.NONE);
}

const noExtraFatalCodes: ReadonlySet<number> = new Set();

/**
 * Throws the first error that is not retriable (or is in `fatalCodes`), else, if work
 * remains, the first retriable one.
 */
function throwFailures(outcomes: readonly Outcome[], remainingCount: number, fatalCodes = noExtraFatalCodes): void {
  const failures = outcomes.filter((outcome) => outcome.errorCode !== ErrorCode.NONE);
  const fatal = failures.find((outcome) => !errorInfo(outcome.errorCode).retriable || fatalCodes.has(outcome.errorCode));
  if (fatal !== undefined) throw new FinalKafkaError(fatal.errorCode, fatal.detail);
  if (remainingCount === 0) return;
  const first = failures[0];
  throw first === undefined
    ? new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'response left some topics out')
    : new KafkaError(first.errorCode, first.detail);
}

function toConfigEntry(
  entry: {
    name: string;
    value: string | null;
    readOnly: boolean;
    isDefault: boolean;
    configSource: number;
    isSensitive: boolean;
  },
  version: number,
): ConfigEntry {
  return {
    name: entry.name,
    value: entry.value,
    readOnly: entry.readOnly,
    isDefault: version === 0 ? entry.isDefault : entry.configSource === ConfigSource.DEFAULT_CONFIG,
    source: version === 0 ? -1 : entry.configSource,
    isSensitive: entry.isSensitive,
  };
}

/** Admin operations name existing topics: UNKNOWN_TOPIC_OR_PARTITION there is final. */
function adminError(code: number, message: string): KafkaError {
  return code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ? new FinalKafkaError(code, message) : new KafkaError(code, message);
}

function describeResource(resource: ConfigResource): string {
  return resource.type === ConfigResourceType.BROKER ? `broker ${resource.name}` : `topic "${resource.name}"`;
}

function suffix(message: string | null): string {
  return message ? `: ${message}` : '';
}
