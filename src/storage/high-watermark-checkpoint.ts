/**
 * The node's high-watermark checkpoint (Kafka's `replication-offset-checkpoint`): one
 * `topic partition offset` line per partition replica, in Kafka's text layout, written
 * atomically. A replica starts from it: a leader's first high watermark is this one capped by
 * its log end, so consumers see at once what was committed before the restart. A lost or
 * unreadable file is safe: high watermarks start at 0 and move up as followers fetch.
 */
import { join } from 'node:path';
import { CheckpointFormatError, OffsetCheckpointFile, partitionName } from './checkpoint-file.js';
import { nodeFileOps, type StorageFileOps } from './file-ops.js';

export const HIGH_WATERMARK_CHECKPOINT = 'replication-offset-checkpoint';

export interface PartitionHighWatermark {
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: number;
}

/**
 * The checkpointed high watermarks of `dataDir`, keyed by partition name (`<topic>-<partition>`,
 * see partitionName). Empty when the file is missing; also when it is malformed, which `log`
 * reports: starting from 0 only delays consumers, it loses nothing.
 */
export function readHighWatermarks(dataDir: string, log: (message: string) => void = () => {}): Map<string, number> {
  const file = new OffsetCheckpointFile(join(dataDir, HIGH_WATERMARK_CHECKPOINT));
  try {
    return file.read();
  } catch (error) {
    if (!(error instanceof CheckpointFormatError)) throw error;
    log(`${error.message}; high watermarks start from 0`);
    return new Map();
  }
}

/** Replaces the checkpoint with `entries` (write temp, fsync, rename, fsync the directory). */
export function writeHighWatermarks(dataDir: string, entries: Iterable<PartitionHighWatermark>, files: StorageFileOps = nodeFileOps): void {
  const offsets = new Map<string, number>();
  for (const entry of entries) offsets.set(partitionName(entry.topic, entry.partition), entry.highWatermark);
  new OffsetCheckpointFile(join(dataDir, HIGH_WATERMARK_CHECKPOINT), files).write(offsets);
}
