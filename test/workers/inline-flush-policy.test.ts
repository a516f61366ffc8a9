import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InlineFlushPolicy } from '../../src/workers/inline-flush-policy.js';

test('fast inline fsyncs keep flushing inline', () => {
  const policy = new InlineFlushPolicy({ slowMs: 2, backoffMs: 5000, weight: 0.1 });
  for (let index = 0; index < 1000; index++) {
    assert.ok(policy.allows(index));
    policy.record(index % 50 === 0 ? 4 : 0.3, index); // an occasional slow one does not switch
  }
  assert.ok(policy.averageInlineMs < 1);
});

test('slow inline fsyncs send flushes to the threadpool for the back-off, then inline is tried again', () => {
  const policy = new InlineFlushPolicy({ slowMs: 2, backoffMs: 5000, weight: 0.5 });
  let nowMs = 0;
  let inline = 0;
  let offAt = 0;
  while (policy.allows(nowMs)) {
    policy.record(10, nowMs); // a spinning disk
    offAt = nowMs;
    inline++;
    nowMs += 10;
    assert.ok(inline < 10, 'switches off within a few slow samples');
  }
  assert.equal(policy.allows(offAt + 4999), false);
  assert.equal(policy.allows(offAt + 5000), true, 'tried again after the back-off');
  assert.equal(policy.averageInlineMs, 0, 'with a fresh average');
  policy.record(0.2, offAt + 5000);
  assert.ok(policy.allows(offAt + 5001), 'and kept while fast');
});

test('the weight must be a fraction', () => {
  assert.throws(() => new InlineFlushPolicy({ slowMs: 2, backoffMs: 1, weight: 0 }), RangeError);
  assert.throws(() => new InlineFlushPolicy({ slowMs: 2, backoffMs: 1, weight: 1.5 }), RangeError);
});
