/**
 * The node journal: one append-only write-ahead log per node for the appends of every
 * partition it hosts. With it, a ring drain that touched a thousand partitions costs one
 * fdatasync (of the journal) instead of a thousand (one per segment file); the segment files
 * are fsynced later, in the background, at a checkpoint, after which the journal before the
 * checkpoint is deleted. After a crash, `replay()` hands back every durable entry since the last
 * checkpoint so the partition logs can append what they lost.
 *
 * A log truncation is journaled too, as a truncation entry in its place among the appends: a
 * replay that re-appended batches later truncated away (the log end offset is all a replayed
 * batch is checked against) knows to take them back out before the appends that followed.
 *
 * Files: `<dir>/<sequence, 20 digits>.journal`, rolled at `fileBytes`; `<dir>/journal-checkpoint`
 * (text: sequence and byte position, written atomically). Entry layout:
 *
 *   length   u32   bytes after this field
 *   crc      u32   CRC-32C of everything after this field
 *   topic    u16 length + UTF-8
 *   partition i32   the partition; in a truncation entry -1 - partition (always negative)
 *   records  the record batches as appended to the partition log (offsets assigned); in a
 *            truncation entry an i64: the log end offset the truncation left
 *
 * (Partitions are never negative, so journals written before truncation entries read the same.)
 */
import { existsSync, fstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { crc32c, crc32cUpdate } from '../protocol/records/crc32c.js';
import { writeFileAtomically } from './checkpoint-file.js';
import { FileWindow } from './file-window.js';
import { nodeFileOps, writeFully, type StorageFileOps } from './file-ops.js';
import { GroupCommit } from './group-commit.js';
import { isStorageIoError, type LogDirFailure } from './log-dir-failure.js';

const SUFFIX = '.journal';
const CHECKPOINT_FILE = 'journal-checkpoint';
const LENGTH_BYTES = 4;
const CRC_BYTES = 4;
const HEADER_FIXED_BYTES = CRC_BYTES + 2 + 4;
/** An entry larger than this is corruption (a batch is bounded by max.message.bytes). */
const MAX_ENTRY_BYTES = 256 * 1024 * 1024;
/** Appended entries are gathered up to this size before a write; larger entries go straight out. */
const PENDING_WRITE_BYTES = 1024 * 1024;
const TRUNCATION_OFFSET_BYTES = 8;

export interface JournalPosition {
  readonly sequence: number;
  readonly offset: number;
}

export const JournalEntryKind = {
  /** Record batches appended to a partition log. */
  RECORDS: 'records',
  /** The partition log was truncated: nothing at or past `logEndOffset` is in it any more. */
  TRUNCATION: 'truncation',
} as const;

export type JournalEntry =
  | { readonly kind: typeof JournalEntryKind.RECORDS; readonly topic: string; readonly partition: number; readonly records: Buffer }
  | { readonly kind: typeof JournalEntryKind.TRUNCATION; readonly topic: string; readonly partition: number; readonly logEndOffset: number };

interface JournalFile {
  readonly sequence: number;
  readonly fd: number;
  sizeBytes: number;
  synced: boolean;
}

export class NodeJournal {
  private readonly journalFiles: JournalFile[] = [];
  private readonly groupCommit: GroupCommit;
  private failure: Error | null = null;
  private checkpointPosition: JournalPosition;
  private readonly header = Buffer.allocUnsafe(LENGTH_BYTES + HEADER_FIXED_BYTES + 3 * 0xffff);
  /**
   * Entries appended and not yet written: they go to the file in one pwrite at the next flush
   * (or when this buffer fills), instead of two per entry. A drain over many partitions
   * journals hundreds of small batches; the write syscalls were most of its cost.
   */
  private readonly pending = Buffer.allocUnsafe(PENDING_WRITE_BYTES);
  private pendingBytes = 0;
  private pendingFile: JournalFile | null = null;
  private pendingAt = 0;
  /** Bytes appended since the last checkpoint (the node checkpoints when this grows). */
  bytesSinceCheckpoint = 0;

  private constructor(
    private readonly directory: string,
    private readonly fileBytes: number,
    private readonly files: StorageFileOps,
    private readonly logDir: LogDirFailure | null,
  ) {
    this.checkpointPosition = { sequence: 0, offset: 0 };
    this.groupCommit = new GroupCommit(() => this.flushOnce());
  }

  /**
   * Opens the journal in `directory` (created if needed); call `replay()` before appending. A
   * failed write or fsync takes `logDir` (the node's data dir) offline.
   */
  static open(directory: string, fileBytes: number, files: StorageFileOps = nodeFileOps, logDir: LogDirFailure | null = null): NodeJournal {
    mkdirSync(directory, { recursive: true });
    const journal = new NodeJournal(directory, fileBytes, files, logDir);
    journal.checkpointPosition = journal.readCheckpoint();
    for (const sequence of journal.listSequences()) {
      if (sequence < journal.checkpointPosition.sequence) {
        rmSync(journal.path(sequence), { force: true });
        continue;
      }
      const fd = files.openSync(journal.path(sequence), 'r+');
      let sizeBytes = fstatSync(fd).size;
      const checkpoint = journal.checkpointPosition;
      if (sequence === checkpoint.sequence && sizeBytes < checkpoint.offset) {
        // The checkpoint names a position past the file's end (a crash lost unsynced journal
        // bytes that the logs had already made durable). Appends must not land before it, or a
        // later replay, starting at the checkpoint, would skip them: pad the file up to it.
        files.ftruncateSync(fd, checkpoint.offset);
        sizeBytes = checkpoint.offset;
      }
      journal.journalFiles.push({ sequence, fd, sizeBytes, synced: true });
    }
    return journal;
  }

  get position(): JournalPosition {
    const last = this.journalFiles[this.journalFiles.length - 1];
    return last === undefined ? this.checkpointPosition : { sequence: last.sequence, offset: last.sizeBytes };
  }

  /**
   * Every valid entry after the checkpoint, oldest first; stops at the first torn or corrupt
   * entry and cuts the journal there, so appends after the replay continue from a clean end.
   */
  *replay(): Generator<JournalEntry> {
    for (let index = 0; index < this.journalFiles.length; index++) {
      const file = this.journalFiles[index]!;
      const start = file.sequence === this.checkpointPosition.sequence ? this.checkpointPosition.offset : 0;
      const end = yield* this.replayFile(file, start);
      if (end < file.sizeBytes) {
        this.cutAt(index, end);
        return;
      }
    }
  }

  private *replayFile(file: JournalFile, start: number): Generator<JournalEntry, number> {
    const window = new FileWindow(file.fd, 1024 * 1024);
    let position = start;
    while (position + LENGTH_BYTES <= file.sizeBytes) {
      const at = window.load(position, LENGTH_BYTES, file.sizeBytes);
      const length = window.bytes.readUInt32LE(at);
      if (length < HEADER_FIXED_BYTES || length > MAX_ENTRY_BYTES) return position;
      const bodyAt = window.load(position + LENGTH_BYTES, length, file.sizeBytes);
      if (bodyAt < 0) return position;
      const body = window.bytes;
      if (body.readUInt32LE(bodyAt) !== crc32c(body, bodyAt + CRC_BYTES, bodyAt + length)) return position;
      const topicLength = body.readUInt16LE(bodyAt + CRC_BYTES);
      const topicAt = bodyAt + CRC_BYTES + 2;
      const topic = body.toString('utf8', topicAt, topicAt + topicLength);
      const partition = body.readInt32LE(topicAt + topicLength);
      const recordsAt = topicAt + topicLength + 4;
      if (partition >= 0) {
        yield { kind: JournalEntryKind.RECORDS, topic, partition, records: Buffer.from(body.subarray(recordsAt, bodyAt + length)) };
      } else {
        if (bodyAt + length - recordsAt !== TRUNCATION_OFFSET_BYTES) {
          throw new Error(`journal ${this.path(file.sequence)}: truncation entry at ${position} holds ${bodyAt + length - recordsAt} bytes, not ${TRUNCATION_OFFSET_BYTES}`);
        }
        const logEndOffset = Number(body.readBigInt64LE(recordsAt));
        yield { kind: JournalEntryKind.TRUNCATION, topic, partition: -1 - partition, logEndOffset };
      }
      position += LENGTH_BYTES + length;
    }
    return position;
  }

  /** Drops everything from file `index` at `offset` on (a torn tail). */
  private cutAt(index: number, offset: number): void {
    const file = this.journalFiles[index]!;
    this.files.ftruncateSync(file.fd, offset);
    file.sizeBytes = offset;
    for (const later of this.journalFiles.splice(index + 1)) {
      this.files.closeSync(later.fd);
      rmSync(this.path(later.sequence), { force: true });
    }
  }

  /**
   * Appends one entry for `records[start, end)` of `topic`-`partition`; not durable until
   * flush. A write that fails with an I/O error takes the journal (and the log dir) offline.
   */
  append(topic: string, partition: number, records: Buffer, start = 0, end = records.length): void {
    if (partition < 0) throw new RangeError(`journal append for negative partition ${partition}`);
    this.appendChecked(topic, partition, records, start, end);
  }

  /**
   * Appends a truncation entry: `topic`-`partition` was truncated, and its log end offset is now
   * `logEndOffset`. Not durable until flush, like an append.
   */
  appendTruncation(topic: string, partition: number, logEndOffset: number): void {
    if (partition < 0 || !Number.isSafeInteger(logEndOffset) || logEndOffset < 0) {
      throw new RangeError(`journal truncation of ${topic}-${partition} to ${logEndOffset}`);
    }
    const offset = Buffer.allocUnsafe(TRUNCATION_OFFSET_BYTES);
    offset.writeBigInt64LE(BigInt(logEndOffset));
    this.appendChecked(topic, -1 - partition, offset, 0, TRUNCATION_OFFSET_BYTES);
  }

  private appendChecked(topic: string, partitionField: number, records: Buffer, start: number, end: number): void {
    this.checkWritable();
    try {
      this.appendEntry(topic, partitionField, records, start, end);
    } catch (error) {
      throw this.failWrite(error, 'write');
    }
  }

  private appendEntry(topic: string, partition: number, records: Buffer, start: number, end: number): void {
    const file = this.writableFile(end - start + 3 * topic.length + LENGTH_BYTES + HEADER_FIXED_BYTES);
    const header = this.header;
    const topicLength = header.write(topic, LENGTH_BYTES + CRC_BYTES + 2, 'utf8');
    header.writeUInt16LE(topicLength, LENGTH_BYTES + CRC_BYTES);
    header.writeInt32LE(partition, LENGTH_BYTES + CRC_BYTES + 2 + topicLength);
    const headerBytes = LENGTH_BYTES + HEADER_FIXED_BYTES + topicLength;
    const length = headerBytes - LENGTH_BYTES + (end - start);
    header.writeUInt32LE(length, 0);
    let crc = crc32c(header, LENGTH_BYTES + CRC_BYTES, headerBytes);
    crc = crc32cUpdate(crc, records, start, end);
    header.writeUInt32LE(crc, LENGTH_BYTES);
    const entryBytes = headerBytes + (end - start);
    if (this.pendingFile !== file || this.pendingBytes + entryBytes > this.pending.length) this.writePending();
    if (entryBytes <= this.pending.length) {
      if (this.pendingBytes === 0) {
        this.pendingFile = file;
        this.pendingAt = file.sizeBytes;
      }
      header.copy(this.pending, this.pendingBytes, 0, headerBytes);
      records.copy(this.pending, this.pendingBytes + headerBytes, start, end);
      this.pendingBytes += entryBytes;
    } else {
      writeFully(this.files, file.fd, header, 0, headerBytes, file.sizeBytes);
      writeFully(this.files, file.fd, records, start, end - start, file.sizeBytes + headerBytes);
    }
    file.sizeBytes += entryBytes;
    file.synced = false;
    this.bytesSinceCheckpoint += headerBytes + (end - start);
  }

  /** Writes the entries appended since the last write (one pwrite for a whole drain's worth). */
  private writePending(): void {
    if (this.pendingBytes === 0 || this.pendingFile === null) return;
    writeFully(this.files, this.pendingFile.fd, this.pending, 0, this.pendingBytes, this.pendingAt);
    this.pendingBytes = 0;
    this.pendingFile = null;
  }

  private writableFile(entryBytes: number): JournalFile {
    const last = this.journalFiles[this.journalFiles.length - 1];
    if (last !== undefined && (last.sizeBytes === 0 || last.sizeBytes + entryBytes <= this.fileBytes)) return last;
    const sequence = last === undefined ? this.checkpointPosition.sequence : last.sequence + 1;
    const fd = this.files.openSync(this.path(sequence), existsSync(this.path(sequence)) ? 'r+' : 'w+');
    const file: JournalFile = { sequence, fd, sizeBytes: fstatSync(fd).size, synced: true };
    this.journalFiles.push(file);
    return file;
  }

  /** Group-committed fdatasync of every journal file with unsynced appends. */
  flush(): Promise<number> {
    try {
      this.writePending();
    } catch (error) {
      return Promise.reject(this.failWrite(error, 'write'));
    }
    return this.groupCommit.flush();
  }

  /**
   * fdatasyncs every journal file with unsynced appends on the calling thread, now (see
   * PartitionLog.flushNow). Callers make sure no group-commit round runs, or that what it covers
   * does not matter to them: a round covering appends after this call is still needed.
   */
  flushNow(): void {
    this.checkWritable();
    try {
      this.writePending();
    } catch (error) {
      throw this.failWrite(error, 'write');
    }
    try {
      for (const file of this.journalFiles) {
        if (file.synced) continue;
        file.synced = true;
        this.files.fdatasyncSync(file.fd);
      }
    } catch (error) {
      throw this.fail(error, 'flush');
    }
  }

  /** A group-commit round is running on the threadpool. */
  get isFlushing(): boolean {
    return this.groupCommit.isFlushing;
  }

  private async flushOnce(): Promise<number> {
    this.checkWritable();
    const dirty = this.journalFiles.filter((file) => !file.synced);
    for (const file of dirty) file.synced = true;
    try {
      await Promise.all(dirty.map((file) => new Promise<void>((resolve, reject) => this.files.fdatasync(file.fd, (error) => (error ? reject(error) : resolve())))));
    } catch (error) {
      throw this.fail(error, 'flush');
    }
    return 0;
  }

  /**
   * After a failed fdatasync the page cache may have dropped journal bytes: the journal takes no
   * more appends and no flush succeeds again (a retried fsync could report success for lost
   * data). The node answers KAFKA_STORAGE_ERROR for what it covered. The journal lives in the
   * node's data dir, which goes offline with it.
   */
  private fail(error: unknown, operation: string): KafkaError {
    this.failure ??= error instanceof Error ? error : new Error(String(error));
    this.logDir?.fail(this.failure, `node journal ${operation}`);
    return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `node journal failed to ${operation}: ${this.failure.message}`);
  }

  /** The error to throw for a failed write: I/O errors take the journal offline; bugs pass. */
  private failWrite(error: unknown, operation: string): unknown {
    if (error instanceof KafkaError) return error;
    return isStorageIoError(error) ? this.fail(error, operation) : error;
  }

  /** The journal failed once, or its log dir is offline: it is unusable (see `fail`). */
  get isOffline(): boolean {
    return this.failure !== null || this.logDir?.isOffline === true;
  }

  private checkWritable(): void {
    if (this.failure !== null) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `node journal is offline after a failed write: ${this.failure.message}`);
    if (this.logDir?.isOffline === true) throw this.logDir.offlineError();
  }

  /**
   * Records that everything before `position` is durable in the partition logs themselves, and
   * deletes the journal files wholly before it.
   */
  checkpoint(position: JournalPosition): void {
    // Offline, the logs may lack what the journal holds: the checkpoint must stay where it is.
    this.checkWritable();
    try {
      // The file must reach the position before the checkpoint names it (see `open`).
      this.writePending();
      writeFileAtomically(join(this.directory, CHECKPOINT_FILE), `${position.sequence} ${position.offset}\n`, this.files);
    } catch (error) {
      throw this.failWrite(error, 'checkpoint');
    }
    this.checkpointPosition = position;
    while (this.journalFiles.length > 1 && this.journalFiles[0]!.sequence < position.sequence) {
      const file = this.journalFiles.shift()!;
      this.files.closeSync(file.fd);
      rmSync(this.path(file.sequence), { force: true });
    }
    this.bytesSinceCheckpoint = 0;
  }

  async close(): Promise<void> {
    if (!this.isOffline) {
      try {
        this.writePending();
      } catch (error) {
        // Nothing pending was acknowledged: the journal just goes offline with its dir.
        const failure = this.failWrite(error, 'write');
        if (!(failure instanceof KafkaError)) throw failure;
      }
    }
    await this.groupCommit.idle();
    for (const file of this.journalFiles) this.files.closeSync(file.fd);
    this.journalFiles.length = 0;
  }

  private readCheckpoint(): JournalPosition {
    const path = join(this.directory, CHECKPOINT_FILE);
    if (!existsSync(path)) return { sequence: 0, offset: 0 };
    const [sequence, offset] = readFileSync(path, 'utf8').trim().split(' ').map(Number);
    if (!Number.isSafeInteger(sequence) || !Number.isSafeInteger(offset)) throw new Error(`journal checkpoint ${path} is malformed`);
    return { sequence: sequence!, offset: offset! };
  }

  private listSequences(): number[] {
    return readdirSync(this.directory)
      .filter((name) => name.endsWith(SUFFIX))
      .map((name) => Number(name.slice(0, -SUFFIX.length)))
      .filter((sequence) => Number.isSafeInteger(sequence))
      .sort((a, b) => a - b);
  }

  private path(sequence: number): string {
    return join(this.directory, `${String(sequence).padStart(20, '0')}${SUFFIX}`);
  }
}

