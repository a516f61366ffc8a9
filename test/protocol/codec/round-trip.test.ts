import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allApiSchemas } from '../../../src/protocol/schema/index.js';
import type { MessageSchema } from '../../../src/protocol/schema/types.js';
import {
  Reader,
  compile,
  concatChunks,
  decodeMessage,
  encodeMessage,
} from '../../../src/protocol/codec/index.js';
import { defaultMessage, sampleMessage, versionsOf, type SampleVariant } from './sample-values.js';

function roundTrip(schema: MessageSchema, version: number, value: unknown): { decoded: unknown; sizeBytes: number } {
  const encoded = encodeMessage(schema, version, value);
  const bytes = concatChunks(encoded);
  assert.equal(bytes.length, encoded.sizeBytes);
  const reader = new Reader(bytes);
  const decoded = compile(schema, version).decode(reader);
  assert.equal(reader.offset, bytes.length, `${schema.name} v${version} left bytes unread`);
  return { decoded, sizeBytes: encoded.sizeBytes };
}

function messagesOf(): MessageSchema[] {
  return allApiSchemas.flatMap((api): MessageSchema[] => [api.request, api.response]);
}

for (const schema of messagesOf()) {
  for (const version of versionsOf(schema)) {
    for (const variant of ['values', 'nulls'] as SampleVariant[]) {
      test(`${schema.name} v${version} round-trips (${variant})`, () => {
        const value = sampleMessage(schema, version, variant);
        const { decoded } = roundTrip(schema, version, value);
        assert.deepStrictEqual(decoded, value);
      });
    }

    test(`${schema.name} v${version} encodes an empty value as all defaults`, () => {
      const { decoded } = roundTrip(schema, version, {});
      assert.deepStrictEqual(decoded, defaultMessage(schema, version));
      // Stable shape: every schema field, in schema order, whatever the version.
      assert.deepStrictEqual(
        Object.keys(decoded as object),
        schema.fields.map((field) => field.name),
      );
    });
  }
}

test('records given as a list of byte ranges decode as their concatenation, without copying', () => {
  const schema = allApiSchemas[1].response; // Fetch
  const first = Buffer.alloc(4096, 1);
  const second = Buffer.alloc(8192, 2);
  const small = Buffer.from([9, 9, 9]);
  const encoded = encodeMessage(schema, 11, {
    responses: [{ topic: 't', partitions: [{ partitionIndex: 0, records: [first, small, second] }] }],
  });
  assert.ok(encoded.chunks.includes(first), 'large range emitted by reference');
  assert.ok(encoded.chunks.includes(second), 'large range emitted by reference');
  assert.ok(!encoded.chunks.includes(small), 'small range copied into the slab');
  const bytes = concatChunks(encoded);
  const decoded = decodeMessage(schema, 11, bytes) as {
    responses: { partitions: { records: Buffer }[] }[];
  };
  const records = decoded.responses[0]!.partitions[0]!.records;
  assert.deepStrictEqual(records, Buffer.concat([first, small, second]));
  assert.equal(records.buffer, bytes.buffer, 'decoded records are a subarray of the input');
});

test('null in a field that is not nullable in the version throws, naming the field', () => {
  const produce = allApiSchemas[0].request;
  assert.throws(
    () => encodeMessage(produce, 7, { topics: [{ name: null, partitions: [] }] }),
    (error: Error) => error instanceof TypeError && /ProduceRequest\.topics\[\]\.name is null/.test(error.message),
  );
  assert.throws(
    () => encodeMessage(produce, 7, { acks: null }),
    /ProduceRequest\.acks is null, but it is not nullable in version 7/,
  );
  // Metadata topics are nullable from v1 only.
  const metadata = allApiSchemas[3].request;
  assert.throws(() => encodeMessage(metadata, 0, { topics: null }), /MetadataRequest\.topics is null/);
  assert.doesNotThrow(() => encodeMessage(metadata, 1, { topics: null }));
});

test('a wrongly typed value names the struct being encoded', () => {
  const produce = allApiSchemas[0].request;
  assert.throws(
    () => encodeMessage(produce, 7, { topics: [{ name: 't', partitions: [{ partitionIndex: 2 ** 40 }] }] }),
    /ProduceRequest\.topics\[\]\.partitions\[\]/,
  );
  assert.throws(() => encodeMessage(produce, 7, { topics: {} }), /ProduceRequest\.topics must be an array/);
  assert.throws(() => encodeMessage(produce, 7, { topics: [null] }), /ProduceRequest\.topics\[\] must be an object/);
});

test('fields the version lacks are ignored when encoding and defaulted when decoding', () => {
  const fetch = allApiSchemas[1].response;
  const { decoded } = roundTrip(fetch, 4, {
    throttleTimeMs: 5,
    errorCode: 7, // v7+
    responses: [{ topic: 't', partitions: [{ partitionIndex: 1, preferredReadReplica: 3 }] }], // v11+
  });
  const typed = decoded as { errorCode: number; responses: { partitions: { preferredReadReplica: number; abortedTransactions: unknown }[] }[] };
  assert.equal(typed.errorCode, 0);
  assert.equal(typed.responses[0]!.partitions[0]!.preferredReadReplica, -1);
  assert.equal(typed.responses[0]!.partitions[0]!.abortedTransactions, null);
});

test('compile caches one codec per (schema, version) and rejects versions outside the range', () => {
  const produce = allApiSchemas[0].request;
  assert.equal(compile(produce, 7), compile(produce, 7));
  assert.notEqual(compile(produce, 7), compile(produce, 6));
  assert.throws(() => compile(produce, 8), /ProduceRequest version 8 is outside its valid versions 3-7/);
  assert.throws(() => compile(produce, 2), /outside its valid versions/);
});
