/**
 * The leader-epoch cache of one partition replica (Kafka's LeaderEpochFileCache), pure: the
 * ordered list of (leader epoch, start offset of its first batch in this log). It answers
 * OffsetsForLeaderEpoch (`endOffsetFor`), the leader's KIP-320 check of a follower fetch
 * (`divergence`) and where a follower truncates when told it diverged
 * (`followerTruncationOffset`), which together solve the KIP-101 problems: a follower never
 * truncates to its high watermark on restart, it truncates to where its log and the leader's
 * stop agreeing.
 *
 * Storage (the `leader-epoch-checkpoint` file, rebuilding from batch headers) lives in
 * src/storage/log-leader-epochs.ts; this file does no I/O.
 */
import { assert, InvariantError } from '../runtime/assert.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';

/** Kafka's "no epoch" and "no offset" answers (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET). */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEntry {
  readonly epoch: number;
  /** Offset of the first batch written in this epoch. */
  readonly startOffset: number;
}

/** An OffsetsForLeaderEpoch answer, also the `divergingEpoch` of a Fetch response. */
export interface EpochEndOffset {
  readonly epoch: number;
  /** The start offset of the next epoch, or the log end offset for the latest one. */
  readonly endOffset: number;
}

export const UNDEFINED_EPOCH_END_OFFSET: EpochEndOffset = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };

/** What a log shows of its cache: reads only (the log alone changes it, with its batches). */
export interface LeaderEpochLookup {
  readonly entries: readonly EpochEntry[];
  readonly latestEpoch: number;
  endOffsetFor(requestedEpoch: number, logEndOffset: number): EpochEndOffset;
  epochForOffset(offset: number): number;
  divergence(fetchOffset: number, lastFetchedEpoch: number, logEndOffset: number): EpochEndOffset | null;
  followerTruncationOffset(diverging: EpochEndOffset, localLogEndOffset: number): number;
}

/**
 * Why `entries` cannot be a cache (epochs not increasing, start offsets decreasing or shared,
 * negative values), or null when they can: a checkpoint file read back is checked with it.
 */
export function epochEntriesProblem(entries: readonly EpochEntry[]): string | null {
  let previous: EpochEntry | null = null;
  for (const entry of entries) {
    if (!Number.isSafeInteger(entry.epoch) || entry.epoch < 0 || !Number.isSafeInteger(entry.startOffset) || entry.startOffset < 0) {
      return `invalid entry epoch ${entry.epoch} at offset ${entry.startOffset}`;
    }
    if (previous !== null && (entry.epoch <= previous.epoch || entry.startOffset <= previous.startOffset)) {
      return `entry epoch ${entry.epoch} at ${entry.startOffset} does not follow epoch ${previous.epoch} at ${previous.startOffset}`;
    }
    previous = entry;
  }
  return null;
}

export class LeaderEpochCache implements LeaderEpochLookup {
  /** Ascending by epoch and by start offset; no two entries share a start offset. */
  private readonly epochs: EpochEntry[] = [];

  constructor(entries: readonly EpochEntry[] = []) {
    for (const entry of entries) this.assign(entry.epoch, entry.startOffset);
  }

  get entries(): readonly EpochEntry[] {
    return this.epochs;
  }

  get latestEntry(): EpochEntry | null {
    return this.epochs[this.epochs.length - 1] ?? null;
  }

  /** The latest epoch with a start offset in this log, -1 if none. */
  get latestEpoch(): number {
    return this.latestEntry?.epoch ?? UNDEFINED_EPOCH;
  }

  /**
   * Records that `epoch` starts at `startOffset`; returns whether the cache changed. A repeat of
   * the latest epoch is ignored (every batch of an epoch passes here). An epoch that started
   * where the latest one did replaces it: the latest epoch then holds no batch, and Kafka keeps
   * start offsets distinct, so OffsetsForLeaderEpoch answers as Kafka does. Epochs must
   * increase and start offsets must not decrease: a log truncates its cache before it takes
   * batches of an older epoch (always-on assertions).
   */
  assign(epoch: number, startOffset: number): boolean {
    // Every append passes here: plain ifs, no message closure per call.
    const latest = this.latestEntry;
    if (latest !== null && epoch === latest.epoch && startOffset >= latest.startOffset) return false;
    if (!(Number.isSafeInteger(epoch) && epoch >= 0 && Number.isSafeInteger(startOffset) && startOffset >= 0)) {
      throw new InvariantError(`leader epoch cache: invalid entry epoch ${epoch} at offset ${startOffset}`);
    }
    if (latest !== null) {
      if (!(epoch > latest.epoch && startOffset >= latest.startOffset)) {
        throw new InvariantError(`leader epoch cache: epoch ${epoch} at offset ${startOffset} does not follow epoch ${latest.epoch} at ${latest.startOffset}`);
      }
      if (startOffset === latest.startOffset) this.epochs.pop();
    }
    this.epochs.push({ epoch, startOffset });
    return true;
  }

  /**
   * OffsetsForLeaderEpoch, exactly as Kafka: the largest epoch <= `requestedEpoch` and the start
   * offset of the epoch after it (the log end offset when that is the latest epoch). UNDEFINED
   * for an undefined request and for an epoch above every known one; an epoch below every
   * known one answers with itself and the first known start offset (the log was cut at its
   * start: the follower replicates from there).
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): EpochEndOffset {
    if (requestedEpoch === UNDEFINED_EPOCH) return UNDEFINED_EPOCH_END_OFFSET;
    if (requestedEpoch === this.latestEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.indexOfFirstEpochAbove(requestedEpoch);
    if (higher === this.epochs.length) return UNDEFINED_EPOCH_END_OFFSET;
    const endOffset = this.epochs[higher]!.startOffset;
    if (higher === 0) return { epoch: requestedEpoch, endOffset };
    return { epoch: this.epochs[higher - 1]!.epoch, endOffset };
  }

  /** The epoch of the batch at `offset` (the last entry starting at or below it), -1 if none. */
  epochForOffset(offset: number): number {
    let epoch = UNDEFINED_EPOCH;
    for (const entry of this.epochs) {
      if (entry.startOffset > offset) break;
      epoch = entry.epoch;
    }
    return epoch;
  }

  /** Drops the entries starting at or after `endOffset` (the log was truncated there). */
  truncateFromEnd(endOffset: number): boolean {
    assert(Number.isSafeInteger(endOffset) && endOffset >= 0, () => `leader epoch cache: truncation to offset ${endOffset}`);
    let kept = this.epochs.length;
    while (kept > 0 && this.epochs[kept - 1]!.startOffset >= endOffset) kept--;
    if (kept === this.epochs.length) return false;
    this.epochs.length = kept;
    return true;
  }

  /**
   * The log now starts at `startOffset`: the entries starting at or below it collapse into one,
   * the last of them, moved up to `startOffset` (Kafka keeps the epoch that holds the new start).
   */
  truncateFromStart(startOffset: number): boolean {
    let removed = 0;
    while (removed < this.epochs.length && this.epochs[removed]!.startOffset <= startOffset) removed++;
    if (removed === 0) return false;
    const holder = this.epochs[removed - 1]!;
    if (removed === 1 && holder.startOffset === startOffset) return false;
    this.epochs.splice(0, removed, { epoch: holder.epoch, startOffset });
    return true;
  }

  /**
   * The leader's KIP-320 check of a follower fetch (Kafka's Partition.readRecords): null when the
   * follower's log agrees with this one up to `fetchOffset`, else the epoch and end offset the
   * follower must truncate against (the Fetch response's `divergingEpoch`). A follower that
   * sends no last fetched epoch (-1: an empty log) is not checked. Throws OFFSET_OUT_OF_RANGE
   * when the end of `lastFetchedEpoch` cannot be determined here (as Kafka does). The caller
   * checks `fetchOffset` against the log start offset first.
   */
  divergence(fetchOffset: number, lastFetchedEpoch: number, logEndOffset: number): EpochEndOffset | null {
    if (lastFetchedEpoch < 0) return null;
    const epochEnd = this.endOffsetFor(lastFetchedEpoch, logEndOffset);
    if (epochEnd.epoch === UNDEFINED_EPOCH || epochEnd.endOffset === UNDEFINED_EPOCH_OFFSET) {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `the end offset of the last fetched epoch ${lastFetchedEpoch} is unknown to this leader`);
    }
    if (epochEnd.epoch < lastFetchedEpoch || epochEnd.endOffset < fetchOffset) return epochEnd;
    return null;
  }

  /**
   * Where a follower truncates its log after a diverging fetch answer (Kafka's
   * AbstractFetcherThread.getOffsetTruncationState). When the follower knows the leader's epoch,
   * at the smaller end of that epoch in the two logs; when it does not, at the end of its own
   * largest epoch below it, and its next fetch (with that epoch) checks again. Never above the
   * local log end offset. The leader never sends an undefined end offset as a diverging epoch.
   */
  followerTruncationOffset(diverging: EpochEndOffset, localLogEndOffset: number): number {
    assert(diverging.endOffset !== UNDEFINED_EPOCH_OFFSET, 'a diverging epoch always carries an end offset');
    if (diverging.epoch === UNDEFINED_EPOCH) return Math.min(diverging.endOffset, localLogEndOffset);
    const local = this.endOffsetFor(diverging.epoch, localLogEndOffset);
    if (local.endOffset === UNDEFINED_EPOCH_OFFSET) return Math.min(diverging.endOffset, localLogEndOffset);
    if (local.epoch !== diverging.epoch) return Math.min(local.endOffset, localLogEndOffset);
    return Math.min(local.endOffset, diverging.endOffset, localLogEndOffset);
  }

  private indexOfFirstEpochAbove(epoch: number): number {
    let low = 0;
    let high = this.epochs.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.epochs[middle]!.epoch > epoch) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
