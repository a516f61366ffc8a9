/**
 * Kafka's default partitioner hash: MurmurHash2 (32-bit) with the Java client's seed, so a key
 * lands on the same partition as with the Java client, kafkajs and kafka-python.
 */

const seed = 0x9747b28c;
const multiplier = 0x5bd1e995;
const shift = 24;

/** murmur2 of `data` as a signed 32-bit integer, equal to Java's `Utils.murmur2`. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let hash = (seed ^ length) | 0;
  const wordsEnd = length & ~3;
  for (let index = 0; index < wordsEnd; index += 4) {
    let word = data[index]! | (data[index + 1]! << 8) | (data[index + 2]! << 16) | (data[index + 3]! << 24);
    word = Math.imul(word, multiplier);
    word ^= word >>> shift;
    word = Math.imul(word, multiplier);
    hash = Math.imul(hash, multiplier);
    hash ^= word;
  }
  const tailBytes = length & 3;
  if (tailBytes === 3) hash ^= data[wordsEnd + 2]! << 16;
  if (tailBytes >= 2) hash ^= data[wordsEnd + 1]! << 8;
  if (tailBytes >= 1) {
    hash ^= data[wordsEnd]!;
    hash = Math.imul(hash, multiplier);
  }
  hash ^= hash >>> 13;
  hash = Math.imul(hash, multiplier);
  hash ^= hash >>> 15;
  return hash | 0;
}

/** Java's `Utils.toPositive(murmur2(key)) % partitionCount`. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount <= 0) {
    throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
  }
  return (murmur2(key) & 0x7fffffff) % partitionCount;
}
