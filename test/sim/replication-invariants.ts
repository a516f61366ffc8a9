/**
 * The safety properties of the replication simulation, checked after every event (incrementally:
 * each check reads only what moved since the last one):
 * - a node's high watermark never moves back (a crash restarts it from its checkpoint, which
 *   the core caps by the log end);
 * - logs never diverge below the high watermark: every node's log below its high watermark
 *   holds the batches the first high watermark to cover those offsets covered;
 * - every offset below a leader's high watermark holds the same batch on every member of that
 *   leader's ISR that has it durably;
 * - an ack completes NONE only with the high watermark covering it and min.insync.replicas
 *   durable copies, and every acknowledged
 *   acks=-1 write is at its offset in the log of every later leader (checked when a node
 *   starts a leader epoch, when the ack completes and at the end);
 * - one leader per leader epoch, in the controller's records and in what nodes believe.
 */
import { ErrorCode } from '../../src/protocol/errors.js';
import type { PartitionRecord } from '../../src/metadata/records.js';
import { ReplicaRole } from '../../src/replication/partition-state.js';
import { batchText, sameBatch, type SimBatch } from './replication-log.js';
import { MIN_INSYNC_REPLICAS, type SimNode } from './replication-node.js';

/** A write some leader acknowledged with NONE. */
export interface AcknowledgedWrite {
  readonly partition: number;
  readonly batch: SimBatch;
  /** The leader epoch of the node that completed the ack. */
  readonly ackedInEpoch: number;
  readonly ackedBy: number;
}

/** Per node and partition: what was checked up to where. */
class ReplicaWatch {
  previousHighWatermark = 0;
  /** After a crash: the high watermark the replica restarts from (its checkpoint, capped by its log end); -1 once seen. */
  restartHighWatermark = -1;
  /** Offsets below this were checked against the committed batches. */
  verifiedUpTo = 0;
  /** Per ISR member (as a leader): offsets below this were compared with the member's log. */
  readonly memberCheckedUpTo = new Map<number, number>();
}

export class ReplicationChecker {
  readonly violations: string[] = [];
  readonly acknowledged: AcknowledgedWrite[] = [];
  /** committed[partition][offset]: the batch the first high watermark over the offset covered. */
  private readonly committed: SimBatch[][];
  private readonly watches: ReplicaWatch[][];
  private readonly controllerLeaders = new Map<string, number>();
  private readonly believedLeaders = new Map<string, number>();

  constructor(
    private readonly nodes: readonly SimNode[],
    partitionCount: number,
  ) {
    this.committed = Array.from({ length: partitionCount }, () => []);
    this.watches = nodes.map(() => Array.from({ length: partitionCount }, () => new ReplicaWatch()));
  }

  private fail(message: string): void {
    if (this.violations.length < 20) this.violations.push(message);
  }

  onControllerRecord(record: PartitionRecord): void {
    if (record.leader < 0) return;
    const key = `${record.partition}:${record.leaderEpoch}`;
    const known = this.controllerLeaders.get(key);
    if (known !== undefined && known !== record.leader) this.fail(`p${record.partition} leader epoch ${record.leaderEpoch}: the controller named leaders ${known} and ${record.leader}`);
    this.controllerLeaders.set(key, record.leader);
  }

  /** A node starts leading a leader epoch: it is that epoch's only leader and holds every earlier ack. */
  onBecameLeader(node: SimNode, partition: number): void {
    const state = node.replicas[partition]!.state;
    const key = `${partition}:${state.leaderEpoch}`;
    const known = this.believedLeaders.get(key);
    if (known !== undefined && known !== node.id) this.fail(`p${partition} leader epoch ${state.leaderEpoch}: nodes ${known} and ${node.id} both lead it`);
    this.believedLeaders.set(key, node.id);
    for (const write of this.acknowledged) {
      if (write.partition === partition && write.ackedInEpoch < state.leaderEpoch) this.checkHolds(node, write, `new leader of epoch ${state.leaderEpoch}`);
    }
  }

  onAckCompleted(node: SimNode, partition: number, batch: SimBatch, errorCode: number): void {
    if (errorCode !== ErrorCode.NONE) return;
    const state = node.replicas[partition]!.state;
    if (state.highWatermark <= batch.lastOffset) this.fail(`n${node.id} p${partition}: ack of ${batchText(batch)} completed NONE at high watermark ${state.highWatermark}`);
    // acks=-1 with min.insync.replicas: at least that many replicas hold it durably now.
    const durableCopies = this.nodes.filter((other) => {
      const log = other.logs[partition]!;
      return log.durableEndOffset > batch.lastOffset && sameBatch(log.batchAtOffset(batch.baseOffset), batch);
    }).length;
    if (durableCopies < MIN_INSYNC_REPLICAS) this.fail(`n${node.id} p${partition}: ack of ${batchText(batch)} completed NONE with ${durableCopies} durable copies`);
    const write: AcknowledgedWrite = { partition, batch, ackedInEpoch: state.leaderEpoch, ackedBy: node.id };
    this.acknowledged.push(write);
    // Leaders of later epochs already elected must hold it too (a deposed leader may ack late).
    for (const other of this.nodes) {
      const otherState = other.up ? other.replicas[partition]?.state : undefined;
      if (otherState?.role === ReplicaRole.LEADER && otherState.leaderEpoch > state.leaderEpoch) this.checkHolds(other, write, `leader of epoch ${otherState.leaderEpoch}`);
    }
  }

  checkHolds(node: SimNode, write: AcknowledgedWrite, role: string): void {
    const held = node.logs[write.partition]!.batchAtOffset(write.batch.baseOffset);
    if (!sameBatch(held, write.batch)) {
      this.fail(`p${write.partition}: acknowledged ${batchText(write.batch)} (acked by n${write.ackedBy} in epoch ${write.ackedInEpoch}) is lost on n${node.id}, ${role}, which holds ${batchText(held)}`);
    }
  }

  /** After the crash truncated the node's logs. */
  onCrash(node: SimNode): void {
    for (const [partition, watch] of this.watches[node.id]!.entries()) {
      const log = node.logs[partition]!;
      watch.previousHighWatermark = 0;
      watch.restartHighWatermark = Math.min(log.checkpointedHighWatermark, log.logEndOffset);
      watch.memberCheckedUpTo.clear();
    }
  }

  /** After every event. */
  checkAll(): void {
    this.takeLogChanges();
    for (const node of this.nodes) {
      if (!node.up) continue;
      for (let partition = 0; partition < node.replicas.length; partition++) {
        this.checkHighWatermark(node, partition);
        if (node.replicas[partition]!.state.role === ReplicaRole.LEADER) this.checkIsrMembers(node, partition);
      }
    }
  }

  /** Offsets a truncation or crash rewrote are checked again. */
  private takeLogChanges(): void {
    for (const node of this.nodes) {
      for (let partition = 0; partition < node.logs.length; partition++) {
        const log = node.logs[partition]!;
        const changed = log.lowestChangedOffset;
        if (changed === Number.POSITIVE_INFINITY) continue;
        log.lowestChangedOffset = Number.POSITIVE_INFINITY;
        const watch = this.watches[node.id]![partition]!;
        watch.verifiedUpTo = Math.min(watch.verifiedUpTo, changed);
        for (const [member, upTo] of watch.memberCheckedUpTo) watch.memberCheckedUpTo.set(member, Math.min(upTo, changed));
        for (const other of this.watches) {
          const otherWatch = other[partition]!;
          const upTo = otherWatch.memberCheckedUpTo.get(node.id);
          if (upTo !== undefined) otherWatch.memberCheckedUpTo.set(node.id, Math.min(upTo, changed));
        }
      }
    }
  }

  private checkHighWatermark(node: SimNode, partition: number): void {
    const state = node.replicas[partition]!.state;
    const log = node.logs[partition]!;
    const watch = this.watches[node.id]![partition]!;
    const hw = state.highWatermark;
    if (watch.restartHighWatermark >= 0 && state.role !== ReplicaRole.NONE) {
      if (hw < watch.restartHighWatermark) this.fail(`n${node.id} p${partition}: restarted at high watermark ${hw}, below its checkpoint ${watch.restartHighWatermark}`);
      watch.restartHighWatermark = -1;
    }
    if (hw < watch.previousHighWatermark) this.fail(`n${node.id} p${partition}: high watermark moved back from ${watch.previousHighWatermark} to ${hw}`);
    watch.previousHighWatermark = hw;
    if (state.role !== ReplicaRole.NONE && hw > log.logEndOffset) this.fail(`n${node.id} p${partition}: high watermark ${hw} past the log end ${log.logEndOffset}`);
    const committed = this.committed[partition]!;
    const end = Math.min(hw, log.logEndOffset);
    for (let offset = watch.verifiedUpTo; offset < end; offset++) {
      const batch = log.batchAtOffset(offset)!;
      const known = committed[offset];
      if (known === undefined) committed[offset] = batch;
      else if (!sameBatch(known, batch)) {
        this.fail(`p${partition} offset ${offset}: n${node.id} holds ${batchText(batch)} below its high watermark ${hw}, another high watermark covered ${batchText(known)}`);
        return;
      }
    }
    if (end > watch.verifiedUpTo) watch.verifiedUpTo = end;
  }

  private checkIsrMembers(leader: SimNode, partition: number): void {
    const state = leader.replicas[partition]!.state;
    const leaderLog = leader.logs[partition]!;
    const watch = this.watches[leader.id]![partition]!;
    for (const member of state.isr) {
      if (member === leader.id) continue;
      const memberLog = this.nodes[member]!.logs[partition]!;
      const from = watch.memberCheckedUpTo.get(member) ?? 0;
      const end = Math.min(state.highWatermark, memberLog.durableEndOffset);
      for (let offset = from; offset < end; offset++) {
        if (!sameBatch(leaderLog.batchAtOffset(offset), memberLog.batchAtOffset(offset))) {
          this.fail(`p${partition} offset ${offset}: leader n${leader.id} (epoch ${state.leaderEpoch}, high watermark ${state.highWatermark}) holds ${batchText(leaderLog.batchAtOffset(offset))}, ISR member n${member} durably holds ${batchText(memberLog.batchAtOffset(offset))}`);
          watch.memberCheckedUpTo.set(member, Number.POSITIVE_INFINITY);
          return;
        }
      }
      if (end > from) watch.memberCheckedUpTo.set(member, end);
    }
  }

  /** At the end: every acknowledged write is in every replica's log, and the replicas' logs are equal. */
  checkFinal(leaders: ReadonlyArray<SimNode | null>, replicasOf: (partition: number) => readonly number[]): void {
    for (const write of this.acknowledged) {
      const leader = leaders[write.partition];
      if (leader === null || leader === undefined) continue;
      for (const nodeId of replicasOf(write.partition)) this.checkHolds(this.nodes[nodeId]!, write, nodeId === leader.id ? 'the final leader' : 'a final replica');
    }
    for (let partition = 0; partition < leaders.length; partition++) {
      const leader = leaders[partition];
      if (leader === null || leader === undefined) continue;
      const leaderLog = leader.logs[partition]!;
      for (const nodeId of replicasOf(partition)) {
        const log = this.nodes[nodeId]!.logs[partition]!;
        if (log.logEndOffset !== leaderLog.logEndOffset) this.fail(`p${partition}: n${nodeId} ends at ${log.logEndOffset}, the final leader n${leader.id} at ${leaderLog.logEndOffset}`);
        for (let offset = 0; offset < Math.min(log.logEndOffset, leaderLog.logEndOffset); offset++) {
          if (!sameBatch(log.batchAtOffset(offset), leaderLog.batchAtOffset(offset))) {
            this.fail(`p${partition} offset ${offset}: final logs differ, n${nodeId} ${batchText(log.batchAtOffset(offset))} vs leader n${leader.id} ${batchText(leaderLog.batchAtOffset(offset))}`);
            break;
          }
        }
      }
    }
  }
}
