/**
 * int64 fields as JavaScript numbers. Offsets, timestamps and producer ids stay below 2^53 in
 * practice; reading them as doubles avoids BigInt on the hot path. Values outside the safe
 * range are a programmer or corruption error and are rejected where they are read.
 */

const TWO_POW_32 = 0x1_0000_0000;

export function readInt64(bytes: Buffer, position: number): number {
  const high = bytes.readInt32BE(position);
  const low = bytes.readUInt32BE(position + 4);
  return high * TWO_POW_32 + low;
}

export function writeInt64(bytes: Buffer, position: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  const low = value - high * TWO_POW_32;
  bytes.writeInt32BE(high, position);
  bytes.writeUInt32BE(low, position + 4);
}
