/**
 * A read window over a file: scans of batch headers (index lookups, recovery) ask for byte
 * ranges and the window serves them from one reused buffer, reading ahead in large chunks, so
 * a scan costs one pread per chunk rather than one per batch.
 */
import { readSync } from 'node:fs';

const DEFAULT_WINDOW_BYTES = 64 * 1024;
const NO_BUFFER = Buffer.alloc(0);

/**
 * The buffer is allocated on first use: a broker with thousands of partitions has thousands of
 * segments, most of which are never scanned.
 */
export class FileWindow {
  private buffer: Buffer = NO_BUFFER;
  private windowStart = 0;
  private windowLength = 0;

  constructor(
    private readonly fd: number,
    private readonly initialBytes = DEFAULT_WINDOW_BYTES,
  ) {}

  /** The buffer currently backing the window; valid until the next `load`. */
  get bytes(): Buffer {
    return this.buffer;
  }

  /**
   * Makes file bytes [filePosition, filePosition + length) available and returns where they
   * start in `bytes`, or -1 if the file (bounded by `fileEnd`) has fewer bytes.
   */
  load(filePosition: number, length: number, fileEnd: number): number {
    if (filePosition + length > fileEnd) return -1;
    const relative = filePosition - this.windowStart;
    if (relative >= 0 && relative + length <= this.windowLength) return relative;
    if (length > this.buffer.length) this.buffer = Buffer.allocUnsafe(Math.max(length, this.buffer.length * 2, this.initialBytes));
    const wanted = Math.min(this.buffer.length, fileEnd - filePosition);
    const read = readFully(this.fd, this.buffer, wanted, filePosition);
    this.windowStart = filePosition;
    this.windowLength = read;
    return read >= length ? 0 : -1;
  }

  /** Drops the buffer (a rolled segment is rarely read again); the next load allocates. */
  release(): void {
    this.buffer = NO_BUFFER;
    this.windowLength = 0;
  }

  invalidate(): void {
    this.windowLength = 0;
  }
}

/** preads until `length` bytes or end of file; returns the bytes read. */
export function readFully(fd: number, target: Buffer, length: number, filePosition: number): number {
  let done = 0;
  while (done < length) {
    const read = readSync(fd, target, done, length - done, filePosition + done);
    if (read === 0) break;
    done += read;
  }
  return done;
}
