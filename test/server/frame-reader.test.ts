import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameError, FrameReader } from '../../src/server/frame-reader.js';

function framed(bodies: Buffer[]): Buffer {
  return Buffer.concat(bodies.flatMap((body) => {
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    return [size, body];
  }));
}

test('frames come out whole whatever the chunk boundaries', () => {
  const bodies = [Buffer.from('first frame'), Buffer.alloc(0), Buffer.from('x'.repeat(300)), Buffer.from('last')];
  const stream = framed(bodies);
  for (let split = 1; split < stream.length; split++) {
    for (const step of [split, 1, 7]) {
      const reader = new FrameReader(1 << 20);
      const out: string[] = [];
      for (let position = 0; position < stream.length; position += step) {
        reader.push(stream.subarray(position, Math.min(stream.length, position + step)));
        for (let frame = reader.next(); frame !== null; frame = reader.next()) out.push(frame.toString());
      }
      assert.deepEqual(out, bodies.map((body) => body.toString()), `split ${split} step ${step}`);
      assert.equal(reader.bufferedBytes, 0);
    }
  }
});

test('a frame inside one chunk is a view, not a copy', () => {
  const stream = framed([Buffer.from('abc')]);
  const reader = new FrameReader(100);
  reader.push(stream);
  const frame = reader.next()!;
  assert.equal(frame.buffer, stream.buffer);
});

test('negative and oversized sizes are refused before any body is read', () => {
  const negative = new FrameReader(100);
  negative.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  assert.throws(() => negative.next(), FrameError);
  const big = new FrameReader(100);
  big.push(Buffer.from([0, 0, 0, 101]));
  assert.throws(() => big.next(), /exceeds socket.request.max.bytes 100/);
});
