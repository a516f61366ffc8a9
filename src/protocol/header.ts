/**
 * Kafka request and response headers.
 *
 * Request header v1: api key (int16), api version (int16), correlation id (int32), client id
 * (int16-length nullable string). v2 adds a tagged-field section after the client id.
 * Response header v0: correlation id (int32). v1 adds a tagged-field section.
 *
 * A request or response uses the flexible header (v2 / v1) iff its api version is flexible,
 * with one exception: ApiVersions responses always use header v0 (see `responseHeaderVersion`).
 */
import { ApiKey, apiSchemas } from './schema/index.js';
import { versionInRange } from './codec/version-range.js';
import { Reader } from './codec/reader.js';
import type { Writer } from './codec/writer.js';

export interface RequestHeader {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** Bytes from the start of the frame body (after the size prefix) to the request body. */
  readonly headerSizeBytes: number;
}

export interface ResponseHeader {
  readonly correlationId: number;
  readonly headerSizeBytes: number;
}

/**
 * Whether (apiKey, apiVersion) uses flexible encoding. Kafka's flexible ranges are always "N+",
 * so this also answers for versions above the range we serve, which lets us find the body of
 * an unsupported request; for an unknown api key it answers false.
 */
export function isFlexibleVersion(apiKey: number, apiVersion: number): boolean {
  const schema = apiSchemas.get(apiKey);
  return schema !== undefined && versionInRange(schema.request.flexibleVersions, apiVersion);
}

export function requestHeaderVersion(apiKey: number, apiVersion: number): 1 | 2 {
  return isFlexibleVersion(apiKey, apiVersion) ? 2 : 1;
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 {
  // Surprise: ApiVersions responses keep header v0 even when flexible (v3+), because a client
  // must be able to read the reply (often an UNSUPPORTED_VERSION error) whatever it sent.
  if (apiKey === ApiKey.ApiVersions) return 0;
  return isFlexibleVersion(apiKey, apiVersion) ? 1 : 0;
}

/** Parses the request header at `offset` of a frame body (after the 4-byte size prefix). */
export function decodeRequestHeader(frame: Buffer, offset = 0, end: number = frame.length): RequestHeader {
  const reader = new Reader(frame, offset, end);
  const apiKey = reader.int16('RequestHeader.requestApiKey');
  const apiVersion = reader.int16('RequestHeader.requestApiVersion');
  const correlationId = reader.int32('RequestHeader.correlationId');
  // Surprise: client_id keeps its int16 length even in the flexible header v2, so any broker
  // can read the header of an ApiVersions request of any version.
  const clientId = reader.nullableString('RequestHeader.clientId');
  if (requestHeaderVersion(apiKey, apiVersion) === 2) {
    reader.skipTaggedFields('RequestHeader tagged fields');
  }
  return { apiKey, apiVersion, correlationId, clientId, headerSizeBytes: reader.offset - offset };
}

export function encodeRequestHeader(
  writer: Writer,
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
): void {
  writer.int16(apiKey);
  writer.int16(apiVersion);
  writer.int32(correlationId);
  writer.nullableString(clientId);
  if (requestHeaderVersion(apiKey, apiVersion) === 2) writer.uvarint(0);
}

export function encodeResponseHeader(
  writer: Writer,
  apiKey: number,
  apiVersion: number,
  correlationId: number,
): void {
  writer.int32(correlationId);
  if (responseHeaderVersion(apiKey, apiVersion) === 1) writer.uvarint(0);
}

/** Parses the response header at `offset` of a frame body (after the 4-byte size prefix). */
export function decodeResponseHeader(
  frame: Buffer,
  apiKey: number,
  apiVersion: number,
  offset = 0,
  end: number = frame.length,
): ResponseHeader {
  const reader = new Reader(frame, offset, end);
  const correlationId = reader.int32('ResponseHeader.correlationId');
  if (responseHeaderVersion(apiKey, apiVersion) === 1) {
    reader.skipTaggedFields('ResponseHeader tagged fields');
  }
  return { correlationId, headerSizeBytes: reader.offset - offset };
}
