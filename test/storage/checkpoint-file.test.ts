import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointFormatError, OffsetCheckpointFile, parsePartitionName, partitionName, writeFileAtomically } from '../../src/storage/checkpoint-file.js';
import { temporaryDirectory } from '../helpers/temp-dir.js';

test('offset checkpoints round-trip in Kafka text layout', () => {
  const path = join(temporaryDirectory(), 'recovery-point-offset-checkpoint');
  const file = new OffsetCheckpointFile(path);
  assert.equal(file.read().size, 0, 'missing file reads as empty');
  const offsets = new Map([
    [partitionName('orders', 0), 12],
    [partitionName('my-topic.v2', 11), 9_007_199_254_740],
  ]);
  file.write(offsets);
  assert.equal(readFileSync(path, 'utf8'), '0\n2\norders 0 12\nmy-topic.v2 11 9007199254740\n');
  assert.deepEqual(file.read(), offsets);
  assert.ok(!existsSync(`${path}.tmp`), 'temporary file renamed away');
});

test('malformed checkpoints are reported clearly', () => {
  const path = join(temporaryDirectory(), 'cp');
  for (const contents of ['1\n0\n', '0\n2\na 0 1\n', '0\n1\na zero 1\n']) {
    writeFileSync(path, contents);
    assert.throws(() => new OffsetCheckpointFile(path).read(), CheckpointFormatError);
  }
});

test('atomic writes replace the whole file', () => {
  const path = join(temporaryDirectory(), 'state');
  writeFileAtomically(path, 'first version, longer');
  writeFileAtomically(path, 'second');
  assert.equal(readFileSync(path, 'utf8'), 'second');
});

test('partition names split on the last dash', () => {
  assert.deepEqual(parsePartitionName('a-b-c-12'), { topic: 'a-b-c', partition: 12 });
  assert.throws(() => parsePartitionName('nodash'));
  assert.throws(() => parsePartitionName('topic-x'));
});
