/**
 * Generates message values from a schema, for round-trip tests.
 *
 * `sampleMessage` fills every field present in the version with a non-default value (arrays
 * get two elements) and every field the version lacks with its default, which is what the
 * decoder must return. The defaults are computed here independently of the codec, from Kafka's
 * rules as documented in FieldSchema.
 */
import type { FieldSchema, MessageSchema, PrimitiveType } from '../../../src/protocol/schema/types.js';
import { versionInRange } from '../../../src/protocol/codec/version-range.js';

export type SampleVariant = 'values' | 'nulls';

const zeroUuid = 'AAAAAAAAAAAAAAAAAAAAAA';

function elementType(field: FieldSchema): PrimitiveType | undefined {
  const type: string = field.type;
  if (type === '[]' || type === 'struct') return undefined;
  return (type.startsWith('[]') ? type.slice(2) : type) as PrimitiveType;
}

/** Kafka's default for a field at a version (see FieldSchema.default). */
export function kafkaDefault(field: FieldSchema, version: number): unknown {
  if (field.default !== undefined) return field.default;
  const present = versionInRange(field.versions, version);
  if (present && versionInRange(field.nullableVersions, version)) return null;
  if (field.type === 'struct') return defaultStruct(field.fields!, version);
  if (field.type.startsWith('[]')) return [];
  switch (field.type) {
    case 'bool':
      return false;
    case 'int64':
      return 0n;
    case 'string':
      return '';
    case 'uuid':
      return zeroUuid;
    case 'bytes':
      return Buffer.alloc(0);
    case 'records':
      return null;
    default:
      return 0;
  }
}

function defaultStruct(fields: readonly FieldSchema[], version: number): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const field of fields) result[field.name] = kafkaDefault(field, version);
  return result;
}

/** A deterministic, non-default value of a primitive type. */
function primitiveSample(type: PrimitiveType, seed: number, field: FieldSchema): unknown {
  switch (type) {
    case 'bool':
      return field.default !== true;
    case 'int8':
      return -100 + (seed % 50);
    case 'int16':
      return 1000 + seed;
    case 'uint16':
      return 60000 + seed;
    case 'int32':
      return 100000 + seed;
    case 'uint32':
      return 4000000000 + seed;
    case 'int64':
      return (1n << 40n) + BigInt(seed);
    case 'float64':
      return 1.5 + seed;
    case 'string':
      // Non-ASCII on purpose: lengths count UTF-8 bytes, not characters.
      return `${field.name}-${seed}-é`;
    case 'uuid':
      return Buffer.alloc(16, seed + 1).toString('base64url');
    case 'bytes':
      return Buffer.from([seed & 0xff, 1, 2, 3]);
    case 'records':
      // Larger than the writer's reference threshold, so it is emitted without copying.
      return Buffer.alloc(1500 + seed, seed & 0xff);
  }
}

function fieldSample(field: FieldSchema, version: number, variant: SampleVariant, seed: number): unknown {
  if (!versionInRange(field.versions, version)) return kafkaDefault(field, version);
  if (variant === 'nulls' && versionInRange(field.nullableVersions, version)) return null;
  if (field.type === 'struct') return structSample(field.fields!, version, variant, seed);
  if (field.type === '[]') {
    return [0, 1].map((index) => structSample(field.fields!, version, variant, seed * 2 + index));
  }
  const type = elementType(field)!;
  if (field.type.startsWith('[]')) return [0, 1].map((index) => primitiveSample(type, seed + index, field));
  return primitiveSample(type, seed, field);
}

function structSample(
  fields: readonly FieldSchema[],
  version: number,
  variant: SampleVariant,
  seed: number,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  fields.forEach((field, index) => {
    result[field.name] = fieldSample(field, version, variant, seed * 10 + index + 1);
  });
  return result;
}

export function sampleMessage(
  schema: MessageSchema,
  version: number,
  variant: SampleVariant = 'values',
): Record<string, unknown> {
  return structSample(schema.fields, version, variant, 1);
}

/** The decoder's view of a message encoded from nothing: every field at its default. */
export function defaultMessage(schema: MessageSchema, version: number): Record<string, unknown> {
  return defaultStruct(schema.fields, version);
}

/** Every version in a schema's valid range. */
export function versionsOf(schema: MessageSchema): number[] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(schema.validVersions);
  if (match === null) throw new Error(`unexpected validVersions ${schema.validVersions}`);
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  const versions: number[] = [];
  for (let version = min; version <= max; version++) versions.push(version);
  return versions;
}
