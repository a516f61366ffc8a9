/**
 * Which `__consumer_offsets` partition coordinates a group: Kafka's
 * `Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions`. It must match Kafka bit for bit
 * so that a data directory (and any tool reading `__consumer_offsets`) agrees with Kafka on where
 * a group lives.
 */

/** Java's `String.hashCode()`: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, int32 wrap. */
export function javaStringHashCode(value: string): number {
  let hash = 0;
  for (let index = 0; index < value.length; index++) {
    hash = (Math.imul(31, hash) + value.charCodeAt(index)) | 0;
  }
  return hash;
}

/**
 * Kafka's `Utils.abs`: clears the sign bit, so Integer.MIN_VALUE maps to 0 (Math.abs would
 * overflow in Java, and would give 2^31 here).
 */
export function kafkaAbs(value: number): number {
  return value & 0x7fffffff;
}

/** The `__consumer_offsets` partition whose leader coordinates `groupId`. */
export function coordinatorPartitionFor(groupId: string, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount <= 0) {
    throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
  }
  return kafkaAbs(javaStringHashCode(groupId)) % partitionCount;
}
