/**
 * Decoding a captured request frame the way the server does, for the golden tests, plus what
 * fake-broker.mjs told the clients while they were captured (the frames must carry it back).
 */
import assert from 'node:assert/strict';
import type { ApiKeyValue } from '../../../src/protocol/schema/index.js';
import {
  concatChunks,
  decodeRequestBody,
  decodeRequestHeader,
  encodeRequest,
  isSupported,
  type RequestBody,
  type RequestHeader,
} from '../../../src/protocol/codec/index.js';

/** fakeBrokerFacts in fake-broker.mjs, and the names the capture scripts use. */
export const captureFacts = {
  topic: 'golden',
  groupId: 'golden-group',
  transactionalId: 'golden-txn',
  groupGenerationId: 7,
  memberId: 'golden-member-1',
  producerId: 4000n,
  producerEpoch: 3,
  /** The consumers were configured with these. */
  sessionTimeoutMs: 25000,
  rebalanceTimeoutMs: 40000,
  maxWaitMs: 250,
} as const;

/** Decodes a captured frame (after the size prefix), checking its api key, version and client id. */
export function decodeCapturedRequest<K extends ApiKeyValue>(
  hex: string,
  apiKey: K,
  apiVersion: number,
  clientId: string,
): { header: RequestHeader; body: RequestBody<K>; frame: Buffer } {
  const frame = Buffer.from(hex, 'hex');
  const header = decodeRequestHeader(frame);
  assert.deepStrictEqual([header.apiKey, header.apiVersion, header.clientId], [apiKey, apiVersion, clientId]);
  assert.ok(isSupported(header.apiKey, header.apiVersion));
  return { header, body: decodeRequestBody(apiKey, apiVersion, frame, header.headerSizeBytes), frame };
}

/** Re-encodes a decoded request and checks it reproduces the frame byte for byte. */
export function assertReencodes(frame: Buffer): void {
  const header = decodeRequestHeader(frame);
  const body = decodeRequestBody(header.apiKey, header.apiVersion, frame, header.headerSizeBytes);
  const encoded = concatChunks(encodeRequest(header.apiKey, header.apiVersion, header.correlationId, header.clientId, body));
  assert.equal(encoded.readInt32BE(0), frame.length);
  assert.equal(encoded.subarray(4).toString('hex'), frame.toString('hex'));
}
