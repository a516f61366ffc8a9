/**
 * The chaos run's checker (the Jepsen queue workload's checks), a pure function of what the
 * clients recorded and what the final read-back found:
 * - lost: an acknowledged write not in the final log at its acknowledged offset;
 * - inconsistent offsets: an offset whose record differs between readers (the live consumer,
 *   the final read), or a live read of a record the final log has elsewhere or not at all (a
 *   read of data that was later truncated);
 * - gaps: offsets of a partition not dense from its first offset;
 * - order: a producer's acknowledged writes to one key out of order in the log;
 * - committed offsets: the group's committed offset of a partition, sampled now and then, is
 *   never below the consumer's latest acknowledged commit before the sample was asked for (an
 *   acknowledged commit is never lost; the consumer itself may commit a lower offset later, as
 *   kafkajs does after a broker restart, resuming from its own position);
 * - duplicates: a value at more than one offset (expected without idempotence: a retry after
 *   a lost answer; counted, and a violation when the value's producer was idempotent).
 */
export interface AckedWrite {
  readonly value: string;
  readonly key: string;
  readonly partition: number;
  readonly offset: number;
  readonly producer: string;
  readonly sequence: number;
}

export interface ReadRecord {
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}

/** One sample of the consumer group's committed offsets. */
export interface CommittedSample {
  readonly atMs: number;
  readonly offsets: ReadonlyMap<number, number>;
}

export interface CheckResult {
  readonly acknowledged: number;
  readonly finalRecords: number;
  readonly liveReads: number;
  readonly lost: number;
  readonly inconsistent: number;
  readonly gaps: number;
  readonly reordered: number;
  readonly duplicates: number;
  /** Of `duplicates`, those of idempotent producers (violations). */
  readonly idempotentDuplicates: number;
  readonly corrupt: number;
  readonly committedBack: number;
  /** The smallest examples of each violation kind, for the failure message. */
  readonly examples: string[];
  readonly violations: number;
}

const MAX_EXAMPLES_PER_KIND = 3;

/** A commit the consumer had acknowledged, when it heard so. */
export interface AckedCommit {
  readonly atMs: number;
  readonly partition: number;
  readonly offset: number;
}

export function checkHistory(
  acked: readonly AckedWrite[],
  live: readonly ReadRecord[],
  final: readonly ReadRecord[],
  validValue: (value: string) => boolean,
  /** Whether a value's producer was idempotent: a second copy of it is then a violation. */
  idempotent: (value: string) => boolean,
  committed: readonly CommittedSample[] = [],
  commits: readonly AckedCommit[] = [],
): CheckResult {
  const examples: string[] = [];
  const note = (kind: string, count: number, text: string) => {
    if (count <= MAX_EXAMPLES_PER_KIND) examples.push(`${kind}: ${text}`);
  };
  const finalAt = new Map<string, string>();
  const offsetsOfValue = new Map<string, number>();
  let corrupt = 0;
  for (const record of final) {
    finalAt.set(`${record.partition}:${record.offset}`, record.value);
    offsetsOfValue.set(record.value, (offsetsOfValue.get(record.value) ?? 0) + 1);
    if (!validValue(record.value)) note('corrupt', ++corrupt, `p${record.partition}@${record.offset} holds ${JSON.stringify(record.value.slice(0, 60))}`);
  }
  let lost = 0;
  for (const write of acked) {
    const found = finalAt.get(`${write.partition}:${write.offset}`);
    if (found !== write.value) note('lost', ++lost, `${write.value} acknowledged at p${write.partition}@${write.offset}, the log has ${found ?? 'nothing'} there`);
  }
  let inconsistent = 0;
  for (const record of live) {
    const found = finalAt.get(`${record.partition}:${record.offset}`);
    if (found !== record.value) note('inconsistent', ++inconsistent, `consumed ${record.value} at p${record.partition}@${record.offset}, the final log has ${found ?? 'nothing'} there`);
  }
  const gaps = countGaps(final, (count, text) => note('gap', count, text));
  const reordered = countReordered(acked, final, (count, text) => note('order', count, text));
  let duplicates = 0;
  let idempotentDuplicates = 0;
  for (const [value, count] of offsetsOfValue) {
    if (count <= 1) continue;
    duplicates += count - 1;
    if (idempotent(value)) {
      idempotentDuplicates += count - 1;
      note('duplicate', idempotentDuplicates, `${value} (idempotent producer) is in the log ${count} times`);
    }
  }
  const committedBack = countLostCommits(committed, commits, (count, text) => note('committed offset', count, text));
  const violations = lost + inconsistent + gaps + reordered + corrupt + committedBack + idempotentDuplicates;
  return { acknowledged: acked.length, finalRecords: final.length, liveReads: live.length, lost, inconsistent, gaps, reordered, duplicates, idempotentDuplicates, corrupt, committedBack, examples, violations };
}

function countLostCommits(samples: readonly CommittedSample[], commits: readonly AckedCommit[], note: (count: number, text: string) => void): number {
  const ordered = [...commits].sort((a, b) => a.atMs - b.atMs);
  let lost = 0;
  for (const sample of samples) {
    for (const [partition, offset] of sample.offsets) {
      let latest: AckedCommit | undefined;
      for (const commit of ordered) {
        if (commit.atMs >= sample.atMs) break;
        if (commit.partition === partition) latest = commit;
      }
      if (latest !== undefined && offset < latest.offset) {
        note(++lost, `p${partition}: committed ${latest.offset} was acknowledged at ${(latest.atMs / 1000).toFixed(2)} s, the group had ${offset} at ${(sample.atMs / 1000).toFixed(2)} s`);
      }
    }
  }
  return lost;
}

function countGaps(final: readonly ReadRecord[], note: (count: number, text: string) => void): number {
  const byPartition = new Map<number, number[]>();
  for (const record of final) {
    let offsets = byPartition.get(record.partition);
    if (offsets === undefined) byPartition.set(record.partition, (offsets = []));
    offsets.push(record.offset);
  }
  let gaps = 0;
  for (const [partition, offsets] of byPartition) {
    offsets.sort((a, b) => a - b);
    for (let index = 1; index < offsets.length; index++) {
      if (offsets[index] !== offsets[index - 1]! + 1) note(++gaps, `p${partition} jumps from ${offsets[index - 1]} to ${offsets[index]}`);
    }
  }
  return gaps;
}

/** A producer's acknowledged writes to one key must appear in the log in send order (first copies). */
function countReordered(acked: readonly AckedWrite[], final: readonly ReadRecord[], note: (count: number, text: string) => void): number {
  const firstPosition = new Map<string, number>();
  for (const record of final) {
    const key = record.value;
    if (!firstPosition.has(key)) firstPosition.set(key, record.partition * 1e12 + record.offset);
  }
  const byStream = new Map<string, AckedWrite[]>();
  for (const write of acked) {
    const stream = `${write.producer}/${write.key}`;
    let writes = byStream.get(stream);
    if (writes === undefined) byStream.set(stream, (writes = []));
    writes.push(write);
  }
  let reordered = 0;
  for (const [stream, writes] of byStream) {
    writes.sort((a, b) => a.sequence - b.sequence);
    let previous = -1;
    for (const write of writes) {
      const position = firstPosition.get(write.value);
      if (position === undefined) continue;
      if (position < previous) note(++reordered, `${stream}: ${write.value} is before an earlier acknowledged write`);
      previous = Math.max(previous, position);
    }
  }
  return reordered;
}
