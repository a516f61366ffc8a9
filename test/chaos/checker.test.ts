/** The chaos checker finds each kind of violation (and nothing in a clean history). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHistory, type AckedWrite, type ReadRecord } from './checker.js';
import { chaosValue, isChaosValue } from './workload.js';

const write = (sequence: number, offset: number, partition = 0): AckedWrite => ({ value: chaosValue('s', sequence), key: 'k', partition, offset, producer: 's', sequence });
const record = (sequence: number, offset: number, partition = 0): ReadRecord => ({ partition, offset, value: chaosValue('s', sequence) });

test('a clean history has no violations; duplicates are counted, not violations, without idempotence', () => {
  const result = checkHistory([write(0, 0), write(1, 2)], [record(0, 0)], [record(0, 0), record(0, 1), record(1, 2)], isChaosValue, () => false);
  assert.deepEqual([result.violations, result.duplicates, result.lost], [0, 1, 0]);
  assert.equal(checkHistory([write(0, 0)], [], [record(0, 0), record(0, 1)], isChaosValue, () => true).violations, 1, 'with idempotence a duplicate is a violation');
});

test('lost, inconsistent, gaps, reordered and corrupt records are each found', () => {
  assert.equal(checkHistory([write(0, 0), write(1, 1)], [], [record(0, 0)], isChaosValue, () => false).lost, 1);
  assert.equal(checkHistory([], [record(5, 0)], [record(0, 0)], isChaosValue, () => false).inconsistent, 1, 'a live read the final log contradicts (truncated data was read)');
  assert.equal(checkHistory([], [], [record(0, 0), record(1, 2)], isChaosValue, () => false).gaps, 1);
  assert.equal(checkHistory([write(0, 1), write(1, 0)], [], [record(1, 0), record(0, 1)], isChaosValue, () => false).reordered, 1);
  assert.equal(checkHistory([], [], [{ partition: 0, offset: 0, value: 's:0:00000000' }], isChaosValue, () => false).corrupt, 1);
});

test('an acknowledged commit the group no longer has is a violation; the consumer committing lower itself is not', () => {
  const samples = [
    { atMs: 10, offsets: new Map([[0, 9]]) },
    { atMs: 30, offsets: new Map([[0, 7]]) },
  ];
  const commits = [{ atMs: 5, partition: 0, offset: 9 }];
  assert.equal(checkHistory([], [], [], isChaosValue, () => false, samples, commits).committedBack, 1, 'commit 9 acknowledged, then the group shows 7');
  const lowerCommit = [...commits, { atMs: 20, partition: 0, offset: 7 }];
  assert.equal(checkHistory([], [], [], isChaosValue, () => false, samples, lowerCommit).committedBack, 0, 'the consumer committed 7 itself');
});
