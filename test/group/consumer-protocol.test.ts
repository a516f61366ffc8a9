/**
 * The consumer embedded protocol against the bytes real clients write: kafkajs' AssignerProtocol
 * (the version 0 layout, which it also sends as version 1) and @platformatic/kafka's encoders
 * (versions 0-3), both ways, plus the leniency real peers need.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { encodeConsumerProtocolAssignment, encodeConsumerProtocolSubscription } from '@platformatic/kafka';
import {
  consumerProtocolAssignmentSchema,
  consumerProtocolSubscriptionSchema,
  decodeConsumerAssignment,
  decodeConsumerSubscription,
  encodeConsumerAssignment,
  encodeConsumerSubscription,
  subscriptionTopics,
} from '../../src/group/consumer-protocol.js';
import { ProtocolDecodeError } from '../../src/protocol/codec/index.js';

const { AssignerProtocol } = kafkajs;

test('subscription: kafkajs bytes (version 0 layout, also sent as version 1) decode and re-encode', () => {
  for (const version of [0, 1]) {
    const theirs = AssignerProtocol.MemberMetadata.encode({ version, topics: ['orders', 'audit'], userData: Buffer.from('ud') });
    const decoded = decodeConsumerSubscription(theirs);
    assert.equal(decoded.version, version);
    assert.deepEqual(decoded.topics, ['orders', 'audit']);
    assert.deepEqual(decoded.userData, Buffer.from('ud'));
    assert.deepEqual(decoded.ownedPartitions, [], 'absent owned partitions default to none');
    assert.equal(decoded.generationId, -1);
    assert.equal(decoded.rackId, null);
  }
  const theirs = AssignerProtocol.MemberMetadata.encode({ version: 0, topics: ['orders', 'audit'], userData: Buffer.from('ud') });
  assert.deepEqual(encodeConsumerSubscription(0, { topics: ['orders', 'audit'], userData: Buffer.from('ud') }), theirs);
});

test('assignment: kafkajs bytes decode, and ours equal theirs', () => {
  const theirs = AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: { audit: [2], orders: [0, 1] }, userData: Buffer.alloc(0) });
  const decoded = decodeConsumerAssignment(theirs);
  assert.equal(decoded.version, 0);
  assert.deepEqual(decoded.assignedPartitions, [
    { topic: 'audit', partitions: [2] },
    { topic: 'orders', partitions: [0, 1] },
  ]);
  assert.deepEqual(decoded.userData, Buffer.alloc(0));
  const ours = encodeConsumerAssignment(0, { assignedPartitions: decoded.assignedPartitions, userData: Buffer.alloc(0) });
  assert.deepEqual(ours, theirs);
});

test('subscription versions 0-3: ours byte for byte equal @platformatic/kafka, and each decodes the other', () => {
  const subscription = {
    topics: ['audit', 'orders'],
    userData: Buffer.from([7, 8, 9]),
    ownedPartitions: [
      { topic: 'audit', partitions: [1] },
      { topic: 'orders', partitions: [0, 3] },
    ],
    generationId: 42,
    rackId: 'rack-b',
  };
  for (let version = 0; version <= 3; version++) {
    const theirs = encodeConsumerProtocolSubscription({ version, ...subscription });
    const ours = encodeConsumerSubscription(version, subscription);
    assert.deepEqual(ours, theirs, `version ${version}`);
    const decoded = decodeConsumerSubscription(theirs);
    assert.equal(decoded.version, version);
    assert.deepEqual(decoded.topics, subscription.topics);
    assert.deepEqual(decoded.userData, subscription.userData);
    assert.deepEqual(decoded.ownedPartitions, version >= 1 ? subscription.ownedPartitions : []);
    assert.equal(decoded.generationId, version >= 2 ? 42 : -1);
    assert.equal(decoded.rackId, version >= 3 ? 'rack-b' : null);
  }
});

test('assignment versions 0-3: ours byte for byte equal @platformatic/kafka (one layout for all)', () => {
  const assignedPartitions = [
    { topic: 'audit', partitions: [4] },
    { topic: 'orders', partitions: [0, 2] },
  ];
  for (let version = 0; version <= 3; version++) {
    for (const userData of [null, Buffer.from('sticky')]) {
      const theirs = encodeConsumerProtocolAssignment({ version, assignedPartitions, userData });
      assert.deepEqual(encodeConsumerAssignment(version, { assignedPartitions, userData }), theirs, `version ${version}`);
      const decoded = decodeConsumerAssignment(theirs);
      assert.equal(decoded.version, version);
      assert.deepEqual(decoded.assignedPartitions, assignedPartitions);
      assert.deepEqual(decoded.userData, userData);
    }
  }
});

test('a version above 3 reads as version 3; trailing fields of a newer version are ignored', () => {
  const v3 = encodeConsumerSubscription(3, { topics: ['t'], generationId: 5, rackId: 'r' });
  const v4 = Buffer.concat([v3, Buffer.from([0xca, 0xfe])]);
  v4.writeInt16BE(4, 0);
  const decoded = decodeConsumerSubscription(v4);
  assert.equal(decoded.version, 4);
  assert.deepEqual(decoded.topics, ['t']);
  assert.equal(decoded.generationId, 5);
  assert.equal(decoded.rackId, 'r');
});

test('a body may stop at a field boundary, never inside a field', () => {
  const full = encodeConsumerAssignment(0, { assignedPartitions: [{ topic: 'orders', partitions: [0, 1, 2] }], userData: null });
  const withoutUserData = full.subarray(0, full.length - 4);
  assert.deepEqual(decodeConsumerAssignment(withoutUserData), {
    version: 0,
    assignedPartitions: [{ topic: 'orders', partitions: [0, 1, 2] }],
    userData: null,
  });
  for (let length = 2; length < full.length; length++) {
    if (length === withoutUserData.length) continue;
    assert.throws(() => decodeConsumerAssignment(full.subarray(0, length)), ProtocolDecodeError, `cut at ${length} bytes`);
  }
  const v2 = encodeConsumerSubscription(2, { topics: ['t'], ownedPartitions: [{ topic: 't', partitions: [9] }], generationId: 3 });
  // Cut inside the generation id (its last 4 bytes): a half field.
  assert.throws(() => decodeConsumerSubscription(v2.subarray(0, v2.length - 2)), ProtocolDecodeError);
  assert.deepEqual(decodeConsumerSubscription(v2.subarray(0, v2.length - 4)).ownedPartitions, [{ topic: 't', partitions: [9] }]);
});

test('subscriptionTopics: any version; garbage and negative versions are null', () => {
  assert.deepEqual(subscriptionTopics(encodeConsumerSubscription(3, { topics: ['a', 'bb'] })), ['a', 'bb']);
  assert.equal(subscriptionTopics(Buffer.from([0, 0, 0, 0, 0, 5])), null);
  assert.equal(subscriptionTopics(Buffer.alloc(1)), null);
  assert.equal(subscriptionTopics(Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])), null);
});

test('encoding refuses versions the schemas do not define', () => {
  assert.equal(consumerProtocolSubscriptionSchema.validVersions, '0-3');
  assert.equal(consumerProtocolAssignmentSchema.validVersions, '0-3');
  assert.throws(() => encodeConsumerSubscription(4, { topics: [] }), RangeError);
  assert.throws(() => encodeConsumerAssignment(-1, { assignedPartitions: [] }), RangeError);
});
