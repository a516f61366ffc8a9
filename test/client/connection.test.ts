import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { BrokerConnection } from '../../src/client/connection.js';
import { ConnectionError, RequestTimeoutError } from '../../src/client/errors.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import {
  decodeRequestBody,
  encodeResponse,
  supportedVersionRanges,
  type ApiVersionRange,
} from '../../src/protocol/codec/index.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { FakeServer, type FakeRequest, type FakeReply } from './fake-server.js';

const metadataBody = { brokers: [{ nodeId: 0, host: '127.0.0.1', port: 1 }], controllerId: 0, topics: [] };

function apiVersionsReply(request: FakeRequest, ranges: readonly ApiVersionRange[] = supportedVersionRanges()): FakeReply {
  const { apiVersion, correlationId } = request.header;
  return encodeResponse(ApiKey.ApiVersions, apiVersion, correlationId, { apiKeys: ranges });
}

function metadataReply(request: FakeRequest): FakeReply {
  return encodeResponse(ApiKey.Metadata, request.header.apiVersion, request.header.correlationId, metadataBody);
}

/** Answers ApiVersions with our own ranges and Metadata with one broker; else `other`. */
function standardHandler(other: (request: FakeRequest) => FakeReply | Promise<FakeReply> = () => 'close') {
  return (request: FakeRequest): FakeReply | Promise<FakeReply> => {
    if (request.header.apiKey === ApiKey.ApiVersions) return apiVersionsReply(request);
    if (request.header.apiKey === ApiKey.Metadata) return metadataReply(request);
    return other(request);
  };
}

async function withServer(
  handler: (request: FakeRequest) => FakeReply | Promise<FakeReply>,
  body: (server: FakeServer) => Promise<void>,
): Promise<void> {
  const server = await FakeServer.start(handler);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

test('connect negotiates with ApiVersions v3 and picks min(our max, broker max) per API', async () => {
  const ranges: ApiVersionRange[] = [
    { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 3 },
    { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 5 },
    { apiKey: ApiKey.Fetch, minVersion: 0, maxVersion: 13 },
    { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12 },
  ];
  let softwareName = '';
  await withServer(
    (request) => {
      const body = decodeRequestBody(ApiKey.ApiVersions, request.header.apiVersion, request.frame, request.header.headerSizeBytes);
      softwareName = `${body.clientSoftwareName}/${body.clientSoftwareVersion}`;
      return apiVersionsReply(request, ranges);
    },
    async (server) => {
      const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: server.port });
      try {
        assert.deepStrictEqual(server.received.map((header) => [header.apiKey, header.apiVersion]), [[ApiKey.ApiVersions, 3]]);
        assert.equal(softwareName, 'minikafka/0.1.0');
        assert.equal(connection.versionFor(ApiKey.Produce), 5);
        assert.equal(connection.versionFor(ApiKey.Fetch), 11);
        assert.equal(connection.versionFor(ApiKey.Metadata), 8);
        assert.throws(() => connection.versionFor(ApiKey.ListOffsets), (error: unknown) => {
          return error instanceof KafkaError && error.code === ErrorCode.UNSUPPORTED_VERSION;
        });
      } finally {
        await connection.close();
      }
    },
  );
});

test('an UNSUPPORTED_VERSION reply (v0 layout) to ApiVersions v3 makes the client fall back to v0', async () => {
  await withServer(
    (request) => {
      const { apiVersion, correlationId } = request.header;
      if (apiVersion > 2) {
        return encodeResponse(ApiKey.ApiVersions, 0, correlationId, {
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          apiKeys: [{ apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 2 }],
        });
      }
      return encodeResponse(ApiKey.ApiVersions, apiVersion, correlationId, {
        apiKeys: [
          { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 2 },
          { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 4 },
        ],
      });
    },
    async (server) => {
      const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: server.port });
      try {
        assert.deepStrictEqual(server.received.map((header) => header.apiVersion), [3, 0]);
        assert.equal(connection.versionFor(ApiKey.Metadata), 4);
      } finally {
        await connection.close();
      }
    },
  );
});

test('many requests in flight are matched to their responses by correlation id', async () => {
  await withServer(standardHandler(), async (server) => {
    const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: server.port });
    try {
      const version = connection.versionFor(ApiKey.Metadata);
      const requests = Array.from({ length: 50 }, () =>
        connection.request(ApiKey.Metadata, version, { topics: [] }),
      );
      assert.equal(connection.inFlightRequestCount > 0, true);
      const responses = await Promise.all(requests);
      assert.equal(responses.length, 50);
      for (const response of responses) assert.equal(response.brokers[0]!.nodeId, 0);
      assert.equal(connection.inFlightRequestCount, 0);
    } finally {
      await connection.close();
    }
  });
});

test('responses written one byte at a time are reassembled', async () => {
  await withServer(standardHandler(), async (server) => {
    const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: server.port });
    server.setHandler((request) => {
      const reply = metadataReply(request) as { chunks: Buffer[]; sizeBytes: number };
      const bytes = Buffer.concat(reply.chunks, reply.sizeBytes);
      for (let index = 0; index < bytes.length; index++) request.socket.write(bytes.subarray(index, index + 1));
      return 'no-response';
    });
    try {
      const response = await connection.requestNegotiated(ApiKey.Metadata, { topics: [] });
      assert.equal(response.controllerId, 0);
    } finally {
      await connection.close();
    }
  });
});

test('a request without a response in time fails with RequestTimeoutError and closes the connection', async () => {
  await withServer(standardHandler(() => 'no-response'), async (server) => {
    const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: server.port });
    try {
      const startedMs = Date.now();
      const slow = connection.request(ApiKey.DeleteTopics, 3, { topicNames: ['t'], timeoutMs: 1 }, 200);
      const other = connection.request(ApiKey.DeleteTopics, 3, { topicNames: ['u'], timeoutMs: 1 }, 5_000);
      await assert.rejects(slow, (error: unknown) => {
        assert.ok(error instanceof RequestTimeoutError);
        assert.match(error.message, /DeleteTopics v3 got no response within 200 ms/);
        return true;
      });
      await assert.rejects(other, (error: unknown) => error instanceof ConnectionError && /timed out|no response/.test(error.message));
      const elapsedMs = Date.now() - startedMs;
      assert.ok(elapsedMs >= 190 && elapsedMs < 2_000, `timed out after ${elapsedMs} ms`);
      assert.equal(connection.isOpen, false);
      await assert.rejects(connection.requestNegotiated(ApiKey.Metadata, { topics: [] }), ConnectionError);
    } finally {
      await connection.close();
    }
  });
});

test('the broker closing the connection fails requests in flight with a clear error', async () => {
  await withServer(standardHandler(() => 'close'), async (server) => {
    const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: server.port });
    await assert.rejects(
      connection.request(ApiKey.DeleteTopics, 3, { topicNames: ['t'], timeoutMs: 1 }),
      (error: unknown) => error instanceof ConnectionError && error.message === `${server.address}: connection closed by the broker`,
    );
    assert.equal(connection.isOpen, false);
    await connection.close();
  });
});

test('close() fails requests in flight, and later requests fail at once', async () => {
  await withServer(standardHandler(() => 'no-response'), async (server) => {
    const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: server.port });
    const pending = assert.rejects(
      connection.request(ApiKey.DeleteTopics, 3, { topicNames: ['t'], timeoutMs: 1 }),
      /connection closed by the client/,
    );
    await connection.close();
    await pending;
    await assert.rejects(connection.requestNegotiated(ApiKey.Metadata, { topics: [] }), /connection closed by the client/);
  });
});

test('sendWithoutResponse (acks=0) writes a request the broker does not answer', async () => {
  const produced: number[] = [];
  await withServer(
    standardHandler((request) => {
      const body = decodeRequestBody(ApiKey.Produce, request.header.apiVersion, request.frame, request.header.headerSizeBytes);
      produced.push(body.acks);
      return 'no-response';
    }),
    async (server) => {
      const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: server.port });
      try {
        await connection.sendWithoutResponse(ApiKey.Produce, 7, { acks: 0, timeoutMs: 1000, topics: [] });
        const response = await connection.requestNegotiated(ApiKey.Metadata, { topics: [] });
        assert.equal(response.controllerId, 0);
        assert.deepStrictEqual(produced, [0]);
        assert.equal(connection.inFlightRequestCount, 0);
      } finally {
        await connection.close();
      }
    },
  );
});

test('a response with an unknown correlation id closes the connection', async () => {
  await withServer(
    standardHandler((request) => encodeResponse(ApiKey.DeleteTopics, 3, request.header.correlationId + 1000, { responses: [] })),
    async (server) => {
      const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: server.port });
      await assert.rejects(
        connection.request(ApiKey.DeleteTopics, 3, { topicNames: ['t'], timeoutMs: 1 }),
        /response with unknown correlation id/,
      );
      await connection.close();
    },
  );
});

test('connecting to a closed port fails with ConnectionError naming the address', async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  await assert.rejects(
    BrokerConnection.connect({ host: '127.0.0.1', port, connectTimeoutMs: 2_000 }),
    (error: unknown) => error instanceof ConnectionError && error.message.startsWith(`127.0.0.1:${port}: cannot connect`),
  );
});
