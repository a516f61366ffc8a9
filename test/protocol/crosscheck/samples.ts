/**
 * Sample messages for cross-checks against the client libraries' own decoders.
 *
 * They start from `sampleMessage` (a different value in every field, two elements per array)
 * and replace what a real decoder interprets rather than copies: error codes become distinct
 * real Kafka error codes (@platformatic/kafka looks each one up and throws on unknown codes),
 * and records hold a real record batch that the libraries parse into messages.
 */
import type { FieldSchema, MessageSchema } from '../../../src/protocol/schema/types.js';
import { versionInRange } from '../../../src/protocol/codec/version-range.js';
import { sampleMessage } from '../codec/sample-values.js';
import { ApiKey } from '../../../src/protocol/api-keys.js';
import { kafkajsUncompressedBatchHex } from '../records/golden/kafkajs-batches.js';

/** The keys and values of the records in `sampleRecordBatch`, in offset order. */
export const sampleRecordBatchKeys = ['key-a', 'key-b', null] as const;
export const sampleRecordBatchValues = ['value one', 'value two', 'no key'] as const;

/** A record batch (magic 2, three records) captured from kafkajs's batch encoder. */
export function sampleRecordBatch(): Buffer {
  return Buffer.from(kafkajsUncompressedBatchHex, 'hex');
}

const apiVersionsApiKey: number = ApiKey.ApiVersions;

/** Highest error code both libraries know; codes 1..this are all defined by Kafka. */
const highestKnownErrorCode = 120;

class ErrorCodeSequence {
  next = 1;
  take(): number {
    const errorCode = this.next;
    this.next = errorCode === highestKnownErrorCode ? 1 : errorCode + 1;
    return errorCode;
  }
}

function adjustStruct(
  fields: readonly FieldSchema[],
  version: number,
  value: Record<string, unknown>,
  errorCodes: ErrorCodeSequence,
): void {
  for (const field of fields) {
    if (!versionInRange(field.versions, version)) continue;
    const current = value[field.name];
    if (current === null || current === undefined) continue;
    if (field.type === '[]' || field.type === 'struct') {
      const elements = field.type === 'struct' ? [current] : (current as Record<string, unknown>[]);
      for (const element of elements) adjustStruct(field.fields!, version, element as Record<string, unknown>, errorCodes);
    } else if (field.name === 'errorCode' && field.type === 'int16') {
      value[field.name] = errorCodes.take();
    } else if (field.type === 'records') {
      value[field.name] = sampleRecordBatch();
    }
  }
}

/** `sampleMessage` with real error codes and real record batches (see the file comment). */
export function crossCheckSample(schema: MessageSchema, version: number): Record<string, unknown> {
  const value = sampleMessage(schema, version);
  adjustStruct(schema.fields, version, value, new ErrorCodeSequence());
  // A broker answers an ApiVersions error in the v0 layout (Connection does too), so a body in
  // the requested version always carries error 0; @platformatic/kafka stops reading otherwise.
  if (schema.apiKey === apiVersionsApiKey && schema.type === 'response') value['errorCode'] = 0;
  return value;
}
