/**
 * Kafka's OffsetMap: key -> the latest offset at which the dirty section holds that key. Keys
 * are compared as bytes (a latin1 string maps each byte to one code unit, so two keys are equal
 * exactly when their bytes are). Unlike Kafka's SkimpyOffsetMap, which stores 16-byte MD5
 * digests and accepts the (tiny) collision risk, this map keeps the keys themselves: exact,
 * at the price of memory, which the two named bounds cap.
 */

export class OffsetMap {
  private readonly latestOffsets = new Map<string, number>();
  private keyBytes = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxKeyBytes: number,
  ) {
    if (maxEntries < 1 || maxKeyBytes < 1) throw new Error('the offset map needs room for at least one key');
  }

  get size(): number {
    return this.latestOffsets.size;
  }

  get keyBytesHeld(): number {
    return this.keyBytes;
  }

  /**
   * Whether a batch of `recordCount` records may still go in: entries stay within the bound;
   * key bytes may pass theirs by the keys of this one batch (a batch is never split).
   */
  hasRoomFor(recordCount: number): boolean {
    return this.latestOffsets.size + recordCount <= this.maxEntries && this.keyBytes < this.maxKeyBytes;
  }

  /** Records `offset` as the latest for `key`; offsets arrive in increasing order. */
  put(key: string, offset: number): void {
    const previous = this.latestOffsets.get(key);
    if (previous === undefined) this.keyBytes += key.length;
    else if (previous >= offset) throw new Error(`offset map: offset ${offset} for a key already at ${previous}`);
    this.latestOffsets.set(key, offset);
  }

  /** The latest offset of `key` in the dirty section, or -1 if the key is not there. */
  get(key: string): number {
    return this.latestOffsets.get(key) ?? -1;
  }
}
