/**
 * The cluster as the client sees it: bootstrap servers, cached Metadata, one connection per
 * broker address, leader lookup, and the bounded retry loop every operation runs in.
 */
import { ApiKey } from '../protocol/schema/index.js';
import type { ResponseBody } from '../protocol/codec/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { parseBootstrapServers, type HostAndPort } from './broker-address.js';
import { BrokerConnection, formatAddress } from './connection.js';
import { ClientDefaults, defaultRetryPolicy, type RetryPolicy } from './defaults.js';
import { ConnectionError, invalidatesMetadata, isRetriable } from './errors.js';

export interface ClusterClientOptions {
  /** "host:port[,host:port]" or a list of such strings. */
  readonly bootstrapServers: string | readonly string[];
  readonly clientId?: string;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Cached topic metadata older than this is fetched again (Kafka's metadata.max.age.ms). */
  readonly metadataMaxAgeMs?: number;
  readonly clock?: Clock;
  /** Waits between retries; injected so tests need not sleep. */
  readonly sleep?: (durationMs: number) => Promise<void>;
}

export interface BrokerNode {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface PartitionMetadata {
  readonly partition: number;
  readonly errorCode: number;
  /** -1 while the partition has no leader. */
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly replicaNodes: readonly number[];
  readonly isrNodes: readonly number[];
  readonly offlineReplicas: readonly number[];
}

export interface TopicMetadata {
  readonly name: string;
  readonly isInternal: boolean;
  /** Sorted by partition index. */
  readonly partitions: readonly PartitionMetadata[];
}

export interface ClusterMetadata {
  readonly clusterId: string | null;
  /** -1 when the broker names no controller. */
  readonly controllerId: number;
  readonly brokers: ReadonlyMap<number, BrokerNode>;
  /** Topics the request asked for that exist; see `missingTopics` for the others. */
  readonly topics: ReadonlyMap<string, TopicMetadata>;
  /** Topics named in the request that came back with an error code, by name. */
  readonly topicErrors: ReadonlyMap<string, number>;
}

function defaultSleep(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}

export class ClusterClient {
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly metadataMaxAgeMs: number;
  readonly retryPolicy: RetryPolicy;
  readonly clock: Clock;
  readonly sleep: (durationMs: number) => Promise<void>;
  private readonly bootstrapAddresses: readonly HostAndPort[];
  /** By "host:port"; a failed connect removes its entry. */
  private readonly connections = new Map<string, Promise<BrokerConnection>>();
  private brokers: ReadonlyMap<number, BrokerNode> = new Map();
  private controllerId = -1;
  private readonly topicCache = new Map<string, { readonly topic: TopicMetadata; readonly fetchedAtMs: number }>();
  private readonly topicLookups = new Map<string, Promise<TopicMetadata>>();
  private isClosed = false;

  constructor(options: ClusterClientOptions) {
    this.bootstrapAddresses = parseBootstrapServers(options.bootstrapServers);
    this.clientId = options.clientId ?? ClientDefaults.clientId;
    this.requestTimeoutMs = options.requestTimeoutMs ?? ClientDefaults.requestTimeoutMs;
    this.connectTimeoutMs = options.connectTimeoutMs ?? ClientDefaults.connectTimeoutMs;
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? ClientDefaults.metadataMaxAgeMs;
    this.retryPolicy = { ...defaultRetryPolicy, ...options.retry };
    if (this.retryPolicy.maxAttempts < 1) throw new RangeError('retry.maxAttempts must be at least 1');
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** Asks any broker for metadata: `null` = all topics, [] = brokers only. Updates the cache. */
  async fetchMetadata(topics: readonly string[] | null): Promise<ClusterMetadata> {
    const connection = await this.anyConnection();
    const version = connection.versionFor(ApiKey.Metadata);
    // v0 has no "no topics" request and spells "all topics" as an empty array.
    const topicList = topics === null ? (version === 0 ? [] : null) : topics.map((name) => ({ name }));
    const response = await connection.request(ApiKey.Metadata, version, {
      topics: topicList,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const metadata = toClusterMetadata(response);
    this.brokers = metadata.brokers;
    this.controllerId = metadata.controllerId;
    if (topics === null) this.topicCache.clear();
    const fetchedAtMs = this.clock.nowMs();
    for (const [name, topic] of metadata.topics) this.topicCache.set(name, { topic, fetchedAtMs });
    for (const name of metadata.topicErrors.keys()) this.topicCache.delete(name);
    return metadata;
  }

  /** Forgets cached topics, so the next lookup asks a broker (after leader changes). */
  invalidateMetadata(): void {
    this.topicCache.clear();
  }

  /** A topic's metadata, from the cache or a broker; throws the topic's error code. */
  topic(name: string): Promise<TopicMetadata> {
    const cached = this.topicCache.get(name);
    if (cached !== undefined && this.clock.nowMs() - cached.fetchedAtMs < this.metadataMaxAgeMs) {
      return Promise.resolve(cached.topic);
    }
    const inFlight = this.topicLookups.get(name);
    if (inFlight !== undefined) return inFlight;
    const lookup = this.fetchMetadata([name]).then((metadata) => {
      const topic = metadata.topics.get(name);
      if (topic !== undefined) return topic;
      const errorCode = metadata.topicErrors.get(name) ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      throw new KafkaError(errorCode, `topic "${name}"`);
    });
    this.topicLookups.set(name, lookup);
    const forget = (): void => {
      this.topicLookups.delete(name);
    };
    lookup.then(forget, forget);
    return lookup;
  }

  /** The leader's node id of one partition; throws a retriable error while there is none. */
  async leaderOf(topic: string, partition: number): Promise<number> {
    const metadata = await this.topic(topic);
    const entry = metadata.partitions[partition];
    if (entry === undefined || entry.partition !== partition) {
      throw new KafkaError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `${topic}-${partition} does not exist (the topic has ${metadata.partitions.length} partitions)`,
      );
    }
    if (entry.leaderId < 0) {
      throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${topic}-${partition} has no leader`);
    }
    return entry.leaderId;
  }

  async connectionTo(nodeId: number): Promise<BrokerConnection> {
    let broker = this.brokers.get(nodeId);
    if (broker === undefined) {
      await this.fetchMetadata([]);
      broker = this.brokers.get(nodeId);
    }
    if (broker === undefined) {
      throw new KafkaError(ErrorCode.BROKER_NOT_AVAILABLE, `node ${nodeId} is not in the cluster metadata`);
    }
    return this.connectionAt(broker.host, broker.port);
  }

  /** A connection to any broker: an open one if there is, else known brokers, else bootstrap. */
  async anyConnection(): Promise<BrokerConnection> {
    for (const opening of this.connections.values()) {
      const connection = await opening.catch(() => null);
      if (connection !== null && connection.isOpen) return connection;
    }
    const candidates: HostAndPort[] = [...this.brokers.values(), ...this.bootstrapAddresses];
    const failures: string[] = [];
    for (const candidate of candidates) {
      try {
        return await this.connectionAt(candidate.host, candidate.port);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    const tried = this.bootstrapAddresses.map((address) => formatAddress(address.host, address.port)).join(',');
    throw new ConnectionError(tried, `no broker reachable (${failures.join('; ')})`);
  }

  /** CreateTopics, DeleteTopics and CreatePartitions go to the controller. */
  async controllerConnection(): Promise<BrokerConnection> {
    if (this.controllerId < 0 || !this.brokers.has(this.controllerId)) await this.fetchMetadata([]);
    if (this.controllerId >= 0 && this.brokers.has(this.controllerId)) return this.connectionTo(this.controllerId);
    return this.anyConnection();
  }

  /** Known brokers, as of the last Metadata response. */
  knownBrokers(): readonly BrokerNode[] {
    return [...this.brokers.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  /**
   * Runs `operation` until it succeeds, fails with an error that is not retriable, or has run
   * `retryPolicy.maxAttempts` times; backs off exponentially between attempts.
   */
  async retry<T>(description: string, operation: (attempt: number) => Promise<T>): Promise<T> {
    let backoffMs = this.retryPolicy.initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation(attempt);
      } catch (error) {
        if (!isRetriable(error) || attempt >= this.retryPolicy.maxAttempts || this.isClosed) {
          if (attempt > 1 && error instanceof Error) {
            error.message += ` (${description}: gave up after ${attempt} attempts)`;
          }
          throw error;
        }
        if (invalidatesMetadata(error)) this.invalidateMetadata();
        await this.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, this.retryPolicy.maxBackoffMs);
      }
    }
  }

  async close(): Promise<void> {
    this.isClosed = true;
    const openings = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(
      openings.map((opening) => opening.then((connection) => connection.close(), () => undefined)),
    );
  }

  private async connectionAt(host: string, port: number): Promise<BrokerConnection> {
    if (this.isClosed) throw new Error('the ClusterClient is closed');
    const address = formatAddress(host, port);
    const existing = this.connections.get(address);
    if (existing !== undefined) {
      const connection = await existing;
      if (connection.isOpen) return connection;
      if (this.connections.get(address) === existing) this.connections.delete(address);
    }
    const opening = BrokerConnection.connect({
      host,
      port,
      clientId: this.clientId,
      connectTimeoutMs: this.connectTimeoutMs,
      requestTimeoutMs: this.requestTimeoutMs,
      clock: this.clock,
    });
    this.connections.set(address, opening);
    opening.catch(() => {
      if (this.connections.get(address) === opening) this.connections.delete(address);
    });
    return opening;
  }
}

function toClusterMetadata(response: ResponseBody<typeof ApiKey.Metadata>): ClusterMetadata {
  const brokers = new Map<number, BrokerNode>();
  for (const broker of response.brokers) {
    brokers.set(broker.nodeId, { nodeId: broker.nodeId, host: broker.host, port: broker.port, rack: broker.rack });
  }
  const topics = new Map<string, TopicMetadata>();
  const topicErrors = new Map<string, number>();
  for (const topic of response.topics) {
    if (topic.errorCode !== ErrorCode.NONE) {
      topicErrors.set(topic.name, topic.errorCode);
      continue;
    }
    const partitions: PartitionMetadata[] = topic.partitions.map((partition) => ({
      partition: partition.partitionIndex,
      errorCode: partition.errorCode,
      leaderId: partition.leaderId,
      leaderEpoch: partition.leaderEpoch,
      replicaNodes: partition.replicaNodes,
      isrNodes: partition.isrNodes,
      offlineReplicas: partition.offlineReplicas,
    }));
    partitions.sort((a, b) => a.partition - b.partition);
    topics.set(topic.name, { name: topic.name, isInternal: topic.isInternal, partitions });
  }
  return { clusterId: response.clusterId, controllerId: response.controllerId, brokers, topics, topicErrors };
}

/** Items grouped by the node id of their partition's leader. */
export async function groupByLeader<T extends { readonly topic: string; readonly partition: number }>(
  cluster: ClusterClient,
  items: readonly T[],
): Promise<Map<number, T[]>> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const leaderId = await cluster.leaderOf(item.topic, item.partition);
    let group = groups.get(leaderId);
    if (group === undefined) {
      group = [];
      groups.set(leaderId, group);
    }
    group.push(item);
  }
  return groups;
}
