/**
 * OffsetForLeaderEpoch bodies written by hand from Kafka's message JSON, one per layout change
 * (v0, v1 adds the response leader_epoch, v2 current_leader_epoch and throttle_time_ms, v3
 * replica_id, v4 flexible), decoded by our codec and re-encoded to the same bytes. The
 * generic round-trip test (round-trip.test.ts) covers every version with generated values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, apiSchemas } from '../../../src/protocol/schema/index.js';
import { concatChunks, decodeMessage, encodeMessage } from '../../../src/protocol/codec/index.js';
import { hex } from '../golden/hand-derived.js';

const schema = apiSchemas.get(ApiKey.OffsetForLeaderEpoch)!;

function requestValue(replicaId: number, currentLeaderEpoch: number): unknown {
  return { replicaId, topics: [{ topic: 't', partitions: [{ partition: 1, currentLeaderEpoch, leaderEpoch: 3 }] }] };
}

function responseValue(throttleTimeMs: number, leaderEpoch: number): unknown {
  return { throttleTimeMs, topics: [{ topic: 't', partitions: [{ errorCode: 0, partition: 1, leaderEpoch, endOffset: 42n }] }] };
}

const requests: Array<{ version: number; bytes: Buffer; value: unknown }> = [
  // v0 and v1: no replica_id (decodes as -2) and no current_leader_epoch (decodes as -1).
  ...[0, 1].map((version) => ({
    version,
    bytes: hex('00000001 0001 74  00000001  00000001 00000003'), // [topic "t" [partition 1, leader_epoch 3]]
    value: requestValue(-2, -1),
  })),
  { version: 2, bytes: hex('00000001 0001 74  00000001  00000001 00000005 00000003'), value: requestValue(-2, 5) },
  { version: 3, bytes: hex('ffffffff  00000001 0001 74  00000001  00000001 00000005 00000003'), value: requestValue(-1, 5) },
  {
    version: 4,
    // Compact arrays (count + 1) and strings (length + 1), a tag section closing each struct.
    bytes: hex('ffffffff  02 02 74  02  00000001 00000005 00000003 00  00  00'),
    value: requestValue(-1, 5),
  },
];

const responses: Array<{ version: number; bytes: Buffer; value: unknown }> = [
  // v0: no leader_epoch (decodes as -1); error_code comes before the partition index.
  { version: 0, bytes: hex('00000001 0001 74  00000001  0000 00000001 000000000000002a'), value: responseValue(0, -1) },
  { version: 1, bytes: hex('00000001 0001 74  00000001  0000 00000001 00000003 000000000000002a'), value: responseValue(0, 3) },
  ...[2, 3].map((version) => ({
    version,
    bytes: hex('00000007  00000001 0001 74  00000001  0000 00000001 00000003 000000000000002a'),
    value: responseValue(7, 3),
  })),
  { version: 4, bytes: hex('00000007  02 02 74  02  0000 00000001 00000003 000000000000002a 00  00  00'), value: responseValue(7, 3) },
];

for (const { version, bytes, value } of requests) {
  test(`OffsetForLeaderEpoch v${version} request: hand-written bytes decode and re-encode`, () => {
    assert.deepStrictEqual(decodeMessage(schema.request, version, bytes), value);
    assert.deepStrictEqual(concatChunks(encodeMessage(schema.request, version, value)), bytes);
  });
}

for (const { version, bytes, value } of responses) {
  test(`OffsetForLeaderEpoch v${version} response: hand-written bytes decode and re-encode`, () => {
    assert.deepStrictEqual(decodeMessage(schema.response, version, bytes), value);
    assert.deepStrictEqual(concatChunks(encodeMessage(schema.response, version, value)), bytes);
  });
}

test('an OffsetForLeaderEpoch response left empty encodes Kafka\'s undefined answer, -1 / -1', () => {
  const version = 4;
  const bytes = concatChunks(encodeMessage(schema.response, version, { topics: [{ topic: 't', partitions: [{ partition: 0 }] }] }));
  const decoded = decodeMessage(schema.response, version, bytes) as { topics: Array<{ partitions: Array<{ leaderEpoch: number; endOffset: bigint }> }> };
  assert.equal(decoded.topics[0]!.partitions[0]!.leaderEpoch, -1);
  assert.equal(decoded.topics[0]!.partitions[0]!.endOffset, -1n);
});
