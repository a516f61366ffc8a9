import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, FrameSizeError } from '../../src/client/frame-reader.js';
import { SeededRandom } from '../helpers/random.js';

const maxFrameSizeBytes = 1024;

function frameOf(body: Buffer): Buffer {
  const frame = Buffer.alloc(4 + body.length);
  frame.writeInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** Three frames, one of them empty, as one byte stream. */
function sampleStream(): { stream: Buffer; bodies: Buffer[] } {
  const random = new SeededRandom(7);
  const bodies = [17, 0, 23].map((length) => Buffer.from(Array.from({ length }, () => random.int(0, 255))));
  return { stream: Buffer.concat(bodies.map(frameOf)), bodies };
}

function readAll(reader: FrameReader): Buffer[] {
  const frames: Buffer[] = [];
  for (let frame = reader.nextFrame(); frame !== undefined; frame = reader.nextFrame()) frames.push(Buffer.from(frame));
  return frames;
}

function feed(chunks: readonly Buffer[]): Buffer[] {
  const reader = new FrameReader(maxFrameSizeBytes);
  const frames: Buffer[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    frames.push(...readAll(reader));
  }
  assert.equal(reader.bufferedSizeBytes, 0);
  return frames;
}

test('frames come out whole with one chunk boundary at every position', () => {
  const { stream, bodies } = sampleStream();
  for (let split = 0; split <= stream.length; split++) {
    const frames = feed([stream.subarray(0, split), stream.subarray(split)]);
    assert.deepStrictEqual(frames, bodies, `split at ${split}`);
  }
});

test('frames come out whole with two chunk boundaries at every pair of positions', () => {
  const { stream, bodies } = sampleStream();
  for (let first = 0; first <= stream.length; first++) {
    for (let second = first; second <= stream.length; second++) {
      const chunks = [stream.subarray(0, first), stream.subarray(first, second), stream.subarray(second)];
      assert.deepStrictEqual(feed(chunks), bodies, `splits at ${first} and ${second}`);
    }
  }
});

test('a stream fed one byte at a time yields the same frames', () => {
  const { stream, bodies } = sampleStream();
  const chunks: Buffer[] = [];
  for (let index = 0; index < stream.length; index++) chunks.push(stream.subarray(index, index + 1));
  assert.deepStrictEqual(feed(chunks), bodies);
});

test('a frame inside one chunk is a view of that chunk, a spanning frame is a copy', () => {
  const { stream, bodies } = sampleStream();
  const reader = new FrameReader(maxFrameSizeBytes);
  const chunk = Buffer.from(stream);
  reader.push(chunk.subarray(0, 30));
  const inside = reader.nextFrame()!;
  reader.push(chunk.subarray(30));
  assert.equal(reader.nextFrame()!.length, 0);
  const spanning = reader.nextFrame()!;
  chunk.fill(0);
  assert.ok(inside.every((byte) => byte === 0), 'the first frame shares the chunk bytes (no copy)');
  assert.deepStrictEqual(spanning, bodies[2], 'the spanning frame was copied before the chunk changed');
});

test('many small chunks do not grow the queue without bound', () => {
  const body = Buffer.alloc(100, 9);
  const frame = frameOf(body);
  const reader = new FrameReader(maxFrameSizeBytes);
  let frames = 0;
  for (let round = 0; round < 50; round++) {
    for (let index = 0; index < frame.length; index++) reader.push(frame.subarray(index, index + 1));
    frames += readAll(reader).length;
  }
  assert.equal(frames, 50);
  assert.equal(reader.bufferedSizeBytes, 0);
});

test('a negative or oversized size prefix is a FrameSizeError', () => {
  const negative = new FrameReader(maxFrameSizeBytes);
  negative.push(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
  assert.throws(() => negative.nextFrame(), FrameSizeError);
  const oversized = new FrameReader(maxFrameSizeBytes);
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(maxFrameSizeBytes + 1, 0);
  oversized.push(prefix.subarray(0, 2));
  assert.equal(oversized.nextFrame(), undefined, 'two bytes are not yet a size');
  oversized.push(prefix.subarray(2));
  assert.throws(() => oversized.nextFrame(), /outside \[0, 1024\]/);
});
