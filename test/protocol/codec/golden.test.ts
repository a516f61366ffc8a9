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
  isSupported,
} from '../../../src/protocol/codec/index.js';
import { assertReencodes } from '../golden/captured-frame.js';
import { apiVersionsV0Request, apiVersionsV3Response, metadataV0Request } from '../golden/hand-derived.js';
import * as kafkajs from '../golden/kafkajs-frames.js';
import * as platformatic from '../golden/platformatic-frames.js';

/** Parses a frame body (after the size prefix) the way the server does. */
function decodeRequestFrame(frame: Buffer): {
  header: ReturnType<typeof decodeRequestHeader>;
  body: Record<string, unknown>;
} {
  const header = decodeRequestHeader(frame);
  assert.ok(isSupported(header.apiKey, header.apiVersion));
  const body = decodeRequestBody(header.apiKey, header.apiVersion, frame, header.headerSizeBytes);
  return { header, body };
}

test('hand-derived: ApiVersions v0 request', () => {
  const encoded = concatChunks(encodeRequest(ApiKey.ApiVersions, 0, 1, 'minikafka', {}));
  assert.equal(encoded.toString('hex'), apiVersionsV0Request.toString('hex'));
  const { header } = decodeRequestFrame(apiVersionsV0Request.subarray(4));
  assert.deepStrictEqual(header, {
    apiKey: 18,
    apiVersion: 0,
    correlationId: 1,
    clientId: 'minikafka',
    headerSizeBytes: 19,
  });
});

test('hand-derived: ApiVersions v3 response uses response header v0', () => {
  const body = {
    errorCode: 0,
    apiKeys: [
      { apiKey: 0, minVersion: 3, maxVersion: 7 },
      { apiKey: 18, minVersion: 0, maxVersion: 3 },
    ],
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: 1n,
    finalizedFeatures: [],
    zkMigrationReady: true,
  };
  const encoded = concatChunks(encodeResponse(ApiKey.ApiVersions, 3, 7, body));
  assert.equal(encoded.toString('hex'), apiVersionsV3Response.toString('hex'));
  const decoded = decodeResponse(ApiKey.ApiVersions, 3, apiVersionsV3Response.subarray(4));
  assert.equal(decoded.correlationId, 7);
  assert.deepStrictEqual(decoded.body, body);
});

test('hand-derived: Metadata v0 request', () => {
  const encoded = concatChunks(encodeRequest(ApiKey.Metadata, 0, 2, 'minikafka', { topics: [{ name: 'golden' }] }));
  assert.equal(encoded.toString('hex'), metadataV0Request.toString('hex'));
  const { body } = decodeRequestFrame(metadataV0Request.subarray(4));
  assert.deepStrictEqual(body, {
    topics: [{ name: 'golden' }],
    allowAutoTopicCreation: true, // v4+ field: its default
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
});

/** Checks a captured Produce v7 frame with one batch of two records. */
function assertProduceV7(frame: Buffer, clientId: string, timeoutMs: number): void {
  const decoded = decodeRequestFrame(frame);
  assert.equal(decoded.header.apiKey, ApiKey.Produce);
  assert.equal(decoded.header.apiVersion, 7);
  assert.equal(decoded.header.clientId, clientId);
  const body = decodeRequestBody(ApiKey.Produce, 7, frame, decoded.header.headerSizeBytes);
  assert.equal(body.transactionalId, null);
  assert.equal(body.acks, -1);
  assert.equal(body.timeoutMs, timeoutMs);
  assert.equal(body.topics.length, 1);
  assert.equal(body.topics[0]!.name, 'golden');
  assert.equal(body.topics[0]!.partitions.length, 1);
  assert.equal(body.topics[0]!.partitions[0]!.partitionIndex, 0);
  const records = body.topics[0]!.partitions[0]!.records;
  assert.ok(records !== null);
  // The records field holds exactly one batch: baseOffset (8) + batchLength (4) + batchLength.
  const batchLengthBytes = records.readInt32BE(8);
  assert.equal(records.length, 12 + batchLengthBytes);
  assert.equal(records.readInt8(16), 2, 'magic 2');
  assert.equal(records.readInt32BE(57), 2, 'two records');
  assert.equal(records.buffer, frame.buffer, 'records is a subarray of the frame, not a copy');
  assertReencodes(frame);
}

test('kafkajs 2.2.4: ApiVersions v2', () => {
  const frame = Buffer.from(kafkajs.apiVersionsV2, 'hex');
  const { header, body } = decodeRequestFrame(frame);
  assert.deepStrictEqual([header.apiKey, header.apiVersion, header.clientId], [18, 2, kafkajs.kafkajsClientId]);
  assert.equal(header.headerSizeBytes, frame.length, 'v2 has an empty body');
  assert.deepStrictEqual(body, { clientSoftwareName: '', clientSoftwareVersion: '' });
  assertReencodes(frame);
});

test('kafkajs 2.2.4: Metadata v6', () => {
  const frame = Buffer.from(kafkajs.metadataV6, 'hex');
  const { header } = decodeRequestFrame(frame);
  assert.deepStrictEqual([header.apiKey, header.apiVersion, header.clientId], [3, 6, kafkajs.kafkajsClientId]);
  const body = decodeRequestBody(ApiKey.Metadata, 6, frame, header.headerSizeBytes);
  assert.deepStrictEqual(body.topics, [{ name: 'golden' }]);
  assert.equal(body.allowAutoTopicCreation, false);
  assertReencodes(frame);
});

test('kafkajs 2.2.4: Produce v7 with one batch of two keyed records', () => {
  assertProduceV7(Buffer.from(kafkajs.produceV7, 'hex'), kafkajs.kafkajsClientId, 30000);
});

test('@platformatic/kafka 2.12.1: ApiVersions v3 is flexible with request header v2', () => {
  const frame = Buffer.from(platformatic.apiVersionsV3, 'hex');
  const { header, body } = decodeRequestFrame(frame);
  assert.deepStrictEqual([header.apiKey, header.apiVersion, header.clientId], [18, 3, platformatic.platformaticClientId]);
  // key, version, correlation id, int16-length client id, then the header's tag section.
  assert.equal(header.headerSizeBytes, 2 + 2 + 4 + 2 + platformatic.platformaticClientId.length + 1);
  assert.deepStrictEqual(body, { clientSoftwareName: 'platformatic-kafka', clientSoftwareVersion: '2.12.1' });
  assertReencodes(frame);
});

test('@platformatic/kafka 2.12.1: Metadata v8', () => {
  const frame = Buffer.from(platformatic.metadataV8, 'hex');
  const { header, body } = decodeRequestFrame(frame);
  assert.deepStrictEqual([header.apiKey, header.apiVersion], [3, 8]);
  assert.deepStrictEqual(body, {
    topics: [{ name: 'golden' }],
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  assertReencodes(frame);
});

test('@platformatic/kafka 2.12.1: Produce v7 with one batch of two keyed records', () => {
  assertProduceV7(Buffer.from(platformatic.produceV7, 'hex'), platformatic.platformaticClientId, 5000);
});
