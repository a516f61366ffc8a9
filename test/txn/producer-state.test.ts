import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvariantError } from '../../src/runtime/assert.js';
import { SeededRandom } from '../helpers/random.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { writeInt64 } from '../../src/protocol/records/int64.js';
import { PRODUCER_ID_OFFSET } from '../../src/protocol/records/layout.js';
import { encodeRecordBatch } from '../../src/protocol/records/records.js';
import {
  decrementSequence,
  incrementSequence,
  inSequence,
  lastSequenceOf,
  MAX_SEQUENCE,
  type ProducerBatchHeader,
} from '../../src/txn/producer-batch.js';
import {
  BATCHES_RETAINED_PER_PRODUCER,
  CorruptProducerSnapshotError,
  decodeSnapshot,
  encodeSnapshot,
  ProducerStateManager,
  readProducerHeader,
  type LeaderAppendCheck,
  type ProducerSnapshot,
} from '../../src/txn/producer-state.js';

const T0_MS = 1_700_000_000_000;

interface BatchSpec {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
  timestampMs?: number;
  isTransactional?: boolean;
}

/** A header as the leader sees it once it has assigned offsets starting at `baseOffset`. */
function header(spec: BatchSpec, baseOffset: number): ProducerBatchHeader {
  const lastOffsetDelta = spec.recordCount - 1;
  return {
    producerId: spec.producerId,
    producerEpoch: spec.producerEpoch,
    baseSequence: spec.baseSequence,
    lastSequence: lastSequenceOf(spec.baseSequence, lastOffsetDelta),
    baseOffset,
    lastOffset: baseOffset + lastOffsetDelta,
    maxTimestampMs: spec.timestampMs ?? T0_MS,
    isTransactional: spec.isTransactional ?? false,
    isControl: false,
  };
}

/** The leader's produce path: offsets from the log end, check, then append if allowed. */
function produce(manager: ProducerStateManager, spec: BatchSpec): LeaderAppendCheck {
  const batch = header(spec, manager.mapEndOffset);
  const check = manager.checkLeaderAppend(batch);
  if (check.kind === 'append') manager.onAppended(batch);
  return check;
}

function assertError(check: LeaderAppendCheck, errorCode: number): void {
  assert.equal(check.kind, 'error', JSON.stringify(check));
  if (check.kind === 'error') assert.equal(check.errorCode, errorCode, check.message);
}

const pid = 4000;

test('readProducerHeader reads a v2 batch header in place, wrapping the last sequence', () => {
  const batch = encodeRecordBatch({
    records: [{ value: 'a' }, { value: 'b' }, { value: 'c' }],
    baseOffset: 77,
    timestampMs: T0_MS,
    producerId: 2 ** 40 + 5,
    producerEpoch: 9,
    baseSequence: MAX_SEQUENCE - 1,
    transactional: true,
  });
  const bytes = Buffer.concat([Buffer.alloc(13, 0xee), batch]);
  assert.deepEqual(readProducerHeader(bytes, 13), {
    producerId: 2 ** 40 + 5,
    producerEpoch: 9,
    baseSequence: MAX_SEQUENCE - 1,
    lastSequence: 0,
    baseOffset: 77,
    lastOffset: 79,
    maxTimestampMs: T0_MS,
    isTransactional: true,
    isControl: false,
  });
  const plain = readProducerHeader(encodeRecordBatch({ records: [{ value: 'x' }] }), 0);
  assert.equal(plain.producerId, -1);
  assert.equal(plain.lastSequence, -1);
  assert.equal(plain.isTransactional, false);
});

test('readProducerHeader refuses a producer id beyond 2^53 and a header past the buffer', () => {
  const batch = encodeRecordBatch({ records: [{ value: 'a' }], producerId: 1, producerEpoch: 0, baseSequence: 0 });
  writeInt64(batch, PRODUCER_ID_OFFSET, 2 ** 60);
  assert.throws(() => readProducerHeader(batch, 0), InvariantError);
  assert.throws(() => readProducerHeader(batch, batch.length - 10), InvariantError);
});

test('sequence arithmetic wraps at 2^31-1 as Kafka does', () => {
  assert.equal(incrementSequence(MAX_SEQUENCE - 1, 3), 1);
  assert.equal(incrementSequence(MAX_SEQUENCE, 1), 0);
  assert.equal(incrementSequence(5, 0), 5);
  assert.equal(decrementSequence(1, 3), MAX_SEQUENCE - 1);
  assert.equal(decrementSequence(7, 7), 0);
  assert.ok(inSequence(MAX_SEQUENCE, 0));
  assert.ok(inSequence(-1, 0));
  assert.ok(!inSequence(MAX_SEQUENCE, 1));
  assert.ok(!inSequence(3, 5));
});

test('batches without a producer id are always appended', () => {
  const manager = new ProducerStateManager();
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(produce(manager, { producerId: -1, producerEpoch: -1, baseSequence: -1, recordCount: 2 }), {
      kind: 'append',
    });
  }
  assert.equal(manager.producerIdCount, 0);
  assert.equal(manager.mapEndOffset, 6);
});

test('an unknown producer id is accepted at any sequence (KIP-360: no UNKNOWN_PRODUCER_ID)', () => {
  const manager = new ProducerStateManager(100);
  assert.equal(produce(manager, { producerId: pid, producerEpoch: 3, baseSequence: 42, recordCount: 2 }).kind, 'append');
  assert.equal(manager.entry(pid)?.producerEpoch, 3);
  assert.equal(produce(manager, { producerId: pid, producerEpoch: 3, baseSequence: 44, recordCount: 1 }).kind, 'append');
});

test('a negative sequence with a producer id is INVALID_RECORD', () => {
  const manager = new ProducerStateManager();
  assertError(produce(manager, { producerId: pid, producerEpoch: 0, baseSequence: -1, recordCount: 1 }), ErrorCode.INVALID_RECORD);
  assert.equal(manager.producerIdCount, 0);
});

test('same epoch: the next sequence is appended, a gap is OUT_OF_ORDER_SEQUENCE_NUMBER', () => {
  const manager = new ProducerStateManager();
  assert.equal(produce(manager, { producerId: pid, producerEpoch: 0, baseSequence: 0, recordCount: 3 }).kind, 'append');
  assert.equal(produce(manager, { producerId: pid, producerEpoch: 0, baseSequence: 3, recordCount: 2 }).kind, 'append');
  assertError(
    produce(manager, { producerId: pid, producerEpoch: 0, baseSequence: 6, recordCount: 1 }),
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
  // A sequence from before the last batch that matches no retained range is out of order too.
  assertError(
    produce(manager, { producerId: pid, producerEpoch: 0, baseSequence: 1, recordCount: 1 }),
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
  assert.equal(manager.entry(pid)?.batches.length, 2);
  assert.equal(manager.mapEndOffset, 5);
});

test('an older epoch is INVALID_PRODUCER_EPOCH, even for a retry of its own batch', () => {
  const manager = new ProducerStateManager();
  produce(manager, { producerId: pid, producerEpoch: 1, baseSequence: 0, recordCount: 1 });
  produce(manager, { producerId: pid, producerEpoch: 2, baseSequence: 0, recordCount: 1 });
  assertError(
    produce(manager, { producerId: pid, producerEpoch: 1, baseSequence: 0, recordCount: 1 }),
    ErrorCode.INVALID_PRODUCER_EPOCH,
  );
  assertError(
    produce(manager, { producerId: pid, producerEpoch: 1, baseSequence: 1, recordCount: 1 }),
    ErrorCode.INVALID_PRODUCER_EPOCH,
  );
});

test('an epoch bump must start at sequence 0 and resets the retained batches', () => {
  const manager = new ProducerStateManager();
  for (let sequence = 0; sequence < 4; sequence++) {
    produce(manager, { producerId: pid, producerEpoch: 5, baseSequence: sequence, recordCount: 1 });
  }
  assertError(
    produce(manager, { producerId: pid, producerEpoch: 6, baseSequence: 4, recordCount: 1 }),
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
  assert.equal(produce(manager, { producerId: pid, producerEpoch: 6, baseSequence: 0, recordCount: 2 }).kind, 'append');
  const entry = manager.entry(pid);
  assert.equal(entry?.producerEpoch, 6);
  assert.deepEqual(entry?.batches.map((batch) => [batch.firstSequence, batch.lastSequence]), [[0, 1]]);
  assert.equal(produce(manager, { producerId: pid, producerEpoch: 6, baseSequence: 2, recordCount: 1 }).kind, 'append');
});

test('an entry without an epoch (NO_PRODUCER_EPOCH) accepts any sequence, in its epoch or a new one', () => {
  const manager = new ProducerStateManager();
  // Kafka's coordinator writes batches with a producer id but no epoch or sequence.
  manager.loadBatch(header({ producerId: pid, producerEpoch: -1, baseSequence: 7, recordCount: 1 }, 0));
  assert.equal(produce(manager, { producerId: pid, producerEpoch: -1, baseSequence: 50, recordCount: 1 }).kind, 'append');
  assert.equal(produce(manager, { producerId: pid, producerEpoch: 0, baseSequence: 9, recordCount: 1 }).kind, 'append');
  assertError(
    produce(manager, { producerId: pid, producerEpoch: 0, baseSequence: 11, recordCount: 1 }),
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
});

test('retries of each of the last 5 batches get their original offsets; the 6th-oldest is out of order', () => {
  const manager = new ProducerStateManager(1000);
  const originals: { baseOffset: number; lastOffset: number; timestampMs: number }[] = [];
  let sequence = 0;
  for (let index = 0; index < 6; index++) {
    const spec = { producerId: pid, producerEpoch: 0, baseSequence: sequence, recordCount: index + 1, timestampMs: T0_MS + index };
    const baseOffset = manager.mapEndOffset;
    assert.equal(produce(manager, spec).kind, 'append');
    originals.push({ baseOffset, lastOffset: manager.mapEndOffset - 1, timestampMs: T0_MS + index });
    manager.loadBatch(header({ producerId: -1, producerEpoch: -1, baseSequence: -1, recordCount: 3 }, manager.mapEndOffset));
    sequence += index + 1;
  }
  assert.equal(manager.entry(pid)?.batches.length, BATCHES_RETAINED_PER_PRODUCER);
  const endBefore = manager.mapEndOffset;
  let retrySequence = 0;
  for (let index = 0; index < 6; index++) {
    const retry = header({ producerId: pid, producerEpoch: 0, baseSequence: retrySequence, recordCount: index + 1 }, endBefore);
    const check = manager.checkLeaderAppend(retry);
    if (index === 0) {
      assertError(check, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    } else {
      const original = originals[index]!;
      assert.deepEqual(check, {
        kind: 'duplicate',
        baseOffset: original.baseOffset,
        lastOffset: original.lastOffset,
        logAppendTimeMs: original.timestampMs,
      });
    }
    retrySequence += index + 1;
  }
  // Same first sequence, different length: not the same batch, so out of order.
  assertError(
    manager.checkLeaderAppend(header({ producerId: pid, producerEpoch: 0, baseSequence: 15, recordCount: 2 }, endBefore)),
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
  assert.equal(manager.mapEndOffset, endBefore);
});

test('sequences wrap from 2^31-1 to 0 in checks and duplicates', () => {
  const manager = new ProducerStateManager();
  assert.equal(produce(manager, { producerId: pid, producerEpoch: 0, baseSequence: MAX_SEQUENCE - 3, recordCount: 3 }).kind, 'append');
  assert.equal(manager.entry(pid)?.batches[0]?.lastSequence, MAX_SEQUENCE - 1);
  const wrapping = { producerId: pid, producerEpoch: 0, baseSequence: MAX_SEQUENCE, recordCount: 3 };
  assert.equal(produce(manager, wrapping).kind, 'append');
  assert.equal(manager.entry(pid)?.batches[1]?.lastSequence, 1);
  assert.equal(produce(manager, wrapping).kind, 'duplicate');
  assertError(
    produce(manager, { producerId: pid, producerEpoch: 0, baseSequence: 3, recordCount: 1 }),
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
  assert.equal(produce(manager, { producerId: pid, producerEpoch: 0, baseSequence: 2, recordCount: 1 }).kind, 'append');

  const exact = new ProducerStateManager();
  produce(exact, { producerId: pid, producerEpoch: 0, baseSequence: MAX_SEQUENCE - 1, recordCount: 2 });
  assert.equal(produce(exact, { producerId: pid, producerEpoch: 0, baseSequence: 0, recordCount: 1 }).kind, 'append');
});

test('failover: a follower that loaded the batches deduplicates like the old leader', () => {
  const leader = new ProducerStateManager();
  const follower = new ProducerStateManager();
  const specs: BatchSpec[] = [];
  for (let sequence = 0; sequence < 10; sequence += 2) {
    specs.push({ producerId: pid, producerEpoch: 2, baseSequence: sequence, recordCount: 2 });
  }
  for (const spec of specs) {
    const batch = header(spec, leader.mapEndOffset);
    assert.equal(leader.checkLeaderAppend(batch).kind, 'append');
    leader.onAppended(batch);
    follower.loadBatch(batch);
  }
  assert.deepEqual(follower.snapshot(), leader.snapshot());
  for (const spec of specs) {
    const retry = header(spec, follower.mapEndOffset);
    assert.deepEqual(follower.checkLeaderAppend(retry), leader.checkLeaderAppend(retry));
    assert.equal(follower.checkLeaderAppend(retry).kind, 'duplicate');
  }
  assertError(
    produce(follower, { producerId: pid, producerEpoch: 2, baseSequence: 11, recordCount: 1 }),
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
  assert.equal(produce(follower, { producerId: pid, producerEpoch: 2, baseSequence: 10, recordCount: 1 }).kind, 'append');
});

test('loadBatch takes replicated batches without validation, an older epoch included', () => {
  const follower = new ProducerStateManager();
  follower.loadBatch(header({ producerId: pid, producerEpoch: 4, baseSequence: 0, recordCount: 1 }, 0));
  follower.loadBatch(header({ producerId: pid, producerEpoch: 4, baseSequence: 9, recordCount: 1 }, 1));
  follower.loadBatch(header({ producerId: pid, producerEpoch: 3, baseSequence: 5, recordCount: 1 }, 2));
  assert.equal(follower.entry(pid)?.producerEpoch, 3);
  assert.equal(follower.entry(pid)?.batches.length, 1);
  assert.equal(follower.mapEndOffset, 3);
});

test('invariants: onAppended of a duplicate or refused batch, and offsets moving back, throw', () => {
  const manager = new ProducerStateManager();
  const first = header({ producerId: pid, producerEpoch: 0, baseSequence: 0, recordCount: 1 }, 0);
  manager.onAppended(first);
  const atSequence = (baseSequence: number, baseOffset: number): ProducerBatchHeader =>
    header({ producerId: pid, producerEpoch: 0, baseSequence, recordCount: 1 }, baseOffset);
  assert.throws(() => manager.onAppended(atSequence(0, 1)), InvariantError, 'a duplicate');
  assert.throws(() => manager.onAppended(atSequence(5, 1)), InvariantError, 'a gap');
  assert.throws(() => manager.loadBatch(atSequence(1, 0)), InvariantError, 'an offset already covered');
  assert.throws(() => manager.updateMapEndOffset(0), InvariantError);
  assert.throws(() => manager.checkLeaderAppend({ ...first, isControl: true }), InvariantError);
});

function busyManager(): ProducerStateManager {
  const manager = new ProducerStateManager(500);
  for (let producer = 0; producer < 4; producer++) {
    for (let sequence = 0; sequence < producer * 3; sequence++) {
      const timestampMs = T0_MS + sequence;
      produce(manager, { producerId: 10 + producer, producerEpoch: producer, baseSequence: sequence, recordCount: 1, timestampMs });
    }
  }
  manager.loadBatch(header({ producerId: 99, producerEpoch: -1, baseSequence: -1, recordCount: 1 }, manager.mapEndOffset));
  return manager;
}

test('snapshot bytes round-trip to an equal state that deduplicates the same retries', () => {
  const live = busyManager();
  const snapshot = live.snapshot();
  const decoded = decodeSnapshot(encodeSnapshot(snapshot));
  assert.deepEqual(decoded, snapshot);
  const restored = ProducerStateManager.restore(decoded);
  assert.deepEqual(restored.snapshot(), snapshot);
  assert.deepEqual(restored.describe(), live.describe());
  const retry = header({ producerId: 13, producerEpoch: 3, baseSequence: 5, recordCount: 1 }, live.mapEndOffset);
  assert.equal(restored.checkLeaderAppend(retry).kind, 'duplicate');
  assert.deepEqual(restored.checkLeaderAppend(retry), live.checkLeaderAppend(retry));
  const withTransaction = {
    mapEndOffset: snapshot.mapEndOffset,
    producers: snapshot.producers.map((view, index) =>
      index === 0 ? { ...view, currentTxnFirstOffset: 501, coordinatorEpoch: 7 } : view,
    ),
  };
  assert.deepEqual(decodeSnapshot(encodeSnapshot(withTransaction)), withTransaction);
  const empty = { mapEndOffset: 0, producers: [] };
  assert.deepEqual(decodeSnapshot(encodeSnapshot(empty)), empty);
});

test('a damaged snapshot is refused with CorruptProducerSnapshotError, whichever bit flips', () => {
  const bytes = encodeSnapshot(busyManager().snapshot());
  for (let position = 0; position < bytes.length; position++) {
    const damaged = Buffer.from(bytes);
    damaged[position]! ^= 1 << position % 8;
    assert.throws(() => decodeSnapshot(damaged), CorruptProducerSnapshotError, `bit flip at byte ${position}`);
  }
  const flipped = Buffer.from(bytes);
  flipped[bytes.length - 1]! ^= 0x10;
  const crcMessage = /producer state snapshot is corrupt: CRC-32C stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}/;
  assert.throws(() => decodeSnapshot(flipped), crcMessage);
  assert.throws(() => decodeSnapshot(bytes.subarray(0, 4)), /shorter than the header/);
  assert.throws(() => decodeSnapshot(bytes.subarray(0, bytes.length - 3)), CorruptProducerSnapshotError);
});

test('truncation: restoring a snapshot and replaying batch headers equals rebuilding from the log', () => {
  const live = new ProducerStateManager();
  const log: ProducerBatchHeader[] = [];
  const snapshots: ProducerSnapshot[] = [];
  const sequences = new Map<number, number>();
  for (let index = 0; index < 60; index++) {
    const producerId = 1 + (index % 3);
    const sequence = sequences.get(producerId) ?? 0;
    const spec = { producerId, producerEpoch: 0, baseSequence: sequence, recordCount: 1 + (index % 4), timestampMs: T0_MS + index };
    const batch = header(spec, live.mapEndOffset);
    live.onAppended(batch);
    log.push(batch);
    sequences.set(producerId, batch.lastSequence + 1);
    if (index % 10 === 9) snapshots.push(decodeSnapshot(encodeSnapshot(live.snapshot())));
  }
  const fromScratch = new ProducerStateManager();
  for (const batch of log) fromScratch.loadBatch(batch);
  assert.deepEqual(fromScratch.snapshot(), live.snapshot());

  const truncationOffset = log[37]!.baseOffset;
  const base = snapshots.filter((snapshot) => snapshot.mapEndOffset <= truncationOffset).at(-1)!;
  const truncated = ProducerStateManager.restore(base);
  for (const batch of log) {
    if (batch.baseOffset >= base.mapEndOffset && batch.baseOffset < truncationOffset) truncated.loadBatch(batch);
  }
  const expected = new ProducerStateManager();
  for (const batch of log.slice(0, 37)) expected.loadBatch(batch);
  assert.deepEqual(truncated.snapshot(), expected.snapshot());
  assert.equal(truncated.mapEndOffset, truncationOffset);
});

test('expire drops producers idle for producer.id.expiration.ms, never one with an open transaction', () => {
  const manager = new ProducerStateManager();
  produce(manager, { producerId: 1, producerEpoch: 0, baseSequence: 0, recordCount: 1, timestampMs: T0_MS });
  produce(manager, { producerId: 2, producerEpoch: 0, baseSequence: 0, recordCount: 1, timestampMs: T0_MS + 1000 });
  const snapshot = manager.snapshot();
  const withTransaction = ProducerStateManager.restore({
    mapEndOffset: snapshot.mapEndOffset,
    producers: snapshot.producers.map((view) => (view.producerId === 1 ? { ...view, currentTxnFirstOffset: 0 } : view)),
  });
  assert.equal(manager.expire(T0_MS + 86_400_000 - 1), 0);
  assert.equal(manager.expire(T0_MS + 86_400_000), 1);
  assert.equal(manager.entry(1), null);
  assert.notEqual(manager.entry(2), null);
  assert.equal(manager.expire(T0_MS + 1000 + 5000, 5000), 1);
  assert.equal(manager.producerIdCount, 0);

  assert.equal(withTransaction.expire(T0_MS + 10 * 86_400_000), 1);
  assert.notEqual(withTransaction.entry(1), null);
  assert.equal(withTransaction.describe()[0]?.currentTxnStartOffset, 0);
});

test('the producer id bound forgets the least recently appended producer, never an open transaction', () => {
  const manager = new ProducerStateManager(0, { maxProducerIdsPerPartition: 3 });
  for (const producerId of [1, 2, 3]) produce(manager, { producerId, producerEpoch: 0, baseSequence: 0, recordCount: 1 });
  produce(manager, { producerId: 1, producerEpoch: 0, baseSequence: 1, recordCount: 1 });
  produce(manager, { producerId: 4, producerEpoch: 0, baseSequence: 0, recordCount: 1 });
  assert.deepEqual(manager.describe().map((row) => row.producerId), [3, 1, 4]);
  // The forgotten producer keeps writing: an unknown id is accepted at any sequence.
  assert.equal(produce(manager, { producerId: 2, producerEpoch: 0, baseSequence: 1, recordCount: 1 }).kind, 'append');
  assert.deepEqual(manager.describe().map((row) => row.producerId), [1, 4, 2]);

  const snapshot = manager.snapshot();
  const withTransaction = ProducerStateManager.restore(
    {
      ...snapshot,
      producers: snapshot.producers.map((view) => (view.producerId === 1 ? { ...view, currentTxnFirstOffset: 3 } : view)),
    },
    { maxProducerIdsPerPartition: 3 },
  );
  produce(withTransaction, { producerId: 5, producerEpoch: 0, baseSequence: 0, recordCount: 1 });
  assert.deepEqual(withTransaction.describe().map((row) => row.producerId), [1, 2, 5]);
  const smaller = ProducerStateManager.restore(withTransaction.snapshot(), { maxProducerIdsPerPartition: 2 });
  assert.deepEqual(smaller.describe().map((row) => row.producerId), [1, 5]);
});

test('describe lists each producer for DescribeProducers', () => {
  const manager = new ProducerStateManager();
  produce(manager, { producerId: 7, producerEpoch: 2, baseSequence: 0, recordCount: 4, timestampMs: T0_MS + 9 });
  assert.deepEqual(manager.describe(), [
    { producerId: 7, producerEpoch: 2, lastSequence: 3, lastTimestampMs: T0_MS + 9, coordinatorEpoch: -1, currentTxnStartOffset: -1 },
  ]);
});

// Seeded property test: random producers, retries, gaps, epoch bumps, zombies and failovers,
// against a reference model that keeps each producer's whole history in its current epoch.

interface ModelBatch {
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly timestampMs: number;
}

class ReferenceModel {
  readonly producers = new Map<number, { epoch: number; history: ModelBatch[] }>();

  expected(batch: ProducerBatchHeader): LeaderAppendCheck['kind'] | number {
    const state = this.producers.get(batch.producerId);
    if (batch.producerId < 0 || state === undefined) return 'append';
    const retained = state.history.slice(-5);
    const same = (old: ModelBatch): boolean => old.firstSequence === batch.baseSequence && old.lastSequence === batch.lastSequence;
    if (batch.producerEpoch === state.epoch && retained.some(same)) return 'duplicate';
    if (batch.producerEpoch < state.epoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (batch.producerEpoch > state.epoch) return batch.baseSequence === 0 ? 'append' : ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER;
    const last = state.history[state.history.length - 1]!;
    const next = last.lastSequence === MAX_SEQUENCE ? 0 : last.lastSequence + 1;
    return batch.baseSequence === next ? 'append' : ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER;
  }

  duplicateOf(batch: ProducerBatchHeader): ModelBatch {
    const history = this.producers.get(batch.producerId)!.history;
    return history.find((old) => old.firstSequence === batch.baseSequence && old.lastSequence === batch.lastSequence)!;
  }

  append(batch: ProducerBatchHeader): void {
    if (batch.producerId < 0) return;
    let state = this.producers.get(batch.producerId);
    if (state === undefined || state.epoch !== batch.producerEpoch) {
      state = { epoch: batch.producerEpoch, history: [] };
      this.producers.set(batch.producerId, state);
    }
    state.history.push({
      firstSequence: batch.baseSequence,
      lastSequence: batch.lastSequence,
      baseOffset: batch.baseOffset,
      lastOffset: batch.lastOffset,
      timestampMs: batch.maxTimestampMs,
    });
  }
}

interface SimulatedProducer {
  readonly producerId: number;
  epoch: number;
  nextSequence: number;
  readonly sent: { epoch: number; baseSequence: number; recordCount: number }[];
}

function chooseBatch(random: SeededRandom, producer: SimulatedProducer): BatchSpec {
  const roll = random.next();
  const recordCount = random.int(1, 5);
  const base = { producerId: producer.producerId, recordCount };
  if (roll < 0.2 && producer.sent.length > 0) {
    const old = producer.sent[producer.sent.length - random.int(1, Math.min(7, producer.sent.length))]!;
    return { ...base, producerEpoch: old.epoch, baseSequence: old.baseSequence, recordCount: old.recordCount };
  }
  if (roll < 0.28) {
    const gapSequence = incrementSequence(producer.nextSequence, random.int(1, 3));
    return { ...base, producerEpoch: producer.epoch, baseSequence: gapSequence };
  }
  if (roll < 0.35) {
    producer.epoch++;
    producer.nextSequence = random.next() < 0.8 ? 0 : random.int(1, 9);
  }
  if (roll >= 0.35 && roll < 0.4 && producer.epoch > 0) return { ...base, producerEpoch: producer.epoch - 1, baseSequence: 0 };
  return { ...base, producerEpoch: producer.epoch, baseSequence: producer.nextSequence };
}

function failover(random: SeededRandom, manager: ProducerStateManager, log: readonly ProducerBatchHeader[]): ProducerStateManager {
  if (random.next() < 0.5) return ProducerStateManager.restore(decodeSnapshot(encodeSnapshot(manager.snapshot())));
  const rebuilt = new ProducerStateManager();
  for (const batch of log) rebuilt.loadBatch(batch);
  return rebuilt;
}

function checkAgainstModel(manager: ProducerStateManager, model: ReferenceModel, where: string): void {
  assert.equal(manager.producerIdCount, model.producers.size, where);
  for (const [producerId, state] of model.producers) {
    const entry = manager.entry(producerId);
    assert.equal(entry?.producerEpoch, state.epoch, where);
    const expected = state.history
      .slice(-5)
      .map((batch) => [batch.firstSequence, batch.lastSequence, batch.baseOffset, batch.lastOffset]);
    const actual = entry?.batches.map((batch) => [batch.firstSequence, batch.lastSequence, batch.firstOffset, batch.lastOffset]);
    assert.deepEqual(actual, expected, where);
  }
}

/** How often each outcome came up, so the test can show it exercised every branch. */
type Tally = Map<string, number>;

function runSimulation(seed: number, steps: number, tally: Tally): void {
  const count = (outcome: string): void => void tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
  const random = new SeededRandom(seed);
  const producers: SimulatedProducer[] = [];
  for (let index = 0; index < 4; index++) {
    const nextSequence = index < 2 ? MAX_SEQUENCE - random.int(0, 20) : random.int(0, 3);
    producers.push({ producerId: 100 + index, epoch: random.int(0, 2), nextSequence, sent: [] });
  }
  let manager = new ProducerStateManager();
  const model = new ReferenceModel();
  const log: ProducerBatchHeader[] = [];
  for (let step = 0; step < steps; step++) {
    const where = `seed ${seed} step ${step}`;
    if (random.next() < 0.04) {
      manager = failover(random, manager, log);
      count('failover');
      checkAgainstModel(manager, model, `${where} after failover`);
    }
    const producer = producers[random.int(0, producers.length - 1)]!;
    const spec = random.next() < 0.1
      ? { producerId: -1, producerEpoch: -1, baseSequence: -1, recordCount: random.int(1, 3) }
      : chooseBatch(random, producer);
    const batch = header({ ...spec, timestampMs: T0_MS + step }, manager.mapEndOffset);
    const expected = model.expected(batch);
    const check = manager.checkLeaderAppend(batch);
    count(check.kind === 'error' ? `error ${check.errorCode}` : check.kind);
    if (batch.lastSequence >= 0 && batch.lastSequence < batch.baseSequence) count('wrapping batch');
    if (check.kind === 'error') assert.equal(check.errorCode, expected, `${where}: ${check.message}`);
    else assert.equal(check.kind, expected, where);
    if (check.kind === 'duplicate') {
      const original = model.duplicateOf(batch);
      const answered = [check.baseOffset, check.lastOffset, check.logAppendTimeMs];
      assert.deepEqual(answered, [original.baseOffset, original.lastOffset, original.timestampMs], where);
    }
    if (check.kind === 'append') {
      manager.onAppended(batch);
      model.append(batch);
      log.push(batch);
      if (spec.producerId >= 0 && spec.producerEpoch === producer.epoch) {
        producer.sent.push({ epoch: spec.producerEpoch, baseSequence: spec.baseSequence, recordCount: spec.recordCount });
        producer.nextSequence = incrementSequence(batch.lastSequence, 1);
      }
    }
    checkAgainstModel(manager, model, where);
  }
}

test('seeded simulation: random producers, retries, gaps, epoch bumps and failovers match a reference model', () => {
  const tally: Tally = new Map();
  for (let seed = 1; seed <= 25; seed++) runSimulation(seed, 400, tally);
  const outcomes = ['append', 'duplicate', 'error 45', 'error 47', 'failover', 'wrapping batch'];
  if (process.env.PRODUCER_STATE_TALLY) console.log(Object.fromEntries(tally));
  for (const outcome of outcomes) assert.ok((tally.get(outcome) ?? 0) >= 10, `${outcome}: ${tally.get(outcome) ?? 0} times`);
});
