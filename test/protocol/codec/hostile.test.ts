import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, apiVersionsSchema, produceSchema } from '../../../src/protocol/schema/index.js';
import {
  ProtocolDecodeError,
  concatChunks,
  decodeMessage,
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponse,
  encodeResponse,
} from '../../../src/protocol/codec/index.js';
import { apiVersionsV0Request, apiVersionsV3Response, hex, metadataV0Request } from '../golden/hand-derived.js';
import * as kafkajs from '../golden/kafkajs-frames.js';
import * as platformatic from '../golden/platformatic-frames.js';

function decodeRequestFrame(frame: Buffer): void {
  const header = decodeRequestHeader(frame);
  decodeRequestBody(header.apiKey, header.apiVersion, frame, header.headerSizeBytes);
}

function assertEveryTruncationThrows(frame: Buffer, decode: (truncated: Buffer) => void, name: string): void {
  decode(frame); // the whole frame decodes
  for (let length = 0; length < frame.length; length++) {
    // A copy, so the decoder cannot see past the cut even by accident.
    const truncated = Buffer.from(frame.subarray(0, length));
    assert.throws(
      () => decode(truncated),
      (error: unknown) => error instanceof ProtocolDecodeError,
      `${name} truncated to ${length} of ${frame.length} bytes`,
    );
  }
}

const requestFrames: [string, Buffer][] = [
  ['kafkajs ApiVersions v2', Buffer.from(kafkajs.apiVersionsV2, 'hex')],
  ['kafkajs Metadata v6', Buffer.from(kafkajs.metadataV6, 'hex')],
  ['kafkajs Produce v7', Buffer.from(kafkajs.produceV7, 'hex')],
  ['platformatic ApiVersions v3', Buffer.from(platformatic.apiVersionsV3, 'hex')],
  ['platformatic Metadata v8', Buffer.from(platformatic.metadataV8, 'hex')],
  ['platformatic Produce v7', Buffer.from(platformatic.produceV7, 'hex')],
  ['hand-derived ApiVersions v0', apiVersionsV0Request.subarray(4)],
  ['hand-derived Metadata v0', metadataV0Request.subarray(4)],
];

for (const [name, frame] of requestFrames) {
  test(`${name}: every truncation throws ProtocolDecodeError`, () => {
    assertEveryTruncationThrows(frame, decodeRequestFrame, name);
  });
}

test('ApiVersions v3 response: every truncation throws ProtocolDecodeError', () => {
  assertEveryTruncationThrows(
    apiVersionsV3Response.subarray(4),
    (frame) => decodeResponse(ApiKey.ApiVersions, 3, frame),
    'ApiVersions v3 response',
  );
});

test('Fetch v11 response: every truncation throws ProtocolDecodeError', () => {
  const encoded = encodeResponse(ApiKey.Fetch, 11, 5, {
    responses: [
      {
        topic: 'golden',
        partitions: [
          {
            partitionIndex: 0,
            highWatermark: 10n,
            abortedTransactions: [{ producerId: 1n, firstOffset: 2n }],
            records: Buffer.alloc(40, 1),
          },
        ],
      },
    ],
  });
  const frame = concatChunks(encoded).subarray(4);
  assertEveryTruncationThrows(frame, (bytes) => decodeResponse(ApiKey.Fetch, 11, bytes), 'Fetch v11 response');
});

/** Produce v7 request body up to the topics array: null transactional id, acks, timeout. */
const produceBodyPrefix = hex('ffff ffff 00007530');

function expectDecodeError(bytes: Buffer, decode: (bytes: Buffer) => unknown, pattern: RegExp): void {
  const started = process.hrtime.bigint();
  const heapBefore = process.memoryUsage().heapUsed;
  assert.throws(() => decode(bytes), (error: unknown) => {
    assert.ok(error instanceof ProtocolDecodeError, `expected ProtocolDecodeError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(elapsedMs < 100, `took ${elapsedMs} ms`);
  assert.ok(process.memoryUsage().heapUsed - heapBefore < 16 * 1024 * 1024, 'no large allocation');
}

const decodeProduce = (bytes: Buffer): unknown => decodeMessage(produceSchema.request, 7, bytes);
const decodeApiVersionsV3 = (bytes: Buffer): unknown => decodeMessage(apiVersionsSchema.response, 3, bytes);

test('a huge int32 array count throws before allocating anything', () => {
  expectDecodeError(
    Buffer.concat([produceBodyPrefix, hex('7fffffff 0001 61')]),
    decodeProduce,
    /ProduceRequest\.topics: array of 2147483647 elements cannot fit/,
  );
});

test('a huge compact array count throws before allocating anything', () => {
  expectDecodeError(hex('0000 ffffffff0f 00'), decodeApiVersionsV3, /apiKeys: array of 4294967294 elements/);
});

test('negative lengths other than -1 are rejected', () => {
  expectDecodeError(Buffer.concat([produceBodyPrefix, hex('fffffffe')]), decodeProduce, /array length -2/);
  expectDecodeError(hex('fffe'), decodeProduce, /string length -2/);
  expectDecodeError(
    Buffer.concat([produceBodyPrefix, hex('00000001 0001 61 00000001 00000000 fffffff0')]),
    decodeProduce,
    /records: bytes length -16/,
  );
});

test('null for a non-nullable array or string is rejected', () => {
  expectDecodeError(Buffer.concat([produceBodyPrefix, hex('ffffffff')]), decodeProduce, /topics: non-nullable array is null/);
  expectDecodeError(
    Buffer.concat([produceBodyPrefix, hex('00000001 ffff 00000000')]),
    decodeProduce,
    /topics\[\]\.name: non-nullable string/,
  );
});

test('lengths beyond the remaining bytes throw without allocating', () => {
  expectDecodeError(hex('7fff 6162'), decodeProduce, /transactionalId: length 32767 exceeds the 2 remaining bytes/);
  expectDecodeError(
    Buffer.concat([produceBodyPrefix, hex('00000001 0001 61 00000001 00000000 7fffffff 00')]),
    decodeProduce,
    /records: length 2147483647 exceeds/,
  );
});

test('hostile tagged-field sections throw instead of looping or over-reading', () => {
  const beforeTags = hex('0000 01 00000000'); // error, empty compact array, throttle
  expectDecodeError(Buffer.concat([beforeTags, hex('ffffffff0f')]), decodeApiVersionsV3, /tagged fields: truncated varint/);
  expectDecodeError(Buffer.concat([beforeTags, hex('01 09 ffffffff07')]), decodeApiVersionsV3, /tagged field of 2147483647 bytes/);
  expectDecodeError(Buffer.concat([beforeTags, hex('01 09 ffffffffff01')]), decodeApiVersionsV3, /varint longer than 32 bits/);
});

test('a hostile request header throws ProtocolDecodeError', () => {
  expectDecodeError(hex('0012 0003 00000001 7fff'), (bytes) => decodeRequestHeader(bytes), /clientId: length 32767/);
  expectDecodeError(hex('0012 0003 00000001 ffff 05'), (bytes) => decodeRequestHeader(bytes), /RequestHeader tagged fields/);
});
