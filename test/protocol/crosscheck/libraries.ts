/**
 * The client libraries' own protocol modules, loaded for cross-checks: kafkajs 2.2.4 keeps a
 * request encoder and a response decoder per API version under src/protocol/requests/, and
 * @platformatic/kafka 2.12.1 exports one module per API version (`joinGroupV5`, ...) with
 * `createRequest` and `parseResponse`. Nothing here goes over a socket.
 */
import { loadPlatformatic as loadPlatformaticModule } from '../../compat/platformatic.js';
import { createRequire } from 'node:module';
import type { ParsedRecords } from './compare.js';

const require = createRequire(import.meta.url);

/** kafkajs and @platformatic/kafka name API folders and modules in camelCase. */
export function camelCaseApiName(apiName: string): string {
  return apiName[0]!.toLowerCase() + apiName.slice(1);
}

// --- kafkajs ---

interface KafkajsResponseModule {
  decode(body: Buffer): Promise<unknown>;
}

/** kafkajs's response decoder for an API version, or undefined when kafkajs lacks it. */
export function kafkajsResponseDecoder(apiName: string, version: number): KafkajsResponseModule | undefined {
  const path = `kafkajs/src/protocol/requests/${camelCaseApiName(apiName)}/v${version}/response`;
  let loaded: unknown;
  try {
    loaded = require(path);
  } catch (error) {
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
  // DeleteRecords's decoder is built from the request (only to word its errors).
  if (typeof loaded === 'function') return (loaded as (request: unknown) => KafkajsResponseModule)({ topics: [] });
  return loaded as KafkajsResponseModule;
}

interface KafkajsRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  encode(): Promise<{ readonly buffer: Buffer }>;
}

/** kafkajs's request encoder for an API version, or undefined when kafkajs lacks it. */
export function kafkajsRequestEncoder(apiName: string, version: number): ((args: unknown) => KafkajsRequest) | undefined {
  const path = `kafkajs/src/protocol/requests/${camelCaseApiName(apiName)}/v${version}/request`;
  try {
    return require(path) as (args: unknown) => KafkajsRequest;
  } catch (error) {
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

/** kafkajs parses record batches into messages with Buffer keys and values. */
export function kafkajsRecords(theirs: unknown): ParsedRecords {
  const messages = theirs as { key: Buffer | null; value: Buffer | null }[];
  return {
    keys: messages.map((message) => message.key?.toString() ?? null),
    values: messages.map((message) => message.value?.toString() ?? null),
  };
}

// --- @platformatic/kafka ---

interface PlatformaticReader {
  readonly position: number;
  readonly length: number;
}

export interface PlatformaticApiModule {
  createRequest(...args: unknown[]): { readonly buffer: Buffer };
  parseResponse(correlationId: number, apiKey: number, apiVersion: number, reader: PlatformaticReader): unknown;
}

interface PlatformaticExports {
  readonly Reader: { from(buffer: Buffer): PlatformaticReader };
  readonly [moduleName: string]: unknown;
}

let platformaticExports: PlatformaticExports | undefined;

/** Loads @platformatic/kafka once (with the Promise.withResolvers polyfill Node 20 needs). */
export async function loadPlatformatic(): Promise<PlatformaticExports> {
  platformaticExports ??= (await loadPlatformaticModule()) as unknown as PlatformaticExports;
  return platformaticExports;
}

/** @platformatic/kafka's module for an API version, or undefined when it lacks it. */
export function platformaticApi(library: PlatformaticExports, apiName: string, version: number): PlatformaticApiModule | undefined {
  return library[`${camelCaseApiName(apiName)}V${version}`] as PlatformaticApiModule | undefined;
}

/**
 * Parses a response body with @platformatic/kafka. Its parsers throw a ResponseError carrying
 * the parsed response when an error code is set; we want the fields either way. Also returns
 * how many body bytes the parser left unread.
 */
export function platformaticParse(
  library: PlatformaticExports,
  api: PlatformaticApiModule,
  apiKey: number,
  version: number,
  body: Buffer,
): { response: unknown; unreadBytes: number } {
  const reader = library.Reader.from(body);
  let response: unknown;
  try {
    response = api.parseResponse(1, apiKey, version, reader);
  } catch (error) {
    const carried = (error as { response?: unknown }).response;
    if (carried === undefined) throw error;
    response = carried;
  }
  return { response, unreadBytes: reader.length - reader.position };
}

/** @platformatic/kafka parses record batches into batches of records with Buffer keys and values. */
export function platformaticRecords(theirs: unknown): ParsedRecords {
  const batches = theirs as { records: { key: Buffer | null; value: Buffer | null }[] }[];
  const records = batches.flatMap((batch) => batch.records);
  return {
    keys: records.map((record) => record.key?.toString() ?? null),
    values: records.map((record) => record.value?.toString() ?? null),
  };
}
