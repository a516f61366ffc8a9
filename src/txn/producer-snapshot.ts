/**
 * Producer state snapshot bytes (the node writes them next to segments, as Kafka's
 * `<offset>.snapshot` files). Our own layout, framed like Kafka's ProducerSnapshot: a version,
 * then a CRC-32C over everything after it, then the body described once as schema data.
 *
 *   version          int16    0   SNAPSHOT_VERSION (1)
 *   crc              uint32   2   CRC-32C (Castagnoli) of bytes 6 .. end
 *   mapEndOffset     int64    6   the state covers the log below this offset
 *   producers        int32 count, then per producer (least recently appended first):
 *     producerId            int64
 *     producerEpoch         int16
 *     coordinatorEpoch      int32
 *     lastTimestamp         int64   ms
 *     currentTxnFirstOffset int64   -1 when no transaction is open
 *     batches               int32 count (0..5), oldest first, then per batch:
 *       firstSequence int32, lastSequence int32, firstOffset int64, lastOffset int64, timestamp int64
 *
 * Unlike Kafka (one batch per producer), all retained batches are kept, so deduplication after a
 * restart matches deduplication before it. Any damage is refused with CorruptProducerSnapshotError
 * and the node falls back to an older snapshot or a replay from the log start, as Kafka does.
 */
import { compile, ProtocolDecodeError, Reader, Writer } from '../protocol/codec/index.js';
import type { DecodedMessage, MessageSchema } from '../protocol/schema/types.js';
import { crc32c } from '../protocol/records/crc32c.js';
import type { ProducerSnapshot, ProducerStateEntryView } from './producer-state.js';

export const SNAPSHOT_VERSION = 1;
const VERSION_OFFSET = 0;
const CRC_OFFSET = VERSION_OFFSET + 2;
const BODY_OFFSET = CRC_OFFSET + 4;

/** Kafka's CorruptSnapshotException: the bytes are not a snapshot we wrote. */
export class CorruptProducerSnapshotError extends Error {
  constructor(message: string) {
    super(`producer state snapshot is corrupt: ${message}`);
    this.name = 'CorruptProducerSnapshotError';
  }
}

// A data record, not an API: `apiKey` and `type` are unused by the codec.
const producerSnapshotBodySchema = {
  apiKey: -1,
  type: 'request',
  name: 'ProducerSnapshotBody',
  validVersions: '1',
  flexibleVersions: 'none',
  fields: [
    { name: 'mapEndOffset', type: 'int64', versions: '1+' },
    {
      name: 'producers',
      type: '[]',
      versions: '1+',
      fields: [
        { name: 'producerId', type: 'int64', versions: '1+' },
        { name: 'producerEpoch', type: 'int16', versions: '1+' },
        { name: 'coordinatorEpoch', type: 'int32', versions: '1+' },
        { name: 'lastTimestamp', type: 'int64', versions: '1+' },
        { name: 'currentTxnFirstOffset', type: 'int64', versions: '1+' },
        {
          name: 'batches',
          type: '[]',
          versions: '1+',
          fields: [
            { name: 'firstSequence', type: 'int32', versions: '1+' },
            { name: 'lastSequence', type: 'int32', versions: '1+' },
            { name: 'firstOffset', type: 'int64', versions: '1+' },
            { name: 'lastOffset', type: 'int64', versions: '1+' },
            { name: 'timestamp', type: 'int64', versions: '1+' },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSchema;

type SnapshotBody = DecodedMessage<typeof producerSnapshotBodySchema>;
type SnapshotProducer = SnapshotBody['producers'][number];

const bodyCodec = compile(producerSnapshotBodySchema, SNAPSHOT_VERSION);

export function encodeSnapshot(snapshot: ProducerSnapshot): Buffer {
  const writer = new Writer();
  bodyCodec.encode(
    { mapEndOffset: BigInt(snapshot.mapEndOffset), producers: snapshot.producers.map(encodeProducer) },
    writer,
  );
  const { chunks, sizeBytes } = writer.finish();
  const bytes = Buffer.alloc(BODY_OFFSET + sizeBytes);
  let position = BODY_OFFSET;
  for (const chunk of chunks) position += chunk.copy(bytes, position);
  bytes.writeInt16BE(SNAPSHOT_VERSION, VERSION_OFFSET);
  bytes.writeUInt32BE(crc32c(bytes, BODY_OFFSET, bytes.length), CRC_OFFSET);
  return bytes;
}

export function decodeSnapshot(bytes: Buffer): ProducerSnapshot {
  if (bytes.length < BODY_OFFSET) {
    throw new CorruptProducerSnapshotError(`${bytes.length} bytes is shorter than the header`);
  }
  const version = bytes.readInt16BE(VERSION_OFFSET);
  if (version !== SNAPSHOT_VERSION) throw new CorruptProducerSnapshotError(`unknown version ${version}`);
  const storedCrc = bytes.readUInt32BE(CRC_OFFSET);
  const computedCrc = crc32c(bytes, BODY_OFFSET, bytes.length);
  if (storedCrc !== computedCrc) {
    throw new CorruptProducerSnapshotError(`CRC-32C stored ${hex(storedCrc)}, computed ${hex(computedCrc)}`);
  }
  const reader = new Reader(bytes, BODY_OFFSET);
  let body: SnapshotBody;
  try {
    body = bodyCodec.decode(reader) as SnapshotBody;
  } catch (error) {
    if (error instanceof ProtocolDecodeError) throw new CorruptProducerSnapshotError(error.message);
    throw error;
  }
  if (reader.remainingBytes !== 0) throw new CorruptProducerSnapshotError(`${reader.remainingBytes} trailing bytes`);
  return {
    mapEndOffset: toSafeNumber(body.mapEndOffset, 'mapEndOffset'),
    producers: body.producers.map(decodeProducer),
  };
}

function encodeProducer(view: ProducerStateEntryView): SnapshotProducer {
  return {
    producerId: BigInt(view.producerId),
    producerEpoch: view.producerEpoch,
    coordinatorEpoch: view.coordinatorEpoch,
    lastTimestamp: BigInt(view.lastTimestampMs),
    currentTxnFirstOffset: BigInt(view.currentTxnFirstOffset ?? -1),
    batches: view.batches.map((batch) => ({
      firstSequence: batch.firstSequence,
      lastSequence: batch.lastSequence,
      firstOffset: BigInt(batch.firstOffset),
      lastOffset: BigInt(batch.lastOffset),
      timestamp: BigInt(batch.timestampMs),
    })),
  };
}

function decodeProducer(producer: SnapshotProducer): ProducerStateEntryView {
  const currentTxnFirstOffset = toSafeNumber(producer.currentTxnFirstOffset, 'currentTxnFirstOffset');
  return {
    producerId: toSafeNumber(producer.producerId, 'producerId'),
    producerEpoch: producer.producerEpoch,
    coordinatorEpoch: producer.coordinatorEpoch,
    lastTimestampMs: toSafeNumber(producer.lastTimestamp, 'lastTimestamp'),
    currentTxnFirstOffset: currentTxnFirstOffset < 0 ? null : currentTxnFirstOffset,
    batches: producer.batches.map((batch) => ({
      firstSequence: batch.firstSequence,
      lastSequence: batch.lastSequence,
      firstOffset: toSafeNumber(batch.firstOffset, 'firstOffset'),
      lastOffset: toSafeNumber(batch.lastOffset, 'lastOffset'),
      timestampMs: toSafeNumber(batch.timestamp, 'timestamp'),
    })),
  };
}

function toSafeNumber(value: bigint, field: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new CorruptProducerSnapshotError(`${field} ${value} is not a safe integer`);
  return number;
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
