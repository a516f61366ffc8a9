/**
 * The controller: validates admin requests against the metadata image and turns them into
 * metadata records. Deciding is pure (image + request + injected Random -> results + records);
 * committing the records is the MetadataWriter's job (the single-voter metadata log today, the
 * Raft quorum next), and an operation's results are answered only once its records are
 * committed and applied. Operations run one at a time, so each one sees every earlier change.
 */
import type { BrokerSettings } from '../config/broker-config.js';
import { checkTopicConfig } from '../config/topic-config.js';
import { ErrorCode } from '../protocol/errors.js';
import { Limits } from '../runtime/limits.js';
import type { MetadataImage } from '../metadata/image.js';
import type { MetadataRecord, PartitionRecord } from '../metadata/records.js';
import { MetadataCommitError } from '../metadata/quorum-writer.js';
import { randomUuidText, type Random } from '../runtime/random.js';
import { topicNameProblem } from './topic-names.js';

export interface TopicRequest {
  name: string;
  /** -1: the broker default. */
  numPartitions: number;
  /** -1: the broker default. */
  replicationFactor: number;
  /** Explicit assignment: partition -> replica node ids. */
  assignments?: ReadonlyArray<{ partitionIndex: number; brokerIds: readonly number[] }>;
  configs?: ReadonlyArray<{ name: string; value: string | null }>;
}

export interface OperationResult {
  name: string;
  errorCode: number;
  errorMessage: string | null;
}

export interface CreateTopicResult extends OperationResult {
  numPartitions: number;
  replicationFactor: number;
}

/** What an applied change means for the nodes. */
export interface MetadataChanges {
  records: MetadataRecord[];
  removedTopics: string[];
}

type Outcome<R> = { results: R[]; changes: MetadataChanges };

/**
 * Commits records: durable (and replicated, once Raft lands), applied to the image, and told
 * to the nodes, in order. Rejects when the records cannot be committed.
 */
export interface MetadataWriter {
  commit(changes: MetadataChanges): Promise<void>;
}

/** max.message.bytes may not exceed what one ring message can carry. */
const maxTopicMessageBytes = Limits.maxRingMessageBytes - 1024;

export class Controller {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly image: MetadataImage,
    private readonly writer: MetadataWriter,
    private readonly nodeCount: number,
    private readonly broker: BrokerSettings,
    /** Topic and cluster ids come from here (a seeded Random in simulations). */
    private readonly random: Random,
  ) {}

  /** Runs `operation` after every earlier one; commits its records and reports them. */
  private serialize<R extends OperationResult>(operation: () => Outcome<R>, validateOnly: boolean): Promise<R[]> {
    const run = async () => {
      const { results, changes } = operation();
      if (validateOnly || changes.records.length === 0) return results;
      try {
        await this.writer.commit(changes);
      } catch (error) {
        if (!(error instanceof MetadataCommitError)) throw error;
        // Nothing was committed: what would have succeeded fails with the (retriable) reason.
        return results.map((result) => (result.errorCode === ErrorCode.NONE ? { ...result, errorCode: error.errorCode, errorMessage: error.message } : result));
      }
      return results;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Gives the cluster an id the first time it starts. */
  ensureClusterId(clusterId: string | null): Promise<void> {
    if (this.image.clusterId !== null) return Promise.resolve();
    const id = clusterId ?? randomUuidText(this.random);
    return this.serialize(() => ({ results: [], changes: { records: [{ type: 'cluster', clusterId: id }], removedTopics: [] } }), false).then(() => undefined);
  }

  createTopics(topics: readonly TopicRequest[], validateOnly = false): Promise<CreateTopicResult[]> {
    return this.serialize(() => {
      const records: MetadataRecord[] = [];
      const leaderCounts = this.image.leaderCounts(this.nodeCount);
      const seen = new Set<string>();
      const results = topics.map((topic) => {
        const result = this.planTopic(topic, seen, leaderCounts, records);
        seen.add(topic.name);
        return result;
      });
      return { results, changes: { records, removedTopics: [] } };
    }, validateOnly);
  }

  private planTopic(topic: TopicRequest, seen: ReadonlySet<string>, leaderCounts: number[], records: MetadataRecord[]): CreateTopicResult {
    const numPartitions = topic.numPartitions === -1 ? this.broker['num.partitions'] : topic.numPartitions;
    const replicationFactor = topic.replicationFactor === -1 ? this.broker['default.replication.factor'] : topic.replicationFactor;
    const fail = (errorCode: number, errorMessage: string): CreateTopicResult => ({ name: topic.name, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1 });
    const nameProblem = topicNameProblem(topic.name);
    if (nameProblem !== null) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
    if (this.image.topic(topic.name) !== undefined || seen.has(topic.name)) return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `topic ${topic.name} already exists`);
    const assignments = topic.assignments ?? [];
    if (assignments.length === 0) {
      if (numPartitions < 1 || numPartitions > Limits.maxPartitionsPerTopic) return fail(ErrorCode.INVALID_PARTITIONS, `number of partitions must be between 1 and ${Limits.maxPartitionsPerTopic}, got ${numPartitions}`);
      if (replicationFactor < 1) return fail(ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor must be at least 1, got ${replicationFactor}`);
      if (replicationFactor > 1) return fail(ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor ${replicationFactor}: this broker does not replicate yet; use 1`);
    }
    const configs: Record<string, string> = {};
    for (const config of topic.configs ?? []) {
      const problem = checkTopicConfig(config.name, config.value, maxTopicMessageBytes);
      if (problem !== null) return fail(ErrorCode.INVALID_CONFIG, problem);
      if (config.value !== null) configs[config.name] = config.value;
    }
    const replicaLists = assignments.length > 0 ? this.checkAssignments(assignments) : this.spreadLeaders(numPartitions, leaderCounts);
    if (typeof replicaLists === 'string') return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, replicaLists);
    records.push({ type: 'topic', name: topic.name, topicId: randomUuidText(this.random), configs });
    replicaLists.forEach((replicas, partition) => records.push(partitionRecord(topic.name, partition, replicas)));
    return { name: topic.name, errorCode: ErrorCode.NONE, errorMessage: null, numPartitions: replicaLists.length, replicationFactor: replicaLists[0]!.length };
  }

  /**
   * New leaders go to the unfenced nodes that lead the fewest partitions (ties: lowest id); to
   * fenced ones only when every node is fenced, as Kafka places replicas on live brokers.
   */
  private spreadLeaders(count: number, leaderCounts: number[]): number[][] {
    const live = leaderCounts.map((_, node) => node).filter((node) => !this.image.fencedNodes.has(node));
    const candidates = live.length > 0 ? live : leaderCounts.map((_, node) => node);
    const lists: number[][] = [];
    for (let partition = 0; partition < count; partition++) {
      let best = candidates[0]!;
      for (const node of candidates) if (leaderCounts[node]! < leaderCounts[best]!) best = node;
      leaderCounts[best]!++;
      lists.push([best]);
    }
    return lists;
  }

  private checkAssignments(assignments: ReadonlyArray<{ partitionIndex: number; brokerIds: readonly number[] }>): number[][] | string {
    const lists: number[][] = [];
    const sorted = [...assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
    for (const [index, assignment] of sorted.entries()) {
      if (assignment.partitionIndex !== index) return `partition indexes must run 0..${sorted.length - 1}`;
      if (assignment.brokerIds.length !== 1) return 'each partition needs exactly one replica until replication lands';
      if (assignment.brokerIds.some((id) => id < 0 || id >= this.nodeCount)) return `replica ids must be node ids 0..${this.nodeCount - 1}`;
      lists.push([...assignment.brokerIds]);
    }
    return lists;
  }

  deleteTopics(names: readonly string[]): Promise<OperationResult[]> {
    return this.serialize(() => {
      const records: MetadataRecord[] = [];
      const removedTopics: string[] = [];
      const results = names.map((name): OperationResult => {
        if (!this.broker['delete.topic.enable']) return { name, errorCode: ErrorCode.TOPIC_DELETION_DISABLED, errorMessage: 'delete.topic.enable is false' };
        if (this.image.topic(name) === undefined || removedTopics.includes(name)) {
          return { name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic ${name} does not exist` };
        }
        records.push({ type: 'removeTopic', name });
        removedTopics.push(name);
        return { name, errorCode: ErrorCode.NONE, errorMessage: null };
      });
      return { results, changes: { records, removedTopics } };
    }, false);
  }

  createPartitions(topics: ReadonlyArray<{ name: string; count: number; assignments: ReadonlyArray<readonly number[]> | null }>, validateOnly = false): Promise<OperationResult[]> {
    return this.serialize(() => {
      const records: MetadataRecord[] = [];
      const leaderCounts = this.image.leaderCounts(this.nodeCount);
      const results = topics.map((request): OperationResult => {
        const topic = this.image.topic(request.name);
        const fail = (errorCode: number, errorMessage: string) => ({ name: request.name, errorCode, errorMessage });
        if (topic === undefined) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${request.name} does not exist`);
        const current = topic.partitions.length;
        if (request.count <= current) return fail(ErrorCode.INVALID_PARTITIONS, `topic ${request.name} has ${current} partitions; the new count ${request.count} must be larger`);
        if (request.count > Limits.maxPartitionsPerTopic) return fail(ErrorCode.INVALID_PARTITIONS, `at most ${Limits.maxPartitionsPerTopic} partitions per topic`);
        let lists: number[][] | string;
        if (request.assignments !== null && request.assignments.length > 0) {
          if (request.assignments.length !== request.count - current) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `expected ${request.count - current} assignments, got ${request.assignments.length}`);
          lists = this.checkAssignments(request.assignments.map((brokerIds, index) => ({ partitionIndex: index, brokerIds })));
        } else {
          lists = this.spreadLeaders(request.count - current, leaderCounts);
        }
        if (typeof lists === 'string') return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, lists);
        lists.forEach((replicas, index) => records.push(partitionRecord(request.name, current + index, replicas)));
        return { name: request.name, errorCode: ErrorCode.NONE, errorMessage: null };
      });
      return { results, changes: { records, removedTopics: [] } };
    }, validateOnly);
  }

  /** Fences or unfences nodes (from NodeLiveness); records only what changes. */
  setNodesFenced(changes: ReadonlyArray<{ nodeId: number; fenced: boolean }>): Promise<OperationResult[]> {
    return this.serialize(() => {
      const records: MetadataRecord[] = [];
      const results = changes.map(({ nodeId, fenced }): OperationResult => {
        if (this.image.fencedNodes.has(nodeId) !== fenced) records.push({ type: 'nodeFence', nodeId, fenced });
        return { name: String(nodeId), errorCode: ErrorCode.NONE, errorMessage: null };
      });
      return { results, changes: { records, removedTopics: [] } };
    }, false);
  }

  /** AlterConfigs (non-incremental): the given set replaces every override of the topic. */
  alterTopicConfigs(resources: ReadonlyArray<{ name: string; configs: ReadonlyArray<{ name: string; value: string | null }> }>, validateOnly = false): Promise<OperationResult[]> {
    return this.serialize(() => {
      const records: MetadataRecord[] = [];
      const results = resources.map((resource): OperationResult => {
        if (this.image.topic(resource.name) === undefined) {
          return { name: resource.name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic ${resource.name} does not exist` };
        }
        const configs: Record<string, string> = {};
        for (const config of resource.configs) {
          const problem = checkTopicConfig(config.name, config.value, maxTopicMessageBytes);
          if (problem !== null) return { name: resource.name, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem };
          if (config.value !== null) configs[config.name] = config.value;
        }
        records.push({ type: 'topicConfig', name: resource.name, configs });
        return { name: resource.name, errorCode: ErrorCode.NONE, errorMessage: null };
      });
      return { results, changes: { records, removedTopics: [] } };
    }, validateOnly);
  }
}

function partitionRecord(topic: string, partition: number, replicas: number[]): PartitionRecord {
  return { type: 'partition', topic, partition, replicas, isr: [...replicas], leader: replicas[0]!, leaderEpoch: 0, partitionEpoch: 0 };
}
