/**
 * Compares a message we hold (in our schema's shape) with the same message as another
 * library sees it, field by field, through a field map.
 *
 * The field map is keyed by our field path (field names joined by '.', array levels left out,
 * e.g. 'topics.partitions.partitionIndex'). A path maps to the library's property name, to
 * candidate names tried in order (for names that change with the version), or to
 * `{ notDecoded }` with the reason the library does not carry the field, or to `{ property, read }`
 * when the library keeps the value in another form. An unmapped path uses
 * our own field name. Every field present in the version is either compared or listed as not
 * decoded: nothing is skipped silently.
 */
import type { FieldSchema, MessageSchema } from '../../../src/protocol/schema/types.js';
import { versionInRange } from '../../../src/protocol/codec/version-range.js';

export interface NotDecoded {
  readonly notDecoded: string;
}
/** Their property holds the value in another form; `read` turns it back into ours. */
export interface Transformed {
  readonly property: string;
  readonly read: (theirs: unknown) => unknown;
}
export type FieldMapping = string | readonly string[] | NotDecoded | Transformed;
export type FieldMap = Readonly<Record<string, FieldMapping>>;

/** The keys and values of the records a library parsed out of a `records` field. */
export interface ParsedRecords {
  readonly keys: readonly (string | null)[];
  readonly values: readonly (string | null)[];
}

/** Turns a library's view of a `records` field into keys and values; ours is raw bytes. */
export type RecordsReader = (theirs: unknown) => ParsedRecords;

export interface Comparison {
  /** One line per field whose value differs or is missing on the other side. */
  readonly problems: string[];
  /** Our field paths the library does not carry, with the reason. */
  readonly notDecoded: Map<string, string>;
  /** How many leaf values were compared. */
  comparedValues: number;
}

interface Walk {
  readonly version: number;
  readonly fieldMap: FieldMap;
  readonly readRecords: RecordsReader;
  readonly readOurRecords: RecordsReader;
  readonly result: Comparison;
}

const isNotDecoded = (mapping: FieldMapping | undefined): mapping is NotDecoded =>
  typeof mapping === 'object' && mapping !== null && 'notDecoded' in mapping;

/** Follows a dotted property path ('coordinator.nodeId'); undefined when a step is missing. */
function lookUp(theirs: Record<string, unknown>, propertyPath: string): { found: boolean; value: unknown } {
  let current: unknown = theirs;
  for (const step of propertyPath.split('.')) {
    if (typeof current !== 'object' || current === null || !(step in current)) return { found: false, value: undefined };
    current = (current as Record<string, unknown>)[step];
  }
  return { found: true, value: current };
}

function theirValue(theirs: Record<string, unknown>, path: string, field: FieldSchema, walk: Walk): { found: boolean; value: unknown } {
  const mapping = walk.fieldMap[path];
  if (typeof mapping === 'object' && 'property' in mapping) {
    const result = lookUp(theirs, mapping.property);
    return result.found ? { found: true, value: mapping.read(result.value) } : result;
  }
  const candidates = mapping === undefined ? [field.name] : typeof mapping === 'string' ? [mapping] : (mapping as string[]);
  for (const candidate of candidates) {
    const result = lookUp(theirs, candidate);
    if (result.found) return result;
  }
  return { found: false, value: undefined };
}

function text(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (Buffer.isBuffer(value)) return `<${value.toString('hex')}>`;
  return JSON.stringify(value);
}

function sameLeaf(type: string, ours: unknown, theirs: unknown): boolean {
  if (ours === null || theirs === null || ours === undefined || theirs === undefined) return ours === theirs;
  switch (type) {
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'float64':
      // kafkajs hands int64 values out as strings, @platformatic/kafka as bigints.
      return typeof theirs !== 'object' && typeof theirs !== 'boolean' && String(ours) === String(theirs);
    case 'bytes':
      return theirs instanceof Uint8Array && Buffer.compare(ours as Buffer, theirs) === 0;
    default:
      return ours === theirs;
  }
}

function compareRecords(path: string, ours: unknown, theirs: unknown, walk: Walk): void {
  walk.result.comparedValues++;
  if (ours === null || theirs === null || theirs === undefined) {
    if (ours !== theirs) walk.result.problems.push(`${path}: ours ${text(ours)}, theirs ${text(theirs)}`);
    return;
  }
  const expected = walk.readOurRecords(ours);
  const actual = walk.readRecords(theirs);
  if (JSON.stringify(expected) !== JSON.stringify(actual)) {
    walk.result.problems.push(`${path}: ours ${JSON.stringify(expected)}, theirs ${JSON.stringify(actual)}`);
  }
}

function compareField(path: string, field: FieldSchema, ours: unknown, theirs: unknown, walk: Walk): void {
  if (field.type === 'records') return compareRecords(path, ours, theirs, walk);
  if (field.type === 'struct') return compareStruct(path, field.fields!, ours, theirs, walk);
  if (field.type.startsWith('[]') && ours !== null) {
    if (!Array.isArray(theirs) || theirs.length !== (ours as unknown[]).length) {
      walk.result.problems.push(`${path}: ours ${(ours as unknown[]).length} elements, theirs ${text(theirs)}`);
      return;
    }
    const elementType = field.type.slice(2);
    (ours as unknown[]).forEach((element, index) => {
      if (field.type === '[]') compareStruct(path, field.fields!, element, theirs[index], walk);
      else compareLeaf(`${path}[${index}]`, elementType, element, theirs[index], walk);
    });
    return;
  }
  compareLeaf(path, field.type, ours, theirs, walk);
}

function compareLeaf(path: string, type: string, ours: unknown, theirs: unknown, walk: Walk): void {
  walk.result.comparedValues++;
  if (!sameLeaf(type, ours, theirs)) walk.result.problems.push(`${path}: ours ${text(ours)}, theirs ${text(theirs)}`);
}

function compareStruct(prefix: string, fields: readonly FieldSchema[], ours: unknown, theirs: unknown, walk: Walk): void {
  if (typeof theirs !== 'object' || theirs === null) {
    walk.result.problems.push(`${prefix || '(message)'}: theirs is ${text(theirs)}, not a struct`);
    return;
  }
  for (const field of fields) {
    if (!versionInRange(field.versions, walk.version)) continue;
    const path = prefix === '' ? field.name : `${prefix}.${field.name}`;
    const mapping = walk.fieldMap[path];
    if (isNotDecoded(mapping)) {
      walk.result.notDecoded.set(path, mapping.notDecoded);
      continue;
    }
    const their = theirValue(theirs as Record<string, unknown>, path, field, walk);
    if (!their.found) {
      walk.result.problems.push(`${path}: missing on their side (map it or mark it notDecoded)`);
      continue;
    }
    compareField(path, field, (ours as Record<string, unknown>)[field.name], their.value, walk);
  }
}

/** Compares `ours` (our schema's shape at `version`) with `theirs` (the library's shape). */
export function compareMessage(
  schema: MessageSchema,
  version: number,
  ours: Record<string, unknown>,
  theirs: unknown,
  options: { readonly fieldMap: FieldMap; readonly readRecords: RecordsReader; readonly readOurRecords: RecordsReader },
): Comparison {
  const result: Comparison = { problems: [], notDecoded: new Map(), comparedValues: 0 };
  compareStruct('', schema.fields, ours, theirs, { version, ...options, result });
  return result;
}
