/**
 * Changes of a partition's leader and ISR, as KRaft's PartitionChangeBuilder makes them (without
 * reassignments or eligible leader replicas): a target ISR and the nodes that may lead go in, the
 * next partition record comes out, with the leader epoch bumped when the leader changes (to none
 * too) and the partition epoch bumped by any change. `PartitionChanges` collects one controller
 * operation's changes, each built on the one before, as KRaft replays a record before the next
 * decision. Pure: the image is only read.
 */
import { assert } from '../runtime/assert.js';
import type { MetadataImage, PartitionImage } from '../metadata/image.js';
import type { PartitionRecord } from '../metadata/records.js';

export const NO_LEADER = -1;

export interface ElectionRules {
  /** Unfenced (and not being fenced by this operation). */
  readonly canLead: (nodeId: number) => boolean;
  /** With no ISR member able to lead, a replica outside the ISR may (the topic's unclean.leader.election.enable). */
  readonly unclean: boolean;
  /** Move leadership to the first replica if it is in the ISR and can lead. */
  readonly preferred: boolean;
}

/** The partition's next record for `targetIsr` (in the order given), or null when nothing changes. */
export function partitionChange(topic: string, current: PartitionImage, targetIsr: readonly number[], rules: ElectionRules): PartitionRecord | null {
  const inTarget = (nodeId: number) => targetIsr.includes(nodeId) && rules.canLead(nodeId);
  let leader = electFromIsr(current, inTarget, rules.preferred);
  // An empty ISR is never written (KRaft without ELR): the last member stays, to lead when it returns.
  let isr = targetIsr.length > 0 ? [...targetIsr] : [...current.isr];
  if (leader === NO_LEADER && rules.unclean) {
    leader = current.replicas.find((nodeId) => rules.canLead(nodeId)) ?? NO_LEADER;
    if (leader !== NO_LEADER) isr = [leader];
  }
  if (leader === current.leader && sameNodes(isr, current.isr)) return null;
  return {
    type: 'partition',
    topic,
    partition: current.partition,
    replicas: [...current.replicas],
    isr,
    leader,
    leaderEpoch: leader === current.leader ? current.leaderEpoch : current.leaderEpoch + 1,
    partitionEpoch: current.partitionEpoch + 1,
  };
}

/** The current leader while it stays eligible, else the first eligible replica in replica order. */
function electFromIsr(current: PartitionImage, eligible: (nodeId: number) => boolean, preferred: boolean): number {
  const first = current.replicas[0];
  if (preferred && first !== undefined && eligible(first)) return first;
  if (current.leader !== NO_LEADER && eligible(current.leader)) return current.leader;
  return current.replicas.find(eligible) ?? NO_LEADER;
}

function sameNodes(left: readonly number[], right: readonly number[]): boolean {
  return left.length === right.length && left.every((nodeId, index) => right[index] === nodeId);
}

/** One operation's partition changes over the image; a partition changed twice is one record. */
export class PartitionChanges {
  private readonly changed = new Map<string, PartitionRecord>();

  constructor(private readonly image: MetadataImage) {}

  /** The partition as this operation left it so far. */
  current(topic: string, partition: number): PartitionImage | undefined {
    return this.changed.get(`${topic}\u0000${partition}`) ?? this.image.partition(topic, partition);
  }

  /** Every partition of the image, as this operation left it so far. */
  *partitions(): Generator<{ topic: string; partition: PartitionImage }> {
    for (const topic of this.image.topics.values()) {
      for (const partition of topic.partitions) yield { topic: topic.name, partition: this.current(topic.name, partition.partition)! };
    }
  }

  /** Builds and keeps the partition's next record; null when nothing changes. */
  change(topic: string, partition: number, targetIsr: readonly number[], rules: ElectionRules): PartitionRecord | null {
    const current = this.current(topic, partition);
    assert(current !== undefined, () => `controller: change of unknown partition ${topic}-${partition}`);
    const next = partitionChange(topic, current, targetIsr, rules);
    if (next !== null) this.changed.set(`${topic}\u0000${partition}`, next);
    return next;
  }

  /** The records to commit: each changed partition's last state, in first-change order. */
  records(): PartitionRecord[] {
    return [...this.changed.values()];
  }
}
