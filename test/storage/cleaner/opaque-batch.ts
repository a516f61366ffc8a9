import { writeBatchCrc } from '../../../src/protocol/records/batch.js';
import { ATTRIBUTES_OFFSET, BATCH_LENGTH_OFFSET, Compression, LOG_OVERHEAD_BYTES, RECORDS_OFFSET } from '../../../src/protocol/records/layout.js';
import { encodeRecordBatch } from '../../../src/protocol/records/records.js';
import { BASE_TIME_MS } from './cleaner-fixtures.js';

/** A batch claiming snappy (codec 2) whose body the broker cannot inflate; CRC valid. */
export function snappyLookalike(key: string, recordCount = 3): Buffer {
  const plain = encodeRecordBatch({
    timestampMs: BASE_TIME_MS,
    records: Array.from({ length: recordCount }, (_, index) => ({ key, value: `s${index}` })),
  });
  const body = Buffer.from('not really snappy: opaque bytes the broker cannot read');
  const batch = Buffer.concat([plain.subarray(0, RECORDS_OFFSET), body]);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD_BYTES, BATCH_LENGTH_OFFSET);
  batch.writeInt16BE(Compression.SNAPPY, ATTRIBUTES_OFFSET);
  writeBatchCrc(batch, 0);
  return batch;
}
