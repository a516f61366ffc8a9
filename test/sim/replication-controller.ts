/**
 * The simulated controller of the replication simulation: the real MetadataImage and the real
 * decision code of src/controller (PartitionChanges, alterPartition, removeFromIsrs,
 * electOfflineLeaders, NodeLiveness), the way Controller uses them, minus the Raft quorum (the
 * Raft simulation covers it): a committed operation is applied to the image at once and
 * appended to the metadata log the nodes fetch. Fencing, as KRaft: a node silent for the
 * session timeout, a node the supervisor saw exit, and a node registering with a new
 * incarnation (its old one is fenced before the new one may act on a partition).
 */
import { MetadataImage } from '../../src/metadata/image.js';
import type { MetadataRecord, PartitionRecord } from '../../src/metadata/records.js';
import { NodeLiveness } from '../../src/controller/node-liveness.js';
import { PartitionChanges } from '../../src/controller/partition-change.js';
import { alterPartition, electOfflineLeaders, electPreferredLeaders, removeFromIsrs, type AlterPartitionRequest, type ElectionContext } from '../../src/controller/replication-control.js';
import { ErrorCode } from '../../src/protocol/errors.js';

export const SIM_TOPIC = 'sim';

export interface ControllerOptions {
  readonly nodeCount: number;
  readonly partitionCount: number;
  readonly replicationFactor: number;
  readonly sessionTimeoutMs: number;
  /**
   * The run starts as a whole-cluster restart: a node's first registration fences it too (its
   * partitions elect others or go offline until it is unfenced), as KRaft registers brokers fenced.
   */
  readonly fenceFirstRegistrations: boolean;
}

export class SimController {
  readonly image = new MetadataImage();
  /** The committed metadata log, one record per entry (the nodes fetch it by offset). */
  readonly metadataLog: MetadataRecord[] = [];
  private readonly liveness: NodeLiveness;
  private readonly incarnations: number[];
  /** Every committed partition record, for the checker (one leader per leader epoch). */
  readonly onPartitionRecord: Array<(record: PartitionRecord) => void> = [];
  private readonly lastLeaderEpoch: number[] = [];
  fencings = 0;
  elections = 0;
  alterPartitionsAccepted = 0;
  alterPartitionsRefused = 0;

  constructor(private readonly options: ControllerOptions) {
    this.liveness = new NodeLiveness(options.sessionTimeoutMs, Array.from({ length: options.nodeCount }, (_, id) => id), 0);
    this.incarnations = new Array<number>(options.nodeCount).fill(0);
    const records: MetadataRecord[] = [{ type: 'topic', name: SIM_TOPIC, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', configs: { 'min.insync.replicas': '2' } }];
    for (let partition = 0; partition < options.partitionCount; partition++) {
      const replicas = Array.from({ length: options.replicationFactor }, (_, index) => (partition + index) % options.nodeCount);
      records.push({ type: 'partition', topic: SIM_TOPIC, partition, replicas, isr: [...replicas], leader: replicas[0]!, leaderEpoch: 0, partitionEpoch: 0 });
    }
    this.commit(records);
  }

  get metadataEndOffset(): number {
    return this.metadataLog.length;
  }

  isFenced(nodeId: number): boolean {
    return this.image.fencedNodes.has(nodeId);
  }

  heartbeat(nodeId: number, incarnation: number, nowMs: number): void {
    if (incarnation !== this.incarnations[nodeId]) return;
    this.liveness.heartbeat(nodeId, nowMs);
  }

  /** The node's process exited (the supervisor saw it): fenced at the next liveness check. */
  markGone(nodeId: number): void {
    this.liveness.markGone(nodeId);
  }

  /**
   * A node starts with a new incarnation: its old one is fenced now (it may have lost unsynced
   * writes it served as leader). Answers the metadata offset the node must have applied before
   * it acts on a partition.
   */
  register(nodeId: number, incarnation: number): number {
    const previous = this.incarnations[nodeId]!;
    if (incarnation > previous) {
      this.incarnations[nodeId] = incarnation;
      if (previous === 0 && !this.options.fenceFirstRegistrations) return this.metadataEndOffset;
      this.liveness.markGone(nodeId);
      if (!this.isFenced(nodeId)) this.setFenced([{ nodeId, fenced: true }]);
    }
    return this.metadataEndOffset;
  }

  /** Periodic liveness check (Controller.checkLiveness): fences the silent, unfences the heard. */
  checkLiveness(nowMs: number): void {
    const changes = this.liveness.changes(nowMs, this.image.fencedNodes);
    if (changes.length > 0) this.setFenced(changes);
  }

  /** Controller.setNodesFenced, synchronously. */
  private setFenced(changes: ReadonlyArray<{ nodeId: number; fenced: boolean }>): void {
    const fenced = new Set(this.image.fencedNodes);
    const records: MetadataRecord[] = [];
    for (const change of changes) {
      if (fenced.has(change.nodeId) === change.fenced) continue;
      records.push({ type: 'nodeFence', nodeId: change.nodeId, fenced: change.fenced });
      if (change.fenced) fenced.add(change.nodeId);
      else fenced.delete(change.nodeId);
    }
    const partitionChanges = new PartitionChanges(this.image);
    const context = this.electionContext(fenced);
    for (const change of changes) {
      if (change.fenced) removeFromIsrs(partitionChanges, change.nodeId, context);
      else electOfflineLeaders(partitionChanges, change.nodeId, context);
      if (change.fenced) this.fencings++;
    }
    this.commit([...records, ...partitionChanges.records()]);
  }

  /** Controller.controlledShutdown: the node is fenced and moved out of every ISR and leadership. */
  controlledShutdown(nodeId: number): void {
    const fenced = new Set(this.image.fencedNodes).add(nodeId);
    const records: MetadataRecord[] = this.isFenced(nodeId) ? [] : [{ type: 'nodeFence', nodeId, fenced: true }];
    const partitionChanges = new PartitionChanges(this.image);
    removeFromIsrs(partitionChanges, nodeId, this.electionContext(fenced));
    this.liveness.markGone(nodeId);
    this.fencings++;
    this.commit([...records, ...partitionChanges.records()]);
  }

  /** Controller.electPreferredLeaders: leadership moves back to each partition's first replica. */
  electPreferredLeaders(): number {
    const partitionChanges = new PartitionChanges(this.image);
    const moved = electPreferredLeaders(partitionChanges, this.electionContext(this.image.fencedNodes));
    this.commit(partitionChanges.records());
    return moved;
  }

  /** One AlterPartition (Controller.alterPartition): the error code the leader gets back. */
  alterPartition(request: AlterPartitionRequest): number {
    const partitionChanges = new PartitionChanges(this.image);
    const result = alterPartition(partitionChanges, request, this.electionContext(this.image.fencedNodes));
    if (result.errorCode !== ErrorCode.NONE) {
      this.alterPartitionsRefused++;
      return result.errorCode;
    }
    this.alterPartitionsAccepted++;
    this.commit(partitionChanges.records());
    return ErrorCode.NONE;
  }

  private electionContext(fenced: ReadonlySet<number>): ElectionContext {
    return { canLead: (nodeId) => nodeId >= 0 && nodeId < this.options.nodeCount && !fenced.has(nodeId), uncleanFor: () => false };
  }

  private commit(records: readonly MetadataRecord[]): void {
    if (records.length === 0) return;
    const problem = this.image.applyEntry(records);
    if (problem !== null) throw new Error(`sim controller: a decided entry does not apply: ${problem}`);
    for (const record of records) {
      this.metadataLog.push(record);
      if (record.type !== 'partition') continue;
      if (record.leaderEpoch > 0 && record.leader >= 0 && record.partitionEpoch > 0 && this.lastLeaderEpoch[record.partition] !== record.leaderEpoch) this.elections++;
      this.lastLeaderEpoch[record.partition] = record.leaderEpoch;
      const before = this.metadataLog.length;
      for (const listener of this.onPartitionRecord) listener(record);
      if (this.metadataLog.length !== before) throw new Error('sim controller: a listener committed');
    }
  }
}
