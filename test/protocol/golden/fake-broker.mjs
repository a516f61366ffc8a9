// A fake single-node broker for the capture scripts (not run by `npm test`). It answers every
// request with a response encoded by our codec from the build (`npm run build` first), and
// hands each raw request frame (after the 4-byte size prefix) to `onRequest`. The requests are
// what we capture: the client libraries' own encoders produce them. Our responses only steer
// the client (member id, generation, producer id, records), and the golden tests check that
// the captured frames carry exactly those values back.
//
// It plays one consumer group of one member, which the client leads, and one transaction
// coordinator. Requests on one connection are answered in order; a Fetch with nothing new
// waits up to its max wait (capped), as a broker would, so consumers do not spin.
import net from 'node:net';

const distRoot = new URL('../../../dist/src/', import.meta.url);
const codec = await import(new URL('protocol/codec/index.js', distRoot).href);
const { ApiKey } = await import(new URL('protocol/schema/index.js', distRoot).href);
const { encodeRecordBatch } = await import(new URL('protocol/records/index.js', distRoot).href);

/** What the fake broker tells clients; the golden tests expect these values in the requests. */
export const fakeBrokerFacts = {
  clusterId: 'golden-cluster',
  groupGenerationId: 7,
  memberId: 'golden-member-1',
  producerId: 4000n,
  producerEpoch: 3,
  /** Records in partition 0 of every topic, at offsets 0 and 1. */
  records: [
    { key: 'fetched-key-1', value: 'fetched-value-1' },
    { key: 'fetched-key-2', value: 'fetched-value-2' },
  ],
  recordsTimestampMs: 1700000000000,
};

const fetchWaitCapMs = 100;

const sleep = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));

function metadataBody(request, port, knownTopic) {
  const names = request.topics === null || request.topics.length === 0 ? [knownTopic] : request.topics.map((topic) => topic.name);
  return {
    brokers: [{ nodeId: 0, host: '127.0.0.1', port, rack: null }],
    clusterId: fakeBrokerFacts.clusterId,
    controllerId: 0,
    topics: names.map((name) => ({
      errorCode: 0,
      name,
      isInternal: false,
      partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: [] }],
    })),
  };
}

function fetchBody(request) {
  const batch = encodeRecordBatch({ records: fakeBrokerFacts.records, timestampMs: fakeBrokerFacts.recordsTimestampMs });
  const endOffset = BigInt(fakeBrokerFacts.records.length);
  return {
    responses: request.topics.map((topic) => ({
      topic: topic.topic,
      partitions: topic.partitions.map((partition) => ({
        partitionIndex: partition.partition,
        errorCode: 0,
        highWatermark: endOffset,
        lastStableOffset: endOffset,
        logStartOffset: 0n,
        abortedTransactions: [],
        records: partition.fetchOffset === 0n ? batch : null,
      })),
    })),
  };
}

const fetchHasData = (request) => request.topics.some((topic) => topic.partitions.some((partition) => partition.fetchOffset === 0n));

function groupBody(apiKey, request) {
  const { groupGenerationId, memberId } = fakeBrokerFacts;
  switch (apiKey) {
    case ApiKey.JoinGroup:
      return {
        errorCode: 0,
        generationId: groupGenerationId,
        protocolName: request.protocols[0].name,
        leader: memberId,
        memberId,
        members: [{ memberId, groupInstanceId: request.groupInstanceId, metadata: request.protocols[0].metadata }],
      };
    case ApiKey.SyncGroup: {
      const own = request.assignments.find((assignment) => assignment.memberId === request.memberId);
      return { errorCode: 0, assignment: own === undefined ? Buffer.alloc(0) : own.assignment };
    }
    case ApiKey.Heartbeat:
      return { errorCode: 0 };
    case ApiKey.LeaveGroup:
      return { errorCode: 0, members: request.members.map((member) => ({ ...member, errorCode: 0 })) };
    case ApiKey.OffsetFetch:
      return {
        errorCode: 0,
        topics: (request.topics ?? []).map((topic) => ({
          name: topic.name,
          partitions: topic.partitionIndexes.map((partitionIndex) => ({
            partitionIndex,
            committedOffset: -1n,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: 0,
          })),
        })),
      };
    case ApiKey.OffsetCommit:
    case ApiKey.TxnOffsetCommit:
      return {
        topics: request.topics.map((topic) => ({
          name: topic.name,
          partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partitionIndex, errorCode: 0 })),
        })),
      };
    default:
      return undefined;
  }
}

function transactionBody(apiKey, request) {
  switch (apiKey) {
    case ApiKey.InitProducerId:
      return { errorCode: 0, producerId: fakeBrokerFacts.producerId, producerEpoch: fakeBrokerFacts.producerEpoch };
    case ApiKey.AddPartitionsToTxn:
      return {
        results: request.topics.map((topic) => ({
          name: topic.name,
          results: topic.partitions.map((partitionIndex) => ({ partitionIndex, errorCode: 0 })),
        })),
      };
    case ApiKey.AddOffsetsToTxn:
    case ApiKey.EndTxn:
      return { errorCode: 0 };
    default:
      return undefined;
  }
}

function responseBody(apiKey, request, port, knownTopic) {
  switch (apiKey) {
    case ApiKey.ApiVersions:
      return { errorCode: 0, apiKeys: codec.supportedVersionRanges() };
    case ApiKey.Metadata:
      return metadataBody(request, port, knownTopic);
    case ApiKey.Produce:
      return {
        responses: request.topics.map((topic) => ({
          name: topic.name,
          partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partitionIndex, errorCode: 0, baseOffset: 0n })),
        })),
      };
    case ApiKey.FindCoordinator:
      return { errorCode: 0, nodeId: 0, host: '127.0.0.1', port };
    case ApiKey.ListOffsets:
      return {
        topics: request.topics.map((topic) => ({
          name: topic.name,
          partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partitionIndex, errorCode: 0, timestamp: -1n, offset: 0n })),
        })),
      };
    case ApiKey.Fetch:
      return fetchBody(request);
    default:
      return groupBody(apiKey, request) ?? transactionBody(apiKey, request);
  }
}

async function answer(socket, frame, port, knownTopic, onRequest) {
  const header = codec.decodeRequestHeader(frame);
  onRequest(header, frame);
  if (!codec.isSupported(header.apiKey, header.apiVersion)) throw new Error(`unsupported request ${header.apiKey} v${header.apiVersion}`);
  const request = codec.decodeRequestBody(header.apiKey, header.apiVersion, frame, header.headerSizeBytes);
  if (header.apiKey === ApiKey.Produce && request.acks === 0) return;
  if (header.apiKey === ApiKey.Fetch && !fetchHasData(request)) await sleep(Math.min(request.maxWaitMs, fetchWaitCapMs));
  const body = responseBody(header.apiKey, request, port, knownTopic);
  if (body === undefined) throw new Error(`no fake answer for api key ${header.apiKey}`);
  const encoded = codec.encodeResponse(header.apiKey, header.apiVersion, header.correlationId, body);
  if (!socket.destroyed) for (const chunk of encoded.chunks) socket.write(chunk);
}

/**
 * Starts the fake broker on 127.0.0.1 (ephemeral port). `knownTopic` (one partition, led by
 * node 0) is what a Metadata request for all topics gets.
 */
export async function startFakeBroker(knownTopic, onRequest) {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let pending = Buffer.alloc(0);
    let answered = Promise.resolve();
    socket.on('data', (data) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = Buffer.from(pending.subarray(4, 4 + pending.readInt32BE(0)));
        pending = pending.subarray(4 + frame.length);
        answered = answered.then(() => answer(socket, frame, server.address().port, knownTopic, onRequest)).catch((error) => {
          console.error(error);
          socket.destroy();
        });
      }
    });
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Writes a frames module: one exported hex constant per captured frame, 96 hex digits a line. */
export function framesModule(header, clientIdName, clientId, frames) {
  const lines = [...header, '', `export const ${clientIdName} = ${JSON.stringify(clientId)};`, ''];
  for (const { name, apiKey, apiVersion, hex } of frames) {
    lines.push(`/** api key ${apiKey}, version ${apiVersion}. */`);
    lines.push(`export const ${name} =`);
    lines.push(hex.match(/.{1,96}/g).map((chunk) => `  '${chunk}'`).join(' +\n') + ';');
    lines.push('');
  }
  return lines.join('\n');
}
