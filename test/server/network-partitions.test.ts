import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkPartitions, partitionProblem } from '../../src/server/network-partitions.js';

test('a partition blocks traffic between groups only, and heal lifts it', () => {
  const partitions = new NetworkPartitions(3);
  assert.equal(partitions.blocked(0, 1), false, 'whole network');
  partitions.partition([[0], [2, 1]]);
  assert.deepEqual(partitions.groups(), [[0], [1, 2]]);
  assert.equal(partitions.isPartitioned, true);
  for (const [from, to] of [[0, 1], [1, 0], [0, 2], [2, 0]] as const) assert.equal(partitions.blocked(from, to), true, `${from}->${to}`);
  for (const [from, to] of [[1, 2], [2, 1], [0, 0], [1, 1]] as const) assert.equal(partitions.blocked(from, to), false, `${from}->${to}`);
  partitions.heal();
  assert.deepEqual(partitions.groups(), []);
  assert.equal(partitions.blocked(0, 1), false);
});

test('a new partition replaces the old one; groups() hands out copies', () => {
  const partitions = new NetworkPartitions(4);
  partitions.partition([[0, 1], [2, 3]]);
  partitions.partition([[0, 2], [1, 3]]);
  assert.equal(partitions.blocked(0, 1), true);
  assert.equal(partitions.blocked(0, 2), false);
  partitions.groups()[0]!.push(3);
  assert.deepEqual(partitions.groups(), [[0, 2], [1, 3]]);
});

test('malformed groups are refused with the reason, leaving the network as it was', () => {
  const partitions = new NetworkPartitions(3);
  partitions.partition([[0], [1, 2]]);
  const cases: Array<[number[][], RegExp]> = [
    [[[0, 1, 2]], /at least two groups/],
    [[[0], []], /non-empty/],
    [[[0], [1, 3]], /unknown node id 3: this broker runs nodes 0-2/],
    [[[0, 1], [1, 2]], /node 1 appears in more than one group/],
    [[[0], [1]], /missing: 2/],
    [[[0], [1.5, 2]], /unknown node id 1.5/],
  ];
  for (const [groups, message] of cases) {
    assert.match(partitionProblem(groups, 3) ?? 'accepted', message, JSON.stringify(groups));
    assert.throws(() => partitions.partition(groups), message);
  }
  assert.deepEqual(partitions.groups(), [[0], [1, 2]]);
});
