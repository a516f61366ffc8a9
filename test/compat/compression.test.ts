/**
 * Compressed record batches are stored and served intact: the broker keeps the producer's batch
 * (codec bits in the attributes, compressed records) and consumers decompress it themselves.
 *
 * - kafkajs produces gzip (its only built-in codec); kafkajs, @platformatic/kafka (which shows
 *   the batch attributes) and kcat read it back.
 * - @platformatic/kafka produces snappy and lz4; it and kcat read them back. This checks storage
 *   and librdkafka's decoding independently of whether librdkafka agrees to compress.
 * - kcat produces gzip, snappy, lz4 and zstd (`-z`) and reads each back. The codec of the served
 *   batches is checked with another client: @platformatic/kafka reports the attributes of gzip,
 *   snappy and lz4 batches; for zstd (which @platformatic/kafka cannot decode on Node 20)
 *   kafkajs' refusal "ZSTD compression not implemented" proves the codec bits.
 *
 * librdkafka decides per batch whether the broker "supports" the codec and otherwise sends it
 * uncompressed, silently: zstd needs Produce >= 7 and Fetch >= 10 advertised; in 2.0.2 gzip,
 * snappy and lz4 need Produce v0 inside the advertised range (KAFKA-18659, librdkafka#4956), and
 * lz4 also needs FindCoordinator v0 listed. kcat runs with `-d msg,feature` so a failure can quote
 * librdkafka's reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import {
  assertKeyedRoundTrip,
  compatTestTimeoutMs,
  keyedMessages,
  uniqueTopic,
  withCompatBroker,
  type ConsumedRecord,
} from './helpers.js';
import { kcatConsumeAll, kcatProduce, requireKcat } from './kcat.js';
import { readTopicWithKafkajs, type PartitionRecord } from './kafkajs-partition-reader.js';
import { loadPlatformatic, readTopicWithPlatformatic, type BatchRecord } from './platformatic.js';

const { Kafka, logLevel, Partitioners, CompressionTypes } = kafkajs;

/** Compression codec ids in the low three bits of the batch attributes. */
const codecIds = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
type Codec = Exclude<keyof typeof codecIds, 'none'>;

function asText(records: readonly (PartitionRecord | BatchRecord)[]): ConsumedRecord[] {
  return records.map((record) => ({ partition: record.partition, offset: record.offset, key: record.key?.toString() ?? null, value: record.value?.toString() ?? null }));
}

/**
 * Served batches carry `codec`, except that a producer may send a batch uncompressed when
 * compressing it would not make it smaller (librdkafka does this for small batches, so how
 * many depends on timing); any other codec is wrong.
 */
function assertCodec(records: readonly BatchRecord[], codec: Codec, explanation = ''): void {
  const seen = new Set(records.map((record) => record.batchAttributes & 7));
  const message = `batch codecs served: ${[...seen].join(', ')}, expected ${codecIds[codec]} (${codec})${explanation}`;
  assert.ok(seen.has(codecIds[codec]), message);
  for (const id of seen) assert.ok(id === codecIds[codec] || id === codecIds.none, message);
}

test('kafkajs gzip batches: read back by kafkajs, @platformatic/kafka and kcat', { timeout: compatTestTimeoutMs }, async () => {
  requireKcat();
  await withCompatBroker(async (broker) => {
    const kafka = new Kafka({ clientId: 'compat-kafkajs-gzip', brokers: broker.bootstrapServers.split(','), logLevel: logLevel.ERROR });
    const topic = uniqueTopic('gzip-kafkajs');
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    const messages = keyedMessages();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      for (let start = 0; start < messages.length; start += 100) {
        await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: messages.slice(start, start + 100) });
      }
    } finally {
      await producer.disconnect();
    }

    assertKeyedRoundTrip(asText(await readTopicWithKafkajs(broker.bootstrapServers, topic)), messages);
    const platformaticRecords = await readTopicWithPlatformatic(broker.bootstrapServers, topic);
    assertCodec(platformaticRecords, 'gzip');
    assertKeyedRoundTrip(asText(platformaticRecords), messages);
    assertKeyedRoundTrip(await kcatConsumeAll(broker.bootstrapServers, topic), messages);
  });
});

for (const codec of ['snappy', 'lz4'] as const) {
  test(`@platformatic/kafka ${codec} batches: read back by @platformatic/kafka and kcat`, { timeout: compatTestTimeoutMs }, async () => {
    requireKcat();
    const { Admin, Producer, stringSerializers } = await loadPlatformatic();
    await withCompatBroker(async (broker) => {
      const bootstrapBrokers = broker.bootstrapServers.split(',');
      const topic = uniqueTopic(`${codec}-platformatic`);
      const admin = new Admin({ clientId: 'compat-platformatic-admin', bootstrapBrokers, retries: 3, retryDelay: 100 });
      try {
        await admin.createTopics({ topics: [topic], partitions: 3, replicas: 3 });
      } finally {
        await admin.close();
      }
      const messages = keyedMessages();
      const producer = new Producer({ clientId: 'compat-platformatic-producer', bootstrapBrokers, serializers: stringSerializers, retries: 3, retryDelay: 100 });
      try {
        for (let start = 0; start < messages.length; start += 100) {
          await producer.send({ acks: -1, compression: codec, messages: messages.slice(start, start + 100).map((message) => ({ topic, ...message })) });
        }
      } finally {
        await producer.close();
      }
      const records = await readTopicWithPlatformatic(broker.bootstrapServers, topic);
      assertCodec(records, codec);
      assertKeyedRoundTrip(asText(records), messages);
      assertKeyedRoundTrip(await kcatConsumeAll(broker.bootstrapServers, topic), messages);
    });
  });
}

/**
 * librdkafka's own explanation when it sent a batch uncompressed, from its `-d msg,feature`
 * trace, plus the cause it does not print for gzip, snappy and lz4.
 */
function librdkafkaDowngrade(stderr: string, codec: Codec): string {
  const lines = stderr.split('\n');
  const downgrade = lines.find((line) => line.includes(`does not support compression type ${codec}`));
  if (downgrade === undefined) return '';
  const feature = lines.find((line) => line.includes(`Feature ${codec.toUpperCase()}:`) && line.includes('NOT supported'));
  const reasons = [downgrade, feature].filter((line): line is string => line !== undefined).map((line) => line.replace(/^.*?\]: /, ''));
  const hint = codec === 'zstd' ? '' : ' (librdkafka 2.0.2 compresses gzip, snappy and lz4 only if the advertised Produce range includes v0, see KAFKA-18659)';
  return `; librdkafka said: ${reasons.join(' | ')}${hint}`;
}

/** kcat produces with `codec` and reads back; returns the topic and librdkafka's downgrade notice, if any. */
async function kcatCompressedRoundTrip(bootstrapServers: string, codec: Codec): Promise<{ topic: string; downgrade: string }> {
  const topic = uniqueTopic(`${codec}-kcat`);
  const messages = keyedMessages();
  const stderr = await kcatProduce(bootstrapServers, topic, messages, ['-z', codec, '-d', 'msg,feature']);
  assertKeyedRoundTrip(await kcatConsumeAll(bootstrapServers, topic), messages);
  return { topic, downgrade: librdkafkaDowngrade(stderr, codec) };
}

for (const codec of ['gzip', 'snappy', 'lz4'] as const) {
  test(`kcat ${codec} batches: read back by kcat and @platformatic/kafka${codec === 'gzip' ? ' and kafkajs' : ''}`, { timeout: compatTestTimeoutMs }, async () => {
    requireKcat();
    await withCompatBroker(async (broker) => {
      const { topic, downgrade } = await kcatCompressedRoundTrip(broker.bootstrapServers, codec);
      const records = await readTopicWithPlatformatic(broker.bootstrapServers, topic);
      assertKeyedRoundTrip(asText(records), keyedMessages());
      if (codec === 'gzip') assertKeyedRoundTrip(asText(await readTopicWithKafkajs(broker.bootstrapServers, topic)), keyedMessages());
      assertCodec(records, codec, downgrade);
    });
  });
}

test('kcat zstd batches: read back by kcat, served with the zstd codec bits', { timeout: compatTestTimeoutMs }, async () => {
  requireKcat();
  await withCompatBroker(async (broker) => {
    const { topic, downgrade } = await kcatCompressedRoundTrip(broker.bootstrapServers, 'zstd');
    assert.equal(downgrade, '', 'librdkafka sent zstd batches uncompressed');
    await assert.rejects(readTopicWithKafkajs(broker.bootstrapServers, topic), /ZSTD compression not implemented/);
  });
});
