/**
 * Cuts a byte stream into Kafka frames (int32 size, then that many bytes).
 *
 * Chunks are kept as they arrived. A frame that lies inside one chunk is returned as a subarray
 * of it (no copy); only a frame that spans chunks is copied into a Buffer of its own.
 */

/** The size prefix says something no peer would send: the stream is broken. */
export class FrameSizeError extends Error {
  readonly frameSizeBytes: number;

  constructor(frameSizeBytes: number, maxFrameSizeBytes: number) {
    super(`frame size ${frameSizeBytes} is outside [0, ${maxFrameSizeBytes}]`);
    this.name = 'FrameSizeError';
    this.frameSizeBytes = frameSizeBytes;
  }
}

const sizePrefixBytes = 4;
/** Consumed chunk slots kept at the head of the queue before the array is compacted. */
const maxConsumedChunkSlots = 64;
const emptyFrame = Buffer.alloc(0);

export class FrameReader {
  private readonly maxFrameSizeBytes: number;
  private readonly chunks: Buffer[] = [];
  /** Index in `chunks` of the first chunk with unread bytes. */
  private headIndex = 0;
  /** Bytes of chunks[headIndex] already read. */
  private headOffset = 0;
  private bufferedBytes = 0;

  constructor(maxFrameSizeBytes: number) {
    if (!Number.isInteger(maxFrameSizeBytes) || maxFrameSizeBytes < 0) {
      throw new RangeError(`maxFrameSizeBytes must be a non-negative integer, got ${maxFrameSizeBytes}`);
    }
    this.maxFrameSizeBytes = maxFrameSizeBytes;
  }

  /** Unread bytes held, including a partial frame. */
  get bufferedSizeBytes(): number {
    return this.bufferedBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
  }

  /**
   * The next whole frame without its size prefix, or undefined until more bytes arrive.
   * Throws FrameSizeError on a negative or oversized size; the reader is then unusable.
   */
  nextFrame(): Buffer | undefined {
    if (this.bufferedBytes < sizePrefixBytes) return undefined;
    const frameSizeBytes = this.peekInt32();
    if (frameSizeBytes < 0 || frameSizeBytes > this.maxFrameSizeBytes) {
      throw new FrameSizeError(frameSizeBytes, this.maxFrameSizeBytes);
    }
    if (this.bufferedBytes < sizePrefixBytes + frameSizeBytes) return undefined;
    this.skip(sizePrefixBytes);
    return this.take(frameSizeBytes);
  }

  private peekInt32(): number {
    const head = this.chunks[this.headIndex]!;
    if (head.length - this.headOffset >= sizePrefixBytes) return head.readInt32BE(this.headOffset);
    let value = 0;
    let chunkIndex = this.headIndex;
    let offset = this.headOffset;
    for (let byteIndex = 0; byteIndex < sizePrefixBytes; byteIndex++) {
      while (offset === this.chunks[chunkIndex]!.length) {
        chunkIndex++;
        offset = 0;
      }
      value = (value << 8) | this.chunks[chunkIndex]![offset]!;
      offset++;
    }
    return value | 0;
  }

  private skip(sizeBytes: number): void {
    let remaining = sizeBytes;
    while (remaining > 0) {
      const head = this.chunks[this.headIndex]!;
      const step = Math.min(remaining, head.length - this.headOffset);
      remaining -= step;
      this.advance(step, head.length);
    }
  }

  private take(sizeBytes: number): Buffer {
    if (sizeBytes === 0) return emptyFrame;
    const head = this.chunks[this.headIndex]!;
    if (head.length - this.headOffset >= sizeBytes) {
      const frame = head.subarray(this.headOffset, this.headOffset + sizeBytes);
      this.advance(sizeBytes, head.length);
      return frame;
    }
    const frame = Buffer.allocUnsafe(sizeBytes);
    let written = 0;
    while (written < sizeBytes) {
      const chunk = this.chunks[this.headIndex]!;
      const step = Math.min(sizeBytes - written, chunk.length - this.headOffset);
      chunk.copy(frame, written, this.headOffset, this.headOffset + step);
      written += step;
      this.advance(step, chunk.length);
    }
    return frame;
  }

  /** Marks `sizeBytes` of the head chunk read; drops the chunk once it is used up. */
  private advance(sizeBytes: number, headLength: number): void {
    this.bufferedBytes -= sizeBytes;
    this.headOffset += sizeBytes;
    if (this.headOffset < headLength) return;
    this.headOffset = 0;
    this.headIndex++;
    if (this.headIndex === this.chunks.length) {
      this.chunks.length = 0;
      this.headIndex = 0;
    } else if (this.headIndex >= maxConsumedChunkSlots) {
      this.chunks.splice(0, this.headIndex);
      this.headIndex = 0;
    }
  }
}
