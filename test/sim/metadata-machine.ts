/**
 * The state machine the simulated voters replicate: the real MetadataImage, fed the metadata
 * records in each committed entry. A running digest over the applied entries lets the
 * invariant checks compare a voter's applied sequence with the committed one in O(1).
 */
import { MetadataImage } from '../../src/metadata/image.js';
import type { MetadataRecord } from '../../src/metadata/records.js';
import type { RaftStateMachine } from '../../src/raft/raft-driver.js';
import type { RaftEntry, RaftSnapshot } from '../../src/raft/types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeRecords(records: readonly MetadataRecord[]): Uint8Array {
  return encoder.encode(JSON.stringify(records));
}

export function decodeRecords(data: Uint8Array): MetadataRecord[] {
  return data.length === 0 ? [] : (JSON.parse(decoder.decode(data)) as MetadataRecord[]);
}

/** FNV-1a over the entry's term, index and data, chained from the previous digest. */
export function chainDigest(previous: number, entry: RaftEntry): number {
  let hash = (previous ^ 0x811c9dc5) >>> 0;
  hash = Math.imul(hash ^ entry.index, 16777619) >>> 0;
  hash = Math.imul(hash ^ entry.term, 16777619) >>> 0;
  for (const byte of entry.data) hash = Math.imul(hash ^ byte, 16777619) >>> 0;
  return hash;
}

interface SnapshotBody {
  digest: number;
  appliedIndex: number;
  records: MetadataRecord[];
}

export class MetadataMachine implements RaftStateMachine {
  image = new MetadataImage();
  digest = 0;
  appliedIndex = 0;
  restores = 0;

  apply(entry: RaftEntry): void {
    if (entry.index !== this.appliedIndex + 1) throw new Error(`metadata machine: applied ${entry.index} after ${this.appliedIndex}`);
    this.image.applyEntry(decodeRecords(entry.data));
    this.digest = chainDigest(this.digest, entry);
    this.appliedIndex = entry.index;
  }

  restore(snapshot: RaftSnapshot): void {
    const body = JSON.parse(decoder.decode(snapshot.data)) as SnapshotBody;
    if (body.appliedIndex !== snapshot.index) throw new Error(`metadata machine: snapshot at ${snapshot.index} holds state of ${body.appliedIndex}`);
    this.image = new MetadataImage();
    for (const record of body.records) this.image.apply(record);
    this.digest = body.digest;
    this.appliedIndex = body.appliedIndex;
    this.restores++;
  }

  snapshotData(): Uint8Array {
    const body: SnapshotBody = { digest: this.digest, appliedIndex: this.appliedIndex, records: this.image.toRecords() };
    return encoder.encode(JSON.stringify(body));
  }
}

/** A canonical text of an image, for comparing two images. */
export function imageText(image: MetadataImage): string {
  return JSON.stringify(image.toRecords());
}
