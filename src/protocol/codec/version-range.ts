/**
 * Kafka version ranges as written in the message JSON: "3+", "0-4", "3", "none".
 */
import type { VersionRange } from '../schema/types.js';

/** Highest version an int16 api version can hold; "N+" ranges end here. */
export const maxApiVersion = 0x7fff;

export interface ParsedVersionRange {
  /** Lowest version in the range; greater than `max` when the range is empty. */
  readonly min: number;
  readonly max: number;
}

const emptyRange: ParsedVersionRange = { min: 1, max: 0 };
const parsedRanges = new Map<VersionRange, ParsedVersionRange>();

export function parseVersionRange(range: VersionRange): ParsedVersionRange {
  const cached = parsedRanges.get(range);
  if (cached !== undefined) return cached;
  const parsed = parseUncached(range);
  parsedRanges.set(range, parsed);
  return parsed;
}

function parseUncached(range: VersionRange): ParsedVersionRange {
  if (range === 'none') return emptyRange;
  const open = /^(\d+)\+$/.exec(range);
  if (open !== null) return { min: Number(open[1]), max: maxApiVersion };
  const closed = /^(\d+)-(\d+)$/.exec(range);
  if (closed !== null) {
    const min = Number(closed[1]);
    const max = Number(closed[2]);
    if (min > max) throw new Error(`version range "${range}" is reversed`);
    return { min, max };
  }
  const single = /^(\d+)$/.exec(range);
  if (single !== null) return { min: Number(single[1]), max: Number(single[1]) };
  throw new Error(`version range "${range}" is not one of "N+", "N-M", "N", "none"`);
}

export function versionInRange(range: VersionRange | undefined, version: number): boolean {
  if (range === undefined) return false;
  const parsed = parseVersionRange(range);
  return version >= parsed.min && version <= parsed.max;
}
