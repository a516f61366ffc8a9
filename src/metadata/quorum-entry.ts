/**
 * What the Raft metadata log holds: each entry is one controller operation's records (JSON, as
 * the single-voter log kept them) tagged with the operation id of its proposer, so the front
 * thread knows when its operation committed; an empty entry is a new leader's no-op. Snapshots
 * hold the image as records.
 */
import type { MetadataRecord } from './records.js';

export interface QuorumEntryPayload {
  /** The proposer's operation id, or null for records the quorum wrote itself. */
  readonly operationId: string | null;
  readonly records: readonly MetadataRecord[];
}

export interface QuorumSnapshotBody {
  readonly appliedIndex: number;
  readonly records: readonly MetadataRecord[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeQuorumEntry(payload: QuorumEntryPayload): Uint8Array {
  return encoder.encode(JSON.stringify(payload));
}

/** An empty entry (a leader's no-op) carries no records. */
export function decodeQuorumEntry(data: Uint8Array): QuorumEntryPayload {
  if (data.length === 0) return { operationId: null, records: [] };
  return JSON.parse(decoder.decode(data)) as QuorumEntryPayload;
}

export function encodeQuorumSnapshot(body: QuorumSnapshotBody): Uint8Array {
  return encoder.encode(JSON.stringify(body));
}

export function decodeQuorumSnapshot(data: Uint8Array): QuorumSnapshotBody {
  return JSON.parse(decoder.decode(data)) as QuorumSnapshotBody;
}
