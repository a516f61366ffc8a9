/**
 * Encodes Kafka primitives into a list of chunks for `socket.cork(); write each; uncork()`.
 *
 * Small fields are packed into a slab (a large Buffer shared by successive writers, like Node's
 * own Buffer pool). A writer borrows the slab's free tail, writes, and hands back what it did not
 * use; bytes it used are never written again, so chunks stay valid while the socket holds them.
 * Large byte ranges (`records`, and `bytes` of at least `referenceThresholdBytes`) are not copied:
 * the caller's Buffer is emitted as its own chunk, so the caller must not modify it until the
 * chunks are written.
 */

/** Size of one slab that small fields are packed into. */
export const slabSizeBytes = 64 * 1024;
/** bytes/records chunks at least this large are emitted by reference, smaller ones copied. */
export const referenceThresholdBytes = 1024;

/** The encoded form of one message: chunks in wire order and their total size. */
export interface EncodedMessage {
  readonly chunks: Buffer[];
  readonly sizeBytes: number;
}

import { InvariantError } from '../../runtime/assert.js';

const emptyBuffer: Buffer = Buffer.alloc(0);
const maxInt16 = 0x7fff;
const maxInt32 = 0x7fffffff;
const uuidPattern = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/** Lends the free tail of its current slab to one writer at a time. */
export class SlabPool {
  private readonly slabBytes: number;
  private slab: Buffer = emptyBuffer;
  private freeOffset = 0;

  constructor(slabBytes: number = slabSizeBytes) {
    this.slabBytes = slabBytes;
  }

  /** Returns a slab and the start of a free region of at least `minBytes` running to its end. */
  lend(minBytes: number): { readonly buffer: Buffer; readonly start: number } {
    const slab = this.slab;
    const start = this.freeOffset;
    if (slab.length - start >= minBytes && slab.length - start > 0) {
      this.freeOffset = slab.length;
      return { buffer: slab, start };
    }
    const fresh = Buffer.allocUnsafe(Math.max(this.slabBytes, minBytes));
    this.slab = fresh;
    this.freeOffset = fresh.length;
    return { buffer: fresh, start: 0 };
  }

  /** Returns the unused tail [`usedEnd`, end) if `buffer` is still the lent current slab. */
  giveBack(buffer: Buffer, usedEnd: number): void {
    if (buffer === this.slab && this.freeOffset === buffer.length) this.freeOffset = usedEnd;
  }
}

const sharedPool = new SlabPool();

export class Writer {
  private readonly pool: SlabPool;
  private buffer: Buffer;
  private position: number;
  private segmentStart: number;
  private readonly chunks: Buffer[] = [];
  private flushedBytes = 0;

  /** `pool` defaults to the process-wide slab pool; pass a private one for nested writers. */
  constructor(pool: SlabPool = sharedPool) {
    this.pool = pool;
    const region = pool.lend(64);
    this.buffer = region.buffer;
    this.position = region.start;
    this.segmentStart = region.start;
  }

  /** Bytes written so far. */
  get sizeBytes(): number {
    return this.flushedBytes + (this.position - this.segmentStart);
  }

  /** Ends writing: returns the chunks and gives the unused slab tail back to the pool. */
  finish(): EncodedMessage {
    this.flushSegment();
    this.pool.giveBack(this.buffer, this.position);
    this.buffer = emptyBuffer;
    this.position = 0;
    this.segmentStart = 0;
    return { chunks: this.chunks, sizeBytes: this.flushedBytes };
  }

  private ensure(sizeBytes: number): void {
    if (this.buffer.length - this.position < sizeBytes) this.moveToNewRegion(sizeBytes);
  }

  private moveToNewRegion(sizeBytes: number): void {
    this.flushSegment();
    this.pool.giveBack(this.buffer, this.position);
    const region = this.pool.lend(sizeBytes);
    this.buffer = region.buffer;
    this.position = region.start;
    this.segmentStart = region.start;
  }

  private flushSegment(): void {
    if (this.position > this.segmentStart) {
      this.chunks.push(this.buffer.subarray(this.segmentStart, this.position));
      this.flushedBytes += this.position - this.segmentStart;
      this.segmentStart = this.position;
    }
  }

  /** Reserves 4 bytes for an int32 written later (e.g. a frame size); returns a patcher. */
  reserveInt32(): (value: number) => void {
    this.ensure(4);
    const buffer = this.buffer;
    const offset = this.position;
    this.position += 4;
    return (value: number): void => {
      buffer.writeInt32BE(value, offset);
    };
  }

  bool(value: boolean): void {
    this.ensure(1);
    this.buffer[this.position++] = value ? 1 : 0;
  }

  int8(value: number): void {
    this.ensure(1);
    this.position = this.buffer.writeInt8(value, this.position);
  }

  int16(value: number): void {
    this.ensure(2);
    this.position = this.buffer.writeInt16BE(value, this.position);
  }

  uint16(value: number): void {
    this.ensure(2);
    this.position = this.buffer.writeUInt16BE(value, this.position);
  }

  int32(value: number): void {
    this.ensure(4);
    this.position = this.buffer.writeInt32BE(value, this.position);
  }

  uint32(value: number): void {
    this.ensure(4);
    this.position = this.buffer.writeUInt32BE(value, this.position);
  }

  int64(value: bigint): void {
    this.ensure(8);
    this.position = this.buffer.writeBigInt64BE(value, this.position);
  }

  float64(value: number): void {
    this.ensure(8);
    this.position = this.buffer.writeDoubleBE(value, this.position);
  }

  /** Kafka's text form (22 characters of unpadded base64url) to 16 bytes. */
  uuid(value: string): void {
    if (typeof value !== 'string' || !uuidPattern.test(value)) {
      throw new TypeError(`uuid must be 22 characters of unpadded base64url, got ${String(value)}`);
    }
    this.ensure(16);
    this.position += this.buffer.write(value, this.position, 16, 'base64url');
  }

  /** Unsigned varint, for values 0..2^32-1. */
  uvarint(value: number): void {
    if (!(value >= 0 && value <= 0xffffffff && Number.isInteger(value))) {
      throw new RangeError(`unsigned varint out of range: ${value}`);
    }
    this.ensure(5);
    const buffer = this.buffer;
    let remaining = value;
    while (remaining >= 0x80) {
      buffer[this.position++] = (remaining & 0x7f) | 0x80;
      remaining = Math.floor(remaining / 128);
    }
    buffer[this.position++] = remaining;
  }

  /** int16 length, then UTF-8. */
  string(value: string): void {
    if (typeof value !== 'string') throw new TypeError(`expected a string, got ${typeof value}`);
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.ensure(2 + value.length * 3);
    const sizeBytes = this.buffer.write(value, this.position + 2, 'utf8');
    if (!(sizeBytes <= maxInt16)) throw new InvariantError(`string of ${sizeBytes} bytes does not fit its int16 length field`);
    this.buffer.writeInt16BE(sizeBytes, this.position);
    this.position += 2 + sizeBytes;
  }

  nullableString(value: string | null): void {
    if (value === null) this.int16(-1);
    else this.string(value);
  }

  /** Unsigned varint of length + 1, then UTF-8. */
  compactString(value: string): void {
    if (typeof value !== 'string') throw new TypeError(`expected a string, got ${typeof value}`);
    const sizeBytes = Buffer.byteLength(value, 'utf8');
    this.uvarint(sizeBytes + 1);
    this.ensure(sizeBytes);
    this.position += this.buffer.write(value, this.position, 'utf8');
  }

  compactNullableString(value: string | null): void {
    if (value === null) this.uvarint(0);
    else this.compactString(value);
  }

  bytes(value: Uint8Array): void {
    if (!(value.length <= maxInt32)) throw new InvariantError(`bytes of ${value.length} bytes do not fit their int32 length field`);
    this.int32(value.length);
    this.raw(value);
  }

  nullableBytes(value: Uint8Array | null): void {
    if (value === null) this.int32(-1);
    else this.bytes(value);
  }

  compactBytes(value: Uint8Array): void {
    this.uvarint(value.length + 1);
    this.raw(value);
  }

  compactNullableBytes(value: Uint8Array | null): void {
    if (value === null) this.uvarint(0);
    else this.compactBytes(value);
  }

  /** Nullable bytes from one Buffer or a list of byte ranges (e.g. record batches). */
  records(value: Uint8Array | readonly Uint8Array[] | null, compact: boolean): void {
    if (value === null) {
      if (compact) this.uvarint(0);
      else this.int32(-1);
      return;
    }
    if (!Array.isArray(value)) {
      const single = value as Uint8Array;
      if (compact) this.compactBytes(single);
      else this.bytes(single);
      return;
    }
    const ranges = value as readonly Uint8Array[];
    let sizeBytes = 0;
    for (let index = 0; index < ranges.length; index++) sizeBytes += ranges[index]!.length;
    if (!(sizeBytes <= maxInt32)) throw new InvariantError(`records of ${sizeBytes} bytes do not fit their length field`);
    if (compact) this.uvarint(sizeBytes + 1);
    else this.int32(sizeBytes);
    for (let index = 0; index < ranges.length; index++) this.raw(ranges[index]!);
  }

  /** Array element count: int32, or compact unsigned varint of count + 1. */
  arrayLength(count: number, compact: boolean): void {
    if (compact) this.uvarint(count + 1);
    else this.int32(count);
  }

  nullArray(compact: boolean): void {
    if (compact) this.uvarint(0);
    else this.int32(-1);
  }

  /** Appends bytes: copied into the slab when small, emitted as a reference when large. */
  raw(value: Uint8Array): void {
    const sizeBytes = value.length;
    if (sizeBytes === 0) return;
    if (sizeBytes < referenceThresholdBytes) {
      this.ensure(sizeBytes);
      this.buffer.set(value, this.position);
      this.position += sizeBytes;
      return;
    }
    this.flushSegment();
    this.chunks.push(
      Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, sizeBytes),
    );
    this.flushedBytes += sizeBytes;
  }

  /** Appends the output of another (finished) writer. */
  append(message: EncodedMessage): void {
    for (const chunk of message.chunks) this.raw(chunk);
  }
}
