/**
 * The controller: validates admin requests against the metadata image and turns them into
 * metadata records. Deciding is pure (image + request + injected Random -> results + records);
 * committing the records is the MetadataWriter's job (the single-voter metadata log today, the
 * Raft quorum next), and an operation's results are answered only once its records are
 * committed and applied. Operations run one at a time, so each one sees every earlier change.
 * Replica placement lives in replica-placement.ts, ISR changes and leader elections in
 * replication-control.ts (over partition-change.ts); this class checks requests and commits.
 */
import type { BrokerSettings } from '../config/broker-config.js';
import { checkTopicConfig, effectiveTopicConfig } from '../config/topic-config.js';
import { ErrorCode } from '../protocol/errors.js';
import { Limits } from '../runtime/limits.js';
import { assert } from '../runtime/assert.js';
import type { MetadataImage } from '../metadata/image.js';
import type { MetadataRecord, PartitionRecord } from '../metadata/records.js';
import { MetadataCommitError } from '../metadata/quorum-writer.js';
import { randomUuidText, type Random } from '../runtime/random.js';
import { topicNameProblem } from './topic-names.js';
import { PartitionChanges } from './partition-change.js';
import { assignmentProblem, placeReplicas, replicationFactorProblem } from './replica-placement.js';
import { alterPartition, electOfflineLeaders, electPreferredLeaders, removeFromIsrs, type AlterPartitionRequest, type AlterPartitionResult, type ElectionContext } from './replication-control.js';

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

/** A block of producer ids for one node: [firstProducerId, firstProducerId + size). */
export interface ProducerIdBlockResult extends OperationResult {
  /** -1 when refused. */
  firstProducerId: number;
  size: number;
}

/**
 * Commits records: durable (and replicated, once Raft lands), applied to the image, and told
 * to the nodes, in order. Rejects when the records cannot be committed.
 */
export interface MetadataWriter {
  commit(changes: MetadataChanges): Promise<void>;
}

export interface ControllerOptions {
  /** Most replicas per partition the broker serves: 1 until data replication is wired (the default). */
  readonly maxReplicationFactor?: number;
}

type Refusal = { errorCode: number; errorMessage: string };

/** max.message.bytes may not exceed what one ring message can carry. */
const maxTopicMessageBytes = Limits.maxRingMessageBytes - 1024;

export class Controller {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly maxReplicationFactor: number;

  constructor(
    private readonly image: MetadataImage,
    private readonly writer: MetadataWriter,
    private readonly nodeCount: number,
    private readonly broker: BrokerSettings,
    /** Topic and cluster ids come from here (a seeded Random in simulations). */
    private readonly random: Random,
    options: ControllerOptions = {},
  ) {
    this.maxReplicationFactor = options.maxReplicationFactor ?? 1;
  }

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
    // Until the broker replicates, a topic asking for the default gets what it can replicate.
    const replicationFactor = topic.replicationFactor === -1 ? Math.min(this.broker['default.replication.factor'], this.maxReplicationFactor) : topic.replicationFactor;
    const fail = ({ errorCode, errorMessage }: Refusal): CreateTopicResult => ({ name: topic.name, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1 });
    const nameProblem = topicNameProblem(topic.name);
    if (nameProblem !== null) return fail({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: nameProblem });
    if (this.image.topic(topic.name) !== undefined || seen.has(topic.name)) return fail({ errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `topic ${topic.name} already exists` });
    const assignments = topic.assignments ?? [];
    if (assignments.length === 0 && (numPartitions < 1 || numPartitions > Limits.maxPartitionsPerTopic)) {
      return fail({ errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `number of partitions must be between 1 and ${Limits.maxPartitionsPerTopic}, got ${numPartitions}` });
    }
    const configs: Record<string, string> = {};
    for (const config of topic.configs ?? []) {
      const problem = checkTopicConfig(config.name, config.value, maxTopicMessageBytes);
      if (problem !== null) return fail({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem });
      if (config.value !== null) configs[config.name] = config.value;
    }
    const partitions = assignments.length > 0 ? this.explicitPartitions(topic.name, assignments) : this.placedPartitions(topic.name, 0, numPartitions, replicationFactor, leaderCounts);
    if (!Array.isArray(partitions)) return fail(partitions);
    records.push({ type: 'topic', name: topic.name, topicId: randomUuidText(this.random), configs }, ...partitions);
    return { name: topic.name, errorCode: ErrorCode.NONE, errorMessage: null, numPartitions: partitions.length, replicationFactor: partitions[0]!.replicas.length };
  }

  /**
   * Nodes new replicas may go to: the unfenced ones. When every node is fenced yet the records
   * commit (a majority answers), the fencing is stale (nodes not heard from since a restart), and
   * all nodes are used, as before fencing moved leaders.
   */
  private usableNodes(): number[] {
    const all = Array.from({ length: this.nodeCount }, (_, nodeId) => nodeId);
    const unfenced = all.filter((nodeId) => !this.image.fencedNodes.has(nodeId));
    return unfenced.length > 0 ? unfenced : all;
  }

  private placedPartitions(topic: string, firstPartition: number, count: number, replicationFactor: number, leaderCounts: number[]): PartitionRecord[] | Refusal {
    if (replicationFactor < 1) return { errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: `replication factor must be at least 1, got ${replicationFactor}` };
    const tooMany = this.replicationFactorRefusal(replicationFactor, ErrorCode.INVALID_REPLICATION_FACTOR);
    if (tooMany !== null) return tooMany;
    const nodes = this.usableNodes();
    const problem = replicationFactorProblem(replicationFactor, nodes.length, this.nodeCount - nodes.length);
    if (problem !== null) return { errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: problem };
    const lists = placeReplicas(nodes, leaderCounts, count, replicationFactor);
    return lists.map((replicas, index) => newPartitionRecord(topic, firstPartition + index, replicas, new Set(nodes))!);
  }

  private replicationFactorRefusal(replicationFactor: number, errorCode: number): Refusal | null {
    if (replicationFactor <= this.maxReplicationFactor) return null;
    return { errorCode, errorMessage: `replication factor ${replicationFactor} is larger than ${this.maxReplicationFactor}, the most this broker places (one replica per node)` };
  }

  private explicitPartitions(topic: string, assignments: ReadonlyArray<{ partitionIndex: number; brokerIds: readonly number[] }>): PartitionRecord[] | Refusal {
    const sorted = [...assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
    if (sorted.some((assignment, index) => assignment.partitionIndex !== index)) {
      return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: `partition indexes must run 0..${sorted.length - 1}` };
    }
    return this.assignedPartitions(topic, 0, sorted.map((assignment) => assignment.brokerIds), sorted[0]!.brokerIds.length);
  }

  /** Explicitly assigned partitions: their ISR is their unfenced replicas, led by the first. */
  private assignedPartitions(topic: string, firstPartition: number, lists: ReadonlyArray<readonly number[]>, replicationFactor: number): PartitionRecord[] | Refusal {
    const problem = assignmentProblem(lists, this.nodeCount, replicationFactor);
    if (problem !== null) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: problem };
    const tooMany = this.replicationFactorRefusal(replicationFactor, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    if (tooMany !== null) return tooMany;
    const usable = new Set(this.usableNodes());
    const partitions: PartitionRecord[] = [];
    for (const [index, replicas] of lists.entries()) {
      const partition = newPartitionRecord(topic, firstPartition + index, replicas, usable);
      if (partition === null) {
        return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: `All brokers specified in the manual partition assignment for partition ${firstPartition + index} are fenced.` };
      }
      partitions.push(partition);
    }
    return partitions;
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

  /** New partitions of a topic get the replication factor of its partition 0. */
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
        const replicationFactor = topic.partitions[0]!.replicas.length;
        const explicit = request.assignments !== null && request.assignments.length > 0;
        if (explicit && request.assignments!.length !== request.count - current) {
          return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `expected ${request.count - current} assignments, got ${request.assignments!.length}`);
        }
        const partitions = explicit
          ? this.assignedPartitions(request.name, current, request.assignments!, replicationFactor)
          : this.placedPartitions(request.name, current, request.count - current, replicationFactor, leaderCounts);
        if (!Array.isArray(partitions)) return fail(partitions.errorCode, partitions.errorMessage);
        records.push(...partitions);
        return { name: request.name, errorCode: ErrorCode.NONE, errorMessage: null };
      });
      return { results, changes: { records, removedTopics: [] } };
    }, validateOnly);
  }

  /**
   * Fences or unfences nodes (from NodeLiveness); records only what changes. A fenced node leaves
   * every ISR and its partitions elect new leaders; an unfenced one leads its offline partitions.
   */
  setNodesFenced(changes: ReadonlyArray<{ nodeId: number; fenced: boolean }>): Promise<OperationResult[]> {
    return this.serialize(() => {
      const records: MetadataRecord[] = [];
      const fenced = new Set(this.image.fencedNodes);
      const transitions: Array<{ nodeId: number; fenced: boolean }> = [];
      const results = changes.map(({ nodeId, fenced: fence }): OperationResult => {
        if (fenced.has(nodeId) !== fence) {
          records.push({ type: 'nodeFence', nodeId, fenced: fence });
          transitions.push({ nodeId, fenced: fence });
          if (fence) fenced.add(nodeId);
          else fenced.delete(nodeId);
        }
        return { name: String(nodeId), errorCode: ErrorCode.NONE, errorMessage: null };
      });
      const partitionChanges = new PartitionChanges(this.image);
      const context = this.electionContext(fenced);
      for (const transition of transitions) {
        if (transition.fenced) removeFromIsrs(partitionChanges, transition.nodeId, context);
        else electOfflineLeaders(partitionChanges, transition.nodeId, context);
      }
      records.push(...partitionChanges.records());
      return { results, changes: { records, removedTopics: [] } };
    }, false);
  }

  /** A node shutting down cleanly: fenced, and moved out of every ISR and leadership, first. */
  async controlledShutdown(nodeId: number): Promise<OperationResult> {
    const [result] = await this.serialize(() => {
      const fenced = new Set(this.image.fencedNodes).add(nodeId);
      const records: MetadataRecord[] = this.image.fencedNodes.has(nodeId) ? [] : [{ type: 'nodeFence', nodeId, fenced: true }];
      const partitionChanges = new PartitionChanges(this.image);
      removeFromIsrs(partitionChanges, nodeId, this.electionContext(fenced));
      records.push(...partitionChanges.records());
      return { results: [{ name: String(nodeId), errorCode: ErrorCode.NONE, errorMessage: null }], changes: { records, removedTopics: [] } };
    }, false);
    return result!;
  }

  /** ISR changes from partition leaders (AlterPartition): one commit for the whole batch. */
  async alterPartition(requests: readonly AlterPartitionRequest[]): Promise<AlterPartitionResult[]> {
    const results = await this.serialize(() => {
      const partitionChanges = new PartitionChanges(this.image);
      const context = this.electionContext(this.image.fencedNodes);
      const answers = requests.map((request) => ({ ...alterPartition(partitionChanges, request, context), name: `${request.topic}-${request.partition}` }));
      return { results: answers, changes: { records: partitionChanges.records(), removedTopics: [] } };
    }, false);
    // A failed commit changed nothing: no state to report.
    return results.map(({ name: _name, ...result }) => (result.errorCode === ErrorCode.NONE ? result : { ...result, state: null }));
  }

  /**
   * Every partition whose preferred replica (its first) is unfenced and in the ISR but does not
   * lead gets it as leader; answers how many moved (the broker calls this every
   * leader.imbalance.check.interval.seconds when auto.leader.rebalance.enable).
   */
  async electPreferredLeaders(): Promise<number> {
    const results = await this.serialize(() => {
      const partitionChanges = new PartitionChanges(this.image);
      electPreferredLeaders(partitionChanges, this.electionContext(this.image.fencedNodes));
      const records = partitionChanges.records();
      const moved = records.map((record): OperationResult => ({ name: `${record.topic}-${record.partition}`, errorCode: ErrorCode.NONE, errorMessage: null }));
      return { results: moved, changes: { records, removedTopics: [] } };
    }, false);
    return results.filter((result) => result.errorCode === ErrorCode.NONE).length;
  }

  private electionContext(fenced: ReadonlySet<number>): ElectionContext {
    return {
      canLead: (nodeId) => nodeId >= 0 && nodeId < this.nodeCount && !fenced.has(nodeId),
      uncleanFor: (topic) => effectiveTopicConfig('unclean.leader.election.enable', this.image.topic(topic)?.configs ?? {}, this.broker).value === 'true',
    };
  }

  /**
   * The next block of `count` producer ids for `nodeId` (KRaft's AllocateProducerIds): one
   * committed record per block, starting at the committed next producer id. Serialized like every
   * operation, and the image refuses a block that does not start there when it commits (see
   * entryProblem), so no two blocks overlap, whichever node leads the quorum when.
   */
  async allocateProducerIds(nodeId: number, count: number): Promise<ProducerIdBlockResult> {
    assert(Number.isInteger(nodeId) && nodeId >= 0 && nodeId < this.nodeCount, () => `allocateProducerIds: no node ${nodeId}`);
    assert(Number.isSafeInteger(count) && count > 0, () => `allocateProducerIds: block size ${count} must be a positive integer`);
    const [result] = await this.serialize((): Outcome<ProducerIdBlockResult> => {
      const firstProducerId = this.image.nextProducerId;
      const name = `producer ids for node ${nodeId}`;
      if (firstProducerId > Number.MAX_SAFE_INTEGER - count) {
        const errorMessage = `producer ids are exhausted: the next block would pass ${Number.MAX_SAFE_INTEGER}`;
        return { results: [{ name, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage, firstProducerId: -1, size: 0 }], changes: { records: [], removedTopics: [] } };
      }
      const record: MetadataRecord = { type: 'producerIds', brokerId: nodeId, brokerEpoch: -1, firstProducerId, nextProducerId: firstProducerId + count };
      return { results: [{ name, errorCode: ErrorCode.NONE, errorMessage: null, firstProducerId, size: count }], changes: { records: [record], removedTopics: [] } };
    }, false);
    return result!.errorCode === ErrorCode.NONE ? result! : { ...result!, firstProducerId: -1, size: 0 };
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

/** A new partition: its ISR is its replicas on usable nodes, led by the first; null if none is usable. */
function newPartitionRecord(topic: string, partition: number, replicas: readonly number[], usable: ReadonlySet<number>): PartitionRecord | null {
  const isr = replicas.filter((nodeId) => usable.has(nodeId));
  if (isr.length === 0) return null;
  return { type: 'partition', topic, partition, replicas: [...replicas], isr, leader: isr[0]!, leaderEpoch: 0, partitionEpoch: 0 };
}
