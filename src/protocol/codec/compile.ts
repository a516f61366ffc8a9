/**
 * Compiles a message schema at one version into a specialised encoder and decoder.
 *
 * Like avsc, we generate JavaScript source per (schema, version) and build it once with
 * `new Function`: every version check, nullability and compact/non-compact choice is resolved
 * at compile time, so the per-message work is straight-line reads and writes. Decoded structs
 * are object literals with every schema field in schema order, so all values of one struct
 * type share one hidden class (fields the version lacks hold their default).
 *
 * The generated source only contains identifiers validated here and JSON-quoted strings.
 */
import type { FieldSchema, MessageSchema, PrimitiveType } from '../schema/types.js';
import type { Reader } from './reader.js';
import { SlabPool, Writer } from './writer.js';
import { parseVersionRange, versionInRange } from './version-range.js';

export interface CompiledMessage<Decoded = Record<string, unknown>, Encodable = unknown> {
  readonly schema: MessageSchema;
  readonly version: number;
  readonly flexible: boolean;
  /** The generated JavaScript, for debugging. */
  readonly source: string;
  /** Appends the message body to `writer`. Fields left `undefined` encode their default. */
  encode(value: Encodable, writer: Writer): void;
  /** Decodes one message body from the reader's current offset. */
  decode(reader: Reader): Decoded;
}

/** Kafka's zero uuid in our text form. */
export const zeroUuid = 'AAAAAAAAAAAAAAAAAAAAAA';

const compiled = new WeakMap<MessageSchema, Map<number, CompiledMessage>>();

/** Returns the cached codec for (schema, version), generating it on first use. */
export function compile(schema: MessageSchema, version: number): CompiledMessage {
  let byVersion = compiled.get(schema);
  if (byVersion === undefined) {
    byVersion = new Map();
    compiled.set(schema, byVersion);
  }
  let codec = byVersion.get(version);
  if (codec === undefined) {
    codec = generate(schema, version);
    byVersion.set(version, codec);
  }
  return codec;
}

// ---------------------------------------------------------------------------------------------
// Field resolution: everything the generator needs to know about a field at one version.
// ---------------------------------------------------------------------------------------------

type FieldKind = 'primitive' | 'primitiveArray' | 'structArray' | 'struct';

interface ResolvedField {
  readonly schema: FieldSchema;
  readonly path: string;
  readonly kind: FieldKind;
  /** The primitive type, or the element type of a primitive array. */
  readonly primitive: PrimitiveType | undefined;
  readonly present: boolean;
  readonly nullable: boolean;
  readonly tagged: boolean;
  readonly defaultValue: unknown;
}

const primitiveTypes: ReadonlySet<string> = new Set<PrimitiveType>([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'bytes',
  'records',
  'uuid',
]);
const nullableTypes: ReadonlySet<string> = new Set(['string', 'bytes', 'records']);
const identifierPattern = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function fieldKind(field: FieldSchema, path: string): [FieldKind, PrimitiveType | undefined] {
  const type: string = field.type;
  if (type === '[]' || type === 'struct') {
    if (field.fields === undefined) throw new Error(`${path}: ${type} needs fields`);
    return [type === '[]' ? 'structArray' : 'struct', undefined];
  }
  const element = type.startsWith('[]') ? type.slice(2) : type;
  if (!primitiveTypes.has(element)) throw new Error(`${path}: unknown type "${type}"`);
  return [type.startsWith('[]') ? 'primitiveArray' : 'primitive', element as PrimitiveType];
}

function resolveField(
  field: FieldSchema,
  parentPath: string,
  version: number,
  flexible: boolean,
): ResolvedField {
  const path = `${parentPath}.${field.name}`;
  if (!identifierPattern.test(field.name)) throw new Error(`${path}: not an identifier`);
  const [kind, primitive] = fieldKind(field, path);
  const present = versionInRange(field.versions, version);
  const nullable = present && versionInRange(field.nullableVersions, version);
  if (nullable && kind === 'primitive' && !nullableTypes.has(primitive!)) {
    throw new Error(`${path}: ${field.type} cannot be nullable`);
  }
  const tagged = present && versionInRange(field.taggedVersions, version);
  if (tagged && (!flexible || field.tag === undefined)) {
    throw new Error(`${path}: tagged fields need a tag and a flexible version`);
  }
  const defaultValue = resolveDefault(field, kind, primitive, nullable, path);
  return { schema: field, path, kind, primitive, present, nullable, tagged, defaultValue };
}

/** Kafka's default rules, plus null for fields nullable in this version (see FieldSchema). */
function resolveDefault(
  field: FieldSchema,
  kind: FieldKind,
  primitive: PrimitiveType | undefined,
  nullable: boolean,
  path: string,
): unknown {
  if (field.default !== undefined) {
    if (field.default === null && !nullable && field.nullableVersions === undefined) {
      throw new Error(`${path}: default null on a field that is never nullable`);
    }
    return field.default;
  }
  if (nullable) return null;
  if (kind === 'primitiveArray' || kind === 'structArray') return [];
  if (kind === 'struct') return undefined; // a struct of defaults, generated
  switch (primitive) {
    case 'bool':
      return false;
    case 'int64':
      return 0n;
    case 'string':
      return '';
    case 'uuid':
      return zeroUuid;
    case 'bytes':
      return emptyBuffer;
    case 'records':
      return null;
    default:
      return 0;
  }
}

const emptyBuffer: Buffer = Buffer.alloc(0);

// ---------------------------------------------------------------------------------------------
// Helpers the generated code calls (passed in as `h`).
// ---------------------------------------------------------------------------------------------

const emptyObject: Readonly<Record<string, unknown>> = Object.freeze({});
/** Errors that already name the field path. */
const annotated = new WeakSet<Error>();

function nullError(path: string, version: number): Error {
  const error = new TypeError(`${path} is null, but it is not nullable in version ${version}`);
  annotated.add(error);
  return error;
}

function typeError(path: string, expected: string, actual: unknown): Error {
  const shown = actual === null ? 'null' : typeof actual;
  const error = new TypeError(`${path} must be ${expected}, got ${shown}`);
  annotated.add(error);
  return error;
}

/** Adds the struct path to errors thrown by Buffer writes (e.g. an int32 out of range). */
function annotate(error: unknown, path: string): unknown {
  if (error instanceof Error && !annotated.has(error)) {
    error.message = `while encoding ${path}: ${error.message}`;
    annotated.add(error);
  }
  return error;
}

function writeTagged(
  writer: Writer,
  tag: number,
  encodeValue: (nested: Writer, value: unknown) => void,
  value: unknown,
): void {
  // A tagged field is written as tag, size, value; the size is only known after encoding.
  const nested = new Writer(new SlabPool(256));
  encodeValue(nested, value);
  const encoded = nested.finish();
  writer.uvarint(tag);
  writer.uvarint(encoded.sizeBytes);
  writer.append(encoded);
}

/** Whether a (tagged struct) value equals the struct of defaults, so it can be left out. */
function isDefaultValue(value: unknown, defaultValue: unknown): boolean {
  if (value === undefined || value === defaultValue) return true;
  if (value === null || defaultValue === null) return false;
  if (Array.isArray(value)) return value.length === 0 && Array.isArray(defaultValue);
  if (value instanceof Uint8Array) {
    return value.length === 0 && defaultValue instanceof Uint8Array && defaultValue.length === 0;
  }
  if (typeof value === 'object' && typeof defaultValue === 'object') {
    const defaults = defaultValue as Record<string, unknown>;
    const actual = value as Record<string, unknown>;
    for (const key of Object.keys(defaults)) {
      if (!isDefaultValue(actual[key], defaults[key])) return false;
    }
    return true;
  }
  return false;
}

const helpers = { nullError, typeError, annotate, writeTagged, isDefaultValue, emptyObject };

// ---------------------------------------------------------------------------------------------
// Code generation.
// ---------------------------------------------------------------------------------------------

class Generator {
  readonly version: number;
  readonly flexible: boolean;
  readonly functions: string[] = [];
  readonly constants: unknown[] = [];
  private nextId = 0;

  constructor(version: number, flexible: boolean) {
    this.version = version;
    this.flexible = flexible;
  }

  uniqueName(prefix: string): string {
    return `${prefix}${this.nextId++}`;
  }

  constant(value: unknown): string {
    this.constants.push(value);
    return `c[${this.constants.length - 1}]`;
  }

  resolve(fields: readonly FieldSchema[], path: string): ResolvedField[] {
    return fields.map((field) => resolveField(field, path, this.version, this.flexible));
  }
}

function generate(schema: MessageSchema, version: number): CompiledMessage {
  if (!versionInRange(schema.validVersions, version)) {
    const range = parseVersionRange(schema.validVersions);
    throw new Error(
      `${schema.name} version ${version} is outside its valid versions ${range.min}-${range.max}`,
    );
  }
  const flexible = versionInRange(schema.flexibleVersions, version);
  const generator = new Generator(version, flexible);
  const decodeRoot = generateStructDecoder(generator, schema.fields, schema.name);
  const encodeRoot = generateStructEncoder(generator, schema.fields, schema.name, true);
  const source = `'use strict';\n${generator.functions.join('\n')}\nreturn { encode: ${encodeRoot}, decode: ${decodeRoot} };`;
  const factory = new Function('h', 'c', source) as (
    h: typeof helpers,
    c: unknown[],
  ) => { encode: (writer: Writer, value: unknown) => void; decode: (reader: Reader) => unknown };
  const built = factory(helpers, generator.constants);
  const encodeBody = built.encode;
  const decodeBody = built.decode as (reader: Reader) => Record<string, unknown>;
  return {
    schema,
    version,
    flexible,
    source,
    encode: (value: unknown, writer: Writer): void => encodeBody(writer, value),
    decode: decodeBody,
  };
}

// ---- default values ----

/** A JavaScript expression producing the field's default (fresh arrays/structs each time). */
function defaultExpression(generator: Generator, field: ResolvedField): string {
  const value = field.defaultValue;
  if (field.kind === 'struct' && value === undefined) {
    return `${generateDefaultStruct(generator, field)}()`;
  }
  return literal(generator, value);
}

function literal(generator: Generator, value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    if (value.length !== 0) return generator.constant(value);
    return '[]';
  }
  switch (typeof value) {
    case 'bigint':
      return `${value}n`;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'boolean':
      return String(value);
    case 'string':
      return JSON.stringify(value);
    default:
      return generator.constant(value);
  }
}

function generateDefaultStruct(generator: Generator, field: ResolvedField): string {
  const name = generator.uniqueName('defaultStruct');
  const nested = generator.resolve(field.schema.fields!, field.path);
  const properties = nested.map((child) => `${child.schema.name}: ${defaultExpression(generator, child)}`);
  generator.functions.push(`function ${name}() { return { ${properties.join(', ')} }; }`);
  return name;
}

// ---- decoding ----

function generateStructDecoder(
  generator: Generator,
  fields: readonly FieldSchema[],
  path: string,
): string {
  const name = generator.uniqueName('decodeStruct');
  const resolved = generator.resolve(fields, path);
  const lines: string[] = [];
  resolved.forEach((field, index) => {
    if (!field.present) lines.push(`const v${index} = ${defaultExpression(generator, field)};`);
    else if (field.tagged) lines.push(`let v${index} = ${defaultExpression(generator, field)};`);
    else lines.push(`const v${index} = ${readExpression(generator, field)};`);
  });
  if (generator.flexible) lines.push(...taggedSectionDecoder(generator, resolved, path));
  const properties = resolved.map((field, index) => `${field.schema.name}: v${index}`);
  lines.push(`return { ${properties.join(', ')} };`);
  generator.functions.push(`function ${name}(r) {\n  ${lines.join('\n  ')}\n}`);
  return name;
}

function taggedSectionDecoder(
  generator: Generator,
  resolved: readonly ResolvedField[],
  path: string,
): string[] {
  const quotedPath = JSON.stringify(`${path} tagged fields`);
  const cases: string[] = [];
  resolved.forEach((field, index) => {
    if (!field.tagged) return;
    const quotedField = JSON.stringify(field.path);
    cases.push(
      `case ${field.schema.tag}: v${index} = ${readExpression(generator, field)}; r.expectOffset(end, ${quotedField}); break;`,
    );
  });
  if (cases.length === 0) return [`r.skipTaggedFields(${quotedPath});`];
  // Unknown tags are skipped; each iteration consumes at least two bytes, so it terminates.
  return [
    `for (let t = 0, n = r.uvarint(${quotedPath}); t < n; t++) {`,
    `  const tag = r.uvarint(${quotedPath});`,
    `  const end = r.taggedFieldEnd(r.uvarint(${quotedPath}), ${quotedPath});`,
    `  switch (tag) {`,
    ...cases.map((line) => `    ${line}`),
    `    default: r.skip(end - r.offset, ${quotedPath});`,
    `  }`,
    `}`,
  ];
}

function readExpression(generator: Generator, field: ResolvedField): string {
  const quotedPath = JSON.stringify(field.path);
  switch (field.kind) {
    case 'primitive':
      return `r.${primitiveReadMethod(field.primitive!, field.nullable, generator.flexible)}(${quotedPath})`;
    case 'struct':
      return `${generateStructDecoder(generator, field.schema.fields!, field.path)}(r)`;
    default:
      return `${generateArrayDecoder(generator, field)}(r)`;
  }
}

function primitiveReadMethod(type: PrimitiveType, nullable: boolean, compact: boolean): string {
  switch (type) {
    case 'string':
      return compact
        ? nullable ? 'compactNullableString' : 'compactString'
        : nullable ? 'nullableString' : 'string';
    case 'bytes':
    case 'records':
      return compact
        ? nullable ? 'compactNullableBytes' : 'compactBytes'
        : nullable ? 'nullableBytes' : 'bytes';
    default:
      return type;
  }
}

function generateArrayDecoder(generator: Generator, field: ResolvedField): string {
  const name = generator.uniqueName('decodeArray');
  const quotedPath = JSON.stringify(field.path);
  const elementPath = `${field.path}[]`;
  const readElement =
    field.kind === 'structArray'
      ? `${generateStructDecoder(generator, field.schema.fields!, elementPath)}(r)`
      : `r.${primitiveReadMethod(field.primitive!, false, generator.flexible)}(${JSON.stringify(elementPath)})`;
  const minElementBytes = minimumElementBytes(generator, field);
  const lines = [
    `const n = r.arrayLength(${quotedPath}, ${generator.flexible}, ${field.nullable}, ${minElementBytes});`,
    field.nullable ? 'if (n < 0) return null;' : '',
    'const a = [];',
    `for (let i = 0; i < n; i++) a.push(${readElement});`,
    'return a;',
  ];
  generator.functions.push(`function ${name}(r) {\n  ${lines.filter((line) => line !== '').join('\n  ')}\n}`);
  return name;
}

/** The fewest bytes one array element can take on the wire, to bound hostile counts. */
function minimumElementBytes(generator: Generator, field: ResolvedField): number {
  if (field.kind === 'primitiveArray') return minimumPrimitiveBytes(field.primitive!, generator.flexible);
  return minimumStructBytes(generator, field.schema.fields!, field.path);
}

function minimumStructBytes(generator: Generator, fields: readonly FieldSchema[], path: string): number {
  let total = generator.flexible ? 1 : 0; // the tagged-field count
  for (const field of generator.resolve(fields, path)) {
    if (!field.present || field.tagged) continue;
    if (field.kind === 'primitive') total += minimumPrimitiveBytes(field.primitive!, generator.flexible);
    else if (field.kind === 'struct') total += minimumStructBytes(generator, field.schema.fields!, field.path);
    else total += generator.flexible ? 1 : 4;
  }
  return total;
}

function minimumPrimitiveBytes(type: PrimitiveType, compact: boolean): number {
  switch (type) {
    case 'bool':
    case 'int8':
      return 1;
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
    case 'uint32':
      return 4;
    case 'int64':
    case 'float64':
      return 8;
    case 'uuid':
      return 16;
    case 'string':
      return compact ? 1 : 2;
    default:
      return compact ? 1 : 4;
  }
}

// ---- encoding ----

function generateStructEncoder(
  generator: Generator,
  fields: readonly FieldSchema[],
  path: string,
  isRoot: boolean,
): string {
  const name = generator.uniqueName('encodeStruct');
  const resolved = generator.resolve(fields, path);
  const quotedPath = JSON.stringify(path);
  const lines: string[] = [
    isRoot
      ? 'if (s === undefined || s === null) s = h.emptyObject;'
      : `if (s === null || typeof s !== 'object') throw h.typeError(${quotedPath}, 'an object', s);`,
    'let x;',
    'try {',
  ];
  for (const field of resolved) {
    if (!field.present || field.tagged) continue;
    lines.push(`  ${fetchValue(generator, field)}`);
    lines.push(`  ${writeStatement(generator, field, 'x')}`);
  }
  if (generator.flexible) lines.push(...taggedSectionEncoder(generator, resolved).map((line) => `  ${line}`));
  lines.push(`} catch (e) { throw h.annotate(e, ${quotedPath}); }`);
  generator.functions.push(`function ${name}(w, s) {\n  ${lines.join('\n  ')}\n}`);
  return name;
}

/** `x = s.field`, defaulted when undefined and rejected when null but not nullable. */
function fetchValue(generator: Generator, field: ResolvedField): string {
  const quotedPath = JSON.stringify(field.path);
  const nullCheck = field.nullable
    ? ''
    : ` else if (x === null) throw h.nullError(${quotedPath}, ${generator.version});`;
  return `x = s.${field.schema.name}; if (x === undefined) x = ${defaultExpression(generator, field)};${nullCheck}`;
}

function writeStatement(generator: Generator, field: ResolvedField, value: string): string {
  const compact = generator.flexible;
  switch (field.kind) {
    case 'primitive':
      return primitiveWrite(field.primitive!, field.nullable, compact, value);
    case 'struct':
      return `${generateStructEncoder(generator, field.schema.fields!, field.path, false)}(w, ${value});`;
    default:
      return `${generateArrayEncoder(generator, field)}(w, ${value});`;
  }
}

function primitiveWrite(type: PrimitiveType, nullable: boolean, compact: boolean, value: string): string {
  if (type === 'records') return `w.records(${value}, ${compact});`;
  const method = primitiveReadMethod(type, nullable, compact);
  return `w.${method}(${value});`;
}

function generateArrayEncoder(generator: Generator, field: ResolvedField): string {
  const name = generator.uniqueName('encodeArray');
  const quotedPath = JSON.stringify(field.path);
  const elementPath = `${field.path}[]`;
  const compact = generator.flexible;
  const writeElement =
    field.kind === 'structArray'
      ? `${generateStructEncoder(generator, field.schema.fields!, elementPath, false)}(w, a[i]);`
      : `{ const e = a[i]; if (e === null || e === undefined) throw h.nullError(${JSON.stringify(elementPath)}, ${generator.version}); ${primitiveWrite(field.primitive!, false, compact, 'e')} }`;
  const lines = [
    field.nullable ? `if (a === null) { w.nullArray(${compact}); return; }` : '',
    `if (!Array.isArray(a)) throw h.typeError(${quotedPath}, 'an array', a);`,
    'const n = a.length;',
    `w.arrayLength(n, ${compact});`,
    `for (let i = 0; i < n; i++) ${writeElement}`,
  ];
  generator.functions.push(`function ${name}(w, a) {\n  ${lines.filter((line) => line !== '').join('\n  ')}\n}`);
  return name;
}

/** Tagged fields are written, in ascending tag order, only when they differ from the default. */
function taggedSectionEncoder(generator: Generator, resolved: readonly ResolvedField[]): string[] {
  const tagged = resolved.filter((field) => field.tagged).sort((a, b) => a.schema.tag! - b.schema.tag!);
  if (tagged.length === 0) return ['w.uvarint(0);'];
  const lines = ['let tagCount = 0;'];
  tagged.forEach((field, index) => {
    const quotedPath = JSON.stringify(field.path);
    lines.push(`let t${index} = s.${field.schema.name};`);
    if (!field.nullable) {
      lines.push(`if (t${index} === null) throw h.nullError(${quotedPath}, ${generator.version});`);
    }
    lines.push(`const has${index} = ${presentCondition(generator, field, `t${index}`)};`);
    lines.push(`if (has${index}) tagCount++;`);
  });
  lines.push('w.uvarint(tagCount);');
  tagged.forEach((field, index) => {
    const encodeValue = generator.uniqueName('encodeTagged');
    generator.functions.push(`function ${encodeValue}(w, x) { ${writeStatement(generator, field, 'x')} }`);
    lines.push(`if (has${index}) h.writeTagged(w, ${field.schema.tag}, ${encodeValue}, t${index});`);
  });
  return lines;
}

function presentCondition(generator: Generator, field: ResolvedField, value: string): string {
  const defaultValue = field.defaultValue;
  const notUndefined = `${value} !== undefined`;
  if (field.kind === 'struct') {
    const defaults = generator.constant(structDefaults(generator, field));
    return `${notUndefined} && !h.isDefaultValue(${value}, ${defaults})`;
  }
  if (defaultValue === null) return `${notUndefined} && ${value} !== null`;
  if (Array.isArray(defaultValue) || defaultValue instanceof Uint8Array) {
    return `${notUndefined} && (${value} === null || ${value}.length !== 0)`;
  }
  return `${notUndefined} && ${value} !== ${literal(generator, defaultValue)}`;
}

function structDefaults(generator: Generator, field: ResolvedField): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const child of generator.resolve(field.schema.fields!, field.path)) {
    result[child.schema.name] = child.kind === 'struct' && child.defaultValue === undefined
      ? structDefaults(generator, child)
      : child.defaultValue;
  }
  return result;
}
