import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvariantError } from '../../src/runtime/assert.js';
import { WireReader, WireWriter } from '../../src/workers/wire.js';

test('wire strings round-trip; one too long for its u16 length or for the buffer is an invariant error, not a silent cut', () => {
  const buffer = Buffer.alloc(100_000);
  const writer = new WireWriter(buffer, 0).string('topic-ü').string('');
  const reader = new WireReader(buffer, 0);
  assert.equal(reader.string(), 'topic-ü');
  assert.equal(reader.string(), '');
  assert.equal(writer.position, 2 + Buffer.byteLength('topic-ü') + 2);
  assert.throws(() => new WireWriter(Buffer.alloc(100_000), 0).string('x'.repeat(70_000)), InvariantError);
  assert.throws(() => new WireWriter(Buffer.alloc(10), 0).string('0123456789abc'), InvariantError);
  new WireWriter(Buffer.alloc(10), 0).string('01234567'); // exactly fills the buffer
});
