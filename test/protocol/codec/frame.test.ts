import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../../src/protocol/schema/index.js';
import {
  concatChunks,
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  supportedVersionRanges,
} from '../../../src/protocol/codec/index.js';

test('encodeResponse prefixes the frame size and keeps records as separate chunks', () => {
  const records = Buffer.alloc(64 * 1024, 3);
  const encoded = encodeResponse(ApiKey.Fetch, 11, 9, {
    responses: [{ topic: 't', partitions: [{ partitionIndex: 0, records: [records] }] }],
  });
  assert.ok(encoded.chunks.includes(records));
  const bytes = concatChunks(encoded);
  assert.equal(bytes.readInt32BE(0), bytes.length - 4);
  assert.equal(encoded.sizeBytes, bytes.length);
  const decoded = decodeResponse(ApiKey.Fetch, 11, bytes.subarray(4));
  assert.equal(decoded.correlationId, 9);
  assert.deepStrictEqual(decoded.body.responses[0]!.partitions[0]!.records, records);
});

test('requests round-trip through encodeRequest, decodeRequestHeader and decodeRequestBody', () => {
  const bytes = concatChunks(
    encodeRequest(ApiKey.JoinGroup, 5, 3, null, {
      groupId: 'g',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: 60000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from([0, 1]) }],
    }),
  );
  const frame = bytes.subarray(4);
  const header = decodeRequestHeader(frame);
  assert.deepStrictEqual(
    [header.apiKey, header.apiVersion, header.correlationId, header.clientId],
    [ApiKey.JoinGroup, 5, 3, null],
  );
  const body = decodeRequestBody(ApiKey.JoinGroup, 5, frame, header.headerSizeBytes);
  assert.equal(body.groupInstanceId, null);
  assert.deepStrictEqual(body.protocols, [{ name: 'range', metadata: Buffer.from([0, 1]) }]);
});

test('an unsupported version is refused before any decoding or encoding', () => {
  assert.throws(() => decodeRequestBody(ApiKey.Produce, 8, Buffer.alloc(0), 0), /Produce version 8 is not served/);
  assert.throws(() => encodeResponse(ApiKey.Fetch, 12, 1, {}), /Fetch version 12 is not served/);
  assert.throws(() => decodeRequestBody(68, 0, Buffer.alloc(0), 0), /api key 68 is not served/);
});

test('the UNSUPPORTED_VERSION reply to ApiVersions is a v0-layout body', () => {
  const apiVersions = supportedVersionRanges().find((range) => range.apiKey === ApiKey.ApiVersions)!;
  const bytes = concatChunks(encodeResponse(ApiKey.ApiVersions, 0, 4, { errorCode: 35, apiKeys: [apiVersions] }));
  assert.equal(bytes.toString('hex'), '00000010' + '00000004' + '0023' + '00000001' + '0012' + '0000' + '0003');
});
