/**
 * A sparse index held in memory and mirrored to a file: entries of (key, value) with strictly
 * increasing keys. The offset index maps relative offset -> file position; the time index maps
 * timestamp -> relative offset. Entries reach the file in bulk at roll and close; the file is
 * checked on open and rebuilt from the log when it is short or inconsistent.
 *
 * No file descriptor stays open between writes: a broker with 10,000 partitions would
 * otherwise hold three descriptors per partition instead of one (the `.log`).
 */
import { existsSync, readFileSync, truncateSync } from 'node:fs';
import { nodeFileOps, writeFully, type StorageFileOps } from './file-ops.js';

export interface IndexEntryCodec {
  readonly entrySizeBytes: number;
  write(target: Buffer, position: number, key: number, value: number): void;
  readKey(source: Buffer, position: number): number;
  readValue(source: Buffer, position: number): number;
}

const INITIAL_CAPACITY = 8;

export class SparseIndex {
  private keys = new Float64Array(INITIAL_CAPACITY);
  private values = new Float64Array(INITIAL_CAPACITY);
  private count = 0;
  /** Entries [0, persistedCount) are already in the file. */
  private persistedCount = 0;

  constructor(
    readonly path: string,
    private readonly codec: IndexEntryCodec,
    readonly maxEntries: number,
    private readonly files: StorageFileOps = nodeFileOps,
  ) {}

  get entryCount(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  get sizeBytes(): number {
    return this.count * this.codec.entrySizeBytes;
  }

  lastKey(): number {
    return this.count === 0 ? -1 : this.keys[this.count - 1]!;
  }

  lastValue(): number {
    return this.count === 0 ? -1 : this.values[this.count - 1]!;
  }

  keyAt(index: number): number {
    return this.keys[index]!;
  }

  valueAt(index: number): number {
    return this.values[index]!;
  }

  append(key: number, value: number): void {
    if (this.count > 0 && key <= this.keys[this.count - 1]!) {
      throw new Error(`index ${this.path}: key ${key} does not follow ${this.keys[this.count - 1]}`);
    }
    if (this.count === this.keys.length) this.grow();
    this.keys[this.count] = key;
    this.values[this.count] = value;
    this.count++;
  }

  /** Index of the last entry whose key is <= `key`, or -1. */
  floorIndex(key: number): number {
    let low = 0;
    let high = this.count - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.keys[middle]! <= key) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }

  truncateToCount(count: number): void {
    if (count >= this.count) return;
    this.count = count;
    if (this.persistedCount > count) {
      this.persistedCount = count;
      if (existsSync(this.path)) truncateSync(this.path, count * this.codec.entrySizeBytes);
    }
  }

  clear(): void {
    this.truncateToCount(0);
  }

  /** Writes entries not yet in the file, in one write. */
  writePending(): void {
    if (this.persistedCount === this.count) return;
    this.withFile((fd) => this.writeEntries(fd));
  }

  private writeEntries(fd: number): void {
    if (this.persistedCount === this.count) return;
    const size = this.codec.entrySizeBytes;
    const bytes = Buffer.allocUnsafe((this.count - this.persistedCount) * size);
    for (let index = this.persistedCount; index < this.count; index++) {
      this.codec.write(bytes, (index - this.persistedCount) * size, this.keys[index]!, this.values[index]!);
    }
    writeFully(this.files, fd, bytes, 0, bytes.length, this.persistedCount * size);
    this.persistedCount = this.count;
  }

  /** Writes pending entries and makes the file durable (on roll and close). */
  sync(): void {
    this.withFile((fd) => {
      this.writeEntries(fd);
      this.files.ftruncateSync(fd, this.count * this.codec.entrySizeBytes);
      this.files.fsyncSync(fd);
    });
  }

  /**
   * Loads the file. Returns false, leaving the index empty, when the file is missing or
   * malformed (wrong size, keys out of order): the caller rebuilds it from the log.
   */
  load(isValidEntry: (key: number, value: number) => boolean): boolean {
    this.count = 0;
    this.persistedCount = 0;
    if (!existsSync(this.path)) return false;
    const bytes = readFileSync(this.path);
    const size = this.codec.entrySizeBytes;
    if (bytes.length % size !== 0 || bytes.length / size > this.maxEntries) return false;
    for (let position = 0; position < bytes.length; position += size) {
      const key = this.codec.readKey(bytes, position);
      const value = this.codec.readValue(bytes, position);
      if ((this.count > 0 && key <= this.lastKey()) || !isValidEntry(key, value)) {
        this.count = 0;
        return false;
      }
      this.append(key, value);
    }
    this.persistedCount = this.count;
    return true;
  }

  /** Forgets the file's contents; the next write starts the file over. */
  resetFile(): void {
    this.count = 0;
    this.persistedCount = 0;
    this.files.closeSync(this.files.openSync(this.path, 'w'));
  }

  /** Nothing stays open; kept so callers can close segments uniformly. */
  close(): void {}

  private withFile(action: (fd: number) => void): void {
    const fd = this.files.openSync(this.path, existsSync(this.path) ? 'r+' : 'w+');
    try {
      action(fd);
    } finally {
      this.files.closeSync(fd);
    }
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    const values = new Float64Array(this.values.length * 2);
    keys.set(this.keys);
    values.set(this.values);
    this.keys = keys;
    this.values = values;
  }
}

/** `.index`: relative offset (u32) -> file position (u32), 8 bytes per entry, as in Kafka. */
export const offsetIndexCodec: IndexEntryCodec = {
  entrySizeBytes: 8,
  write(target, position, key, value) {
    target.writeUInt32BE(key, position);
    target.writeUInt32BE(value, position + 4);
  },
  readKey: (source, position) => source.readUInt32BE(position),
  readValue: (source, position) => source.readUInt32BE(position + 4),
};

/** `.timeindex`: timestamp (i64) -> relative offset (u32), 12 bytes per entry, as in Kafka. */
export const timeIndexCodec: IndexEntryCodec = {
  entrySizeBytes: 12,
  write(target, position, key, value) {
    target.writeBigInt64BE(BigInt(key), position);
    target.writeUInt32BE(value, position + 8);
  },
  readKey: (source, position) => Number(source.readBigInt64BE(position)),
  readValue: (source, position) => source.readUInt32BE(position + 8),
};
