/**
 * The front thread's view of the metadata quorum: it follows the committed log as an observer
 * (every node reports each entry it applies, in order; the first report of the next index is
 * applied to the front's image, later copies are ignored) and keeps each node's last Raft
 * status, from which the active controller (the leader of the highest term) is read. Only a
 * voter of the quorum (controller.quorum.voters) is ever named controller.
 */
import type { RaftRole } from '../raft/types.js';
import type { QuorumStatus } from '../workers/quorum-protocol.js';
import type { MetadataImage } from './image.js';
import { decodeQuorumEntry, decodeQuorumSnapshot } from './quorum-entry.js';

export interface QuorumNodeView {
  readonly nodeId: number;
  readonly term: number;
  readonly role: RaftRole;
  readonly leaderId: number;
  readonly commitIndex: number;
  readonly abstaining: boolean;
}

export class MetadataQuorumObserver {
  /** The last entry applied to the front's image. */
  appliedIndex = 0;
  appliedTerm = 0;
  /** Entries up to here came in a snapshot: which operations they held is unknown. */
  private snapshotIndex = 0;
  private readonly statuses = new Map<number, QuorumNodeView>();
  /** Operations a writer waits for (entries of other operations are not remembered). */
  private readonly expectedOperations = new Set<string>();
  /** Operations whose entry was applied here: operation id -> log index. */
  private readonly appliedOperations = new Map<string, number>();
  private readonly rejectedOperations = new Set<string>();
  /** Operations whose entry committed but no longer fit the image (see MetadataImage.applyEntry): id -> why. */
  private readonly conflictedOperations = new Map<string, string>();
  /** Where a leader put each proposal: operation id -> log index. */
  private readonly acceptedOperations = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  /**
   * How far each live node has done the work of the committed log (its roles, configs,
   * deletions; see MetadataPublisher): node id -> index.
   */
  private readonly published = new Map<number, number>();
  /** The nodes that may lead (the quorum's voters); null until the broker knows them: any node. */
  private voters: ReadonlySet<number> | null = null;

  constructor(private readonly image: MetadataImage) {}

  /** The quorum's voters: an observer never becomes controller, and is never reported as one. */
  setVoters(voters: readonly number[]): void {
    this.voters = new Set(voters);
  }

  /** The node finished the work of every entry up to `index`. */
  nodePublished(nodeId: number, index: number): void {
    if (index <= (this.published.get(nodeId) ?? 0)) return;
    this.published.set(nodeId, index);
    this.changed();
  }

  publishedIndex(nodeId: number): number {
    return this.published.get(nodeId) ?? 0;
  }

  entryApplied(index: number, term: number, data: Uint8Array): void {
    if (index !== this.appliedIndex + 1) return;
    const payload = decodeQuorumEntry(data);
    const conflict = this.image.applyEntry(payload.records);
    this.image.markApplied(index);
    this.appliedIndex = index;
    this.appliedTerm = term;
    if (payload.operationId !== null && this.expectedOperations.has(payload.operationId)) {
      if (conflict === null) this.appliedOperations.set(payload.operationId, index);
      else this.conflictedOperations.set(payload.operationId, conflict);
    }
    this.changed();
  }

  snapshotApplied(index: number, term: number, data: Uint8Array): void {
    if (index <= this.appliedIndex) return;
    this.image.clear();
    for (const record of decodeQuorumSnapshot(data).records) this.image.apply(record);
    this.image.markApplied(index);
    this.appliedIndex = index;
    this.appliedTerm = term;
    this.snapshotIndex = index;
    this.changed();
  }

  appliedBySnapshot(index: number): boolean {
    return index <= this.snapshotIndex;
  }

  status(status: QuorumStatus): void {
    this.statuses.set(status.nodeId, { nodeId: status.nodeId, term: status.term, role: status.role, leaderId: status.leaderId, commitIndex: status.commitIndex, abstaining: status.abstaining });
    this.changed();
  }

  /** A node is gone (killed or stopped): its last status says nothing any more. */
  forget(nodeId: number): void {
    this.statuses.delete(nodeId);
    this.published.delete(nodeId);
    this.changed();
  }

  proposalRejected(operationId: string): void {
    if (!this.expectedOperations.has(operationId)) return;
    this.rejectedOperations.add(operationId);
    this.changed();
  }

  /** The log index of the operation's entry once applied here (else undefined); forgets it. */
  takeApplied(operationId: string): number | undefined {
    const index = this.appliedOperations.get(operationId);
    this.appliedOperations.delete(operationId);
    return index;
  }

  /** Nodes that report a Raft status: live ones (a killed node is forgotten). */
  get liveNodeIds(): number[] {
    return [...this.statuses.keys()];
  }

  /** Why the operation's committed entry was not applied, if it was not; forgets it. */
  takeConflict(operationId: string): string | undefined {
    const reason = this.conflictedOperations.get(operationId);
    this.conflictedOperations.delete(operationId);
    return reason;
  }

  takeRejected(operationId: string): boolean {
    return this.rejectedOperations.delete(operationId);
  }

  proposalAccepted(operationId: string, index: number): void {
    if (!this.expectedOperations.has(operationId)) return;
    this.acceptedOperations.set(operationId, index);
    this.changed();
  }

  /** The log index a leader gave the proposal, once known. */
  acceptedIndex(operationId: string): number | undefined {
    return this.acceptedOperations.get(operationId);
  }

  expectOperation(operationId: string): void {
    this.expectedOperations.add(operationId);
  }

  forgetOperation(operationId: string): void {
    this.expectedOperations.delete(operationId);
    this.acceptedOperations.delete(operationId);
    this.rejectedOperations.delete(operationId);
    this.appliedOperations.delete(operationId);
    this.conflictedOperations.delete(operationId);
  }

  /** The leader of the highest term any live voter reports, or -1. */
  get leaderId(): number {
    let best: QuorumNodeView | null = null;
    for (const view of this.statuses.values()) {
      if (view.role !== 'leader' || (this.voters !== null && !this.voters.has(view.nodeId))) continue;
      if (best === null || view.term > best.term) best = view;
    }
    return best?.nodeId ?? -1;
  }

  nodeView(nodeId: number): QuorumNodeView | undefined {
    return this.statuses.get(nodeId);
  }

  /** Calls `listener` after every change until it returns true. */
  watch(listener: () => boolean): () => void {
    const wrapped = () => {
      if (listener()) this.listeners.delete(wrapped);
    };
    this.listeners.add(wrapped);
    return () => this.listeners.delete(wrapped);
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
