/**
 * The in-memory image of cluster metadata: topics, their configs and partitions, built by
 * applying metadata records in log order. Pure: no I/O, no clock.
 */
import { assert } from '../runtime/assert.js';
import type { MetadataRecord, PartitionRecord, ProducerIdsRecord } from './records.js';

export interface PartitionImage {
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** -1: offline (no ISR member is unfenced). */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  readonly configs: Readonly<Record<string, string>>;
  readonly partitions: readonly PartitionImage[];
}

export class MetadataImage {
  clusterId: string | null = null;
  private readonly topicsByName = new Map<string, TopicImage>();
  private readonly fenced = new Set<number>();
  /** The metadata log offset (Raft index) of the last entry applied; 0 before any. */
  appliedOffset = 0;
  /** The last producer id block handed out (null before any; logs older than it have none). */
  private lastProducerIds: ProducerIdsRecord | null = null;

  /** Where the next producer id block starts: the end of the last one handed out (0 before any). */
  get nextProducerId(): number {
    return this.lastProducerIds?.nextProducerId ?? 0;
  }

  get topics(): ReadonlyMap<string, TopicImage> {
    return this.topicsByName;
  }

  topic(name: string): TopicImage | undefined {
    return this.topicsByName.get(name);
  }

  partition(topic: string, partition: number): PartitionImage | undefined {
    return this.topicsByName.get(topic)?.partitions[partition];
  }

  /**
   * Applies one log entry's records, all or nothing. An entry decided against an older image
   * may no longer fit when it commits (an operation that timed out committed after all, and
   * a retry was decided before it was applied): then no record of it is applied, on every node
   * alike since they all apply the same log, and the reason is returned.
   */
  applyEntry(records: readonly MetadataRecord[]): string | null {
    const problem = this.entryProblem(records);
    if (problem === null) for (const record of records) this.apply(record);
    return problem;
  }

  /** Why `records` cannot be applied to this image in order, or null (a dry run of apply). */
  entryProblem(records: readonly MetadataRecord[]): string | null {
    const created = new Set<string>();
    const removed = new Set<string>();
    const partitionCounts = new Map<string, number>();
    const changed = new Map<string, { partitionEpoch: number; leaderEpoch: number; leader: number }>();
    const exists = (name: string) => created.has(name) || (this.topicsByName.has(name) && !removed.has(name));
    let nextProducerId = this.nextProducerId;
    for (const record of records) {
      switch (record.type) {
        case 'producerIds': {
          const problem = producerIdsProblem(record, nextProducerId);
          if (problem !== null) return problem;
          nextProducerId = record.nextProducerId;
          break;
        }
        case 'topic':
          if (exists(record.name)) return `topic ${record.name} already exists`;
          created.add(record.name);
          partitionCounts.set(record.name, 0);
          break;
        case 'removeTopic':
          if (!exists(record.name)) return `topic ${record.name} does not exist`;
          removed.add(record.name);
          created.delete(record.name);
          break;
        case 'topicConfig':
          if (!exists(record.name)) return `topic ${record.name} does not exist`;
          break;
        case 'partition': {
          if (!exists(record.topic)) return `topic ${record.topic} does not exist`;
          const key = `${record.topic}\u0000${record.partition}`;
          const previous = changed.get(key) ?? (created.has(record.topic) ? undefined : this.partition(record.topic, record.partition));
          const next = { partitionEpoch: record.partitionEpoch ?? 0, leaderEpoch: record.leaderEpoch, leader: record.leader };
          if (previous === undefined) {
            const count = partitionCounts.get(record.topic) ?? this.topicsByName.get(record.topic)!.partitions.length;
            if (record.partition !== count) return `partition ${record.topic}-${record.partition} skips ${count}`;
            partitionCounts.set(record.topic, count + 1);
          } else {
            const problem = partitionChangeProblem(`${record.topic}-${record.partition}`, next, previous);
            if (problem !== null) return problem;
          }
          changed.set(key, next);
          break;
        }
        default:
          break;
      }
    }
    return null;
  }

  apply(record: MetadataRecord): void {
    switch (record.type) {
      case 'cluster':
        this.clusterId = record.clusterId;
        break;
      case 'topic':
        if (this.topicsByName.has(record.name)) throw new Error(`metadata: topic ${record.name} already exists`);
        this.topicsByName.set(record.name, { name: record.name, topicId: record.topicId, configs: { ...record.configs }, partitions: [] });
        break;
      case 'partition':
        this.applyPartition(record);
        break;
      case 'topicConfig':
        this.replaceTopic(record.name, (topic) => ({ ...topic, configs: { ...record.configs } }));
        break;
      case 'removeTopic':
        if (!this.topicsByName.delete(record.name)) throw new Error(`metadata: cannot remove unknown topic ${record.name}`);
        break;
      case 'nodeFence':
        if (record.fenced) this.fenced.add(record.nodeId);
        else this.fenced.delete(record.nodeId);
        break;
      case 'producerIds':
        this.applyProducerIds(record);
        break;
    }
  }

  /**
   * The next producer id only moves forward (KRaft refuses to replay a record that does not
   * move it). Contiguity is checked in entryProblem, not here: a snapshot rebuilds the image
   * from the last block alone.
   */
  private applyProducerIds(record: ProducerIdsRecord): void {
    assert(
      Number.isSafeInteger(record.nextProducerId) && record.nextProducerId > this.nextProducerId && record.firstProducerId < record.nextProducerId,
      () => `metadata: next producer id moves from ${this.nextProducerId} to ${record.nextProducerId} (block from ${record.firstProducerId}): it only moves forward`,
    );
    this.lastProducerIds = { ...record };
  }

  /** Updates the topic's partition list in place: a topic created with n partitions is n records. */
  private applyPartition(record: PartitionRecord): void {
    const topic = this.topicsByName.get(record.topic);
    if (topic === undefined) throw new Error(`metadata: unknown topic ${record.topic}`);
    const partitions = topic.partitions as PartitionImage[];
    if (record.partition > partitions.length) {
      throw new Error(`metadata: partition ${record.topic}-${record.partition} skips ${partitions.length}`);
    }
    const partitionEpoch = record.partitionEpoch ?? 0; // absent in records of earlier versions
    const previous = partitions[record.partition];
    if (previous !== undefined) checkPartitionChange(record, partitionEpoch, previous);
    partitions[record.partition] = {
      partition: record.partition,
      replicas: [...record.replicas],
      isr: [...record.isr],
      leader: record.leader,
      leaderEpoch: record.leaderEpoch,
      partitionEpoch,
    };
  }

  private replaceTopic(name: string, change: (topic: TopicImage) => TopicImage): void {
    const topic = this.topicsByName.get(name);
    if (topic === undefined) throw new Error(`metadata: unknown topic ${name}`);
    this.topicsByName.set(name, change(topic));
  }

  /** Partitions led by each node: node id -> count (used to spread new leaders). */
  leaderCounts(nodeCount: number): number[] {
    const counts = new Array<number>(nodeCount).fill(0);
    for (const topic of this.topicsByName.values()) {
      for (const partition of topic.partitions) {
        if (partition.leader >= 0 && partition.leader < nodeCount) counts[partition.leader]!++;
      }
    }
    return counts;
  }

  /** Nodes the controller fenced because they stopped heartbeating. */
  get fencedNodes(): ReadonlySet<number> {
    return this.fenced;
  }

  /** Records that rebuild this image from empty, in an order `apply` accepts (for snapshots). */
  toRecords(): MetadataRecord[] {
    const records: MetadataRecord[] = [];
    if (this.clusterId !== null) records.push({ type: 'cluster', clusterId: this.clusterId });
    for (const topic of this.topicsByName.values()) {
      records.push({ type: 'topic', name: topic.name, topicId: topic.topicId, configs: { ...topic.configs } });
      for (const partition of topic.partitions) {
        records.push({
          type: 'partition',
          topic: topic.name,
          partition: partition.partition,
          replicas: [...partition.replicas],
          isr: [...partition.isr],
          leader: partition.leader,
          leaderEpoch: partition.leaderEpoch,
          partitionEpoch: partition.partitionEpoch,
        });
      }
    }
    for (const nodeId of this.fenced) records.push({ type: 'nodeFence', nodeId, fenced: true });
    if (this.lastProducerIds !== null) records.push({ ...this.lastProducerIds });
    return records;
  }

  /** Every record of the log entry at `offset` was applied. Offsets only move forward. */
  markApplied(offset: number): void {
    assert(offset > this.appliedOffset, () => `metadata: applied offset moves back from ${this.appliedOffset} to ${offset}`);
    this.appliedOffset = offset;
  }

  /** Empties the image (before a snapshot's records are applied). */
  clear(): void {
    this.appliedOffset = 0;
    this.clusterId = null;
    this.topicsByName.clear();
    this.fenced.clear();
    this.lastProducerIds = null;
  }
}

/** A producer id block must start where the last one ended, and hold at least one id. */
function producerIdsProblem(record: ProducerIdsRecord, nextProducerId: number): string | null {
  if (record.firstProducerId !== nextProducerId) return `producer id block ${record.firstProducerId}-${record.nextProducerId - 1} does not start at the next producer id ${nextProducerId}`;
  if (!Number.isSafeInteger(record.nextProducerId) || record.nextProducerId <= record.firstProducerId) return `producer id block ${record.firstProducerId}-${record.nextProducerId - 1} is empty or out of range`;
  return null;
}

/** A record that changes an existing partition moves its epochs forward (KRaft's rules). */
function checkPartitionChange(record: PartitionRecord, partitionEpoch: number, previous: PartitionImage): void {
  const problem = partitionChangeProblem(`${record.topic}-${record.partition}`, { partitionEpoch, leaderEpoch: record.leaderEpoch, leader: record.leader }, previous);
  assert(problem === null, () => `metadata: ${problem}`);
}

type PartitionEpochs = { readonly partitionEpoch: number; readonly leaderEpoch: number; readonly leader: number };

function partitionChangeProblem(name: string, next: PartitionEpochs, previous: PartitionEpochs): string | null {
  if (next.partitionEpoch <= previous.partitionEpoch) return `partition epoch of ${name} does not move forward: ${previous.partitionEpoch} to ${next.partitionEpoch}`;
  if (next.leaderEpoch < previous.leaderEpoch) return `leader epoch of ${name} moves back from ${previous.leaderEpoch} to ${next.leaderEpoch}`;
  if (next.leader !== previous.leader && next.leaderEpoch <= previous.leaderEpoch) return `leader of ${name} changes from ${previous.leader} to ${next.leader} in the same leader epoch ${next.leaderEpoch}`;
  return null;
}
