import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsRecordKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMetadataValue,
  type OffsetCommitValue,
} from '../../src/group/offsets-records.js';
import { subscriptionTopics } from '../../src/group/consumer-protocol.js';
import { subscription } from './harness.js';

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

test('offset commit key: Kafka layout (int16 1, group, topic, int32 partition) and round trip', () => {
  const key = encodeOffsetCommitKey('g', 'topic', 7);
  assert.deepEqual(key, hex('0001 0001 67 0005 746f706963 00000007'));
  assert.deepEqual(decodeOffsetsRecordKey(key), { kind: 'offsetCommit', group: 'g', topic: 'topic', partition: 7 });
  // Version 0 keys (pre-0.10) have the same body.
  assert.deepEqual(decodeOffsetsRecordKey(hex('0000 0001 67 0001 74 00000000')), {
    kind: 'offsetCommit',
    group: 'g',
    topic: 't',
    partition: 0,
  });
});

test('group metadata key: int16 2 then the group; unknown record types are reported', () => {
  const key = encodeGroupMetadataKey('my-group');
  assert.deepEqual(key, hex('0002 0008 6d792d67726f7570'));
  assert.deepEqual(decodeOffsetsRecordKey(key), { kind: 'groupMetadata', group: 'my-group' });
  assert.deepEqual(decodeOffsetsRecordKey(hex('0003 0001 67')), { kind: 'unknown', recordType: 3 });
});

test('offset commit value v3: offset, leader epoch, metadata, commit timestamp', () => {
  const value: OffsetCommitValue = {
    offset: 1234n,
    leaderEpoch: 5,
    metadata: 'hi',
    commitTimestampMs: 1_700_000_000_000,
    expireTimestampMs: -1,
  };
  const bytes = encodeOffsetCommitValue(value);
  assert.deepEqual(
    bytes,
    hex('0003 00000000000004d2 00000005 0002 6869' + (1_700_000_000_000).toString(16).padStart(16, '0')),
  );
  assert.deepEqual(decodeOffsetCommitValue(bytes), value);
});

test('offset commit value v1 carries an expire timestamp and no leader epoch', () => {
  const value: OffsetCommitValue = { offset: 1n, leaderEpoch: -1, metadata: '', commitTimestampMs: 1000, expireTimestampMs: 2000 };
  const bytes = encodeOffsetCommitValue(value);
  assert.equal(bytes.readInt16BE(0), 1);
  assert.equal(bytes.length, 2 + 8 + 2 + 8 + 8);
  assert.deepEqual(decodeOffsetCommitValue(bytes), value);
  // v0 and v2: no expiry, no epoch.
  const v0 = hex('0000 0000000000000009 0000 00000000000003e8');
  assert.deepEqual(decodeOffsetCommitValue(v0), { offset: 9n, leaderEpoch: -1, metadata: '', commitTimestampMs: 1000, expireTimestampMs: -1 });
  // v4 is flexible (compact strings, tagged fields), as newer Kafka writes it.
  const v4 = hex('0004 0000000000000009 00000002 03 6f6b 00000000000003e8 00');
  assert.deepEqual(decodeOffsetCommitValue(v4), { offset: 9n, leaderEpoch: 2, metadata: 'ok', commitTimestampMs: 1000, expireTimestampMs: -1 });
  assert.throws(() => decodeOffsetCommitValue(hex('0009 00')), /unknown value version 9/);
});

test('group metadata value v3 round trip, with members and empty', () => {
  const value: GroupMetadataValue = {
    protocolType: 'consumer',
    generationId: 12,
    protocolName: 'range',
    leaderId: 'member-1',
    currentStateTimestampMs: 1_700_000_000_123,
    members: [
      {
        memberId: 'member-1',
        groupInstanceId: 'instance-1',
        clientId: 'client',
        clientHost: '/10.0.0.1',
        rebalanceTimeoutMs: 300_000,
        sessionTimeoutMs: 45_000,
        subscription: subscription(['a', 'b']),
        assignment: Buffer.from([0, 1, 2, 3]),
      },
      {
        memberId: 'member-2',
        groupInstanceId: null,
        clientId: 'client',
        clientHost: '/10.0.0.2',
        rebalanceTimeoutMs: 60_000,
        sessionTimeoutMs: 30_000,
        subscription: Buffer.alloc(0),
        assignment: Buffer.alloc(0),
      },
    ],
  };
  const bytes = encodeGroupMetadataValue(value);
  assert.equal(bytes.readInt16BE(0), 3);
  assert.deepEqual(decodeGroupMetadataValue(bytes), value);

  const empty: GroupMetadataValue = {
    protocolType: 'consumer',
    generationId: 3,
    protocolName: null,
    leaderId: null,
    currentStateTimestampMs: 5,
    members: [],
  };
  const emptyBytes = encodeGroupMetadataValue(empty);
  // version, "consumer", generation, null protocol, null leader, timestamp, 0 members
  assert.deepEqual(emptyBytes, hex('0003 0008 636f6e73756d6572 00000003 ffff ffff 0000000000000005 00000000'));
  assert.deepEqual(decodeGroupMetadataValue(emptyBytes), empty);
});

test('group metadata value v0: the session timeout stands in for the rebalance timeout', () => {
  const v0 = hex(
    '0000 0008 636f6e73756d6572 00000001 0005 72616e6765 0001 6d' +
      '00000001 0001 6d 0001 63 0001 68 00002710 00000000 00000000',
  );
  const value = decodeGroupMetadataValue(v0);
  assert.equal(value.currentStateTimestampMs, -1);
  assert.deepEqual(value.members[0], {
    memberId: 'm',
    groupInstanceId: null,
    clientId: 'c',
    clientHost: 'h',
    rebalanceTimeoutMs: 10_000,
    sessionTimeoutMs: 10_000,
    subscription: Buffer.alloc(0),
    assignment: Buffer.alloc(0),
  });
});

test('decoded byte fields are copies, safe after the source buffer is reused', () => {
  const bytes = encodeGroupMetadataValue({
    protocolType: 'consumer',
    generationId: 1,
    protocolName: 'range',
    leaderId: 'm',
    currentStateTimestampMs: 1,
    members: [
      {
        memberId: 'm',
        groupInstanceId: null,
        clientId: 'c',
        clientHost: 'h',
        rebalanceTimeoutMs: 1,
        sessionTimeoutMs: 1,
        subscription: Buffer.from('sub'),
        assignment: Buffer.from('asg'),
      },
    ],
  });
  const decoded = decodeGroupMetadataValue(bytes);
  bytes.fill(0);
  assert.equal(decoded.members[0]!.subscription.toString(), 'sub');
  assert.equal(decoded.members[0]!.assignment.toString(), 'asg');
});

test('consumer protocol subscription topics, any version; garbage is null', () => {
  assert.deepEqual(subscriptionTopics(subscription(['a', 'bb'])), ['a', 'bb']);
  assert.deepEqual(subscriptionTopics(subscription(['t'], [0, 1])), ['t']);
  assert.equal(subscriptionTopics(Buffer.from([0, 0, 0, 0, 0, 5])), null);
  assert.equal(subscriptionTopics(Buffer.alloc(1)), null);
  assert.equal(subscriptionTopics(Buffer.from([0xff, 0xff, 0, 0, 0, 0])), null);
});
