/**
 * The MetadataWriter of the Raft quorum: an operation's records go to the active controller
 * (the Raft leader) as one proposal, and the operation is answered once the front thread has
 * applied that entry. A proposal is sent again only when it is certainly lost: refused by a
 * node that does not lead, or an entry of a later term was applied without it (a new leader's
 * first entry commits after every surviving entry of earlier terms), so nothing commits twice.
 */
import { ErrorCode } from '../protocol/errors.js';
import type { MetadataChanges, MetadataWriter } from '../controller/controller.js';
import { encodeQuorumEntry } from './quorum-entry.js';
import type { MetadataQuorumObserver } from './quorum-observer.js';

/** A metadata change that could not be committed; the Kafka error code says why (retriable). */
export class MetadataCommitError extends Error {
  override readonly name = 'MetadataCommitError';
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface QuorumWriterOptions {
  /** How long an operation may wait for a leader and its commit. */
  commitTimeoutMs: number;
  /** Sends a proposal to a node's quorum member. */
  propose: (nodeId: number, operationId: string, data: Uint8Array) => void;
}

type Outcome = { applied: number } | { conflict: string } | 'retry' | 'timeout';

export class QuorumMetadataWriter implements MetadataWriter {
  private nextOperation = 1;
  private readonly runId = Math.random().toString(36).slice(2, 8);

  constructor(
    private readonly observer: MetadataQuorumObserver,
    private readonly options: QuorumWriterOptions,
  ) {}

  async commit(changes: MetadataChanges): Promise<void> {
    const operationId = `${this.runId}-${this.nextOperation++}`;
    const data = encodeQuorumEntry({ operationId, records: changes.records });
    const deadline = Date.now() + this.options.commitTimeoutMs;
    let accepted = false;
    let appliedIndex = -1;
    while (appliedIndex < 0) {
      this.observer.expectOperation(operationId);
      const leaderId = this.observer.leaderId;
      const outcome = leaderId === -1 ? await this.waitForLeader(deadline) : await this.proposeTo(leaderId, operationId, data, deadline);
      accepted ||= this.observer.acceptedIndex(operationId) !== undefined;
      this.observer.forgetOperation(operationId);
      if (outcome === 'timeout') throw this.timeoutError(leaderId, accepted);
      if (outcome === 'retry') continue;
      if ('conflict' in outcome) {
        // Decided against an image an earlier change (one whose answer had timed out) then
        // overtook: nothing was applied; the client's retry is decided afresh.
        throw new MetadataCommitError(ErrorCode.REQUEST_TIMED_OUT, `a concurrent metadata change committed first (${outcome.conflict}); retry`);
      }
      appliedIndex = outcome.applied;
    }
    // Answered once the nodes concerned have acted on it too (the topic is usable when
    // CreateTopics returns); the change is committed either way, so a node slow to take it
    // (paused, say) does not fail the request.
    await this.waitUntil(() => (this.publishedByNodes(changes, appliedIndex) ? { applied: appliedIndex } : null), deadline);
  }

  /**
   * Whether every live node the records concern has done their work: the leaders of new or
   * changed partitions; every node for deletions and config changes.
   */
  private publishedByNodes(changes: MetadataChanges, index: number): boolean {
    const live = this.observer.liveNodeIds;
    let concerned: number[] = [];
    for (const record of changes.records) {
      if (record.type === 'partition') concerned.push(record.leader);
      else if (record.type === 'removeTopic' || record.type === 'topicConfig') concerned = live;
    }
    return concerned.every((nodeId) => !live.includes(nodeId) || this.observer.publishedIndex(nodeId) >= index);
  }

  /** A proposal a leader accepted may still commit: that is a timeout, not "no controller". */
  private timeoutError(leaderId: number, accepted: boolean): MetadataCommitError {
    if (leaderId === -1 && !accepted) return new MetadataCommitError(ErrorCode.NOT_CONTROLLER, `no active controller within ${this.options.commitTimeoutMs} ms: a majority of the metadata quorum is not reachable`);
    return new MetadataCommitError(ErrorCode.REQUEST_TIMED_OUT, `the metadata change was not committed within ${this.options.commitTimeoutMs} ms (controller node ${leaderId})`);
  }

  private waitForLeader(deadline: number): Promise<Outcome> {
    return this.waitUntil(() => (this.observer.leaderId !== -1 ? 'retry' : null), deadline);
  }

  private proposeTo(leaderId: number, operationId: string, data: Uint8Array, deadline: number): Promise<Outcome> {
    const outcome = this.waitUntil(() => {
      const applied = this.observer.takeApplied(operationId);
      if (applied !== undefined) return { applied };
      const conflict = this.observer.takeConflict(operationId);
      if (conflict !== undefined) return { conflict };
      if (this.observer.takeRejected(operationId)) return 'retry';
      const index = this.observer.acceptedIndex(operationId);
      if (index !== undefined && this.observer.appliedIndex >= index) return this.observer.appliedBySnapshot(index) ? 'timeout' : 'retry';
      return null;
    }, deadline);
    this.options.propose(leaderId, operationId, data);
    return outcome;
  }

  private waitUntil(check: () => Outcome | null, deadline: number): Promise<Outcome> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        stopWatching();
        resolve(outcome);
      };
      const timer = setTimeout(() => settle('timeout'), Math.max(0, deadline - Date.now()));
      const stopWatching = this.observer.watch(() => {
        const outcome = check();
        if (outcome !== null) settle(outcome);
        return outcome !== null;
      });
      const now = check();
      if (now !== null) settle(now);
    });
  }
}
