import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetadataImage } from '../../src/metadata/image.js';
import { MetadataQuorumObserver } from '../../src/metadata/quorum-observer.js';
import type { RaftRole } from '../../src/raft/types.js';

function status(observer: MetadataQuorumObserver, nodeId: number, term: number, role: RaftRole, leaderId: number): void {
  observer.status({ type: 'quorumStatus', nodeId, term, role, leaderId, commitIndex: 0, appliedIndex: 0, abstaining: false });
}

test('the controller is the leader of the highest term, and only ever a voter', () => {
  const observer = new MetadataQuorumObserver(new MetadataImage());
  status(observer, 0, 1, 'leader', 0);
  status(observer, 3, 1, 'observer', 0);
  assert.equal(observer.leaderId, 0);
  observer.setVoters([0, 1, 2]);
  // A report no voter made (a misconfigured node) never names an observer controller.
  status(observer, 4, 7, 'leader', 4);
  assert.equal(observer.leaderId, 0);
  status(observer, 1, 2, 'leader', 1);
  assert.equal(observer.leaderId, 1);
  observer.forget(1);
  observer.forget(0);
  assert.equal(observer.leaderId, -1);
});
