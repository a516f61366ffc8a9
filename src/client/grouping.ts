/** Helpers that shape per-partition work into per-broker, per-topic requests. */

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A Map key for one partition. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Items grouped by topic, topics and items in first-seen order. */
export function groupByTopic<T extends { readonly topic: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    let group = groups.get(item.topic);
    if (group === undefined) {
      group = [];
      groups.set(item.topic, group);
    }
    group.push(item);
  }
  return groups;
}

/**
 * Waits for every promise, then throws the first rejection. Unlike Promise.all, no work is
 * still running when the caller retries.
 */
export async function settleAll(promises: readonly Promise<unknown>[]): Promise<void> {
  const outcomes = await Promise.allSettled(promises);
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') throw outcome.reason;
  }
}
