/**
 * A partition log's idempotent-producer state (Kafka keeps its ProducerStateManager with the
 * log): the pure ProducerStateManager (src/txn/), built lazily from the newest `.snapshot` file
 * and the batch headers after it, kept up to date by the appends that follow, dropped by a
 * truncation, and snapshotted (`<mapEndOffset, 20 digits>.snapshot`, written atomically) so a
 * restart replays only what came after.
 *
 * Lazy, because most logs never see an idempotent producer: nothing is read at open, and a
 * leader's first check (or a snapshot) builds the state then. Once built, every append is
 * applied as it happens (followers' too, so a new leader deduplicates retries of batches the
 * old leader took), and anything appended without going through here (journal replay, internal
 * batches) is replayed from the log before the next check.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { batchSizeBytes } from '../protocol/records/batch.js';
import { LOG_OVERHEAD_BYTES } from '../protocol/records/layout.js';
import { CorruptProducerSnapshotError, decodeSnapshot, encodeSnapshot, ProducerStateManager, readProducerHeader } from '../txn/producer-state.js';
import { writeFileAtomically } from './checkpoint-file.js';
import type { StorageFileOps } from './file-ops.js';

export const PRODUCER_SNAPSHOT_SUFFIX = '.snapshot';
/** Snapshots kept per partition (the newest first; an older one for a truncation below it). */
const SNAPSHOTS_KEPT = 2;
/** Bytes read per step when replaying batch headers from the log. */
const REPLAY_CHUNK_BYTES = 4 * 1024 * 1024;

/** What the producer state needs of its log. */
export interface ProducerStateLog {
  readonly directory: string;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  read(fetchOffset: number, maxBytes: number, maxOffsetExclusive?: number, minOneBatch?: boolean): { records: Buffer };
}

export class LogProducerState {
  private manager: ProducerStateManager | null = null;
  /** The mapEndOffset of the last snapshot written (none: -1). */
  private snapshotOffset = -1;

  constructor(
    private readonly log: ProducerStateLog,
    private readonly files: StorageFileOps | undefined,
    private readonly logLine: (message: string) => void,
  ) {}

  get isBuilt(): boolean {
    return this.manager !== null;
  }

  /** The state, caught up with the log end: built (snapshot + replay) or replayed as needed. */
  current(): ProducerStateManager {
    let manager = this.manager;
    if (manager === null) this.manager = manager = this.load();
    if (manager.mapEndOffset < this.log.logStartOffset) manager.truncateFullyAndStartAt(this.log.logStartOffset);
    if (manager.mapEndOffset < this.log.logEndOffset) this.replay(manager, manager.mapEndOffset);
    return manager;
  }

  /** Batches just appended at the log end (a follower's, or a leader's already checked): applied if built. */
  onAppended(records: Buffer, asLeader: boolean): void {
    const manager = this.manager;
    if (manager === null) return;
    for (let position = 0; position + LOG_OVERHEAD_BYTES <= records.length; position += batchSizeBytes(records, position)) {
      const header = readProducerHeader(records, position);
      if (header.baseOffset < manager.mapEndOffset) continue;
      if (asLeader && !header.isControl) manager.onAppended(header);
      else manager.loadBatch(header);
    }
  }

  /** The log was truncated to `logEndOffset`: the state is rebuilt on next use; later snapshots go. */
  truncated(logEndOffset: number): void {
    this.manager = null;
    for (const offset of this.snapshotOffsets()) if (offset > logEndOffset) rmSync(this.snapshotPath(offset), { force: true });
    if (this.snapshotOffset > logEndOffset) this.snapshotOffset = -1;
  }

  /** Writes a snapshot of the built state when it moved since the last one; keeps the newest two. */
  writeSnapshot(): void {
    const manager = this.manager;
    if (manager === null || manager.mapEndOffset === this.snapshotOffset) return;
    const offset = manager.mapEndOffset;
    writeFileAtomically(this.snapshotPath(offset), encodeSnapshot(manager.snapshot()), this.files);
    this.snapshotOffset = offset;
    const offsets = this.snapshotOffsets();
    for (const old of offsets.slice(0, Math.max(0, offsets.length - SNAPSHOTS_KEPT))) rmSync(this.snapshotPath(old), { force: true });
  }

  private load(): ProducerStateManager {
    const logEnd = this.log.logEndOffset;
    for (const offset of this.snapshotOffsets().reverse()) {
      if (offset > logEnd) {
        rmSync(this.snapshotPath(offset), { force: true });
        continue;
      }
      try {
        this.snapshotOffset = offset;
        return ProducerStateManager.restore(decodeSnapshot(readFileSync(this.snapshotPath(offset))));
      } catch (error) {
        if (!(error instanceof CorruptProducerSnapshotError)) throw error;
        this.logLine(`${this.snapshotPath(offset)}: ${error.message}; replaying batch headers from an older point instead`);
        rmSync(this.snapshotPath(offset), { force: true });
      }
    }
    return new ProducerStateManager(this.log.logStartOffset);
  }

  private replay(manager: ProducerStateManager, fromOffset: number): void {
    let offset = fromOffset;
    for (let round = 0; offset < this.log.logEndOffset && round < 10_000_000; round++) {
      const { records } = this.log.read(offset, REPLAY_CHUNK_BYTES, this.log.logEndOffset, true);
      if (records.length === 0) break;
      let position = 0;
      for (; position + LOG_OVERHEAD_BYTES <= records.length; position += batchSizeBytes(records, position)) {
        if (position + batchSizeBytes(records, position) > records.length) break;
        const header = readProducerHeader(records, position);
        offset = header.lastOffset + 1;
        if (header.baseOffset >= manager.mapEndOffset) manager.loadBatch(header);
      }
      if (position === 0) break;
    }
    if (manager.mapEndOffset < this.log.logEndOffset) manager.updateMapEndOffset(this.log.logEndOffset);
  }

  private snapshotOffsets(): number[] {
    if (!existsSync(this.log.directory)) return [];
    return readdirSync(this.log.directory)
      .filter((name) => name.endsWith(PRODUCER_SNAPSHOT_SUFFIX))
      .map((name) => Number(name.slice(0, -PRODUCER_SNAPSHOT_SUFFIX.length)))
      .filter((offset) => Number.isSafeInteger(offset) && offset >= 0)
      .sort((a, b) => a - b);
  }

  private snapshotPath(offset: number): string {
    return join(this.log.directory, `${String(offset).padStart(20, '0')}${PRODUCER_SNAPSHOT_SUFFIX}`);
  }
}
