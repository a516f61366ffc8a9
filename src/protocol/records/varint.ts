/**
 * Zigzag varints (protobuf style) used inside record batch v2 records.
 * `readVarint` and friends return the value and leave the new position in `cursor.position`
 * so per-record loops allocate nothing.
 */

export interface Cursor {
  position: number;
}

export class VarintError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VarintError';
  }
}

const MAX_VARINT_BYTES = 5;
const MAX_VARLONG_BYTES = 10;

/** Reads a zigzag-encoded signed 32-bit varint. */
export function readVarint(bytes: Uint8Array, cursor: Cursor, end: number): number {
  let position = cursor.position;
  let raw = 0;
  let shift = 0;
  for (let count = 0; count < MAX_VARINT_BYTES; count++) {
    if (position >= end) throw new VarintError('varint runs past the end of its buffer');
    const byte = bytes[position++]!;
    raw |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) {
      cursor.position = position;
      return (raw >>> 1) ^ -(raw & 1);
    }
    shift += 7;
  }
  throw new VarintError('varint is longer than 5 bytes');
}

/**
 * Reads a zigzag-encoded signed 64-bit varint as a number. Values are exact within
 * Number.MAX_SAFE_INTEGER, which covers timestamp deltas; arithmetic stays in doubles (no
 * BigInt) because this runs once per record.
 */
export function readVarlong(bytes: Uint8Array, cursor: Cursor, end: number): number {
  let position = cursor.position;
  let raw = 0;
  let scale = 1;
  for (let count = 0; count < MAX_VARLONG_BYTES; count++) {
    if (position >= end) throw new VarintError('varlong runs past the end of its buffer');
    const byte = bytes[position++]!;
    raw += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      cursor.position = position;
      // zigzag: even raw values are non-negative, odd ones negative.
      return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    }
    scale *= 128;
  }
  throw new VarintError('varlong is longer than 10 bytes');
}

/** Reads an unsigned varint (used by flexible protocol versions). */
export function readUnsignedVarint(bytes: Uint8Array, cursor: Cursor, end: number): number {
  let position = cursor.position;
  let value = 0;
  let shift = 0;
  for (let count = 0; count < MAX_VARINT_BYTES; count++) {
    if (position >= end) throw new VarintError('unsigned varint runs past the end of its buffer');
    const byte = bytes[position++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) {
      cursor.position = position;
      return value;
    }
    shift += 7;
  }
  throw new VarintError('unsigned varint is longer than 5 bytes');
}

export function varintSize(value: number): number {
  let raw = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (raw >= 0x80) {
    raw >>>= 7;
    size++;
  }
  return size;
}

export function varlongSize(value: number): number {
  let raw = zigzag64(value);
  let size = 1;
  while (raw >= 128) {
    raw = Math.floor(raw / 128);
    size++;
  }
  return size;
}

/** Writes a zigzag 32-bit varint at `position`; returns the next position. */
export function writeVarint(bytes: Uint8Array, position: number, value: number): number {
  let raw = ((value << 1) ^ (value >> 31)) >>> 0;
  while (raw >= 0x80) {
    bytes[position++] = (raw & 0x7f) | 0x80;
    raw >>>= 7;
  }
  bytes[position++] = raw;
  return position;
}

/** Writes a zigzag 64-bit varint; returns the next position. */
export function writeVarlong(bytes: Uint8Array, position: number, value: number): number {
  let raw = zigzag64(value);
  while (raw >= 128) {
    bytes[position++] = (raw % 128) | 0x80;
    raw = Math.floor(raw / 128);
  }
  bytes[position++] = raw;
  return position;
}

export function writeUnsignedVarint(bytes: Uint8Array, position: number, value: number): number {
  let rest = value;
  while (rest >= 0x80) {
    bytes[position++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 128);
  }
  bytes[position++] = rest;
  return position;
}

/** Zigzag as a double: exact for |value| < 2^52. */
function zigzag64(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}
