import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyHistogram } from '../../src/perf/histogram.js';

/** Relative precision of 3 significant digits. */
function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 1e-9, `${what}: ${actual}, expected ${expected} ±0.1 %`);
}

test('percentiles of 1..10000 recorded once each', () => {
  const histogram = new LatencyHistogram();
  for (let value = 1; value <= 10_000; value++) histogram.recordMicros(value);
  assert.equal(histogram.count, 10_000);
  assertClose(histogram.percentileMs(50) * 1000, 5000, 'p50');
  assertClose(histogram.percentileMs(99) * 1000, 9900, 'p99');
  assertClose(histogram.percentileMs(99.9) * 1000, 9990, 'p99.9');
  const summary = histogram.summary();
  assertClose(summary.maxMs * 1000, 10_000, 'max');
  assertClose(summary.minMs * 1000, 1, 'min');
  assertClose(summary.meanMs * 1000, 5000.5, 'mean');
  assertClose(summary.p95Ms * 1000, 9500, 'p95');
});

test('milliseconds keep microsecond resolution; negatives are counted and recorded as 0', () => {
  const histogram = new LatencyHistogram();
  histogram.recordMs(1.234);
  histogram.recordMs(-0.5);
  assert.equal(histogram.negativeSampleCount, 1);
  assert.equal(histogram.summary().minMs, 0);
  assertClose(histogram.summary().maxMs, 1.234, 'max');
});

test('an empty histogram summarises to zeros and an empty curve', () => {
  const histogram = new LatencyHistogram();
  assert.deepEqual(histogram.summary(), { count: 0, minMs: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 });
  assert.deepEqual(histogram.percentileCurve(), []);
});

test('the percentile curve is monotonic and ends at the max', () => {
  const histogram = new LatencyHistogram();
  for (let value = 1; value <= 100_000; value++) histogram.recordMicros((value * 7919) % 100_000 + 1);
  const curve = histogram.percentileCurve();
  assert.ok(curve.length > 50);
  for (let index = 1; index < curve.length; index++) {
    assert.ok(curve[index]!.percentile > curve[index - 1]!.percentile);
    assert.ok(curve[index]!.valueMs >= curve[index - 1]!.valueMs);
  }
  assert.equal(curve.at(-1)!.percentile, 100);
  assertClose(curve.at(-1)!.valueMs, 100, 'max');
});

test('add merges counts; reset empties; encode gives base64', () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  for (let value = 1; value <= 100; value++) a.recordMicros(value);
  for (let value = 101; value <= 200; value++) b.recordMicros(value);
  a.add(b);
  assert.equal(a.count, 200);
  assertClose(a.percentileMs(50) * 1000, 100, 'merged p50');
  assert.match(a.encode(), /^[A-Za-z0-9+/]+=*$/);
  a.reset();
  assert.equal(a.count, 0);
});
