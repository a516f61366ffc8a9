/**
 * The metadata log: records stored as record batches (key = record type, value = JSON) in a
 * partition log of our own storage engine, replayed into the image at start. Every append is
 * fsynced before the change takes effect.
 */
import { join } from 'node:path';
import { encodeRecordBatch, decodeRecordBatches } from '../protocol/records/records.js';
import type { Clock } from '../runtime/clock.js';
import { defaultLogConfig } from '../storage/log-config.js';
import { PartitionLog } from '../storage/partition-log.js';
import type { MetadataImage } from './image.js';
import type { MetadataRecord } from './records.js';

export const METADATA_PARTITION_DIR = '__cluster_metadata-0';
const READ_CHUNK_BYTES = 4 * 1024 * 1024;

export class MetadataLog {
  private constructor(private readonly log: PartitionLog) {}

  /** Opens the log in `<directory>/__cluster_metadata-0` and replays it into `image`. */
  static open(directory: string, clock: Clock, image: MetadataImage): MetadataLog {
    const log = PartitionLog.open({
      directory: join(directory, METADATA_PARTITION_DIR),
      config: { ...defaultLogConfig, segmentBytes: 64 * 1024 * 1024, retentionMs: -1, flushPolicy: 'always' },
      clock,
    });
    const metadataLog = new MetadataLog(log);
    metadataLog.replay(image);
    return metadataLog;
  }

  private replay(image: MetadataImage): void {
    let offset = this.log.logStartOffset;
    while (offset < this.log.logEndOffset) {
      const { records } = this.log.read(offset, READ_CHUNK_BYTES);
      if (records.length === 0) break;
      for (const batch of decodeRecordBatches(records)) {
        for (const record of batch.records) {
          if (record.offset < offset) continue;
          image.apply(JSON.parse(record.value!.toString('utf8')) as MetadataRecord);
        }
        offset = batch.baseOffset + batch.lastOffsetDelta + 1;
      }
    }
  }

  get endOffset(): number {
    return this.log.logEndOffset;
  }

  /** Appends the records as one batch and waits until they are durable. */
  async append(records: readonly MetadataRecord[]): Promise<void> {
    if (records.length === 0) return;
    const batch = encodeRecordBatch({
      records: records.map((record) => ({ key: record.type, value: JSON.stringify(record) })),
    });
    this.log.appendInternal(batch, 0);
    await this.log.flush();
  }

  async close(): Promise<void> {
    await this.log.close();
  }
}
