import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileRaftStorage, RaftStorageError } from '../../src/storage/raft-storage.js';
import type { RaftEntry, Ready } from '../../src/raft/types.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';

const entry = (index: number, term: number, text = `e${index}`): RaftEntry => ({ index, term, data: new TextEncoder().encode(text) });
const text = (entries: readonly RaftEntry[]) => entries.map((stored) => `${stored.index}/${stored.term}:${new TextDecoder().decode(stored.data)}`);

function ready(fields: Partial<Ready>): Ready {
  return { hardState: null, snapshot: null, entries: [], mustSync: true, messages: [], committedEntries: [], ...fields };
}

function persist(storage: FileRaftStorage, fields: Partial<Ready>): Promise<void> {
  return new Promise((resolve, reject) => storage.persist(ready(fields), (error) => (error === null ? resolve() : reject(error))));
}

test('entries, term and vote survive a reopen; a conflicting write replaces the suffix', async () => {
  const directory = temporaryDirectory();
  const storage = new FileRaftStorage(directory);
  await persist(storage, { entries: [entry(1, 1), entry(2, 1), entry(3, 1)], hardState: { term: 1, votedFor: 2, commitIndex: 1 } });
  await persist(storage, { entries: [entry(3, 2, 'replaced'), entry(4, 2)], hardState: { term: 2, votedFor: 0, commitIndex: 2 } });
  storage.close();
  const reopened = new FileRaftStorage(directory).load();
  assert.deepEqual(text(reopened.entries), ['1/1:e1', '2/1:e2', '3/2:replaced', '4/2:e4']);
  assert.deepEqual({ term: reopened.hardState.term, votedFor: reopened.hardState.votedFor }, { term: 2, votedFor: 0 });
});

test('a storage id is made once per directory: kept across reopens, new for a recreated dir', () => {
  const directory = temporaryDirectory();
  const first = new FileRaftStorage(directory);
  first.close();
  const again = new FileRaftStorage(directory);
  again.close();
  assert.equal(again.storageId, first.storageId);
  const other = new FileRaftStorage(temporaryDirectory());
  other.close();
  assert.notEqual(other.storageId, first.storageId);
});

test('a torn tail is cut off at the last whole entry', async () => {
  const directory = temporaryDirectory();
  const storage = new FileRaftStorage(directory);
  await persist(storage, { entries: [entry(1, 1), entry(2, 1)] });
  storage.close();
  const log = join(directory, 'raft.log');
  const whole = statSync(log).size;
  appendFileSync(log, Buffer.from([0, 0, 0, 40, 1, 2, 3])); // half a frame
  assert.deepEqual(text(new FileRaftStorage(directory).load().entries), ['1/1:e1', '2/1:e2']);
  assert.equal(statSync(log).size, whole);
  // A bad CRC in the last entry counts as torn too.
  truncateSync(log, whole - 1);
  assert.deepEqual(text(new FileRaftStorage(directory).load().entries), ['1/1:e1']);
});

test('a snapshot compacts the log; a snapshot from the leader replaces it', async () => {
  const directory = temporaryDirectory();
  const storage = new FileRaftStorage(directory);
  await persist(storage, { entries: [1, 2, 3, 4, 5].map((index) => entry(index, 1)) });
  await new Promise<void>((resolve, reject) => storage.saveSnapshot({ index: 3, term: 1, data: new Uint8Array([7]) }, (error) => (error ? reject(error) : resolve())));
  await persist(storage, { entries: [entry(6, 2)] });
  storage.close();
  let loaded = new FileRaftStorage(directory).load();
  assert.deepEqual({ index: loaded.snapshot!.index, data: [...loaded.snapshot!.data] }, { index: 3, data: [7] });
  assert.deepEqual(text(loaded.entries), ['4/1:e4', '5/1:e5', '6/2:e6']);
  const follower = new FileRaftStorage(directory);
  await persist(follower, { snapshot: { index: 10, term: 3, data: new Uint8Array([9]) } });
  await persist(follower, { entries: [entry(11, 3)] });
  follower.close();
  loaded = new FileRaftStorage(directory).load();
  assert.equal(loaded.snapshot!.index, 10);
  assert.deepEqual(text(loaded.entries), ['11/3:e11']);
  assert.equal(readdirSync(directory).filter((name) => name.endsWith('.snapshot')).length, 1);
});

test('a write that would leave a gap is refused; a damaged snapshot or quorum-state is a clear error', async () => {
  const directory = temporaryDirectory();
  const storage = new FileRaftStorage(directory);
  await assert.rejects(persist(storage, { entries: [entry(3, 1)] }), RaftStorageError);
  await new Promise<void>((resolve) => storage.saveSnapshot({ index: 0, term: 0, data: new Uint8Array([1, 2]) }, () => resolve()));
  storage.close();
  const snapshot = readdirSync(directory).find((name) => name.endsWith('.snapshot'))!;
  writeFileSync(join(directory, snapshot), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]));
  assert.throws(() => new FileRaftStorage(directory), /fails its CRC check/);
  const other = temporaryDirectory();
  writeFileSync(join(other, 'quorum-state'), '{"term":');
  assert.throws(() => new FileRaftStorage(other), /quorum-state is unreadable/);
});
