import { decodeRecordBatches } from '../../../src/protocol/records/index.js';
import type { ParsedRecords } from './compare.js';

/** Our own view of a `records` field: every record of every batch, keys and values as text. */
export function ourRecords(ours: unknown): ParsedRecords {
  const records = decodeRecordBatches(ours as Buffer).flatMap((batch) => batch.records);
  return {
    keys: records.map((record) => record.key?.toString() ?? null),
    values: records.map((record) => record.value?.toString() ?? null),
  };
}
