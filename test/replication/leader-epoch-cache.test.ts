import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvariantError } from '../../src/runtime/assert.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { epochEntriesProblem, LeaderEpochCache, UNDEFINED_EPOCH_END_OFFSET, type EpochEntry } from '../../src/replication/leader-epoch-cache.js';

function cacheOf(...pairs: Array<[number, number]>): LeaderEpochCache {
  return new LeaderEpochCache(pairs.map(([epoch, startOffset]) => ({ epoch, startOffset })));
}

function pairsOf(cache: LeaderEpochCache): Array<[number, number]> {
  return cache.entries.map((entry) => [entry.epoch, entry.startOffset]);
}

test('assign keeps the first offset of each epoch and ignores repeats of the latest epoch', () => {
  const cache = new LeaderEpochCache();
  assert.equal(cache.latestEpoch, -1);
  assert.equal(cache.assign(0, 0), true);
  assert.equal(cache.assign(0, 5), false);
  assert.equal(cache.assign(2, 7), true);
  assert.equal(cache.assign(2, 9), false);
  assert.deepEqual(pairsOf(cache), [[0, 0], [2, 7]]);
  assert.equal(cache.latestEpoch, 2);
});

test('assign of a new epoch at the start offset of the latest one replaces that empty epoch', () => {
  const cache = cacheOf([0, 0], [1, 10]);
  assert.equal(cache.assign(2, 10), true);
  assert.deepEqual(pairsOf(cache), [[0, 0], [2, 10]]);
});

test('assign asserts that epochs increase and start offsets do not decrease', () => {
  const cache = cacheOf([1, 0], [3, 10]);
  assert.throws(() => cache.assign(2, 20), InvariantError);
  assert.throws(() => cache.assign(4, 9), InvariantError);
  assert.throws(() => cache.assign(3, 8), InvariantError);
  assert.throws(() => cache.assign(-1, 30), InvariantError);
  assert.deepEqual(pairsOf(cache), [[1, 0], [3, 10]]);
});

test('epochEntriesProblem tells a valid checkpoint from a broken one', () => {
  const valid: EpochEntry[] = [{ epoch: 0, startOffset: 0 }, { epoch: 4, startOffset: 3 }];
  assert.equal(epochEntriesProblem(valid), null);
  assert.match(epochEntriesProblem([{ epoch: 4, startOffset: 3 }, { epoch: 4, startOffset: 5 }]) ?? '', /does not follow/);
  assert.match(epochEntriesProblem([{ epoch: 1, startOffset: 3 }, { epoch: 4, startOffset: 3 }]) ?? '', /does not follow/);
  assert.match(epochEntriesProblem([{ epoch: 1, startOffset: -3 }]) ?? '', /invalid/);
});

test('endOffsetFor answers as Kafka OffsetsForLeaderEpoch does', () => {
  const cache = cacheOf([1, 5], [3, 10], [4, 20]);
  const logEndOffset = 30;
  // The latest epoch ends at the log end offset.
  assert.deepEqual(cache.endOffsetFor(4, logEndOffset), { epoch: 4, endOffset: 30 });
  // A known earlier epoch ends where the next one starts.
  assert.deepEqual(cache.endOffsetFor(3, logEndOffset), { epoch: 3, endOffset: 20 });
  assert.deepEqual(cache.endOffsetFor(1, logEndOffset), { epoch: 1, endOffset: 10 });
  // An unknown epoch between two known ones: the largest epoch below it, ending at the next start.
  assert.deepEqual(cache.endOffsetFor(2, logEndOffset), { epoch: 1, endOffset: 10 });
  // Below every known epoch: the requested epoch itself, ending at the first known start.
  assert.deepEqual(cache.endOffsetFor(0, logEndOffset), { epoch: 0, endOffset: 5 });
  // Undefined request, and an epoch above every known one: UNDEFINED.
  assert.deepEqual(cache.endOffsetFor(-1, logEndOffset), UNDEFINED_EPOCH_END_OFFSET);
  assert.deepEqual(cache.endOffsetFor(5, logEndOffset), UNDEFINED_EPOCH_END_OFFSET);
  // An empty cache knows nothing.
  assert.deepEqual(new LeaderEpochCache().endOffsetFor(0, 0), UNDEFINED_EPOCH_END_OFFSET);
});

test('epochForOffset finds the epoch holding an offset', () => {
  const cache = cacheOf([1, 5], [3, 10]);
  assert.equal(cache.epochForOffset(4), -1);
  assert.equal(cache.epochForOffset(5), 1);
  assert.equal(cache.epochForOffset(9), 1);
  assert.equal(cache.epochForOffset(10), 3);
  assert.equal(cache.epochForOffset(100), 3);
});

test('truncateFromEnd drops the entries starting at or after the offset', () => {
  const cache = cacheOf([1, 5], [3, 10], [4, 20]);
  assert.equal(cache.truncateFromEnd(21), false);
  assert.equal(cache.truncateFromEnd(20), true);
  assert.deepEqual(pairsOf(cache), [[1, 5], [3, 10]]);
  assert.equal(cache.truncateFromEnd(6), true);
  assert.deepEqual(pairsOf(cache), [[1, 5]]);
  assert.equal(cache.truncateFromEnd(0), true);
  assert.deepEqual(pairsOf(cache), []);
});

test('truncateFromStart moves the epoch holding the new log start up to it', () => {
  const cache = cacheOf([1, 5], [3, 10], [4, 20]);
  assert.equal(cache.truncateFromStart(4), false);
  assert.equal(cache.truncateFromStart(5), false);
  assert.equal(cache.truncateFromStart(12), true);
  assert.deepEqual(pairsOf(cache), [[3, 12], [4, 20]]);
  assert.equal(cache.truncateFromStart(20), true);
  assert.deepEqual(pairsOf(cache), [[4, 20]]);
  assert.equal(cache.truncateFromStart(25), true);
  assert.deepEqual(pairsOf(cache), [[4, 25]]);
});

test('divergence: no check without a last fetched epoch, none while the follower agrees', () => {
  const leader = cacheOf([0, 0], [2, 10], [3, 20]);
  assert.equal(leader.divergence(0, -1, 30), null);
  assert.equal(leader.divergence(25, 3, 30), null);
  assert.equal(leader.divergence(30, 3, 30), null);
  assert.equal(leader.divergence(10, 0, 30), null);
  assert.equal(leader.divergence(7, 0, 30), null);
});

test('divergence: a follower past the end of its last epoch here, or on an epoch unknown here, diverges', () => {
  const leader = cacheOf([0, 0], [2, 10], [3, 20]);
  // Follower wrote more of epoch 0 than the leader has (the leader's epoch 2 started at 10).
  assert.deepEqual(leader.divergence(12, 0, 30), { epoch: 0, endOffset: 10 });
  // Follower led epoch 1, which this leader never saw.
  assert.deepEqual(leader.divergence(15, 1, 30), { epoch: 0, endOffset: 10 });
  // Follower's epoch 1 holds nothing yet (it led 1 without writing): it diverges on the epoch alone.
  assert.deepEqual(leader.divergence(10, 1, 30), { epoch: 0, endOffset: 10 });
  // Follower ahead of the leader's log end in the latest epoch.
  assert.deepEqual(leader.divergence(31, 3, 30), { epoch: 3, endOffset: 30 });
});

test('divergence: a last fetched epoch newer than every epoch here is OFFSET_OUT_OF_RANGE', () => {
  const leader = cacheOf([0, 0], [2, 10]);
  assert.throws(() => leader.divergence(12, 5, 15), (error: unknown) => error instanceof KafkaError && error.code === ErrorCode.OFFSET_OUT_OF_RANGE);
  assert.throws(() => new LeaderEpochCache().divergence(3, 0, 0), (error: unknown) => error instanceof KafkaError && error.code === ErrorCode.OFFSET_OUT_OF_RANGE);
});

test('followerTruncationOffset: same epoch known to both, the smaller end wins, capped by the log end', () => {
  const follower = cacheOf([0, 0], [1, 10]);
  assert.equal(follower.followerTruncationOffset({ epoch: 0, endOffset: 7 }, 15), 7);
  assert.equal(follower.followerTruncationOffset({ epoch: 0, endOffset: 12 }, 15), 10);
  assert.equal(follower.followerTruncationOffset({ epoch: 1, endOffset: 30 }, 15), 15);
});

test('followerTruncationOffset: an epoch the follower lacks truncates to the end of its largest epoch below it', () => {
  const follower = cacheOf([0, 0], [2, 10]);
  assert.equal(follower.followerTruncationOffset({ epoch: 1, endOffset: 8 }, 15), 10);
  // Undefined epoch (old protocol): the leader's offset, capped by the log end.
  assert.equal(follower.followerTruncationOffset({ epoch: -1, endOffset: 8 }, 15), 8);
  assert.equal(follower.followerTruncationOffset({ epoch: -1, endOffset: 20 }, 15), 15);
  // An empty follower cache: the leader's offset.
  assert.equal(new LeaderEpochCache().followerTruncationOffset({ epoch: 3, endOffset: 4 }, 9), 4);
  assert.throws(() => follower.followerTruncationOffset({ epoch: 1, endOffset: -1 }, 15), InvariantError);
});

// ---- KIP-101 scenarios, scripted over small replica models -------------------------------

/** A replica's log as one leader epoch per offset, with its epoch cache kept alongside. */
class ReplicaModel {
  readonly records: number[] = [];
  readonly cache = new LeaderEpochCache();

  constructor(readonly name: string) {}

  get logEndOffset(): number {
    return this.records.length;
  }

  /** As leader: the new epoch is cached at the log end (Kafka's makeLeader), then records. */
  lead(epoch: number, count: number): void {
    this.cache.assign(epoch, this.logEndOffset);
    for (let index = 0; index < count; index++) this.records.push(epoch);
  }

  truncateTo(offset: number): void {
    this.records.length = Math.min(offset, this.records.length);
    this.cache.truncateFromEnd(offset);
  }

  /** One follower fetch from `leader`: truncate on a diverging answer, else copy what is there. */
  fetchFrom(leader: ReplicaModel): 'truncated' | 'appended' | 'caughtUp' {
    const diverging = leader.cache.divergence(this.logEndOffset, this.cache.latestEpoch, leader.logEndOffset);
    if (diverging !== null) {
      const offset = this.cache.followerTruncationOffset(diverging, this.logEndOffset);
      assert.ok(offset < this.logEndOffset || diverging.epoch < this.cache.latestEpoch, `${this.name}: a diverging answer must make progress`);
      this.truncateTo(offset);
      return 'truncated';
    }
    if (this.logEndOffset === leader.logEndOffset) return 'caughtUp';
    for (let offset = this.logEndOffset; offset < leader.logEndOffset; offset++) {
      const epoch = leader.records[offset]!;
      if (epoch > this.cache.latestEpoch) this.cache.assign(epoch, offset);
      this.records.push(epoch);
    }
    return 'appended';
  }

  /** Fetches until caught up; returns the sequence of fetch outcomes. */
  catchUp(leader: ReplicaModel): string[] {
    const outcomes: string[] = [];
    for (let round = 0; round < 10; round++) {
      const outcome = this.fetchFrom(leader);
      outcomes.push(outcome);
      if (outcome === 'caughtUp') return outcomes;
    }
    assert.fail(`${this.name} did not catch up with ${leader.name}: ${outcomes.join(', ')}`);
  }
}

test('KIP-101 scenario 1: a follower restarts before learning the high watermark, then the leader dies', () => {
  const a = new ReplicaModel('A');
  const b = new ReplicaModel('B');
  a.lead(0, 2); // m1, m2
  b.catchUp(a); // B has both; A's high watermark moves to 2, B has not heard of it yet (its HW is 1).
  // B restarts. Before KIP-101 it truncated to its high watermark (1) and lost m2. Now it keeps its
  // log and checks with the leader on its first fetch: no divergence, nothing truncated.
  assert.deepEqual(b.catchUp(a), ['caughtUp']);
  // A dies; B leads epoch 1 with m2 still there, and A comes back as its follower.
  b.lead(1, 1);
  assert.deepEqual(a.catchUp(b), ['appended', 'caughtUp']);
  assert.deepEqual(a.records, [0, 0, 1]);
  assert.deepEqual(b.records, [0, 0, 1]);
});

test('KIP-101 scenario 2: back-to-back failures leave diverged logs; the follower truncates to the leader', () => {
  const a = new ReplicaModel('A');
  const b = new ReplicaModel('B');
  a.lead(0, 1);
  b.catchUp(a); // m1 at 0 on both, high watermark 1.
  a.lead(0, 1); // m2 at offset 1 on A only.
  // Both crash; B comes back first and leads epoch 1, writing m3 at offset 1.
  b.lead(1, 1);
  // A returns as follower with lastFetchedEpoch 0 at offset 2: B says epoch 0 ended at 1.
  assert.deepEqual(b.cache.divergence(2, 0, b.logEndOffset), { epoch: 0, endOffset: 1 });
  assert.deepEqual(a.catchUp(b), ['truncated', 'appended', 'caughtUp']);
  assert.deepEqual(a.records, [0, 1]);
  assert.deepEqual(pairsOf(a.cache), [[0, 0], [1, 1]]);
});

test('KIP-101 with three replicas: a follower on an epoch the leader never saw truncates in two steps', () => {
  const a = new ReplicaModel('A');
  const b = new ReplicaModel('B');
  const c = new ReplicaModel('C');
  a.lead(0, 5);
  b.catchUp(a);
  c.catchUp(a); // offsets 0-4 of epoch 0 everywhere
  b.lead(1, 3); // B leads epoch 1: offsets 5-7
  c.catchUp(b);
  a.lead(2, 4); // A, cut off, still believes it leads (epoch 2 at 5-8; nothing of it is committed)
  c.lead(3, 2); // C leads epoch 3 from offset 8
  b.catchUp(c);
  // A follows C: it knows neither epoch 1 nor 3. First it truncates to the end of its own epoch
  // before 1 (offset 5, where its epoch 2 began), then checks epoch 0, which agrees, and copies.
  assert.deepEqual(a.catchUp(c), ['truncated', 'appended', 'caughtUp']);
  assert.deepEqual(a.records, c.records);
  assert.deepEqual(b.records, c.records);
  assert.deepEqual(pairsOf(a.cache), [[0, 0], [1, 5], [3, 8]]);
});

test('KIP-101 with three replicas: a follower that went further in an epoch truncates to the leader\'s end of it', () => {
  const a = new ReplicaModel('A');
  const b = new ReplicaModel('B');
  const c = new ReplicaModel('C');
  a.lead(0, 3);
  b.catchUp(a);
  c.catchUp(a);
  a.lead(0, 2); // A: offsets 3-4 of epoch 0, replicated to B only.
  b.catchUp(a);
  // A dies; C (in the ISR: the high watermark was still 3) leads epoch 1 from offset 3.
  c.lead(1, 1);
  // B lost its log end offset's tail to C's log; A returns later with the same tail.
  assert.deepEqual(b.catchUp(c), ['truncated', 'appended', 'caughtUp']);
  assert.deepEqual(a.catchUp(c), ['truncated', 'appended', 'caughtUp']);
  for (const replica of [a, b]) assert.deepEqual(replica.records, [0, 0, 0, 1]);
  // Back-to-back: C dies before anyone fetched more; B leads epoch 2 and A follows it.
  b.lead(2, 2);
  assert.deepEqual(a.catchUp(b), ['appended', 'caughtUp']);
  assert.deepEqual(a.records, [0, 0, 0, 1, 2, 2]);
});
