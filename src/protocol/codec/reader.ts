/**
 * Bounds-checked reads of Kafka primitives from one Buffer.
 *
 * Every read checks the remaining bytes first and throws ProtocolDecodeError, so hostile input
 * can neither cause a RangeError nor make us allocate memory for a length the frame does not
 * hold. `field` arguments name the schema field being read, for the error message only.
 *
 * bytes, records and strings never copy: bytes/records are subarrays of the input buffer, so
 * they stay valid only as long as the caller does not reuse that buffer.
 */
import { ProtocolDecodeError } from './protocol-decode-error.js';

const emptyBuffer: Buffer = Buffer.alloc(0);

export class Reader {
  readonly buffer: Buffer;
  offset: number;
  /** Exclusive end of the readable range. */
  readonly end: number;

  constructor(buffer: Buffer, offset = 0, end: number = buffer.length) {
    if (!(offset >= 0 && offset <= end && end <= buffer.length)) {
      throw new RangeError(`reader range ${offset}..${end} outside buffer of ${buffer.length}`);
    }
    this.buffer = buffer;
    this.offset = offset;
    this.end = end;
  }

  get remainingBytes(): number {
    return this.end - this.offset;
  }

  error(field: string, problem: string): ProtocolDecodeError {
    return new ProtocolDecodeError(`${field}: ${problem} (offset ${this.offset})`, this.offset);
  }

  private need(sizeBytes: number, field: string): void {
    if (this.end - this.offset < sizeBytes) {
      throw this.error(field, `needs ${sizeBytes} bytes, only ${this.end - this.offset} remain`);
    }
  }

  bool(field: string): boolean {
    this.need(1, field);
    // Kafka reads any non-zero byte as true.
    return this.buffer[this.offset++] !== 0;
  }

  int8(field: string): number {
    this.need(1, field);
    const value = this.buffer.readInt8(this.offset);
    this.offset += 1;
    return value;
  }

  int16(field: string): number {
    this.need(2, field);
    const value = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  uint16(field: string): number {
    this.need(2, field);
    const value = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(field: string): number {
    this.need(4, field);
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uint32(field: string): number {
    this.need(4, field);
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  int64(field: string): bigint {
    this.need(8, field);
    const value = this.buffer.readBigInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  float64(field: string): number {
    this.need(8, field);
    const value = this.buffer.readDoubleBE(this.offset);
    this.offset += 8;
    return value;
  }

  /** 16 bytes, returned as Kafka's text form: 22 characters of unpadded base64url. */
  uuid(field: string): string {
    this.need(16, field);
    const value = this.buffer.toString('base64url', this.offset, this.offset + 16);
    this.offset += 16;
    return value;
  }

  /** Unsigned varint of at most 32 bits (5 bytes), as used for compact lengths and tags. */
  uvarint(field: string): number {
    const buffer = this.buffer;
    let offset = this.offset;
    if (offset < this.end && buffer[offset]! < 0x80) {
      this.offset = offset + 1;
      return buffer[offset]!;
    }
    let value = 0;
    let multiplier = 1;
    for (let index = 0; index < 5; index++) {
      if (offset >= this.end) throw this.error(field, 'truncated varint');
      const byte = buffer[offset++]!;
      if (index === 4 && byte > 0x0f) throw this.error(field, 'varint longer than 32 bits');
      value += (byte & 0x7f) * multiplier;
      if (byte < 0x80) {
        this.offset = offset;
        return value;
      }
      multiplier *= 128;
    }
    throw this.error(field, 'varint longer than 5 bytes');
  }

  /** Checks that `sizeBytes` (already known non-negative) fit in the remaining bytes. */
  private sized(sizeBytes: number, field: string): number {
    if (sizeBytes > this.end - this.offset) {
      throw this.error(
        field,
        `length ${sizeBytes} exceeds the ${this.end - this.offset} remaining bytes`,
      );
    }
    const start = this.offset;
    this.offset = start + sizeBytes;
    return start;
  }

  private utf8(sizeBytes: number, field: string): string {
    if (sizeBytes === 0) return '';
    const start = this.sized(sizeBytes, field);
    return this.buffer.toString('utf8', start, start + sizeBytes);
  }

  private slice(sizeBytes: number, field: string): Buffer {
    if (sizeBytes === 0) return emptyBuffer;
    const start = this.sized(sizeBytes, field);
    return this.buffer.subarray(start, start + sizeBytes);
  }

  /** int16 length, then UTF-8; -1 (null) is rejected. */
  string(field: string): string {
    const length = this.int16(field);
    if (length < 0) throw this.error(field, `non-nullable string has length ${length}`);
    return this.utf8(length, field);
  }

  nullableString(field: string): string | null {
    const length = this.int16(field);
    if (length === -1) return null;
    if (length < 0) throw this.error(field, `string length ${length}`);
    return this.utf8(length, field);
  }

  /** Unsigned varint of length + 1 (0 = null, rejected here), then UTF-8. */
  compactString(field: string): string {
    const lengthPlusOne = this.uvarint(field);
    if (lengthPlusOne === 0) throw this.error(field, 'non-nullable compact string is null');
    return this.utf8(lengthPlusOne - 1, field);
  }

  compactNullableString(field: string): string | null {
    const lengthPlusOne = this.uvarint(field);
    if (lengthPlusOne === 0) return null;
    return this.utf8(lengthPlusOne - 1, field);
  }

  /** int32 length, then raw bytes (a subarray, not a copy); -1 (null) is rejected. */
  bytes(field: string): Buffer {
    const length = this.int32(field);
    if (length < 0) throw this.error(field, `non-nullable bytes have length ${length}`);
    return this.slice(length, field);
  }

  nullableBytes(field: string): Buffer | null {
    const length = this.int32(field);
    if (length === -1) return null;
    if (length < 0) throw this.error(field, `bytes length ${length}`);
    return this.slice(length, field);
  }

  compactBytes(field: string): Buffer {
    const lengthPlusOne = this.uvarint(field);
    if (lengthPlusOne === 0) throw this.error(field, 'non-nullable compact bytes are null');
    return this.slice(lengthPlusOne - 1, field);
  }

  compactNullableBytes(field: string): Buffer | null {
    const lengthPlusOne = this.uvarint(field);
    if (lengthPlusOne === 0) return null;
    return this.slice(lengthPlusOne - 1, field);
  }

  /**
   * An array's element count: int32 (-1 = null), or compact unsigned varint of count + 1
   * (0 = null). Returns -1 for null. The count is checked against the remaining bytes using the
   * smallest possible element size (at least 1 byte), so a hostile count cannot make the caller
   * loop or allocate beyond what the frame could hold.
   */
  arrayLength(field: string, compact: boolean, nullable: boolean, minElementBytes: number): number {
    const count = compact ? this.uvarint(field) - 1 : this.int32(field);
    if (count === -1) {
      if (nullable) return -1;
      throw this.error(field, 'non-nullable array is null');
    }
    if (count < 0) throw this.error(field, `array length ${count}`);
    const elementBytes = minElementBytes > 0 ? minElementBytes : 1;
    if (count * elementBytes > this.end - this.offset) {
      throw this.error(
        field,
        `array of ${count} elements cannot fit in the ${this.end - this.offset} remaining bytes`,
      );
    }
    return count;
  }

  /** Advances past `sizeBytes` bytes (e.g. an unknown tagged field). */
  skip(sizeBytes: number, field: string): void {
    this.sized(sizeBytes, field);
  }

  /** Start of a tagged field's value, after checking its declared size fits. */
  taggedFieldEnd(sizeBytes: number, field: string): number {
    if (sizeBytes > this.end - this.offset) {
      throw this.error(field, `tagged field of ${sizeBytes} bytes exceeds the remaining bytes`);
    }
    return this.offset + sizeBytes;
  }

  /** After decoding a known tagged field, checks it consumed exactly its declared size. */
  expectOffset(expected: number, field: string): void {
    if (this.offset !== expected) {
      throw this.error(field, `tagged field ended at ${this.offset}, its size said ${expected}`);
    }
  }

  /** Skips a whole tagged-field section whose tags are all unknown to us. */
  skipTaggedFields(field: string): void {
    const count = this.uvarint(field);
    for (let index = 0; index < count; index++) {
      this.uvarint(field);
      this.skip(this.uvarint(field), field);
    }
  }
}
