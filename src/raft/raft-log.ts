/**
 * A voter's copy of the Raft log, in memory: the snapshot's (index, term) as its base, the
 * entries after it, and which of them the caller has made durable. The metadata log is small
 * (snapshots cut it back), so keeping it all in memory costs little and keeps the core pure.
 *
 * "Unstable" entries have not been handed out for persistence yet; "persisted" ones were
 * acknowledged durable by `markPersisted`. A conflicting append may truncate either kind; the
 * caller's storage then replaces its entries from the first index it is handed again.
 */
import { assert } from '../runtime/assert.js';
import type { RaftEntry, RaftSnapshot } from './types.js';

export class RaftLog {
  snapshotIndex = 0;
  snapshotTerm = 0;
  private entries: RaftEntry[] = [];
  /** The first index not yet handed out for persistence. */
  private unstableFromIndex = 1;
  /** The last index the caller has made durable (entries up to it are on disk). */
  persistedIndex = 0;
  /**
   * The lowest index appended, replaced or dropped since the last `takeChangedFrom()`:
   * observers (the simulation's invariant checks) re-read the log from there only.
   */
  private changedFromIndex = 1;

  /** Loads what storage holds: a snapshot base and the durable entries after it. */
  static restore(snapshot: RaftSnapshot | null, entries: readonly RaftEntry[]): RaftLog {
    const log = new RaftLog();
    if (snapshot !== null) {
      log.snapshotIndex = snapshot.index;
      log.snapshotTerm = snapshot.term;
    }
    let expected = log.snapshotIndex + 1;
    for (const entry of entries) {
      if (entry.index < expected) continue; // covered by the snapshot
      assert(entry.index === expected, `raft log: stored entries skip from ${expected} to ${entry.index}`);
      log.entries.push(entry);
      expected++;
    }
    log.unstableFromIndex = expected;
    log.persistedIndex = expected - 1;
    log.changedFromIndex = log.firstIndex;
    return log;
  }

  get firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  get lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  get lastTerm(): number {
    return this.entries.length === 0 ? this.snapshotTerm : this.entries[this.entries.length - 1]!.term;
  }

  /** The term of `index`, or undefined when it is beyond the log end or compacted away. */
  term(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.lastIndex) return undefined;
    return this.entries[index - this.snapshotIndex - 1]!.term;
  }

  entry(index: number): RaftEntry | undefined {
    if (index <= this.snapshotIndex || index > this.lastIndex) return undefined;
    return this.entries[index - this.snapshotIndex - 1];
  }

  /** Entries [fromIndex, toIndex] (inclusive), at most `maxCount` of them. */
  slice(fromIndex: number, toIndex: number, maxCount: number): RaftEntry[] {
    assert(fromIndex > this.snapshotIndex, `raft log: slice from ${fromIndex} is compacted (snapshot ${this.snapshotIndex})`);
    const end = Math.min(toIndex, this.lastIndex, fromIndex + maxCount - 1);
    if (end < fromIndex) return [];
    return this.entries.slice(fromIndex - this.snapshotIndex - 1, end - this.snapshotIndex);
  }

  /** The first index of the term that `index` belongs to (for the follower's rejection hint). */
  firstIndexOfTerm(index: number): number {
    const term = this.term(index);
    let first = index;
    while (first - 1 > this.snapshotIndex && this.term(first - 1) === term) first--;
    return first;
  }

  /** The last index holding `term`, or 0 when the log has none (for the leader's backtracking). */
  lastIndexOfTerm(term: number): number {
    for (let index = this.lastIndex; index > this.snapshotIndex; index--) {
      const entryTerm = this.term(index)!;
      if (entryTerm === term) return index;
      if (entryTerm < term) return 0;
    }
    return 0;
  }

  /** The leader appends its own entries. */
  append(entry: RaftEntry): void {
    assert(entry.index === this.lastIndex + 1, `raft log: append at ${entry.index}, log ends at ${this.lastIndex}`);
    assert(entry.term >= this.lastTerm, `raft log: term ${entry.term} after ${this.lastTerm}`);
    this.entries.push(entry);
    this.noteChange(entry.index);
  }

  /**
   * A follower takes the leader's entries after a matching (prevLogIndex, prevLogTerm): entries it
   * already holds with the same term are kept; from the first conflict on, its log is replaced.
   * Returns the last index now known to match the leader's log. `commitIndex` bounds truncation:
   * a committed entry is never replaced.
   */
  appendFromLeader(prevLogIndex: number, entries: readonly RaftEntry[], commitIndex: number): number {
    for (const [position, entry] of entries.entries()) {
      assert(entry.index === prevLogIndex + 1 + position, `raft log: leader entries not dense at ${entry.index}`);
      if (entry.index <= this.snapshotIndex) continue;
      const existing = this.term(entry.index);
      if (existing === entry.term) continue;
      if (existing !== undefined) this.truncateFrom(entry.index, commitIndex);
      this.entries.push(entry);
      this.noteChange(entry.index);
    }
    return prevLogIndex + entries.length;
  }

  private truncateFrom(index: number, commitIndex: number): void {
    assert(index > commitIndex, `raft log: truncating at ${index} would drop committed entries (commit ${commitIndex})`);
    this.entries.length = index - this.snapshotIndex - 1;
    this.noteChange(index);
    this.unstableFromIndex = Math.min(this.unstableFromIndex, index);
    this.persistedIndex = Math.min(this.persistedIndex, index - 1);
  }

  private noteChange(index: number): void {
    if (index < this.changedFromIndex) this.changedFromIndex = index;
  }

  /** Where the log changed since the last call (lastIndex + 1 when it did not). */
  takeChangedFrom(): number {
    const from = Math.min(this.changedFromIndex, this.lastIndex + 1);
    this.changedFromIndex = Number.MAX_SAFE_INTEGER;
    return from;
  }

  /** The entries to hand out for persistence; they count as handed out from now on. */
  takeUnstable(): RaftEntry[] {
    const unstable = this.unstableFromIndex <= this.lastIndex ? this.entries.slice(this.unstableFromIndex - this.snapshotIndex - 1) : [];
    this.unstableFromIndex = this.lastIndex + 1;
    return unstable;
  }

  hasUnstable(): boolean {
    return this.unstableFromIndex <= this.lastIndex;
  }

  /** The caller made entries up to `index` durable (those still in the log from that hand-out). */
  markPersisted(index: number): void {
    const stillValid = Math.min(index, this.unstableFromIndex - 1, this.lastIndex);
    if (stillValid > this.persistedIndex) this.persistedIndex = stillValid;
  }

  /** Drops the entries up to `index`, now covered by a snapshot the caller made durable. */
  compact(index: number, term: number): void {
    assert(index > this.snapshotIndex, `raft log: compact to ${index}, snapshot already at ${this.snapshotIndex}`);
    assert(index <= this.persistedIndex, `raft log: compact to ${index} beyond persisted ${this.persistedIndex}`);
    assert(this.term(index) === term, `raft log: compact to ${index} with term ${term}, log has ${this.term(index)}`);
    this.entries = this.entries.slice(index - this.snapshotIndex);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
  }

  /** Replaces the whole log by a snapshot from the leader. */
  resetToSnapshot(snapshot: RaftSnapshot): void {
    this.entries = [];
    this.noteChange(snapshot.index + 1);
    this.snapshotIndex = snapshot.index;
    this.snapshotTerm = snapshot.term;
    this.unstableFromIndex = snapshot.index + 1;
    this.persistedIndex = snapshot.index;
  }
}
