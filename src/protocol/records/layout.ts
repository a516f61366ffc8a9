/**
 * Record batch v2 layout, as on the wire and in segment files (offsets from the batch start).
 *
 *   baseOffset            int64   0
 *   batchLength           int32   8   bytes that follow this field
 *   partitionLeaderEpoch  int32  12
 *   magic                 int8   16   always 2 here
 *   crc                   uint32 17   CRC-32C of attributes .. end of batch
 *   attributes            int16  21
 *   lastOffsetDelta       int32  23
 *   baseTimestamp         int64  27
 *   maxTimestamp          int64  35
 *   producerId            int64  43
 *   producerEpoch         int16  51
 *   baseSequence          int32  53
 *   recordsCount          int32  57
 *   records                      61
 *
 * baseOffset, batchLength, partitionLeaderEpoch and magic lie outside the CRC, so the broker
 * rewrites baseOffset and partitionLeaderEpoch in place without touching it.
 */
export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = BASE_OFFSET_OFFSET + 8;
export const PARTITION_LEADER_EPOCH_OFFSET = BATCH_LENGTH_OFFSET + 4;
export const MAGIC_OFFSET = PARTITION_LEADER_EPOCH_OFFSET + 4;
export const CRC_OFFSET = MAGIC_OFFSET + 1;
export const ATTRIBUTES_OFFSET = CRC_OFFSET + 4;
export const LAST_OFFSET_DELTA_OFFSET = ATTRIBUTES_OFFSET + 2;
export const BASE_TIMESTAMP_OFFSET = LAST_OFFSET_DELTA_OFFSET + 4;
export const MAX_TIMESTAMP_OFFSET = BASE_TIMESTAMP_OFFSET + 8;
export const PRODUCER_ID_OFFSET = MAX_TIMESTAMP_OFFSET + 8;
export const PRODUCER_EPOCH_OFFSET = PRODUCER_ID_OFFSET + 8;
export const BASE_SEQUENCE_OFFSET = PRODUCER_EPOCH_OFFSET + 2;
export const RECORDS_COUNT_OFFSET = BASE_SEQUENCE_OFFSET + 4;
export const RECORDS_OFFSET = RECORDS_COUNT_OFFSET + 4;

/** Bytes before batchLength's payload begins: baseOffset + batchLength. */
export const LOG_OVERHEAD_BYTES = BATCH_LENGTH_OFFSET + 4;
/** Size of a batch with no records. */
export const BATCH_HEADER_BYTES = RECORDS_OFFSET;
/** The smallest legal value of the batchLength field. */
export const MIN_BATCH_LENGTH = BATCH_HEADER_BYTES - LOG_OVERHEAD_BYTES;

export const CURRENT_MAGIC = 2;

export const Attribute = {
  COMPRESSION_MASK: 0x07,
  TIMESTAMP_TYPE_LOG_APPEND: 0x08,
  TRANSACTIONAL: 0x10,
  CONTROL: 0x20,
  DELETE_HORIZON: 0x40,
} as const;

export const Compression = {
  NONE: 0,
  GZIP: 1,
  SNAPPY: 2,
  LZ4: 3,
  ZSTD: 4,
} as const;
export type CompressionCode = (typeof Compression)[keyof typeof Compression];

export const TimestampType = {
  CREATE_TIME: 0,
  LOG_APPEND_TIME: 1,
} as const;

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

/** Control record types (key: int16 version, int16 type). */
export const ControlType = {
  ABORT: 0,
  COMMIT: 1,
} as const;
