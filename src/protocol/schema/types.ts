/**
 * Schema data types for the Kafka wire protocol.
 *
 * Every API we serve is described once, as data, in this folder (one file per API,
 * named after the Kafka message, e.g. `produce.ts`). One generic codec (`../codec/`) turns a
 * schema plus a version into an encoder and a decoder. There are no per-version handlers.
 *
 * Version ranges are written as Kafka writes them: "3+" (3 and later), "0-4", "3" (only 3),
 * "none".
 *
 * Value representation (decoded objects and encoder input):
 * - int8/int16/uint16/int32/uint32/float64: `number`; int64: `bigint`; bool: `boolean`.
 * - string: `string`; uuid: Kafka's own text form, 22 characters of unpadded base64url
 *   (what `Uuid.toString()` prints in Java), e.g. the zero uuid is "AAAAAAAAAAAAAAAAAAAAAA".
 * - bytes: `Buffer` when decoded (a subarray of the frame, not a copy); encoder accepts any
 *   `Uint8Array`.
 * - records: `Buffer | null` when decoded (a subarray of the frame); the encoder also accepts a
 *   `readonly Buffer[]` (e.g. whole batches read from a segment), emitted without copying.
 * - Decoded structs carry every field of the schema, in schema order, whatever the version;
 *   a field the version lacks holds its default (see `FieldSchema.default`).
 */

export type VersionRange = string;

/** Primitive wire types. `records` is nullable bytes that we keep as an undecoded byte range. */
export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

export interface FieldSchema {
  /** camelCase name used on the decoded object (Kafka's JSON uses PascalCase). */
  readonly name: string;
  /** A primitive, `[]<primitive>` for an array of primitives, or `[]` / 'struct' with `fields`. */
  readonly type: PrimitiveType | `[]${PrimitiveType}` | '[]' | 'struct';
  /** Versions in which the field is present on the wire. */
  readonly versions: VersionRange;
  /** Versions in which the field may be null (strings, bytes, records, arrays). */
  readonly nullableVersions?: VersionRange;
  /** Versions in which the field is a tagged field, with its tag number. */
  readonly taggedVersions?: VersionRange;
  readonly tag?: number;
  /**
   * Value used when decoding a version that lacks the field, and when encoding a value object
   * whose property is `undefined`. Without it, Kafka's rules apply: numbers 0 (int64 0n),
   * bool false, string '', bytes empty, arrays [], uuid zero, records null; and null for a field
   * that is nullable in the version at hand.
   */
  readonly default?: unknown;
  /** Sub-fields for struct arrays and structs. */
  readonly fields?: readonly FieldSchema[];
  /** Kafka's description, kept only where it explains a surprise. */
  readonly about?: string;
}

export interface MessageSchema {
  readonly apiKey: number;
  readonly type: 'request' | 'response';
  readonly name: string;
  readonly validVersions: VersionRange;
  readonly flexibleVersions: VersionRange;
  readonly fields: readonly FieldSchema[];
}

export interface ApiSchema {
  readonly apiKey: number;
  readonly name: string;
  readonly request: MessageSchema;
  readonly response: MessageSchema;
}

// ---------------------------------------------------------------------------------------------
// Types inferred from schema data declared `as const satisfies ApiSchema`.
// ---------------------------------------------------------------------------------------------

type PrimitiveValue<T> = T extends 'bool'
  ? boolean
  : T extends 'int64'
    ? bigint
    : T extends 'string' | 'uuid'
      ? string
      : T extends 'bytes' | 'records'
        ? Buffer
        : number;

type EncodablePrimitiveValue<T> = T extends 'bytes'
  ? Uint8Array
  : T extends 'records'
    ? Buffer | readonly Buffer[]
    : PrimitiveValue<T>;

type NullIfNullable<F> = F extends { readonly nullableVersions: string } ? null : never;

type NestedFields<F> = F extends { readonly fields: infer Fs extends readonly FieldSchema[] }
  ? Fs
  : readonly [];

/** The decoded value of one field. */
export type DecodedField<F extends FieldSchema> =
  | (F['type'] extends '[]'
      ? DecodedStruct<NestedFields<F>>[]
      : F['type'] extends 'struct'
        ? DecodedStruct<NestedFields<F>>
        : F['type'] extends `[]${infer P}`
          ? PrimitiveValue<P>[]
          : PrimitiveValue<F['type']>)
  | NullIfNullable<F>;

/** A decoded struct: every field present. */
export type DecodedStruct<Fs extends readonly FieldSchema[]> = {
  [F in Fs[number] as F['name']]: DecodedField<F>;
};

/** The accepted encoder input of one field. */
export type EncodableField<F extends FieldSchema> =
  | (F['type'] extends '[]'
      ? readonly EncodableStruct<NestedFields<F>>[]
      : F['type'] extends 'struct'
        ? EncodableStruct<NestedFields<F>>
        : F['type'] extends `[]${infer P}`
          ? readonly PrimitiveValue<P>[]
          : EncodablePrimitiveValue<F['type']>)
  | NullIfNullable<F>;

/** Encoder input: any field may be left out, and then encodes its default. */
export type EncodableStruct<Fs extends readonly FieldSchema[]> = {
  readonly [F in Fs[number] as F['name']]?: EncodableField<F>;
};

export type DecodedMessage<M extends MessageSchema> = DecodedStruct<M['fields']>;
export type EncodableMessage<M extends MessageSchema> = EncodableStruct<M['fields']>;
