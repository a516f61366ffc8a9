// Captures the raw request frames @platformatic/kafka 2.12.1 sends, for the golden-byte tests.
// Not run by `npm test`. Usage: npm run build && node test/protocol/golden/capture-platformatic.mjs
// Writes test/protocol/golden/platformatic-frames.ts.
//
// @platformatic/kafka runs three real flows against the fake broker of fake-broker.mjs, which
// answers with our codec: a producer, a consumer in group "golden-group" (join, sync, fetch,
// commit) and a transactional producer (init producer id, send, add the consumer's offset,
// commit). The first request of each API in each flow is recorded.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { framesModule, startFakeBroker } from './fake-broker.mjs';

// @platformatic/kafka 2.12.1 calls Promise.withResolvers, which Node 20 lacks.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
const { Consumer, Producer, stringDeserializers, stringSerializers } = await import('@platformatic/kafka');

const topic = 'golden';
const groupId = 'golden-group';
const transactionalId = 'golden-txn';
const clientId = 'golden-platformatic';
const outputPath = fileURLToPath(new URL('./platformatic-frames.ts', import.meta.url));

/** phase -> apiKey -> { apiVersion, hex } (the first frame of that API in that phase) */
const captured = new Map();
let phase = 'producer';

async function producerFlow(bootstrapBrokers) {
  const producer = new Producer({ clientId, bootstrapBrokers, serializers: stringSerializers, acks: -1, retries: 0 });
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
  }
}

/** Consumes the fake broker's two records and commits them; returns the last message. */
async function consumerFlow(consumer) {
  const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
  const seen = [];
  for await (const message of stream) {
    seen.push(message);
    if (seen.length === 2) break;
  }
  await seen[1].commit();
  return { stream, lastMessage: seen[1] };
}

async function transactionFlow(bootstrapBrokers, consumer, consumedMessage) {
  const producer = new Producer({
    clientId,
    bootstrapBrokers,
    serializers: stringSerializers,
    idempotent: true,
    transactionalId,
    acks: -1,
    retries: 0,
  });
  try {
    const transaction = await producer.beginTransaction();
    await transaction.send({ messages: [{ topic, partition: 0, key: 'txn-key', value: 'txn-value' }] });
    await transaction.addConsumer(consumer);
    await transaction.addOffset(consumedMessage);
    await transaction.commit();
  } finally {
    await producer.close();
  }
}

const broker = await startFakeBroker(topic, (header, frame) => {
  const frames = captured.get(phase) ?? new Map();
  captured.set(phase, frames);
  if (!frames.has(header.apiKey)) frames.set(header.apiKey, { apiVersion: header.apiVersion, hex: frame.toString('hex') });
});
const bootstrapBrokers = [`127.0.0.1:${broker.port}`];
const consumer = new Consumer({
  clientId,
  groupId,
  bootstrapBrokers,
  deserializers: stringDeserializers,
  sessionTimeout: 25000,
  rebalanceTimeout: 40000,
  maxWaitTime: 250,
  retries: 0,
});
try {
  await producerFlow(bootstrapBrokers);
  phase = 'consumer';
  const { stream, lastMessage } = await consumerFlow(consumer);
  phase = 'transaction';
  await transactionFlow(bootstrapBrokers, consumer, lastMessage);
  phase = 'closing';
  await stream.close();
} finally {
  await consumer.close(true);
  await broker.close();
}

// [phase, api key, name prefix]; the name ends in V<version>.
const wanted = [
  ['producer', 18, 'apiVersions'],
  ['producer', 3, 'metadata'],
  ['producer', 0, 'produce'],
  ['consumer', 10, 'findCoordinator'],
  ['consumer', 11, 'joinGroup'],
  ['consumer', 14, 'syncGroup'],
  ['consumer', 9, 'offsetFetch'],
  ['consumer', 2, 'listOffsets'],
  ['consumer', 1, 'fetch'],
  ['consumer', 8, 'offsetCommit'],
  ['closing', 13, 'leaveGroup'],
  ['transaction', 10, 'transactionFindCoordinator'],
  ['transaction', 22, 'initProducerId'],
  ['transaction', 24, 'addPartitionsToTxn'],
  ['transaction', 0, 'transactionalProduce'],
  ['transaction', 25, 'addOffsetsToTxn'],
  ['transaction', 28, 'txnOffsetCommit'],
  ['transaction', 26, 'endTxn'],
];
const frames = wanted.map(([flow, apiKey, prefix]) => {
  const frame = captured.get(flow)?.get(apiKey);
  if (frame === undefined) throw new Error(`@platformatic/kafka sent no request with api key ${apiKey} in the ${flow} flow`);
  return { name: `${prefix}V${frame.apiVersion}`, apiKey, ...frame };
});
const header = [
  '// Generated by capture-platformatic.mjs: raw request frames (after the 4-byte size prefix)',
  `// sent by @platformatic/kafka 2.12.1 (clientId "${clientId}") to a fake broker. Do not edit.`,
];
writeFileSync(outputPath, framesModule(header, 'platformaticClientId', clientId, frames));
console.log(`wrote ${outputPath}: ${frames.map((frame) => frame.name).join(', ')}`);
