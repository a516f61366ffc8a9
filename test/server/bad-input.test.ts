/**
 * Bad input from the network: each case must get an error code or close only its own
 * connection, and the broker must keep serving every other client.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { decodeResponse } from '../../src/protocol/codec/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { RawConnection } from '../helpers/raw-client.js';
import { createTopic, keyedBatch, leaderConnection, produce } from './broker-fixtures.js';

let broker: BrokerHandle;
let healthy: RawConnection;

before(async () => {
  broker = await startBroker({ nodes: 1, logLevel: 'silent', broker: { 'socket.request.max.bytes': 1024 * 1024, 'message.max.bytes': 100_000 } });
  assert.equal(await createTopic(broker, 'sturdy', 1), ErrorCode.NONE);
  healthy = await leaderConnection(broker, 'sturdy', 0);
});

after(async () => {
  healthy.close();
  await broker.stop();
});

/** After every bad case, an untouched connection still produces. */
async function assertStillServing(): Promise<void> {
  const result = await produce(healthy, 'sturdy', 0, keyedBatch(2));
  assert.equal(result.errorCode, ErrorCode.NONE);
}

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

test('garbage bytes close that connection only', async () => {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  connection.writeRaw(frame(Buffer.from('this is not a kafka request at all, just text')));
  assert.equal(await connection.waitForClose(), true);
  await assertStillServing();
});

test('a negative length prefix closes the connection', async () => {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  connection.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 2, 3]));
  assert.equal(await connection.waitForClose(), true);
  await assertStillServing();
});

test('a length prefix above socket.request.max.bytes closes the connection before reading the body', async () => {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(64 * 1024 * 1024);
  connection.writeRaw(prefix);
  assert.equal(await connection.waitForClose(), true);
  await assertStillServing();
});

test('a truncated frame followed by a disconnect leaves the broker serving', async () => {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(500);
  connection.writeRaw(Buffer.concat([prefix, Buffer.alloc(100, 7)]));
  await new Promise((resolve) => setTimeout(resolve, 50));
  connection.close();
  await assertStillServing();
});

test('a truncated body inside a complete frame closes the connection', async () => {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  const header = Buffer.alloc(10);
  header.writeInt16BE(ApiKey.Produce, 0);
  header.writeInt16BE(7, 2);
  header.writeInt32BE(99, 4);
  header.writeInt16BE(-1, 8);
  connection.writeRaw(frame(Buffer.concat([header, Buffer.from([0xff, 0xff, 0, 1])])));
  assert.equal(await connection.waitForClose(), true);
  await assertStillServing();
});

test('an unknown API key closes the connection', async () => {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  const header = Buffer.alloc(10);
  header.writeInt16BE(999, 0);
  header.writeInt16BE(0, 2);
  header.writeInt32BE(1, 4);
  header.writeInt16BE(-1, 8);
  connection.writeRaw(frame(header));
  assert.equal(await connection.waitForClose(), true);
  await assertStillServing();
});

test('an unsupported version of a known API closes the connection', async () => {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  const header = Buffer.alloc(10);
  header.writeInt16BE(ApiKey.Produce, 0);
  header.writeInt16BE(2, 2); // we serve Produce 3-7
  header.writeInt32BE(1, 4);
  header.writeInt16BE(-1, 8);
  connection.writeRaw(frame(header));
  assert.equal(await connection.waitForClose(), true);
  await assertStillServing();
});

test('an API we do not serve yet (AddPartitionsToTxn) closes the connection instead of hanging', async () => {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  connection.send(ApiKey.AddPartitionsToTxn, 1, { transactionalId: 'txn', producerId: 1n, producerEpoch: 0, topics: [] });
  assert.equal(await connection.waitForClose(), true);
  await assertStillServing();
});

test('ApiVersions at an unsupported version gets error 35 with the v0 layout, and the connection stays open', async () => {
  const connection = await RawConnection.fromBootstrap(broker.bootstrapServers);
  const header = Buffer.alloc(10);
  header.writeInt16BE(ApiKey.ApiVersions, 0);
  header.writeInt16BE(9, 2);
  header.writeInt32BE(77, 4);
  header.writeInt16BE(-1, 8);
  // v9 would be flexible: header v2 adds an empty tagged-field section; body: empty compact strings + tags.
  connection.writeRaw(frame(Buffer.concat([header, Buffer.from([0, 1, 1, 0])])));
  const response = decodeResponse(ApiKey.ApiVersions, 0, await connection.readFrame());
  assert.equal(response.correlationId, 77);
  const body = response.body as { errorCode: number; apiKeys: Array<{ apiKey: number; minVersion: number; maxVersion: number }> };
  assert.equal(body.errorCode, ErrorCode.UNSUPPORTED_VERSION);
  assert.deepEqual(body.apiKeys.find((entry) => entry.apiKey === ApiKey.ApiVersions), { apiKey: 18, minVersion: 0, maxVersion: 3 });
  const retry = await connection.request<{ errorCode: number }>(ApiKey.ApiVersions, 0, {});
  assert.equal(retry.errorCode, ErrorCode.NONE);
  connection.close();
});

test('a batch with a bad CRC gets CORRUPT_MESSAGE and nothing is appended', async () => {
  const connection = await leaderConnection(broker, 'sturdy', 0);
  const batch = keyedBatch(3);
  batch[batch.length - 2]! ^= 0x55;
  const result = await produce(connection, 'sturdy', 0, batch);
  assert.equal(result.errorCode, ErrorCode.CORRUPT_MESSAGE);
  const good = await produce(connection, 'sturdy', 0, keyedBatch(1));
  assert.equal(good.errorCode, ErrorCode.NONE);
  connection.close();
});

test('malformed batches map to Kafka errors: old magic, truncated, empty, too large', async () => {
  const connection = await leaderConnection(broker, 'sturdy', 0);
  const oldMagic = keyedBatch(1);
  oldMagic.writeInt8(1, 16);
  assert.equal((await produce(connection, 'sturdy', 0, oldMagic)).errorCode, ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
  assert.equal((await produce(connection, 'sturdy', 0, keyedBatch(3).subarray(0, 40))).errorCode, ErrorCode.CORRUPT_MESSAGE);
  assert.equal((await produce(connection, 'sturdy', 0, null)).errorCode, ErrorCode.INVALID_RECORD);
  const huge = keyedBatch(1, 'x'.repeat(200 * 1024));
  assert.equal((await produce(connection, 'sturdy', 0, huge)).errorCode, ErrorCode.MESSAGE_TOO_LARGE);
  assert.equal((await produce(connection, 'sturdy', 0, keyedBatch(1), 2)).errorCode, ErrorCode.INVALID_REQUIRED_ACKS);
  const twoBatches = Buffer.concat([keyedBatch(1), keyedBatch(2)]);
  assert.equal((await produce(connection, 'sturdy', 0, twoBatches)).errorCode, ErrorCode.INVALID_RECORD, 'one batch per partition (v3+)');
  connection.close();
  await assertStillServing();
});
