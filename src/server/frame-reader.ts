/**
 * Splits a byte stream into Kafka frames (int32 size, then that many bytes). Chunks are kept
 * in a list; a frame inside one chunk is returned as a view, and only a frame that spans
 * chunks is copied into a new buffer.
 */

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

const SIZE_BYTES = 4;

export class FrameReader {
  private chunks: Buffer[] = [];
  /** Read position inside chunks[0]. */
  private offset = 0;
  private buffered = 0;
  /** Size of the frame being assembled, once its prefix is read; -1 before. */
  private pendingSize = -1;

  constructor(private readonly maxFrameBytes: number) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete frame body (without its size prefix), or null. Throws FrameError. */
  next(): Buffer | null {
    if (this.pendingSize < 0) {
      if (this.buffered < SIZE_BYTES) return null;
      const size = this.readSize();
      if (size < 0) throw new FrameError(`negative request size ${size}`);
      if (size > this.maxFrameBytes) throw new FrameError(`request size ${size} exceeds socket.request.max.bytes ${this.maxFrameBytes}`);
      this.pendingSize = size;
    }
    if (this.buffered < this.pendingSize) return null;
    const frame = this.take(this.pendingSize);
    this.pendingSize = -1;
    return frame;
  }

  private readSize(): number {
    const first = this.chunks[0]!;
    let size: number;
    if (first.length - this.offset >= SIZE_BYTES) {
      size = first.readInt32BE(this.offset);
      this.consume(SIZE_BYTES);
    } else {
      size = this.take(SIZE_BYTES).readInt32BE(0);
    }
    return size;
  }

  /** Removes `length` bytes from the front; a view when they lie in one chunk. */
  private take(length: number): Buffer {
    const first = this.chunks[0];
    if (length === 0) return Buffer.alloc(0);
    if (first !== undefined && first.length - this.offset >= length) {
      const view = first.subarray(this.offset, this.offset + length);
      this.consume(length);
      return view;
    }
    const joined = Buffer.allocUnsafe(length);
    let copied = 0;
    while (copied < length) {
      const chunk = this.chunks[0]!;
      const available = Math.min(chunk.length - this.offset, length - copied);
      chunk.copy(joined, copied, this.offset, this.offset + available);
      copied += available;
      this.consume(available);
    }
    return joined;
  }

  private consume(length: number): void {
    this.offset += length;
    this.buffered -= length;
    while (this.chunks.length > 0 && this.offset >= this.chunks[0]!.length) {
      this.offset -= this.chunks[0]!.length;
      this.chunks.shift();
    }
  }
}
