/**
 * Golden transaction requests: frames captured from kafkajs 2.2.4 and @platformatic/kafka
 * 2.12.1 transactional producers (capture-*.mjs: init, send, add the consumer group's offset,
 * commit), decoded by our codec, checked whole and re-encoded to the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../../src/protocol/schema/index.js';
import { decodeRecordBatches } from '../../../src/protocol/records/index.js';
import { assertReencodes, captureFacts, decodeCapturedRequest } from '../golden/captured-frame.js';
import { initProducerIdV1Response, initProducerIdV4Response } from '../golden/hand-derived.js';
import { concatChunks, decodeResponse, encodeResponse } from '../../../src/protocol/codec/index.js';
import * as kafkajs from '../golden/kafkajs-frames.js';
import * as platformatic from '../golden/platformatic-frames.js';

const { topic, groupId, transactionalId, producerId, producerEpoch } = captureFacts;

const libraries = [
  {
    label: 'kafkajs 2.2.4',
    clientId: kafkajs.kafkajsClientId,
    frames: {
      findCoordinator: kafkajs.transactionFindCoordinatorV2,
      initProducerId: kafkajs.initProducerIdV1,
      addPartitionsToTxn: kafkajs.addPartitionsToTxnV1,
      produce: kafkajs.transactionalProduceV7,
      addOffsetsToTxn: kafkajs.addOffsetsToTxnV1,
      endTxn: kafkajs.endTxnV1,
    },
    transactionTimeoutMs: 45000, // configured in capture-kafkajs.mjs
    produceTimeoutMs: 30000,
  },
  {
    label: '@platformatic/kafka 2.12.1',
    clientId: platformatic.platformaticClientId,
    frames: {
      findCoordinator: platformatic.transactionFindCoordinatorV2,
      initProducerId: platformatic.initProducerIdV1,
      addPartitionsToTxn: platformatic.addPartitionsToTxnV1,
      produce: platformatic.transactionalProduceV7,
      addOffsetsToTxn: platformatic.addOffsetsToTxnV1,
      endTxn: platformatic.endTxnV1,
    },
    transactionTimeoutMs: 5000, // its default
    produceTimeoutMs: 5000,
  },
] as const;

for (const library of libraries) {
  const { label, clientId, frames } = library;

  test(`${label}: FindCoordinator v2 for the transaction coordinator (key type 1)`, () => {
    const { body, frame } = decodeCapturedRequest(frames.findCoordinator, ApiKey.FindCoordinator, 2, clientId);
    assert.deepStrictEqual(body, { key: transactionalId, keyType: 1 });
    assertReencodes(frame);
  });

  test(`${label}: InitProducerId v1 with the transactional id`, () => {
    const { body, frame } = decodeCapturedRequest(frames.initProducerId, ApiKey.InitProducerId, 1, clientId);
    // v1 has no producer id and epoch: they decode as -1 / -1 (no current producer).
    assert.deepStrictEqual(body, { transactionalId, transactionTimeoutMs: library.transactionTimeoutMs, producerId: -1n, producerEpoch: -1 });
    assertReencodes(frame);
  });

  test(`${label}: AddPartitionsToTxn v1 adds partition 0`, () => {
    const { body, frame } = decodeCapturedRequest(frames.addPartitionsToTxn, ApiKey.AddPartitionsToTxn, 1, clientId);
    assert.deepStrictEqual(body, { transactionalId, producerId, producerEpoch, topics: [{ name: topic, partitions: [0] }] });
    assertReencodes(frame);
  });

  test(`${label}: Produce v7 inside the transaction sends a transactional batch`, () => {
    const { body, frame } = decodeCapturedRequest(frames.produce, ApiKey.Produce, 7, clientId);
    assert.equal(body.transactionalId, transactionalId);
    assert.equal(body.acks, -1);
    assert.equal(body.timeoutMs, library.produceTimeoutMs);
    assert.deepStrictEqual(
      body.topics.map((entry) => [entry.name, entry.partitions.map((partition) => partition.partitionIndex)]),
      [[topic, [0]]],
    );
    const [batch, ...more] = decodeRecordBatches(body.topics[0]!.partitions[0]!.records!);
    assert.equal(more.length, 0);
    assert.equal(batch!.isTransactional, true);
    assert.equal(batch!.producerId, Number(producerId));
    assert.equal(batch!.producerEpoch, producerEpoch);
    assert.equal(batch!.baseSequence, 0);
    assert.deepStrictEqual(
      batch!.records.map((record) => [record.key?.toString(), record.value?.toString()]),
      [['txn-key', 'txn-value']],
    );
    assertReencodes(frame);
  });

  test(`${label}: AddOffsetsToTxn v1 adds the consumer group`, () => {
    const { body, frame } = decodeCapturedRequest(frames.addOffsetsToTxn, ApiKey.AddOffsetsToTxn, 1, clientId);
    assert.deepStrictEqual(body, { transactionalId, producerId, producerEpoch, groupId });
    assertReencodes(frame);
  });

  test(`${label}: EndTxn v1 commits`, () => {
    const { body, frame } = decodeCapturedRequest(frames.endTxn, ApiKey.EndTxn, 1, clientId);
    assert.deepStrictEqual(body, { transactionalId, producerId, producerEpoch, committed: true });
    assertReencodes(frame);
  });
}

test('kafkajs 2.2.4: InitProducerId v1 of the idempotent producer has no transactional id', () => {
  const { body, frame } = decodeCapturedRequest(kafkajs.idempotentInitProducerIdV1, ApiKey.InitProducerId, 1, kafkajs.kafkajsClientId);
  assert.deepStrictEqual(body, { transactionalId: null, transactionTimeoutMs: 45000, producerId: -1n, producerEpoch: -1 });
  assertReencodes(frame);
});

test('@platformatic/kafka 2.12.1: InitProducerId v4 is flexible and sends producer id 0 / epoch 0, not -1 / -1', () => {
  const { body, frame } = decodeCapturedRequest(platformatic.initProducerIdV4, ApiKey.InitProducerId, 4, platformatic.platformaticClientId);
  assert.deepStrictEqual(body, { transactionalId, transactionTimeoutMs: 5000, producerId: 0n, producerEpoch: 0 });
  assertReencodes(frame);
});

test('hand-derived: InitProducerId responses, v4 with response header v1 (tags), v1 with header v0', () => {
  const granted = { throttleTimeMs: 0, errorCode: 0, producerId: 4000n, producerEpoch: 0 };
  assert.equal(concatChunks(encodeResponse(ApiKey.InitProducerId, 4, 4, granted)).toString('hex'), initProducerIdV4Response.toString('hex'));
  assert.deepStrictEqual(decodeResponse(ApiKey.InitProducerId, 4, initProducerIdV4Response.subarray(4)).body, granted);
  const waiting = { throttleTimeMs: 0, errorCode: 14, producerId: -1n, producerEpoch: -1 };
  assert.equal(concatChunks(encodeResponse(ApiKey.InitProducerId, 1, 4, waiting)).toString('hex'), initProducerIdV1Response.toString('hex'));
});

test('kafkajs 2.2.4: TxnOffsetCommit v1 commits offset 2 for the group', () => {
  const { body, frame } = decodeCapturedRequest(kafkajs.txnOffsetCommitV1, ApiKey.TxnOffsetCommit, 1, kafkajs.kafkajsClientId);
  assert.deepStrictEqual(body, {
    transactionalId,
    groupId,
    producerId,
    producerEpoch,
    topics: [
      // committedLeaderEpoch is a v2+ field: its default.
      { name: topic, partitions: [{ partitionIndex: 0, committedOffset: 2n, committedLeaderEpoch: -1, committedMetadata: null }] },
    ],
  });
  assertReencodes(frame);
});

test('@platformatic/kafka 2.12.1: TxnOffsetCommit v2 commits the consumed offset + 1 with the leader epoch', () => {
  const { body, frame } = decodeCapturedRequest(
    platformatic.txnOffsetCommitV2,
    ApiKey.TxnOffsetCommit,
    2,
    platformatic.platformaticClientId,
  );
  assert.deepStrictEqual(body, {
    transactionalId,
    groupId,
    producerId,
    producerEpoch,
    // The message added was the fake broker's record at offset 1; Metadata gave leader epoch 0.
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 2n, committedLeaderEpoch: 0, committedMetadata: null }] }],
  });
  assertReencodes(frame);
});
