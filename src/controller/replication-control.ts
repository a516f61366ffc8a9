/**
 * The controller's replication decisions over the image (KRaft's ReplicationControlManager):
 * ISR changes asked for by leaders (AlterPartition), leader elections when nodes are fenced,
 * shut down or unfenced, and preferred leader elections. Each planner adds its changes to a
 * PartitionChanges; the controller commits them. Pure.
 */
import { ErrorCode } from '../protocol/errors.js';
import { NO_LEADER, type ElectionRules, type PartitionChanges } from './partition-change.js';
import type { PartitionRecord } from '../metadata/records.js';

/** A leader's request to change its partition's ISR (KRaft's AlterPartition, one partition). */
export interface AlterPartitionRequest {
  readonly topic: string;
  readonly partition: number;
  readonly leaderId: number;
  /** The leader and partition epochs of the partition state the leader acts on. */
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly newIsr: readonly number[];
}

export interface AlterPartitionResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly errorMessage: string | null;
  /** The partition after the change (unchanged if the ISR was already this); null on error. */
  readonly state: PartitionRecord | null;
}

/** What may lead: the operation's fencing applied, and per topic whether unclean election is on. */
export interface ElectionContext {
  readonly canLead: (nodeId: number) => boolean;
  readonly uncleanFor: (topic: string) => boolean;
}

/**
 * Checks and applies one ISR change, in KRaft's order of checks: a newer epoch than the
 * controller's means this controller is behind (NOT_CONTROLLER); an older leader epoch is a
 * deposed leader (FENCED_LEADER_EPOCH); a request from a node that does not lead in the current
 * epoch, or an ISR that is not a set of replicas holding the leader, is INVALID_REQUEST; an
 * older partition epoch lost a race with another change (INVALID_UPDATE_VERSION); a fenced ISR
 * member is INELIGIBLE_REPLICA (KIP-841).
 */
export function alterPartition(changes: PartitionChanges, request: AlterPartitionRequest, context: ElectionContext): AlterPartitionResult {
  const current = changes.current(request.topic, request.partition);
  const fail = (errorCode: number, errorMessage: string): AlterPartitionResult => ({ topic: request.topic, partition: request.partition, errorCode, errorMessage, state: null });
  const name = `${request.topic}-${request.partition}`;
  if (current === undefined) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `partition ${name} does not exist`);
  if (request.leaderEpoch > current.leaderEpoch || request.partitionEpoch > current.partitionEpoch) {
    return fail(ErrorCode.NOT_CONTROLLER, `${name}: the request's epochs (leader ${request.leaderEpoch}, partition ${request.partitionEpoch}) are ahead of the controller's (${current.leaderEpoch}, ${current.partitionEpoch})`);
  }
  if (request.leaderEpoch < current.leaderEpoch) return fail(ErrorCode.FENCED_LEADER_EPOCH, `${name}: leader epoch ${request.leaderEpoch} is older than the current ${current.leaderEpoch}`);
  if (request.leaderId !== current.leader) return fail(ErrorCode.INVALID_REQUEST, `${name}: node ${request.leaderId} is not the leader (the leader is ${current.leader})`);
  if (request.partitionEpoch < current.partitionEpoch) {
    return fail(ErrorCode.INVALID_UPDATE_VERSION, `${name}: partition epoch ${request.partitionEpoch} is older than the current ${current.partitionEpoch}`);
  }
  const isrProblem = newIsrProblem(request.newIsr, current.replicas, current.leader);
  if (isrProblem !== null) return fail(ErrorCode.INVALID_REQUEST, `${name}: ${isrProblem}`);
  const ineligible = request.newIsr.filter((nodeId) => !context.canLead(nodeId));
  if (ineligible.length > 0) return fail(ErrorCode.INELIGIBLE_REPLICA, `${name}: the new ISR holds fenced node(s) ${ineligible.join(', ')}`);
  const rules: ElectionRules = { canLead: context.canLead, unclean: false, preferred: false };
  const next = changes.change(request.topic, request.partition, request.newIsr, rules);
  const state = next ?? { type: 'partition', topic: request.topic, ...current, replicas: [...current.replicas], isr: [...current.isr] };
  return { topic: request.topic, partition: request.partition, errorCode: ErrorCode.NONE, errorMessage: null, state };
}

function newIsrProblem(newIsr: readonly number[], replicas: readonly number[], leader: number): string | null {
  for (const [index, nodeId] of newIsr.entries()) {
    if (!replicas.includes(nodeId)) return `ISR member ${nodeId} is not a replica (replicas ${replicas.join(', ')})`;
    if (newIsr.indexOf(nodeId) !== index) return `ISR member ${nodeId} is named twice`;
  }
  return newIsr.includes(leader) ? null : `the new ISR [${newIsr.join(', ')}] leaves out the leader ${leader}`;
}

/**
 * A node is fenced or shuts down: it leaves every ISR, and the partitions it led elect the first
 * ISR member in replica order that can lead (or go offline, keeping it as their last ISR member).
 */
export function removeFromIsrs(changes: PartitionChanges, nodeId: number, context: ElectionContext): void {
  for (const { topic, partition } of changes.partitions()) {
    if (!partition.isr.includes(nodeId) && partition.leader !== nodeId) continue;
    const targetIsr = partition.isr.filter((member) => member !== nodeId);
    changes.change(topic, partition.partition, targetIsr, { canLead: context.canLead, unclean: context.uncleanFor(topic), preferred: false });
  }
}

/**
 * A node is unfenced: offline partitions whose ISR holds it elect it (with unclean election,
 * ones where it is any replica). Other ISRs stay as they are: its leaders add it back once it
 * caught up.
 */
export function electOfflineLeaders(changes: PartitionChanges, nodeId: number, context: ElectionContext): void {
  for (const { topic, partition } of changes.partitions()) {
    if (partition.leader !== NO_LEADER) continue;
    const unclean = context.uncleanFor(topic);
    if (!partition.isr.includes(nodeId) && !(unclean && partition.replicas.includes(nodeId))) continue;
    changes.change(topic, partition.partition, partition.isr, { canLead: context.canLead, unclean, preferred: false });
  }
}

/** Partitions whose preferred replica (the first) is in the ISR and can lead, but does not, elect it. */
export function electPreferredLeaders(changes: PartitionChanges, context: ElectionContext): number {
  let moved = 0;
  for (const { topic, partition } of changes.partitions()) {
    const preferred = partition.replicas[0];
    if (preferred === undefined || preferred === partition.leader || !partition.isr.includes(preferred) || !context.canLead(preferred)) continue;
    if (changes.change(topic, partition.partition, partition.isr, { canLead: context.canLead, unclean: false, preferred: true }) !== null) moved++;
  }
  return moved;
}
