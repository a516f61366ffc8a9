/**
 * Turns the committed metadata log, as this node's own quorum member applies it, into the
 * node's replica roles (Kafka's BrokerMetadataPublisher): the partitions it leads, their
 * configs, the topics deleted. Nothing arrives from the front thread: every node follows the
 * same log in the same order, so every node reaches the same conclusions.
 *
 * What an entry means is decided synchronously, against the image exactly as it stands after
 * that entry (the quorum member may apply later entries before the node has done this one's
 * work); the work itself (opening logs, loading group coordinators, deleting data) runs one
 * entry at a time, in log order, and each entry is reported done once its work is.
 */
import type { BrokerSettings } from '../config/broker-config.js';
import { logConfigFor } from '../config/topic-config.js';
import type { MetadataImage } from '../metadata/image.js';
import type { MetadataRecord } from '../metadata/records.js';
import type { Logger } from '../runtime/logger.js';
import type { LogConfig } from '../storage/log-config.js';
import type { PartitionAssignment } from './node-protocol.js';
import type { PartitionRecordState } from '../replication/partition-state.js';

/** What the publisher asks of the node (BrokerNode implements it). */
export interface ReplicaHost {
  readonly nodeId: number;
  /** A committed partition record: lead it, follow it, or stop hosting it (see BrokerNode.applyPartition). */
  applyPartition(assignment: PartitionAssignment, record: PartitionRecordState): Promise<void>;
  /** Stops serving these partitions; their logs stay. */
  stopReplicas(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void>;
  /** Deletes every log of the topic held here (it was deleted, and may be created again). */
  deleteTopic(topic: string): Promise<void>;
  updateTopicConfig(topic: string, config: LogConfig): void;
  /** The controller's fenced nodes, after every change (they never hold a high watermark back). */
  setFencedNodes(fenced: ReadonlySet<number>): void;
  /** Partitions the node serves now. */
  hostedPartitions(): Array<{ topic: string; partition: number }>;
  /** Deletes logs of topics not in `knownTopics` (deleted while the node was down). */
  dropStrayLogs(knownTopics: ReadonlySet<string>): Promise<number>;
}

interface PartitionWork {
  assignment: PartitionAssignment;
  record: PartitionRecordState;
}

type Work =
  | { kind: 'partition'; partition: PartitionWork }
  | { kind: 'deleteTopic'; topic: string }
  | { kind: 'config'; topic: string; config: LogConfig }
  | { kind: 'fenced'; nodes: Set<number> }
  | { kind: 'reconcile'; hosted: PartitionWork[]; knownTopics: Set<string> }
  | { kind: 'dropStray'; knownTopics: Set<string> };

export class MetadataPublisher {
  private queue: Promise<void> = Promise.resolve();
  /** Index of the last entry whose work is done. */
  publishedIndex = 0;
  /** The front's catch-up target: once applied that far, logs of unknown topics are deleted. */
  private strayCheckAfterIndex: number | null = null;

  constructor(
    private readonly host: ReplicaHost,
    private readonly settings: BrokerSettings,
    /** Told after each entry's work is done (the front answers admin requests after this). */
    private readonly published: (index: number) => void,
    private readonly logger: Logger,
  ) {}

  /** The quorum member applied the entry at `index` (with these records) to `image`. */
  entryApplied(index: number, records: readonly MetadataRecord[], image: MetadataImage): void {
    const work = records.flatMap((record) => this.workFor(record, image));
    this.enqueue(index, work);
    this.maybeCheckStrays(index, image);
  }

  /** The quorum member replaced its image with a snapshot at `index`. */
  snapshotRestored(index: number, image: MetadataImage): void {
    const hosted: PartitionWork[] = [];
    for (const topic of image.topics.values()) {
      for (const partition of topic.partitions) {
        if (partition.replicas.includes(this.host.nodeId)) hosted.push(this.partitionWork(image, topic.name, partition));
      }
    }
    this.enqueue(index, [{ kind: 'fenced', nodes: new Set(image.fencedNodes) }, { kind: 'reconcile', hosted, knownTopics: new Set(image.topics.keys()) }]);
    this.maybeCheckStrays(index, image);
  }

  /**
   * Logs of topics this node's image does not know are deleted only once the node has
   * applied at least `index` (what the front had applied when it asked): before that, the
   * image may simply not have reached a topic created while the node was down.
   */
  checkStrayLogsAfter(index: number, image: MetadataImage): void {
    this.strayCheckAfterIndex = index;
    this.maybeCheckStrays(image.appliedOffset, image);
  }

  private maybeCheckStrays(appliedIndex: number, image: MetadataImage): void {
    if (this.strayCheckAfterIndex === null || appliedIndex < this.strayCheckAfterIndex) return;
    this.strayCheckAfterIndex = null;
    this.enqueue(appliedIndex, [{ kind: 'dropStray', knownTopics: new Set(image.topics.keys()) }]);
  }

  private workFor(record: MetadataRecord, image: MetadataImage): Work[] {
    switch (record.type) {
      case 'partition':
        return [{ kind: 'partition', partition: this.partitionWork(image, record.topic, record) }];
      case 'removeTopic':
        return [{ kind: 'deleteTopic', topic: record.name }];
      case 'nodeFence':
        return [{ kind: 'fenced', nodes: new Set(image.fencedNodes) }];
      case 'topicConfig':
        return [{ kind: 'config', topic: record.name, config: logConfigFor(record.configs, this.settings) }];
      default:
        return [];
    }
  }

  private partitionWork(image: MetadataImage, topic: string, state: PartitionRecordState & { partition: number }): PartitionWork {
    const topicImage = image.topic(topic);
    const assignment = { topic, partition: state.partition, leaderEpoch: state.leaderEpoch, config: logConfigFor(topicImage?.configs ?? {}, this.settings), partitionCount: topicImage?.partitions.length ?? state.partition + 1 };
    const record = { leader: state.leader, leaderEpoch: state.leaderEpoch, partitionEpoch: state.partitionEpoch, replicas: [...state.replicas], isr: [...state.isr] };
    return { assignment, record };
  }

  private enqueue(index: number, work: readonly Work[]): void {
    const run = async () => {
      for (const item of work) await this.perform(item);
      if (index > this.publishedIndex) this.publishedIndex = index;
      this.published(this.publishedIndex);
    };
    this.queue = this.queue.then(run).catch((error: unknown) => {
      this.logger.error('applying committed metadata failed', { index, error: error instanceof Error ? error.stack ?? error.message : String(error) });
    });
  }

  private async perform(work: Work): Promise<void> {
    switch (work.kind) {
      case 'partition':
        await this.host.applyPartition(work.partition.assignment, work.partition.record);
        return;
      case 'deleteTopic':
        await this.host.deleteTopic(work.topic);
        return;
      case 'config':
        this.host.updateTopicConfig(work.topic, work.config);
        return;
      case 'fenced':
        this.host.setFencedNodes(work.nodes);
        return;
      case 'reconcile': {
        const keep = new Set(work.hosted.map(({ assignment }) => `${assignment.topic}\u0000${assignment.partition}`));
        const stop = this.host.hostedPartitions().filter(({ topic, partition }) => !keep.has(`${topic}\u0000${partition}`));
        for (const topic of new Set(stop.filter(({ topic }) => !work.knownTopics.has(topic)).map(({ topic }) => topic))) await this.host.deleteTopic(topic);
        const kept = stop.filter(({ topic }) => work.knownTopics.has(topic));
        if (kept.length > 0) await this.host.stopReplicas(kept);
        for (const { assignment, record } of work.hosted) await this.host.applyPartition(assignment, record);
        return;
      }
      case 'dropStray': {
        const dropped = await this.host.dropStrayLogs(work.knownTopics);
        if (dropped > 0) this.logger.info('deleted logs of topics that no longer exist', { node: this.host.nodeId, logs: dropped });
        return;
      }
    }
  }

  /** Resolves once the work of everything applied so far is done. */
  idle(): Promise<void> {
    return this.queue;
  }
}
