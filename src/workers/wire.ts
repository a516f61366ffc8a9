/**
 * Field-level helpers for the binary messages that cross the rings: a writer and a reader
 * over a Buffer at a moving position. Numbers that may exceed 2^31 (offsets, timestamps) travel
 * as float64, exact up to 2^53.
 */
import { InvariantError } from '../runtime/assert.js';

export class WireWriter {
  position: number;

  constructor(
    readonly bytes: Buffer,
    start: number,
  ) {
    this.position = start;
  }

  u8(value: number): this {
    this.bytes[this.position++] = value;
    return this;
  }

  i16(value: number): this {
    this.bytes.writeInt16LE(value, this.position);
    this.position += 2;
    return this;
  }

  i32(value: number): this {
    this.bytes.writeInt32LE(value, this.position);
    this.position += 4;
    return this;
  }

  u32(value: number): this {
    this.bytes.writeUInt32LE(value, this.position);
    this.position += 4;
    return this;
  }

  f64(value: number): this {
    this.bytes.writeDoubleLE(value, this.position);
    this.position += 8;
    return this;
  }

  /** u16 byte length + UTF-8. */
  string(value: string): this {
    const length = this.bytes.write(value, this.position + 2, 'utf8');
    // A write that reaches the buffer's end may have been cut short: only then measure the string.
    const mayBeCut = this.position + 2 + length >= this.bytes.length;
    if (!(length <= 0xffff && (!mayBeCut || length === Buffer.byteLength(value, 'utf8')))) throw new InvariantError(`wire: a ${Buffer.byteLength(value, 'utf8')}-byte string does not fit its u16 length or the buffer`);
    this.bytes.writeUInt16LE(length, this.position);
    this.position += 2 + length;
    return this;
  }

  /** u32 length + bytes. */
  bytesField(value: Uint8Array): this {
    this.bytes.writeUInt32LE(value.length, this.position);
    this.bytes.set(value, this.position + 4);
    this.position += 4 + value.length;
    return this;
  }
}

export class WireReader {
  position: number;

  constructor(
    readonly bytes: Buffer,
    start: number,
  ) {
    this.position = start;
  }

  u8(): number {
    return this.bytes[this.position++]!;
  }

  i16(): number {
    const value = this.bytes.readInt16LE(this.position);
    this.position += 2;
    return value;
  }

  i32(): number {
    const value = this.bytes.readInt32LE(this.position);
    this.position += 4;
    return value;
  }

  u32(): number {
    const value = this.bytes.readUInt32LE(this.position);
    this.position += 4;
    return value;
  }

  f64(): number {
    const value = this.bytes.readDoubleLE(this.position);
    this.position += 8;
    return value;
  }

  string(): string {
    const length = this.bytes.readUInt16LE(this.position);
    const value = this.bytes.toString('utf8', this.position + 2, this.position + 2 + length);
    this.position += 2 + length;
    return value;
  }

  /** A view of the bytes (no copy): valid only while the ring message is. */
  bytesView(): Buffer {
    const length = this.bytes.readUInt32LE(this.position);
    const start = this.position + 4;
    this.position = start + length;
    return this.bytes.subarray(start, start + length);
  }
}

/** Bytes a string field takes: at most 3 bytes per UTF-16 unit, plus its length. */
export function maxStringBytes(value: string): number {
  return 2 + value.length * 3;
}
