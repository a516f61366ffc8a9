/** The quorum writer's proposal protocol against a scripted quorum (no workers). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetadataImage } from '../../src/metadata/image.js';
import { decodeQuorumEntry, encodeQuorumEntry } from '../../src/metadata/quorum-entry.js';
import { MetadataQuorumObserver } from '../../src/metadata/quorum-observer.js';
import { MetadataCommitError, QuorumMetadataWriter } from '../../src/metadata/quorum-writer.js';
import type { MetadataRecord } from '../../src/metadata/records.js';
import { ErrorCode } from '../../src/protocol/errors.js';

const topic = (name: string): MetadataRecord => ({ type: 'topic', name, topicId: `id-${name}`, configs: {} });

function leaderStatus(observer: MetadataQuorumObserver, nodeId: number, term: number): void {
  observer.status({ type: 'quorumStatus', nodeId, term, role: 'leader', leaderId: nodeId, commitIndex: 0, appliedIndex: 0, abstaining: false });
}

function setup(commitTimeoutMs = 2000) {
  const image = new MetadataImage();
  const observer = new MetadataQuorumObserver(image);
  const proposals: Array<{ nodeId: number; operationId: string; data: Uint8Array }> = [];
  const committed: MetadataRecord[][] = [];
  let waiter: (() => void) | null = null;
  const writer = new QuorumMetadataWriter(observer, {
    commitTimeoutMs,
    propose: (nodeId, operationId, data) => {
      proposals.push({ nodeId, operationId, data });
      waiter?.();
    },
  });
  // What the nodes would be told: the records of every entry the front applies, in order.
  const applyEntry = observer.entryApplied.bind(observer);
  observer.entryApplied = (index, term, data) => {
    const before = observer.appliedIndex;
    applyEntry(index, term, data);
    const records = observer.appliedIndex > before ? decodeQuorumEntry(data).records : [];
    if (records.length > 0) committed.push([...records]);
  };
  const nextProposal = async (count: number) => {
    while (proposals.length < count) await new Promise<void>((resolve) => (waiter = resolve));
    return proposals[count - 1]!;
  };
  return { image, observer, writer, proposals, committed, nextProposal };
}

test('a proposal accepted by the leader is answered once the front applied its entry', async () => {
  const { observer, writer, committed, nextProposal, image } = setup();
  leaderStatus(observer, 1, 3);
  const done = writer.commit({ records: [topic('a')], removedTopics: [] });
  const proposal = await nextProposal(1);
  assert.equal(proposal.nodeId, 1);
  observer.proposalAccepted(proposal.operationId, 1);
  observer.entryApplied(1, 3, proposal.data);
  await done;
  assert.deepEqual(committed, [[topic('a')]]);
  assert.ok(image.topic('a') !== undefined);
});

test('refused by a node that no longer leads: proposed again to the new leader, committed once', async () => {
  const { observer, writer, committed, nextProposal } = setup();
  leaderStatus(observer, 0, 1);
  const done = writer.commit({ records: [topic('b')], removedTopics: [] });
  const first = await nextProposal(1);
  observer.status({ type: 'quorumStatus', nodeId: 0, term: 2, role: 'follower', leaderId: 2, commitIndex: 0, appliedIndex: 0, abstaining: false });
  leaderStatus(observer, 2, 2);
  observer.proposalRejected(first.operationId);
  const second = await nextProposal(2);
  assert.equal(second.nodeId, 2);
  assert.equal(second.operationId, first.operationId, 'the same operation, not a new one');
  observer.proposalAccepted(second.operationId, 1);
  observer.entryApplied(1, 2, second.data);
  await done;
  assert.equal(committed.length, 1);
});

test('lost with its leader: another entry applied at its index makes it go again; an accepted one is never sent twice', async () => {
  const { observer, writer, committed, nextProposal, proposals } = setup();
  leaderStatus(observer, 0, 1);
  const done = writer.commit({ records: [topic('c')], removedTopics: [] });
  const first = await nextProposal(1);
  observer.proposalAccepted(first.operationId, 2);
  // The leader dies; its entry 2 is not applied yet: nothing is sent again.
  observer.entryApplied(1, 1, new Uint8Array(0));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(proposals.length, 1);
  // A new leader's no-op lands at index 2: the first proposal is certainly lost.
  observer.forget(0);
  leaderStatus(observer, 1, 2);
  observer.entryApplied(2, 2, new Uint8Array(0));
  const second = await nextProposal(2);
  assert.equal(decodeQuorumEntry(second.data).operationId, first.operationId);
  observer.proposalAccepted(second.operationId, 3);
  observer.entryApplied(3, 2, second.data);
  await done;
  assert.equal(committed.length, 1);
});

test('without a controller the change fails with NOT_CONTROLLER (retriable) after the commit timeout, not a hang', async () => {
  const { writer } = setup(50);
  await assert.rejects(writer.commit({ records: [topic('d')], removedTopics: [] }), (error: unknown) => {
    assert.ok(error instanceof MetadataCommitError);
    assert.equal(error.errorCode, ErrorCode.NOT_CONTROLLER);
    return true;
  });
});

test('the observer applies each index once, whichever node reports it first, and ignores gaps', () => {
  const image = new MetadataImage();
  const observer = new MetadataQuorumObserver(image);
  const one = encodeQuorumEntry({ operationId: null, records: [topic('x')] });
  const two = encodeQuorumEntry({ operationId: null, records: [topic('y')] });
  observer.entryApplied(2, 1, two); // ahead of itself: ignored (another node reports it in order)
  observer.entryApplied(1, 1, one);
  observer.entryApplied(1, 1, one); // a second node's copy
  observer.entryApplied(2, 1, two);
  assert.equal(observer.appliedIndex, 2);
  assert.deepEqual([...image.topics.keys()], ['x', 'y']);
});

test('a change that commits after its proposer gave up still reaches the nodes, and the timeout says it may have', async () => {
  const { observer, writer, committed, nextProposal } = setup(50);
  leaderStatus(observer, 0, 1);
  const done = writer.commit({ records: [topic('late')], removedTopics: [] });
  const proposal = await nextProposal(1);
  observer.proposalAccepted(proposal.operationId, 1);
  await assert.rejects(done, (error: unknown) => error instanceof MetadataCommitError && error.errorCode === ErrorCode.REQUEST_TIMED_OUT);
  observer.entryApplied(1, 1, proposal.data);
  assert.deepEqual(committed, [[topic('late')]]);
});

test('a new partition is answered once its live leader node has acted on the entry; a killed node holds nothing up', async () => {
  const { observer, writer, nextProposal } = setup();
  leaderStatus(observer, 0, 1);
  observer.status({ type: 'quorumStatus', nodeId: 1, term: 1, role: 'follower', leaderId: 0, commitIndex: 0, appliedIndex: 0, abstaining: false });
  observer.status({ type: 'quorumStatus', nodeId: 2, term: 1, role: 'follower', leaderId: 0, commitIndex: 0, appliedIndex: 0, abstaining: false });
  const partition = (name: string, leader: number): MetadataRecord => ({ type: 'partition', topic: name, partition: 0, replicas: [leader], isr: [leader], leader, leaderEpoch: 0, partitionEpoch: 0 });
  let answered = false;
  const done = writer.commit({ records: [topic('p'), partition('p', 1)], removedTopics: [] }).then(() => (answered = true));
  const proposal = await nextProposal(1);
  observer.proposalAccepted(proposal.operationId, 1);
  observer.entryApplied(1, 1, proposal.data);
  observer.nodePublished(0, 1);
  observer.nodePublished(2, 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(answered, false, 'node 1 leads the new partition and has not acted on it yet');
  observer.nodePublished(1, 1);
  await done;
  // Node 2 leads the next one but is killed (forgotten): the answer does not wait for it.
  observer.forget(2);
  const second = writer.commit({ records: [topic('q'), partition('q', 2)], removedTopics: [] });
  const next = await nextProposal(2);
  observer.proposalAccepted(next.operationId, 2);
  observer.entryApplied(2, 1, next.data);
  await second;
});

test('an operation whose entry no longer fits when it commits fails with a retriable error, and nothing of it is applied', async () => {
  const { observer, writer, nextProposal, image } = setup();
  leaderStatus(observer, 0, 1);
  const first = writer.commit({ records: [topic('dup')], removedTopics: [] });
  const second = writer.commit({ records: [topic('dup'), { type: 'topicConfig', name: 'dup', configs: { 'retention.ms': '1' } }], removedTopics: [] });
  const one = await nextProposal(1);
  const two = await nextProposal(2);
  observer.proposalAccepted(one.operationId, 1);
  observer.proposalAccepted(two.operationId, 2);
  observer.entryApplied(1, 1, one.data);
  observer.entryApplied(2, 1, two.data);
  await first;
  await assert.rejects(second, (error: unknown) => error instanceof MetadataCommitError && error.errorCode === ErrorCode.REQUEST_TIMED_OUT && /topic dup already exists/.test(error.message));
  assert.deepEqual(image.topic('dup')!.configs, {});
  assert.equal(observer.appliedIndex, 2);
});
