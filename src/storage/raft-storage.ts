/**
 * A voter's Raft storage in its data dir (`<dataDir>/node-<id>/__cluster_metadata-0/`):
 *
 *   quorum-state          term and vote (JSON, written atomically: temp, fsync, rename)
 *   storage-id            a random id made when this dir is created (a recreated dir gets
 *                           another; leaders tell answers from a lost log by it)
 *   raft.log              the entries after the snapshot, as frames:
 *                           u32 length of the rest | u32 CRC-32C of the rest |
 *                           f64 term | f64 index | data
 *   <index>-<term>.snapshot  the latest snapshot: u32 CRC-32C of the rest | f64 index |
 *                           f64 term | data (written atomically; older ones removed)
 *
 * The metadata log is small (snapshots cut it back every few thousand entries), so the whole
 * log is read at start and compaction rewrites the file. Entries are written with positioned
 * writes and made durable with one fdatasync per Ready (group commit); the hard state is
 * written only when the term or vote changes (a lost commit index is learned again).
 * Recovery stops at the first frame whose CRC or length is wrong (a torn tail) and cuts it off.
 */
import { closeSync, existsSync, fdatasync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { crc32c } from '../protocol/records/crc32c.js';
import type { RaftStorage } from '../raft/raft-driver.js';
import { NO_NODE, type HardState, type RaftEntry, type RaftInitialState, type RaftSnapshot, type Ready } from '../raft/types.js';
import { fsyncDirectory, writeFileAtomically } from './checkpoint-file.js';

export const RAFT_DIRECTORY = '__cluster_metadata-0';
const QUORUM_STATE_FILE = 'quorum-state';
const STORAGE_ID_FILE = 'storage-id';
const LOG_FILE = 'raft.log';
const SNAPSHOT_SUFFIX = '.snapshot';
/** length + crc */
const FRAME_HEADER_BYTES = 8;
/** term + index */
const ENTRY_HEADER_BYTES = 16;
/** A frame longer than this is corruption, not an entry (metadata entries are small). */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export class RaftStorageError extends Error {
  override readonly name = 'RaftStorageError';
}

interface QuorumStateFile {
  term: number;
  votedFor: number;
  commitIndex: number;
}

export class FileRaftStorage implements RaftStorage {
  private readonly logPath: string;
  private fd: number;
  /** Byte position of each entry's frame in raft.log, by index - firstIndex. */
  private positions: number[] = [];
  private firstIndex = 1;
  private endPosition = 0;
  private storedTerm = 0;
  private storedVote = NO_NODE;
  private initial: RaftInitialState;
  readonly storageId: number;

  constructor(readonly directory: string) {
    mkdirSync(directory, { recursive: true });
    this.storageId = readOrCreateStorageId(join(directory, STORAGE_ID_FILE));
    this.logPath = join(directory, LOG_FILE);
    const hardState = this.readQuorumState();
    const snapshot = this.readLatestSnapshot();
    this.firstIndex = (snapshot?.index ?? 0) + 1;
    this.fd = openSync(this.logPath, existsSync(this.logPath) ? 'r+' : 'w+');
    const entries = this.readEntries(snapshot);
    this.storedTerm = hardState.term;
    this.storedVote = hardState.votedFor;
    this.initial = { hardState, snapshot, entries };
  }

  load(): RaftInitialState {
    return this.initial;
  }

  persist(ready: Ready, done: (error: Error | null) => void): void {
    try {
      if (ready.snapshot !== null) this.installSnapshot(ready.snapshot);
      if (ready.entries.length > 0) this.writeEntries(ready.entries);
      if (ready.hardState !== null) this.writeHardState(ready.hardState);
    } catch (error) {
      return done(error as Error);
    }
    if (!ready.mustSync) return done(null);
    fdatasync(this.fd, (error) => done(error ?? null));
  }

  saveSnapshot(snapshot: RaftSnapshot, done: (error: Error | null) => void): void {
    try {
      this.writeSnapshotFile(snapshot);
      this.rewriteLogFrom(snapshot.index + 1);
    } catch (error) {
      return done(error as Error);
    }
    done(null);
  }

  close(): void {
    closeSync(this.fd);
  }

  get lastIndex(): number {
    return this.firstIndex + this.positions.length - 1;
  }

  // ---- writing -----------------------------------------------------------------------------

  private writeEntries(entries: readonly RaftEntry[]): void {
    const first = entries[0]!.index;
    if (first < this.firstIndex) throw new RaftStorageError(`raft storage: entry ${first} is below the first stored index ${this.firstIndex}`);
    if (first > this.lastIndex + 1) throw new RaftStorageError(`raft storage: entry ${first} leaves a gap after ${this.lastIndex}`);
    if (first <= this.lastIndex) this.truncateFrom(first);
    const frames = entries.map(encodeFrame);
    const buffer = Buffer.concat(frames);
    writeSync(this.fd, buffer, 0, buffer.length, this.endPosition);
    for (const frame of frames) {
      this.positions.push(this.endPosition);
      this.endPosition += frame.length;
    }
  }

  /** Drops entries [index, end]; the next write replaces them. */
  private truncateFrom(index: number): void {
    const position = this.positions[index - this.firstIndex]!;
    ftruncateSync(this.fd, position);
    this.positions.length = index - this.firstIndex;
    this.endPosition = position;
  }

  private writeHardState(hardState: HardState): void {
    if (hardState.term === this.storedTerm && hardState.votedFor === this.storedVote) return;
    const contents: QuorumStateFile = { term: hardState.term, votedFor: hardState.votedFor, commitIndex: hardState.commitIndex };
    writeFileAtomically(join(this.directory, QUORUM_STATE_FILE), `${JSON.stringify(contents)}\n`);
    this.storedTerm = hardState.term;
    this.storedVote = hardState.votedFor;
  }

  /** A snapshot from the leader replaces the whole log. */
  private installSnapshot(snapshot: RaftSnapshot): void {
    this.writeSnapshotFile(snapshot);
    ftruncateSync(this.fd, 0);
    fsyncSync(this.fd);
    this.positions = [];
    this.endPosition = 0;
    this.firstIndex = snapshot.index + 1;
  }

  private writeSnapshotFile(snapshot: RaftSnapshot): void {
    const body = Buffer.alloc(ENTRY_HEADER_BYTES + snapshot.data.length);
    body.writeDoubleBE(snapshot.index, 0);
    body.writeDoubleBE(snapshot.term, 8);
    body.set(snapshot.data, ENTRY_HEADER_BYTES);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(crc32c(body), 0);
    const name = `${String(snapshot.index).padStart(20, '0')}-${snapshot.term}${SNAPSHOT_SUFFIX}`;
    writeFileAtomically(join(this.directory, name), Buffer.concat([header, body]));
    for (const other of this.snapshotFiles()) if (other !== name) unlinkSync(join(this.directory, other));
  }

  /** Keeps entries from `index` on: written to a new file that replaces raft.log atomically. */
  private rewriteLogFrom(index: number): void {
    if (index <= this.firstIndex) return;
    const keepFrom = index - this.firstIndex;
    const start = keepFrom < this.positions.length ? this.positions[keepFrom]! : this.endPosition;
    const kept = readFileSync(this.logPath).subarray(start, this.endPosition);
    const temporaryPath = `${this.logPath}.tmp`;
    const fd = openSync(temporaryPath, 'w+');
    writeSync(fd, kept, 0, kept.length, 0);
    fsyncSync(fd);
    renameSync(temporaryPath, this.logPath);
    fsyncDirectory(this.directory);
    closeSync(this.fd);
    this.fd = fd;
    this.positions = this.positions.slice(Math.min(keepFrom, this.positions.length)).map((position) => position - start);
    this.endPosition = kept.length;
    this.firstIndex = index;
  }

  // ---- reading at start --------------------------------------------------------------------

  private readQuorumState(): HardState {
    const path = join(this.directory, QUORUM_STATE_FILE);
    if (!existsSync(path)) return { term: 0, votedFor: NO_NODE, commitIndex: 0 };
    let parsed: QuorumStateFile;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8')) as QuorumStateFile;
    } catch (error) {
      throw new RaftStorageError(`raft storage: ${path} is unreadable (${(error as Error).message}); it is written atomically, so this is not a torn write: restore the data dir or remove this node's ${RAFT_DIRECTORY} to let it rejoin`);
    }
    if (!Number.isInteger(parsed.term) || !Number.isInteger(parsed.votedFor)) throw new RaftStorageError(`raft storage: ${path} has no integer term and votedFor`);
    return { term: parsed.term, votedFor: parsed.votedFor, commitIndex: Number.isInteger(parsed.commitIndex) ? parsed.commitIndex : 0 };
  }

  private snapshotFiles(): string[] {
    return readdirSync(this.directory).filter((name) => name.endsWith(SNAPSHOT_SUFFIX)).sort();
  }

  private readLatestSnapshot(): RaftSnapshot | null {
    const files = this.snapshotFiles();
    const latest = files[files.length - 1];
    if (latest === undefined) return null;
    const path = join(this.directory, latest);
    const bytes = readFileSync(path);
    if (bytes.length < 4 + ENTRY_HEADER_BYTES || bytes.readUInt32BE(0) !== crc32c(bytes, 4)) {
      throw new RaftStorageError(`raft storage: snapshot ${path} fails its CRC check (snapshots are written atomically, so the file was damaged after it was written)`);
    }
    return { index: bytes.readDoubleBE(4), term: bytes.readDoubleBE(12), data: new Uint8Array(bytes.subarray(4 + ENTRY_HEADER_BYTES)) };
  }

  /** Reads every whole frame; cuts off a torn tail; drops entries the snapshot covers. */
  private readEntries(snapshot: RaftSnapshot | null): RaftEntry[] {
    const bytes = readFileSync(this.logPath);
    const entries: RaftEntry[] = [];
    const positions: number[] = [];
    let position = 0;
    while (position + FRAME_HEADER_BYTES <= bytes.length) {
      const length = bytes.readUInt32BE(position);
      const end = position + FRAME_HEADER_BYTES + length;
      if (length < ENTRY_HEADER_BYTES || length > MAX_FRAME_BYTES || end > bytes.length) break;
      if (bytes.readUInt32BE(position + 4) !== crc32c(bytes, position + FRAME_HEADER_BYTES, end)) break;
      const body = position + FRAME_HEADER_BYTES;
      entries.push({ term: bytes.readDoubleBE(body), index: bytes.readDoubleBE(body + 8), data: new Uint8Array(bytes.subarray(body + ENTRY_HEADER_BYTES, end)) });
      positions.push(position);
      position = end;
    }
    if (position < bytes.length) ftruncateSync(this.fd, position);
    // A crash between a snapshot and the log rewrite leaves entries the snapshot covers.
    const snapshotIndex = snapshot?.index ?? 0;
    const firstKept = entries.findIndex((entry) => entry.index > snapshotIndex);
    const kept = firstKept === -1 ? [] : entries.slice(firstKept);
    kept.forEach((entry, offset) => {
      if (entry.index !== snapshotIndex + 1 + offset) throw new RaftStorageError(`raft storage: ${this.logPath} holds entry ${entry.index} where ${snapshotIndex + 1 + offset} belongs: the log does not follow its snapshot`);
    });
    this.positions = firstKept === -1 ? [] : positions.slice(firstKept);
    this.endPosition = position;
    if (firstKept !== 0 && entries.length > 0) {
      // Keep the file's positions consistent with the entries kept: rewrite without the covered ones.
      this.firstIndex = entries[0]!.index;
      this.positions = positions;
      this.rewriteLogFrom(snapshotIndex + 1);
    }
    return kept;
  }
}

function readOrCreateStorageId(path: string): number {
  if (existsSync(path)) {
    const id = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(id) && id > 0) return id;
    throw new RaftStorageError(`raft storage: ${path} does not hold a positive integer`);
  }
  const id = randomInt(1, 2 ** 47);
  writeFileAtomically(path, `${id}\n`);
  return id;
}

function encodeFrame(entry: RaftEntry): Buffer {
  const frame = Buffer.alloc(FRAME_HEADER_BYTES + ENTRY_HEADER_BYTES + entry.data.length);
  frame.writeUInt32BE(ENTRY_HEADER_BYTES + entry.data.length, 0);
  frame.writeDoubleBE(entry.term, FRAME_HEADER_BYTES);
  frame.writeDoubleBE(entry.index, FRAME_HEADER_BYTES + 8);
  frame.set(entry.data, FRAME_HEADER_BYTES + ENTRY_HEADER_BYTES);
  frame.writeUInt32BE(crc32c(frame, FRAME_HEADER_BYTES), 4);
  return frame;
}
