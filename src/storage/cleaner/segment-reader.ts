/**
 * Sequential reader of whole record batches from one segment's `.log` file, for the compaction
 * job: large preads into one reused buffer, grown only for a batch larger than it. Reads stop at
 * the size the node reported for the (closed, so no longer growing) segment.
 */
import { closeSync, openSync } from 'node:fs';
import { BASE_OFFSET_OFFSET, BATCH_LENGTH_OFFSET, LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD_BYTES, RECORDS_OFFSET } from '../../protocol/records/layout.js';
import { readInt64 } from '../../protocol/records/int64.js';
import { readFully } from '../file-window.js';

export const SEGMENT_READ_CHUNK_BYTES = 1024 * 1024;

/** The data of a segment is not a chain of plausible batches: compaction must not touch it. */
export class SegmentCorruptionError extends Error {
  constructor(path: string, position: number, detail: string) {
    super(`${path} at position ${position}: ${detail}`);
    this.name = 'SegmentCorruptionError';
  }
}

export class SegmentBatchReader {
  /** The buffer holding the current batch at `[at, at + sizeBytes)`. */
  bytes: Buffer;
  at = 0;
  sizeBytes = 0;
  baseOffset = 0;
  lastOffset = 0;
  /** File position of the current batch. */
  filePosition = 0;
  private nextFilePosition = 0;
  private bufferFilePosition = 0;
  private bufferLength = 0;
  private readonly fd: number;

  constructor(
    readonly path: string,
    private readonly fileSizeBytes: number,
    buffer: Buffer = Buffer.allocUnsafe(SEGMENT_READ_CHUNK_BYTES),
  ) {
    this.fd = openSync(path, 'r');
    this.bytes = buffer;
  }

  /** Moves to the next batch; false at the end of the segment. */
  next(): boolean {
    const position = this.nextFilePosition;
    if (position >= this.fileSizeBytes) return false;
    const headerAt = this.load(position, RECORDS_OFFSET);
    const sizeBytes = LOG_OVERHEAD_BYTES + this.bytes.readInt32BE(headerAt + BATCH_LENGTH_OFFSET);
    if (sizeBytes < RECORDS_OFFSET || position + sizeBytes > this.fileSizeBytes) {
      throw new SegmentCorruptionError(this.path, position, `implausible batch size ${sizeBytes}`);
    }
    this.at = this.load(position, sizeBytes);
    this.sizeBytes = sizeBytes;
    this.filePosition = position;
    this.baseOffset = readInt64(this.bytes, this.at + BASE_OFFSET_OFFSET);
    this.lastOffset = this.baseOffset + this.bytes.readInt32BE(this.at + LAST_OFFSET_DELTA_OFFSET);
    this.nextFilePosition = position + sizeBytes;
    return true;
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Makes file bytes [position, position + length) available; returns where they start in `bytes`. */
  private load(position: number, length: number): number {
    if (position + length > this.fileSizeBytes) {
      throw new SegmentCorruptionError(this.path, position, `batch runs past the segment end ${this.fileSizeBytes}`);
    }
    const relative = position - this.bufferFilePosition;
    if (relative >= 0 && relative + length <= this.bufferLength) return relative;
    if (length > this.bytes.length) this.bytes = Buffer.allocUnsafe(Math.max(length, this.bytes.length * 2));
    const wanted = Math.min(this.bytes.length, this.fileSizeBytes - position);
    const read = readFully(this.fd, this.bytes, wanted, position);
    this.bufferFilePosition = position;
    this.bufferLength = read;
    if (read < length) throw new SegmentCorruptionError(this.path, position, `file ends after ${read} of ${length} bytes`);
    return 0;
  }
}
