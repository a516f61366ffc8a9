// Captures the raw request frames @platformatic/kafka 2.12.1 sends, for the golden-byte tests.
// Not run by `npm test`. Usage: node test/protocol/golden/capture-platformatic.mjs
// Writes test/protocol/golden/platformatic-frames.ts.
//
// A fake broker on 127.0.0.1 (ephemeral port) answers ApiVersions (v3 layout, flexible, but
// with response header v0), Metadata (v8: itself as node 0, leader of topic "golden" with 1
// partition) and Produce (v7) with hand-written bytes; every request frame is recorded.
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// @platformatic/kafka 2.12.1 calls Promise.withResolvers, which Node 20 lacks.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
const { Producer, stringSerializers } = await import('@platformatic/kafka');

const topic = 'golden';
const clientId = 'golden-platformatic';
const outputPath = fileURLToPath(new URL('./platformatic-frames.ts', import.meta.url));

// --- tiny big-endian byte builder, used only for hand-written responses ---
const int8 = (value) => Buffer.from([value & 0xff]);
const int16 = (value) => { const b = Buffer.alloc(2); b.writeInt16BE(value); return b; };
const int32 = (value) => { const b = Buffer.alloc(4); b.writeInt32BE(value); return b; };
const int64 = (value) => { const b = Buffer.alloc(8); b.writeBigInt64BE(value); return b; };
const string = (value) => value === null ? int16(-1) : Buffer.concat([int16(Buffer.byteLength(value)), Buffer.from(value)]);
const array = (items) => Buffer.concat([int32(items.length), ...items]);
const compactArray = (items) => Buffer.concat([Buffer.from([items.length + 1]), ...items]);
const emptyTaggedFields = Buffer.from([0]);

// The ranges we advertise (KAFKA-CLIENTS.md), as [apiKey, min, max].
const advertised = [
  [0, 3, 7], [1, 4, 11], [2, 1, 3], [3, 0, 8], [8, 2, 7], [9, 1, 5], [10, 0, 2], [11, 0, 5],
  [12, 0, 3], [13, 0, 3], [14, 0, 3], [15, 0, 4], [16, 0, 2], [17, 0, 1], [18, 0, 3], [19, 0, 4],
  [20, 0, 3], [21, 0, 1], [22, 0, 1], [24, 0, 1], [25, 0, 1], [26, 0, 1], [28, 0, 2], [32, 0, 2],
  [33, 0, 1], [36, 0, 1], [37, 0, 1], [42, 0, 1], [47, 0, 0],
];

function apiVersionsV3Body() {
  // error_code, compact [api_key min max tags], throttle_time_ms, tags
  const keys = advertised.map(([k, min, max]) => Buffer.concat([int16(k), int16(min), int16(max), emptyTaggedFields]));
  return Buffer.concat([int16(0), compactArray(keys), int32(0), emptyTaggedFields]);
}

function metadataV8Body(port) {
  const broker = Buffer.concat([int32(0), string('127.0.0.1'), int32(port), string(null)]);
  // error, index, leader, leader_epoch (v7), replicas, isr, offline
  const partition = Buffer.concat([int16(0), int32(0), int32(0), int32(0), array([int32(0)]), array([int32(0)]), array([])]);
  // error, name, is_internal, partitions, topic_authorized_operations (v8)
  const topicMetadata = Buffer.concat([int16(0), string(topic), int8(0), array([partition]), int32(-2147483648)]);
  // throttle, brokers, cluster_id, controller_id, topics, cluster_authorized_operations (v8)
  return Buffer.concat([int32(0), array([broker]), string('golden-cluster'), int32(0), array([topicMetadata]), int32(-2147483648)]);
}

function produceV7Body() {
  const partition = Buffer.concat([int32(0), int16(0), int64(0n), int64(-1n), int64(0n)]);
  return Buffer.concat([array([Buffer.concat([string(topic), array([partition])])]), int32(0)]);
}

const captured = new Map(); // apiKey -> { version, hex }

function respond(socket, correlationId, body) {
  const frame = Buffer.concat([int32(correlationId), body]);
  socket.write(Buffer.concat([int32(frame.length), frame]));
}

function handleFrame(socket, frame, port) {
  const apiKey = frame.readInt16BE(0);
  const apiVersion = frame.readInt16BE(2);
  const correlationId = frame.readInt32BE(4);
  if (!captured.has(apiKey)) captured.set(apiKey, { apiVersion, hex: frame.toString('hex') });
  // ApiVersions answers with response header v0 even for the flexible v3.
  if (apiKey === 18) respond(socket, correlationId, apiVersionsV3Body());
  else if (apiKey === 3) respond(socket, correlationId, metadataV8Body(port));
  else if (apiKey === 0) respond(socket, correlationId, produceV7Body());
  else console.error(`unexpected api key ${apiKey} v${apiVersion}`);
}

const sockets = new Set();
const server = net.createServer((socket) => {
  sockets.add(socket);
  let pending = Buffer.alloc(0);
  socket.on('data', (data) => {
    pending = Buffer.concat([pending, data]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const size = pending.readInt32BE(0);
      handleFrame(socket, pending.subarray(4, 4 + size), server.address().port);
      pending = pending.subarray(4 + size);
    }
  });
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => {});
});

await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;
const producer = new Producer({
  clientId,
  bootstrapBrokers: [`127.0.0.1:${port}`],
  serializers: stringSerializers,
  acks: -1,
  retries: 0,
});
try {
  await producer.send({
    acks: -1,
    messages: [
      { topic, partition: 0, key: 'key-1', value: 'value-1' },
      { topic, partition: 0, key: 'key-2', value: 'value-2' },
    ],
  });
} finally {
  await producer.close();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
}

const names = { 18: 'apiVersionsV3', 3: 'metadataV8', 0: 'produceV7' };
const lines = [
  '// Generated by capture-platformatic.mjs: raw request frames (after the 4-byte size prefix)',
  `// sent by @platformatic/kafka 2.12.1 (clientId "${clientId}") to a fake broker. Do not edit.`,
  '',
  'export const platformaticClientId = ' + JSON.stringify(clientId) + ';',
  '',
];
for (const [apiKey, name] of Object.entries(names)) {
  const frame = captured.get(Number(apiKey));
  if (frame === undefined) throw new Error(`platformatic sent no request with api key ${apiKey}`);
  lines.push(`/** api key ${apiKey}, version ${frame.apiVersion}. */`);
  lines.push(`export const ${name} =`);
  const chunks = frame.hex.match(/.{1,96}/g);
  lines.push(chunks.map((chunk) => `  '${chunk}'`).join(' +\n') + ';');
  lines.push('');
}
writeFileSync(outputPath, lines.join('\n'));
console.log(`wrote ${outputPath}: ${[...captured].map(([k, v]) => `${k}v${v.apiVersion}`).join(', ')}`);
