/**
 * Whole requests and responses: size prefix, header and body.
 *
 * Server side: `decodeRequestHeader` (frame body after the 4-byte size) → `isSupported` →
 * `decodeRequestBody` → handle → `encodeResponse` (chunks including the size prefix).
 * Client side, the inverse: `encodeRequest` and `decodeResponse`.
 */
import { apiSchemas, type ApiKeyValue, type ApiSchemaFor } from '../schema/index.js';
import type {
  ApiSchema,
  DecodedMessage,
  EncodableMessage,
  MessageSchema,
} from '../schema/types.js';
import {
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
} from '../header.js';
import { compile } from './compile.js';
import { Reader } from './reader.js';
import { Writer, type EncodedMessage } from './writer.js';
import { parseVersionRange, versionInRange } from './version-range.js';

export type RequestBody<K extends ApiKeyValue> = DecodedMessage<ApiSchemaFor<K>['request']>;
export type ResponseBody<K extends ApiKeyValue> = DecodedMessage<ApiSchemaFor<K>['response']>;
export type RequestInput<K extends ApiKeyValue> = EncodableMessage<ApiSchemaFor<K>['request']>;
export type ResponseInput<K extends ApiKeyValue> = EncodableMessage<ApiSchemaFor<K>['response']>;

export interface ApiVersionRange {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** Whether we serve this api key at this version; check before decoding a request body. */
export function isSupported(apiKey: number, apiVersion: number): boolean {
  const schema = apiSchemas.get(apiKey);
  return schema !== undefined && versionInRange(schema.request.validVersions, apiVersion);
}

let advertisedRanges: readonly ApiVersionRange[] | undefined;

/** The ranges we advertise in ApiVersions responses, in api-key order. */
export function supportedVersionRanges(): readonly ApiVersionRange[] {
  if (advertisedRanges === undefined) {
    const ranges = [...apiSchemas.values()]
      .map((schema): ApiVersionRange => {
        const range = parseVersionRange(schema.request.validVersions);
        return Object.freeze({ apiKey: schema.apiKey, minVersion: range.min, maxVersion: range.max });
      })
      .sort((a, b) => a.apiKey - b.apiKey);
    advertisedRanges = Object.freeze(ranges);
  }
  return advertisedRanges;
}

function apiSchemaOf(apiKey: number, apiVersion: number): ApiSchema {
  const schema = apiSchemas.get(apiKey);
  if (schema === undefined) throw new Error(`api key ${apiKey} is not served`);
  if (!versionInRange(schema.request.validVersions, apiVersion)) {
    throw new Error(
      `${schema.name} version ${apiVersion} is not served (valid ${schema.request.validVersions}); check isSupported first`,
    );
  }
  return schema;
}

/** Encodes one message body (no header, no size prefix). */
export function encodeMessage(schema: MessageSchema, version: number, value: unknown): EncodedMessage {
  const writer = new Writer();
  compile(schema, version).encode(value, writer);
  return writer.finish();
}

/** Decodes one message body from buffer[offset, end). */
export function decodeMessage(
  schema: MessageSchema,
  version: number,
  buffer: Buffer,
  offset = 0,
  end: number = buffer.length,
): Record<string, unknown> {
  return compile(schema, version).decode(new Reader(buffer, offset, end));
}

/**
 * Decodes the request body that starts at `offset` (after the header) and runs to the end of
 * the frame. bytes/records fields are subarrays of `frame`. Bytes after the body are ignored.
 */
export function decodeRequestBody<K extends ApiKeyValue>(
  apiKey: K,
  apiVersion: number,
  frame: Buffer,
  offset: number,
): RequestBody<K>;
export function decodeRequestBody(
  apiKey: number,
  apiVersion: number,
  frame: Buffer,
  offset: number,
): Record<string, unknown>;
export function decodeRequestBody(
  apiKey: number,
  apiVersion: number,
  frame: Buffer,
  offset: number,
): Record<string, unknown> {
  const schema = apiSchemaOf(apiKey, apiVersion);
  return decodeMessage(schema.request, apiVersion, frame, offset);
}

/** Encodes a whole response frame: 4-byte size, response header, body. */
export function encodeResponse<K extends ApiKeyValue>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ResponseInput<K>,
): EncodedMessage;
export function encodeResponse(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  body: unknown,
): EncodedMessage;
export function encodeResponse(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  body: unknown,
): EncodedMessage {
  const codec = compile(apiSchemaOf(apiKey, apiVersion).response, apiVersion);
  const writer = new Writer();
  const patchSize = writer.reserveInt32();
  encodeResponseHeader(writer, apiKey, apiVersion, correlationId);
  codec.encode(body, writer);
  const encoded = writer.finish();
  patchSize(encoded.sizeBytes - 4);
  return encoded;
}

/** Encodes a whole request frame: 4-byte size, request header, body. */
export function encodeRequest<K extends ApiKeyValue>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: RequestInput<K>,
): EncodedMessage;
export function encodeRequest(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: unknown,
): EncodedMessage;
export function encodeRequest(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: unknown,
): EncodedMessage {
  const codec = compile(apiSchemaOf(apiKey, apiVersion).request, apiVersion);
  const writer = new Writer();
  const patchSize = writer.reserveInt32();
  encodeRequestHeader(writer, apiKey, apiVersion, correlationId, clientId);
  codec.encode(body, writer);
  const encoded = writer.finish();
  patchSize(encoded.sizeBytes - 4);
  return encoded;
}

export interface DecodedResponse<Body> {
  readonly correlationId: number;
  readonly body: Body;
}

/** Decodes a response frame body (after the 4-byte size prefix): header, then body. */
export function decodeResponse<K extends ApiKeyValue>(
  apiKey: K,
  apiVersion: number,
  frame: Buffer,
  offset?: number,
): DecodedResponse<ResponseBody<K>>;
export function decodeResponse(
  apiKey: number,
  apiVersion: number,
  frame: Buffer,
  offset?: number,
): DecodedResponse<Record<string, unknown>>;
export function decodeResponse(
  apiKey: number,
  apiVersion: number,
  frame: Buffer,
  offset = 0,
): DecodedResponse<Record<string, unknown>> {
  const schema = apiSchemaOf(apiKey, apiVersion);
  const header = decodeResponseHeader(frame, apiKey, apiVersion, offset);
  const body = decodeMessage(schema.response, apiVersion, frame, offset + header.headerSizeBytes);
  return { correlationId: header.correlationId, body };
}

/** Copies chunks into one Buffer (tests and small control messages; not for the hot path). */
export function concatChunks(encoded: EncodedMessage): Buffer {
  return Buffer.concat(encoded.chunks, encoded.sizeBytes);
}
