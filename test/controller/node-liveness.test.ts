import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeLiveness } from '../../src/controller/node-liveness.js';

test('a node silent longer than the session timeout is fenced, and unfenced at its next heartbeat', () => {
  const liveness = new NodeLiveness(1000, [0, 1], 0);
  assert.deepEqual(liveness.changes(1000, new Set()), [], 'a full session from start-up');
  liveness.heartbeat(0, 900);
  assert.deepEqual(liveness.changes(1500, new Set()), [{ nodeId: 1, fenced: true }]);
  assert.deepEqual(liveness.changes(1500, new Set([1])), [], 'already fenced: nothing to record');
  liveness.heartbeat(1, 1600);
  assert.deepEqual(liveness.changes(1700, new Set([1])), [{ nodeId: 1, fenced: false }]);
  assert.deepEqual(liveness.changes(2000, new Set()), [{ nodeId: 0, fenced: true }]);
});

test('a node known to be gone is fenced at the next check, whatever its last heartbeat', () => {
  const liveness = new NodeLiveness(1000, [0, 1], 0);
  liveness.heartbeat(1, 10);
  liveness.markGone(1);
  assert.deepEqual(liveness.changes(20, new Set()), [{ nodeId: 1, fenced: true }]);
});
