import { test } from 'node:test';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import assert from 'node:assert/strict';
import { readdirSync, statSync, truncateSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JournalEntryKind, NodeJournal } from '../../src/storage/node-journal.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';
import { clientBatch } from './log-fixtures.js';

function entries(journal: NodeJournal): Array<{ topic: string; partition: number; hex: string }> {
  return [...journal.replay()].map((entry) => ({
    topic: entry.topic,
    partition: entry.partition,
    hex: entry.kind === JournalEntryKind.RECORDS ? entry.records.toString('hex') : `truncated to ${entry.logEndOffset}`,
  }));
}

test('entries appended and flushed come back in order after reopening', async () => {
  const directory = temporaryDirectory();
  const journal = NodeJournal.open(directory, 1 << 20);
  assert.deepEqual(entries(journal), []);
  const batches = [clientBatch(2), clientBatch(3, 10), clientBatch(1, 500)];
  journal.append('orders', 0, batches[0]!);
  journal.append('dépôts', 7, batches[1]!);
  journal.append('orders', 1, Buffer.concat([Buffer.alloc(5), batches[2]!]), 5);
  await journal.flush();
  await journal.close();
  const reopened = NodeJournal.open(directory, 1 << 20);
  assert.deepEqual(entries(reopened), [
    { topic: 'orders', partition: 0, hex: batches[0]!.toString('hex') },
    { topic: 'dépôts', partition: 7, hex: batches[1]!.toString('hex') },
    { topic: 'orders', partition: 1, hex: batches[2]!.toString('hex') },
  ]);
  await reopened.close();
});

test('a torn or corrupt tail ends the replay there and is cut off', async () => {
  const directory = temporaryDirectory();
  const journal = NodeJournal.open(directory, 1 << 20);
  for (let index = 0; index < 5; index++) journal.append('t', index, clientBatch(2, 40, 1_000 + index));
  await journal.flush();
  await journal.close();
  const file = join(directory, readdirSync(directory).find((name) => name.endsWith('.journal'))!);
  const size = statSync(file).size;
  truncateSync(file, size - 7);
  const torn = NodeJournal.open(directory, 1 << 20);
  assert.deepEqual(entries(torn).map((entry) => entry.partition), [0, 1, 2, 3]);
  torn.append('t', 9, clientBatch(1));
  await torn.flush();
  await torn.close();
  const bytes = readFileSync(file);
  bytes[40]! ^= 0xff; // inside the first entry's records
  writeFileSync(file, bytes);
  const corrupt = NodeJournal.open(directory, 1 << 20);
  assert.deepEqual(entries(corrupt), [], 'a CRC mismatch stops the replay at that entry');
  await corrupt.close();
});

test('files roll at the size limit; a checkpoint deletes the files before it and replay starts at it', async () => {
  const directory = temporaryDirectory();
  const journal = NodeJournal.open(directory, 4096);
  const batch = clientBatch(5, 100);
  for (let index = 0; index < 20; index++) journal.append('t', index, batch);
  await journal.flush();
  const files = readdirSync(directory).filter((name) => name.endsWith('.journal'));
  assert.ok(files.length >= 4, `${files.length} files`);
  for (let index = 20; index < 23; index++) journal.append('t', index, batch);
  const middle = journal.position;
  for (let index = 23; index < 25; index++) journal.append('t', index, batch);
  await journal.flush();
  journal.checkpoint(middle);
  assert.ok(readdirSync(directory).filter((name) => name.endsWith('.journal')).length < files.length);
  await journal.close();
  const reopened = NodeJournal.open(directory, 4096);
  assert.deepEqual(entries(reopened).map((entry) => entry.partition), [23, 24]);
  await reopened.close();
});

test('appends in one turn share one flush', async () => {
  const journal = NodeJournal.open(temporaryDirectory(), 1 << 20);
  journal.append('a', 0, clientBatch(1));
  const first = journal.flush();
  for (let index = 0; index < 100; index++) journal.append('a', index, clientBatch(1));
  const rest = Array.from({ length: 100 }, () => journal.flush());
  assert.ok(rest.every((promise) => promise === rest[0]), 'later callers share the next round');
  await Promise.all([first, ...rest]);
  await journal.close();
});

test('appends are gathered and written at the flush; a large entry keeps its place among small ones', async () => {
  const directory = temporaryDirectory();
  const journal = NodeJournal.open(directory, 64 << 20);
  const file = () => join(directory, readdirSync(directory).find((name) => name.endsWith('.journal'))!);
  journal.append('t', 0, clientBatch(2));
  journal.append('t', 1, clientBatch(2));
  assert.equal(statSync(file()).size, 0, 'nothing written before the flush');
  const big = clientBatch(3, 600 * 1024); // larger than the gathering buffer: written straight out
  journal.append('t', 2, big);
  journal.append('t', 3, clientBatch(1));
  await journal.flush();
  assert.equal(statSync(file()).size, journal.position.offset, 'the flush wrote everything appended');
  journal.append('t', 4, clientBatch(1)); // never flushed: close still writes it
  await journal.close();
  const reopened = NodeJournal.open(directory, 64 << 20);
  const replayed = entries(reopened);
  assert.deepEqual(replayed.map((entry) => entry.partition), [0, 1, 2, 3, 4]);
  assert.equal(replayed[2]!.hex, big.toString('hex'));
  await reopened.close();
});

test('a checkpoint past the end of its file (unsynced bytes lost) pads the file, so later appends replay', async () => {
  const directory = temporaryDirectory();
  const journal = NodeJournal.open(directory, 1 << 20);
  for (let index = 0; index < 4; index++) journal.append('t', index, clientBatch(2));
  await journal.flush();
  const position = journal.position;
  journal.checkpoint(position);
  await journal.close();
  // A power loss took the journal's tail although the checkpoint (naming its end) survived.
  const file = join(directory, readdirSync(directory).find((name) => name.endsWith('.journal'))!);
  truncateSync(file, position.offset - 30);
  const reopened = NodeJournal.open(directory, 1 << 20);
  assert.deepEqual(entries(reopened), [], 'nothing after the checkpoint');
  reopened.append('t', 9, clientBatch(1));
  await reopened.flush();
  await reopened.close();
  const again = NodeJournal.open(directory, 1 << 20);
  assert.deepEqual(entries(again).map((entry) => entry.partition), [9], 'the append after the checkpoint is replayed');
  await again.close();
});

test('a failed fdatasync takes the journal offline: KAFKA_STORAGE_ERROR for the flush and every later append', async () => {
  const original = fs.fdatasync;
  fs.fdatasync = ((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
    void fd;
    process.nextTick(() => callback(Object.assign(new Error('EIO: injected'), { code: 'EIO' })));
  }) as typeof fs.fdatasync;
  syncBuiltinESMExports();
  const journal = NodeJournal.open(temporaryDirectory(), 1 << 20);
  try {
    journal.append('t', 0, clientBatch(1));
    const isStorageError = (error: unknown) => error instanceof KafkaError && error.code === ErrorCode.KAFKA_STORAGE_ERROR;
    await assert.rejects(journal.flush(), isStorageError);
    assert.equal(journal.isOffline, true);
    assert.throws(() => journal.append('t', 0, clientBatch(1)), isStorageError);
    assert.throws(() => journal.flushNow(), isStorageError);
  } finally {
    fs.fdatasync = original;
    syncBuiltinESMExports();
    await journal.close();
  }
});

test('truncation entries replay in their place among the appends, with their partition and offset', async () => {
  const directory = temporaryDirectory();
  const journal = NodeJournal.open(directory, 1 << 20);
  const batch = clientBatch(2);
  journal.append('orders', 0, batch);
  journal.appendTruncation('orders', 0, 1);
  journal.append('orders', 0, batch);
  journal.appendTruncation('payments', 2_000_000, 2 ** 40);
  assert.throws(() => journal.append('orders', -1, batch), RangeError);
  assert.throws(() => journal.appendTruncation('orders', 0, -5), RangeError);
  await journal.flush();
  await journal.close();
  const reopened = NodeJournal.open(directory, 1 << 20);
  assert.deepEqual(entries(reopened), [
    { topic: 'orders', partition: 0, hex: batch.toString('hex') },
    { topic: 'orders', partition: 0, hex: 'truncated to 1' },
    { topic: 'orders', partition: 0, hex: batch.toString('hex') },
    { topic: 'payments', partition: 2_000_000, hex: `truncated to ${2 ** 40}` },
  ]);
  await reopened.close();
});
