/**
 * Idempotent producer state of one partition: a pure core (no I/O, no clock) that the node's
 * append paths call. Kafka splits this into ProducerStateManager (the map, snapshots,
 * truncation), ProducerAppendInfo (validation of a leader append) and ProducerStateEntry (one
 * producer's epoch and last five batches); the rules below follow those files in
 * apache/kafka storage/src/main/java/org/apache/kafka/storage/internals/log/ and the duplicate
 * path of core/src/main/scala/kafka/log/UnifiedLog.scala (analyzeAndValidateProducerState).
 *
 * How the node uses it:
 * - Leader append (origin CLIENT): `checkLeaderAppend(header)` before writing. 'duplicate' means
 *   answer with the original offsets and no error, and write nothing; 'error' means refuse the
 *   partition's batch with the code; 'append' means write, then `onAppended(header)` with the
 *   offsets and max timestamp as written. One idempotent batch per partition per request is what
 *   clients send; for several, check and apply them one at a time.
 * - Follower append and log recovery (origin REPLICATION): `loadBatch(header)` for every batch,
 *   without validation, so a new leader deduplicates the retries the old one took.
 * - Snapshots: `snapshot()` at segment rolls (it covers the log below `mapEndOffset`);
 *   truncation restores the newest snapshot at or below the truncation offset
 *   (`ProducerStateManager.restore`) and replays the batch headers from its `mapEndOffset` up to
 *   the truncation point with `loadBatch`. Bytes: see producer-snapshot.ts.
 * - Expiration: `expire(nowMs, producerIdExpirationMs)` from a periodic task (Kafka:
 *   producer.id.expiration.check.interval.ms, 10 minutes).
 *
 * Where we differ from Kafka: a snapshot keeps all five retained batches per producer (Kafka
 * keeps only the last one), so a retry after a restart is deduplicated as it would be live; and
 * the number of producer ids per partition is bounded (see maxProducerIdsPerPartition).
 */
import { assert } from '../runtime/assert.js';
import { ErrorCode } from '../protocol/errors.js';
import { NO_PRODUCER_EPOCH, NO_SEQUENCE } from '../protocol/records/layout.js';
import { hasProducerId, inSequence, type ProducerBatchHeader } from './producer-batch.js';

export { readProducerHeader, type ProducerBatchHeader } from './producer-batch.js';
export { encodeSnapshot, decodeSnapshot, CorruptProducerSnapshotError } from './producer-snapshot.js';

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN; also the clients' max.in.flight.requests limit. */
export const BATCHES_RETAINED_PER_PRODUCER = 5;

/** Kafka's producer.id.expiration.ms default: one day. */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;

/**
 * Producer ids kept per partition. Kafka has no such bound (its map only shrinks by expiration,
 * and many short-lived producers can exhaust the heap: the KIP-936 problem). Refusing new ids
 * would make the partition unwritable for new idempotent producers, so instead the least
 * recently appended producer without an open transaction is forgotten. The cost is small: an
 * unknown producer id is accepted with any sequence (see checkLeaderAppend), so the forgotten
 * producer keeps writing and only loses deduplication of retries already in flight.
 */
export const DEFAULT_MAX_PRODUCER_IDS_PER_PARTITION = 10_000;

/** Coordinator epoch before any transaction marker was seen (Kafka's ProducerStateEntry.empty). */
export const NO_COORDINATOR_EPOCH = -1;

/** One retained batch: Kafka's BatchMetadata (which stores lastSeq, lastOffset, offsetDelta). */
export interface BatchMetadata {
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  /** The batch's max timestamp as written (the log append time on LogAppendTime topics). */
  readonly timestampMs: number;
}

/** One producer's state, as snapshots and describe() see it. */
export interface ProducerStateEntryView {
  readonly producerId: number;
  readonly producerEpoch: number;
  /** Oldest first; at most BATCHES_RETAINED_PER_PRODUCER. */
  readonly batches: readonly BatchMetadata[];
  readonly lastTimestampMs: number;
  readonly coordinatorEpoch: number;
  /** First offset of the producer's open transaction; null until transactions land. */
  readonly currentTxnFirstOffset: number | null;
}

/** The state of a partition's producers covering the log below `mapEndOffset`. */
export interface ProducerSnapshot {
  readonly mapEndOffset: number;
  /** Least recently appended first (the eviction order). */
  readonly producers: readonly ProducerStateEntryView[];
}

export type LeaderAppendCheck =
  | { readonly kind: 'append' }
  | {
      readonly kind: 'duplicate';
      readonly baseOffset: number;
      readonly lastOffset: number;
      /** Kafka answers a duplicate with the original batch's timestamp as log_append_time. */
      readonly logAppendTimeMs: number;
    }
  | { readonly kind: 'error'; readonly errorCode: number; readonly message: string };

/** A row of DescribeProducers (KIP-664). */
export interface ProducerDescription {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly lastSequence: number;
  readonly lastTimestampMs: number;
  readonly coordinatorEpoch: number;
  /** -1 when no transaction is open, as DescribeProducers encodes it. */
  readonly currentTxnStartOffset: number;
}

export interface ProducerStateOptions {
  readonly maxProducerIdsPerPartition?: number;
}

const APPEND: LeaderAppendCheck = { kind: 'append' };

/** Mutable per-producer state; only ProducerStateManager touches it. */
class ProducerStateEntry {
  producerEpoch: number = NO_PRODUCER_EPOCH;
  /** Oldest first; a FIFO of at most BATCHES_RETAINED_PER_PRODUCER. */
  batches: BatchMetadata[] = [];
  lastTimestampMs = -1;
  coordinatorEpoch = NO_COORDINATOR_EPOCH;
  currentTxnFirstOffset: number | null = null;

  constructor(readonly producerId: number) {}

  get lastSequence(): number {
    const last = this.batches[this.batches.length - 1];
    return last === undefined ? NO_SEQUENCE : last.lastSequence;
  }

  /** Kafka's ProducerStateEntry.findDuplicateBatch: same epoch and exactly the same sequence range. */
  findDuplicate(header: ProducerBatchHeader): BatchMetadata | null {
    if (header.producerEpoch !== this.producerEpoch) return null;
    for (const batch of this.batches) {
      if (batch.firstSequence === header.baseSequence && batch.lastSequence === header.lastSequence) return batch;
    }
    return null;
  }

  /** Kafka's ProducerStateEntry.addBatch: a new epoch forgets the old epoch's batches. */
  addBatch(header: ProducerBatchHeader): void {
    if (header.producerEpoch !== this.producerEpoch) {
      this.producerEpoch = header.producerEpoch;
      this.batches = [];
    }
    if (this.batches.length === BATCHES_RETAINED_PER_PRODUCER) this.batches.shift();
    this.batches.push({
      firstSequence: header.baseSequence,
      lastSequence: header.lastSequence,
      firstOffset: header.baseOffset,
      lastOffset: header.lastOffset,
      timestampMs: header.maxTimestampMs,
    });
    this.lastTimestampMs = header.maxTimestampMs;
  }

  view(): ProducerStateEntryView {
    return {
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      batches: this.batches.slice(),
      lastTimestampMs: this.lastTimestampMs,
      coordinatorEpoch: this.coordinatorEpoch,
      currentTxnFirstOffset: this.currentTxnFirstOffset,
    };
  }
}

export class ProducerStateManager {
  /** Map order is append recency: least recently appended first. */
  private readonly producers = new Map<number, ProducerStateEntry>();
  private mapEndOffsetValue: number;
  readonly maxProducerIdsPerPartition: number;

  constructor(mapEndOffset = 0, options: ProducerStateOptions = {}) {
    assert(Number.isSafeInteger(mapEndOffset) && mapEndOffset >= 0, () => `bad map end offset ${mapEndOffset}`);
    this.mapEndOffsetValue = mapEndOffset;
    this.maxProducerIdsPerPartition = options.maxProducerIdsPerPartition ?? DEFAULT_MAX_PRODUCER_IDS_PER_PARTITION;
    assert(this.maxProducerIdsPerPartition >= 1, 'maxProducerIdsPerPartition must be at least 1');
  }

  /** The state covers every batch below this offset (Kafka's mapEndOffset). */
  get mapEndOffset(): number {
    return this.mapEndOffsetValue;
  }

  get producerIdCount(): number {
    return this.producers.size;
  }

  /**
   * Kafka's validation of a client's batch at the leader (UnifiedLog duplicate check, then
   * ProducerAppendInfo.checkProducerEpoch and checkSequence), in Kafka's order:
   * 1. no producer id: always append;
   * 2. a negative sequence with a producer id: INVALID_RECORD (LogValidator.validateBatch);
   * 3. no state for the id: append with any sequence. Since KIP-360 (Kafka 2.5) the broker never
   *    answers UNKNOWN_PRODUCER_ID: state is lost to retention, DeleteRecords or expiration, and
   *    the producer must be able to continue;
   * 4. same epoch and the exact sequence range of a retained batch: duplicate;
   * 5. epoch below the current one: INVALID_PRODUCER_EPOCH (not PRODUCER_FENCED since 2.7);
   * 6. a new epoch must start at sequence 0, unless the entry has no epoch yet:
   *    OUT_OF_ORDER_SEQUENCE_NUMBER;
   * 7. same epoch: the sequence must follow the last one (wrapping), unless the entry has no
   *    epoch: OUT_OF_ORDER_SEQUENCE_NUMBER. A retry of a batch no longer retained lands here.
   */
  checkLeaderAppend(header: ProducerBatchHeader): LeaderAppendCheck {
    assert(!header.isControl, 'control batches are written by the coordinator, not checked as client appends');
    if (!hasProducerId(header)) return APPEND;
    if (header.baseSequence < 0) {
      const message = `invalid sequence ${header.baseSequence} for producer ${header.producerId}`;
      return refuse(ErrorCode.INVALID_RECORD, message);
    }
    const entry = this.producers.get(header.producerId);
    if (entry === undefined) return APPEND;
    const duplicate = entry.findDuplicate(header);
    if (duplicate !== null) {
      return {
        kind: 'duplicate',
        baseOffset: duplicate.firstOffset,
        lastOffset: duplicate.lastOffset,
        logAppendTimeMs: duplicate.timestampMs,
      };
    }
    return checkEpochAndSequence(entry, header);
  }

  /**
   * Records a batch the leader just wrote after `checkLeaderAppend` said 'append'. The check is
   * repeated as an invariant: applying a duplicate or a refused batch is a wiring bug.
   */
  onAppended(header: ProducerBatchHeader): void {
    const check = this.checkLeaderAppend(header);
    assert(check.kind === 'append', () => `onAppended for a batch the leader refuses: ${JSON.stringify(check)}`);
    this.apply(header);
  }

  /**
   * A batch already in the log (follower append, recovery replay): no validation, as Kafka's
   * AppendOrigin.REPLICATION (an older epoch is taken as is). Control batches only advance the
   * covered offset until transaction markers are handled.
   */
  loadBatch(header: ProducerBatchHeader): void {
    this.apply(header);
  }

  private apply(header: ProducerBatchHeader): void {
    assert(
      Number.isSafeInteger(header.baseOffset) && header.baseOffset >= this.mapEndOffsetValue,
      () => `batch at ${header.baseOffset} is below the map end offset ${this.mapEndOffsetValue}`,
    );
    assert(header.lastOffset >= header.baseOffset, () => `last offset ${header.lastOffset} < base ${header.baseOffset}`);
    if (hasProducerId(header) && !header.isControl) this.entryForAppend(header.producerId).addBatch(header);
    this.mapEndOffsetValue = header.lastOffset + 1;
  }

  /** The producer's entry, moved to the most recent end; created (evicting if full) when absent. */
  private entryForAppend(producerId: number): ProducerStateEntry {
    let entry = this.producers.get(producerId);
    if (entry !== undefined) {
      this.producers.delete(producerId);
    } else {
      if (this.producers.size >= this.maxProducerIdsPerPartition) this.evictLeastRecentlyAppended();
      entry = new ProducerStateEntry(producerId);
    }
    this.producers.set(producerId, entry);
    return entry;
  }

  /** Forgets the least recently appended producer without an open transaction, if any. */
  private evictLeastRecentlyAppended(): void {
    for (const [producerId, entry] of this.producers) {
      if (entry.currentTxnFirstOffset === null) {
        this.producers.delete(producerId);
        return;
      }
    }
    // Every producer has an open transaction: the transaction timeout bounds them, not us.
  }

  /** Segment roll with no batch since the last one: the state now covers up to `offset`. */
  updateMapEndOffset(offset: number): void {
    assert(offset >= this.mapEndOffsetValue, () => `map end offset moving back ${this.mapEndOffsetValue} -> ${offset}`);
    this.mapEndOffsetValue = offset;
  }

  /** Kafka's truncateFullyAndStartAt: forget everything (the log was emptied or replaced). */
  truncateFullyAndStartAt(offset: number): void {
    assert(Number.isSafeInteger(offset) && offset >= 0, () => `bad start offset ${offset}`);
    this.producers.clear();
    this.mapEndOffsetValue = offset;
  }

  /**
   * Kafka's removeExpiredProducers: drops producers whose last batch timestamp is at least
   * `producerIdExpirationMs` old, never one with an open transaction. Returns how many.
   */
  expire(nowMs: number, producerIdExpirationMs: number = DEFAULT_PRODUCER_ID_EXPIRATION_MS): number {
    assert(producerIdExpirationMs >= 1, () => `producerIdExpirationMs ${producerIdExpirationMs} below 1`);
    let expiredCount = 0;
    for (const [producerId, entry] of this.producers) {
      if (entry.currentTxnFirstOffset === null && nowMs - entry.lastTimestampMs >= producerIdExpirationMs) {
        this.producers.delete(producerId);
        expiredCount++;
      }
    }
    return expiredCount;
  }

  /** One producer's state, or null (tests and DescribeProducers). */
  entry(producerId: number): ProducerStateEntryView | null {
    const entry = this.producers.get(producerId);
    return entry === undefined ? null : entry.view();
  }

  describe(): ProducerDescription[] {
    const rows: ProducerDescription[] = [];
    for (const entry of this.producers.values()) {
      rows.push({
        producerId: entry.producerId,
        producerEpoch: entry.producerEpoch,
        lastSequence: entry.lastSequence,
        lastTimestampMs: entry.lastTimestampMs,
        coordinatorEpoch: entry.coordinatorEpoch,
        currentTxnStartOffset: entry.currentTxnFirstOffset ?? -1,
      });
    }
    return rows;
  }

  snapshot(): ProducerSnapshot {
    const producers: ProducerStateEntryView[] = [];
    for (const entry of this.producers.values()) producers.push(entry.view());
    return { mapEndOffset: this.mapEndOffsetValue, producers };
  }

  /** The state a snapshot describes; checks the snapshot's invariants. */
  static restore(snapshot: ProducerSnapshot, options: ProducerStateOptions = {}): ProducerStateManager {
    const manager = new ProducerStateManager(snapshot.mapEndOffset, options);
    for (const view of snapshot.producers) {
      checkEntryView(view, snapshot.mapEndOffset);
      assert(!manager.producers.has(view.producerId), () => `producer ${view.producerId} twice in a snapshot`);
      const entry = new ProducerStateEntry(view.producerId);
      entry.producerEpoch = view.producerEpoch;
      entry.batches = view.batches.slice();
      entry.lastTimestampMs = view.lastTimestampMs;
      entry.coordinatorEpoch = view.coordinatorEpoch;
      entry.currentTxnFirstOffset = view.currentTxnFirstOffset;
      manager.producers.set(view.producerId, entry);
    }
    // A snapshot written under a larger bound: forget the least recently appended first.
    let excess = manager.producers.size - manager.maxProducerIdsPerPartition;
    while (excess-- > 0) manager.evictLeastRecentlyAppended();
    return manager;
  }
}

function checkEpochAndSequence(entry: ProducerStateEntry, header: ProducerBatchHeader): LeaderAppendCheck {
  const { producerId, producerEpoch, baseSequence } = header;
  if (producerEpoch < entry.producerEpoch) {
    return refuse(
      ErrorCode.INVALID_PRODUCER_EPOCH,
      `producer ${producerId} epoch ${producerEpoch} is older than the last seen epoch ${entry.producerEpoch}`,
    );
  }
  if (producerEpoch !== entry.producerEpoch) {
    if (baseSequence !== 0 && entry.producerEpoch !== NO_PRODUCER_EPOCH) {
      return refuse(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `producer ${producerId} new epoch ${producerEpoch} must start at sequence 0, not ${baseSequence}`,
      );
    }
    return APPEND;
  }
  const lastSequence = entry.lastSequence;
  if (entry.producerEpoch !== NO_PRODUCER_EPOCH && !inSequence(lastSequence, baseSequence)) {
    return refuse(
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      `producer ${producerId} epoch ${producerEpoch} sent sequence ${baseSequence} after ${lastSequence}`,
    );
  }
  return APPEND;
}

function refuse(errorCode: number, message: string): LeaderAppendCheck {
  return { kind: 'error', errorCode, message };
}

function checkEntryView(view: ProducerStateEntryView, mapEndOffset: number): void {
  assert(Number.isSafeInteger(view.producerId) && view.producerId >= 0, () => `bad producer id ${view.producerId}`);
  assert(
    view.batches.length <= BATCHES_RETAINED_PER_PRODUCER,
    () => `producer ${view.producerId} has ${view.batches.length} batches`,
  );
  let previousLastOffset = -1;
  for (const batch of view.batches) {
    assert(
      batch.firstOffset > previousLastOffset &&
        batch.lastOffset >= batch.firstOffset &&
        batch.lastOffset < mapEndOffset,
      () => `producer ${view.producerId} batch offsets ${batch.firstOffset}..${batch.lastOffset} out of order`,
    );
    previousLastOffset = batch.lastOffset;
  }
}
