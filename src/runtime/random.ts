/**
 * Randomness, injected: pure cores (Raft election timeouts, id allocation) never call
 * Math.random or crypto directly, so a seeded simulation replays them exactly.
 */
import { randomBytes, randomInt } from 'node:crypto';

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence on every machine. */
export class SeededRandom implements Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

/** Kafka's text form of a 16-byte uuid (22 base64url characters), drawn from `random`. */
export function randomUuidText(random: Random): string {
  const bytes = Buffer.alloc(16);
  for (let index = 0; index < bytes.length; index++) bytes[index] = random.int(0, 255);
  return bytes.toString('base64url');
}

/** The operating system's randomness: for ids that must not collide across runs. */
export const cryptoRandom: Random = {
  next: () => randomBytes(4).readUInt32BE(0) / 4294967296,
  int: (min, max) => randomInt(min, max + 1),
};

/** The process's randomness, for production wiring only. */
export const systemRandom: Random = {
  next: () => Math.random(),
  int: (min, max) => min + Math.floor(Math.random() * (max - min + 1)),
};
