/**
 * Walks the records of one record batch v2 without decoding them into objects: each `next()`
 * leaves the positions and the few fields compaction needs (offset delta, timestamp delta,
 * key and value lengths) in fields, so the per-record loop allocates nothing. gzip bodies are
 * inflated once per batch; other codecs are the caller's to skip (see canDecompress).
 */
import { decompress } from '../../protocol/records/compression.js';
import { Attribute, ATTRIBUTES_OFFSET, LOG_OVERHEAD_BYTES, BATCH_LENGTH_OFFSET, Compression, RECORDS_COUNT_OFFSET, RECORDS_OFFSET } from '../../protocol/records/layout.js';
import { readVarint, readVarlong, VarintError, type Cursor } from '../../protocol/records/varint.js';

/** A record inside a batch is malformed (its CRC was fine, so it was written that way). */
export class CorruptRecordError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'CorruptRecordError';
  }
}

type LatinSliceable = Buffer & { latin1Slice(start: number, end: number): string };

export class RecordWalker {
  /** The records bytes: the batch itself, or the inflated body of a compressed batch. */
  body: Buffer = Buffer.alloc(0);
  /** Record bytes start here: after the batch header, or 0 in an inflated body. */
  bodyStart = 0;
  bodyEnd = 0;
  codec = 0;
  recordStart = 0;
  /** Position of the record's attributes byte, right after its length varint. */
  attributesPosition = 0;
  /** The timestamp delta varlong ends here (it starts at attributesPosition + 1). */
  timestampEnd = 0;
  recordEnd = 0;
  timestampDelta = 0;
  offsetDelta = 0;
  keyStart = 0;
  /** -1 for a null key. */
  keyLength = -1;
  /** -1 for a null value: a tombstone. */
  valueLength = -1;
  private position = 0;
  private remaining = 0;
  private readonly cursor: Cursor = { position: 0 };

  /** Starts on the batch at `bytes[at, at + sizeBytes)`; its codec must be decompressible. */
  beginBatch(bytes: Buffer, at: number, sizeBytes: number): void {
    const codec = bytes.readInt16BE(at + ATTRIBUTES_OFFSET) & Attribute.COMPRESSION_MASK;
    if (LOG_OVERHEAD_BYTES + bytes.readInt32BE(at + BATCH_LENGTH_OFFSET) !== sizeBytes) throw new CorruptRecordError('batch length does not match its frame');
    this.codec = codec;
    this.remaining = bytes.readInt32BE(at + RECORDS_COUNT_OFFSET);
    if (this.remaining < 0) throw new CorruptRecordError(`batch declares ${this.remaining} records`);
    if (codec === Compression.NONE) {
      this.body = bytes;
      this.bodyStart = at + RECORDS_OFFSET;
      this.bodyEnd = at + sizeBytes;
    } else {
      try {
        this.body = decompress(codec, bytes.subarray(at + RECORDS_OFFSET, at + sizeBytes));
      } catch (error) {
        throw new CorruptRecordError(`cannot inflate batch body: ${error instanceof Error ? error.message : String(error)}`);
      }
      this.bodyStart = 0;
      this.bodyEnd = this.body.length;
    }
    this.position = this.bodyStart;
  }

  /** Moves to the next record; false after the last one (checking the records fill the body). */
  next(): boolean {
    if (this.remaining === 0) {
      if (this.position !== this.bodyEnd) throw new CorruptRecordError(`records end ${this.bodyEnd - this.position} bytes before their body`);
      return false;
    }
    this.remaining--;
    try {
      this.readRecord();
    } catch (error) {
      if (error instanceof VarintError) throw new CorruptRecordError(error.message);
      throw error;
    }
    return true;
  }

  /** The key as a latin1 string: one code unit per byte, so equal strings mean equal bytes. */
  keyString(): string {
    // Buffer#latin1Slice is what toString('latin1', ...) ends in, minus the argument checks
    // and encoding lookup that cost more than the copy for short keys.
    return (this.body as LatinSliceable).latin1Slice(this.keyStart, this.keyStart + this.keyLength);
  }

  private readRecord(): void {
    const body = this.body;
    const cursor = this.cursor;
    cursor.position = this.position;
    this.recordStart = this.position;
    const length = readVarint(body, cursor, this.bodyEnd);
    this.attributesPosition = cursor.position;
    this.recordEnd = cursor.position + length;
    if (length <= 0 || this.recordEnd > this.bodyEnd) throw new CorruptRecordError(`record length ${length} does not fit its batch`);
    const end = this.recordEnd;
    cursor.position++;
    this.timestampDelta = readVarlong(body, cursor, end);
    this.timestampEnd = cursor.position;
    this.offsetDelta = readVarint(body, cursor, end);
    this.keyLength = readVarint(body, cursor, end);
    this.keyStart = cursor.position;
    if (this.keyLength > 0) cursor.position += this.keyLength;
    this.valueLength = readVarint(body, cursor, end);
    if (cursor.position + Math.max(0, this.valueLength) > end || this.offsetDelta < 0) {
      throw new CorruptRecordError(`record fields run past the record at offset delta ${this.offsetDelta}`);
    }
    this.position = end;
  }
}
