/**
 * Real clients against a fake broker whose every response is encoded by our codec:
 * kafkajs 2.2.4 (ApiVersions v2, Metadata v6, Produce v7) and @platformatic/kafka 2.12.1
 * (ApiVersions v3 with response header v0, Metadata v8, Produce v7). Loopback only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ApiKey } from '../../../src/protocol/schema/index.js';
import {
  decodeRequestBody,
  decodeRequestHeader,
  encodeResponse,
  isSupported,
  supportedVersionRanges,
  type EncodedMessage,
  type RequestHeader,
} from '../../../src/protocol/codec/index.js';

interface FakeBroker {
  readonly port: number;
  readonly received: RequestHeader[];
  readonly producedRecords: Buffer[];
  close(): Promise<void>;
}

function respond(header: RequestHeader, frame: Buffer, port: number, broker: FakeBroker): EncodedMessage {
  const { apiKey, apiVersion, correlationId } = header;
  if (apiKey === ApiKey.ApiVersions) {
    return encodeResponse(ApiKey.ApiVersions, apiVersion, correlationId, { apiKeys: supportedVersionRanges() });
  }
  if (apiKey === ApiKey.Metadata) {
    return encodeResponse(ApiKey.Metadata, apiVersion, correlationId, {
      brokers: [{ nodeId: 0, host: '127.0.0.1', port }],
      clusterId: 'interop',
      controllerId: 0,
      topics: [{ name: 'interop', partitions: [{ partitionIndex: 0, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0] }] }],
    });
  }
  if (apiKey === ApiKey.Produce) {
    const request = decodeRequestBody(ApiKey.Produce, apiVersion, frame, header.headerSizeBytes);
    const partition = request.topics[0]!.partitions[0]!;
    broker.producedRecords.push(Buffer.from(partition.records!));
    return encodeResponse(ApiKey.Produce, apiVersion, correlationId, {
      responses: [{ name: request.topics[0]!.name, partitions: [{ partitionIndex: partition.partitionIndex, baseOffset: 42n }] }],
    });
  }
  throw new Error(`unexpected request ${apiKey} v${apiVersion}`);
}

async function startFakeBroker(): Promise<FakeBroker> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer();
  const broker: FakeBroker = {
    port: 0,
    received: [],
    producedRecords: [],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(4, 4 + pending.readInt32BE(0));
        pending = pending.subarray(4 + frame.length);
        const header = decodeRequestHeader(frame);
        broker.received.push(header);
        assert.ok(isSupported(header.apiKey, header.apiVersion), `${header.apiKey} v${header.apiVersion}`);
        const encoded = respond(header, frame, (server.address() as net.AddressInfo).port, broker);
        socket.cork();
        for (const chunk of encoded.chunks) socket.write(chunk);
        socket.uncork();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { ...broker, port: (server.address() as net.AddressInfo).port, close: broker.close };
}

const versionsSeen = (broker: FakeBroker): string[] =>
  [...new Set(broker.received.map((header) => `${header.apiKey}v${header.apiVersion}`))].sort();

test('kafkajs 2.2.4 produces through responses encoded by our codec', async () => {
  const { Kafka, logLevel } = await import('kafkajs');
  const broker = await startFakeBroker();
  const kafka = new Kafka({ clientId: 'interop-kafkajs', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  try {
    await producer.connect();
    const result = await producer.send({ topic: 'interop', acks: -1, messages: [{ key: 'k', value: 'v' }] });
    assert.equal(result[0]!.baseOffset, '42');
    assert.deepStrictEqual(versionsSeen(broker), ['0v7', '18v2', '3v6']);
    assert.equal(broker.producedRecords.length, 1);
  } finally {
    await producer.disconnect();
    await broker.close();
  }
});

test('@platformatic/kafka 2.12.1 produces through responses encoded by our codec', async () => {
  const promiseStatics = Promise as unknown as { withResolvers?: unknown };
  if (typeof promiseStatics.withResolvers !== 'function') {
    // @platformatic/kafka 2.12.1 needs Promise.withResolvers, which Node 20 lacks.
    promiseStatics.withResolvers = <T>() => {
      let resolve!: (value: T) => void;
      let reject!: (reason: unknown) => void;
      const promise = new Promise<T>((onResolve, onReject) => {
        resolve = onResolve;
        reject = onReject;
      });
      return { promise, resolve, reject };
    };
  }
  const { Producer, stringSerializers } = await import('@platformatic/kafka');
  const broker = await startFakeBroker();
  const producer = new Producer({
    clientId: 'interop-platformatic',
    bootstrapBrokers: [`127.0.0.1:${broker.port}`],
    serializers: stringSerializers,
    retries: 0,
  });
  try {
    const result = await producer.send({ acks: -1, messages: [{ topic: 'interop', partition: 0, key: 'k', value: 'v' }] });
    assert.equal(result.offsets?.[0]?.offset, 42n);
    assert.deepStrictEqual(versionsSeen(broker), ['0v7', '18v3', '3v8']);
  } finally {
    await producer.close();
    await broker.close();
  }
});
