/**
 * The range and round-robin assignors on the examples Kafka's RangeAssignor and
 * RoundRobinAssignor documentation gives, plus members that subscribe to different topics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rangeAssignor, roundRobinAssignor } from '../../src/client/assignors.js';

const twoTopics = new Map([
  ['t0', 3],
  ['t1', 3],
]);

test('range: per topic, consecutive ranges; the first members take the remainder', () => {
  const members = [
    { memberId: 'c1', topics: ['t0', 't1'] },
    { memberId: 'c0', topics: ['t0', 't1'] },
  ];
  const plan = rangeAssignor.assign(members, twoTopics);
  assert.deepEqual(plan.get('c0'), [
    { topic: 't0', partitions: [0, 1] },
    { topic: 't1', partitions: [0, 1] },
  ]);
  assert.deepEqual(plan.get('c1'), [
    { topic: 't0', partitions: [2] },
    { topic: 't1', partitions: [2] },
  ]);
});

test('round robin: all partitions dealt in turn over the members sorted by id', () => {
  const members = [
    { memberId: 'c1', topics: ['t0', 't1'] },
    { memberId: 'c0', topics: ['t0', 't1'] },
  ];
  const plan = roundRobinAssignor.assign(members, twoTopics);
  assert.deepEqual(plan.get('c0'), [
    { topic: 't0', partitions: [0, 2] },
    { topic: 't1', partitions: [1] },
  ]);
  assert.deepEqual(plan.get('c1'), [
    { topic: 't0', partitions: [1] },
    { topic: 't1', partitions: [0, 2] },
  ]);
});

test('both skip members that do not subscribe to a topic; members with nothing get an empty share', () => {
  const members = [
    { memberId: 'a', topics: ['t0'] },
    { memberId: 'b', topics: ['t0', 't1'] },
    { memberId: 'c', topics: ['unknown'] },
  ];
  const counts = new Map([
    ['t1', 2],
    ['t0', 1],
  ]);
  const range = rangeAssignor.assign(members, counts);
  assert.deepEqual(range.get('a'), [{ topic: 't0', partitions: [0] }]);
  assert.deepEqual(range.get('b'), [{ topic: 't1', partitions: [0, 1] }]);
  assert.deepEqual(range.get('c'), []);
  const roundRobin = roundRobinAssignor.assign(members, counts);
  assert.deepEqual(roundRobin.get('a'), [{ topic: 't0', partitions: [0] }]);
  assert.deepEqual(roundRobin.get('b'), [{ topic: 't1', partitions: [0, 1] }]);
  assert.deepEqual(roundRobin.get('c'), []);
});

test('every partition goes to exactly one member, for many shapes', () => {
  for (const assignor of [rangeAssignor, roundRobinAssignor]) {
    for (let memberCount = 1; memberCount <= 5; memberCount++) {
      for (let partitionCount = 0; partitionCount <= 7; partitionCount++) {
        const members = Array.from({ length: memberCount }, (_, index) => ({ memberId: `m${index}`, topics: ['t'] }));
        const plan = assignor.assign(members, new Map([['t', partitionCount]]));
        const owned = [...plan.values()].flatMap((share) => share.flatMap((entry) => entry.partitions)).sort((a, b) => a - b);
        assert.deepEqual(owned, Array.from({ length: partitionCount }, (_, index) => index), `${assignor.name} ${memberCount}x${partitionCount}`);
        const sizes = [...plan.values()].map((share) => share.reduce((sum, entry) => sum + entry.partitions.length, 0));
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${assignor.name} balanced ${memberCount}x${partitionCount}`);
      }
    }
  }
});
