/**
 * Partition assignors for the consumer protocol: the group leader runs one over every member's
 * subscription and hands each member its share through SyncGroup. Pure functions, as Kafka's
 * RangeAssignor and RoundRobinAssignor define them (members ordered by member id).
 */

export interface AssignorMember {
  readonly memberId: string;
  /** The topics of its subscription. */
  readonly topics: readonly string[];
}

/** One topic's assigned partitions, sorted. */
export interface AssignedTopicPartitions {
  readonly topic: string;
  readonly partitions: number[];
}

/** Every member's share, by member id; members with nothing get an empty list. */
export type GroupAssignmentPlan = Map<string, AssignedTopicPartitions[]>;

export interface PartitionAssignor {
  /** The protocol name in JoinGroup: members must share one. */
  readonly name: string;
  /** `partitionCounts`: partitions of each subscribed topic (topics unknown to the cluster left out). */
  assign(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): GroupAssignmentPlan;
}

/**
 * Per topic, the subscribed members sorted by id take consecutive ranges; the first
 * (partitions mod members) take one more.
 */
export const rangeAssignor: PartitionAssignor = {
  name: 'range',
  assign(members, partitionCounts) {
    const plan = emptyPlan(members);
    for (const [topic, partitionCount] of sortedEntries(partitionCounts)) {
      const subscribers = sortedMembers(members).filter((member) => member.topics.includes(topic));
      if (subscribers.length === 0) continue;
      const perMember = Math.floor(partitionCount / subscribers.length);
      const withExtra = partitionCount % subscribers.length;
      let next = 0;
      subscribers.forEach((member, index) => {
        const count = perMember + (index < withExtra ? 1 : 0);
        addPartitions(plan, member.memberId, topic, range(next, count));
        next += count;
      });
    }
    return plan;
  },
};

/**
 * Every partition of every subscribed topic, sorted by topic then partition, dealt in turn to
 * the members sorted by id, skipping members that do not subscribe to the partition's topic.
 */
export const roundRobinAssignor: PartitionAssignor = {
  name: 'roundrobin',
  assign(members, partitionCounts) {
    const plan = emptyPlan(members);
    const ordered = sortedMembers(members);
    if (ordered.length === 0) return plan;
    let turn = 0;
    for (const [topic, partitionCount] of sortedEntries(partitionCounts)) {
      if (!ordered.some((member) => member.topics.includes(topic))) continue;
      for (let partition = 0; partition < partitionCount; partition++) {
        while (!ordered[turn % ordered.length]!.topics.includes(topic)) turn++;
        addPartitions(plan, ordered[turn % ordered.length]!.memberId, topic, [partition]);
        turn++;
      }
    }
    return plan;
  },
};

function emptyPlan(members: readonly AssignorMember[]): GroupAssignmentPlan {
  return new Map(members.map((member) => [member.memberId, []]));
}

function sortedMembers(members: readonly AssignorMember[]): AssignorMember[] {
  return [...members].sort((a, b) => compareStrings(a.memberId, b.memberId));
}

function sortedEntries(partitionCounts: ReadonlyMap<string, number>): [string, number][] {
  return [...partitionCounts].sort(([a], [b]) => compareStrings(a, b));
}

function addPartitions(plan: GroupAssignmentPlan, memberId: string, topic: string, partitions: readonly number[]): void {
  if (partitions.length === 0) return;
  const share = plan.get(memberId)!;
  const entry = share.find((candidate) => candidate.topic === topic);
  if (entry === undefined) share.push({ topic, partitions: [...partitions] });
  else entry.partitions.push(...partitions);
}

function range(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, index) => start + index);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
