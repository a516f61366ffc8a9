import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLinkMatrix, LinkMatrix } from '../../src/runtime/link-matrix.js';

test('setGroups cuts every link between groups, both ways; heal restores them', () => {
  const shared = createLinkMatrix(4);
  const front = new LinkMatrix(shared);
  const node = new LinkMatrix(shared); // another thread's view of the same cells
  assert.deepEqual(node.blockedLinks(), []);
  front.setGroups([[0, 1], [2, 3]]);
  assert.equal(node.isBlocked(0, 1), false);
  assert.equal(node.isBlocked(3, 2), false);
  assert.equal(node.isBlocked(1, 2), true);
  assert.equal(node.isBlocked(2, 1), true);
  assert.deepEqual(node.blockedLinks(), [[0, 2], [0, 3], [1, 2], [1, 3], [2, 0], [2, 1], [3, 0], [3, 1]]);
  front.heal();
  assert.deepEqual(node.blockedLinks(), []);
});

test('a node in no group reaches nobody; a node in two groups or outside the matrix is refused', () => {
  const matrix = new LinkMatrix(createLinkMatrix(3));
  matrix.setGroups([[0, 1]]);
  assert.deepEqual(matrix.blockedLinks(), [[0, 2], [1, 2], [2, 0], [2, 1]]);
  assert.equal(matrix.isBlocked(2, 2), false, 'a node always reaches itself');
  assert.throws(() => matrix.setGroups([[0, 1], [1, 2]]), /more than one partition group/);
  assert.throws(() => matrix.setGroups([[0, 3]]), /outside the link matrix/);
  matrix.setBlocked(1, 0, true);
  assert.equal(matrix.isBlocked(1, 0), true);
  assert.equal(matrix.isBlocked(0, 1), false, 'a cut is one-way');
});

/** Calls `check` after every Atomics.store into `cells`' buffer while `update` runs. */
function afterEveryStore(shared: SharedArrayBuffer, update: () => void, check: () => void): number {
  const original = Atomics.store;
  let stores = 0;
  Atomics.store = ((array: Int32Array, index: number, value: number) => {
    const result = original(array, index, value);
    if (array.buffer === shared) {
      stores++;
      check();
    }
    return result;
  }) as typeof Atomics.store;
  try {
    update();
  } finally {
    Atomics.store = original;
  }
  return stores;
}

test('while the partition changes, a link inside a group of both the old and the new one never reads as blocked', () => {
  const shared = createLinkMatrix(5);
  const front = new LinkMatrix(shared);
  const node = new LinkMatrix(shared);
  const before = [[0, 1, 2], [3, 4]];
  const after = [[0, 1, 2, 3], [4]];
  front.setGroups(before);
  // Links blocked in both partitions must stay blocked too (no moment of a healed network).
  const alwaysOpen: Array<[number, number]> = [];
  const alwaysBlocked: Array<[number, number]> = [];
  for (let from = 0; from < 5; from++) {
    for (let to = 0; to < 5; to++) {
      const together = (groups: number[][]) => groups.some((group) => group.includes(from) && group.includes(to));
      if (together(before) && together(after)) alwaysOpen.push([from, to]);
      if (!together(before) && !together(after)) alwaysBlocked.push([from, to]);
    }
  }
  const check = (): void => {
    for (const [from, to] of alwaysOpen) assert.equal(node.isBlocked(from, to), false, `${from} -> ${to} read as blocked mid-update`);
    for (const [from, to] of alwaysBlocked) assert.equal(node.isBlocked(from, to), true, `${from} -> ${to} read as open mid-update`);
  };
  const stores = afterEveryStore(shared, () => front.setGroups(after), check);
  assert.equal(stores, 8, 'only the links that change are stored: 3 <-> 0, 1, 2 open, 3 <-> 4 cut');
  const back = afterEveryStore(shared, () => front.setGroups(before), check);
  assert.equal(back, 8);
  assert.deepEqual(node.blockedLinks(), new LinkMatrix(shared).blockedLinks());
});
