/**
 * Compression codecs for the cases where the broker must look inside a batch (tests, our own
 * console tools, compaction). The produce and fetch paths keep compressed batches opaque.
 * gzip comes from node:zlib; snappy, lz4 and zstd have no implementation here yet.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { ErrorCode, KafkaError } from '../errors.js';
import { Compression, type CompressionCode } from './layout.js';

export function compress(codec: CompressionCode, bytes: Buffer): Buffer {
  switch (codec) {
    case Compression.NONE:
      return bytes;
    case Compression.GZIP:
      return gzipSync(bytes);
    default:
      throw new KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `cannot compress with codec ${codec}`);
  }
}

export function decompress(codec: number, bytes: Buffer): Buffer {
  switch (codec) {
    case Compression.NONE:
      return bytes;
    case Compression.GZIP:
      return gunzipSync(bytes);
    default:
      throw new KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `cannot decompress codec ${codec}`);
  }
}

export function canDecompress(codec: number): boolean {
  return codec === Compression.NONE || codec === Compression.GZIP;
}
