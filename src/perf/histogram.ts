/**
 * Latency histograms for the load generator: HdrHistogram (hdr-histogram-js) recording
 * microseconds with 3 significant digits, read back in milliseconds. Percentiles are exact to
 * the histogram's precision (0.1 %), whatever the number of samples, and cost nothing to keep.
 */
import { build, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

/** Everything slower than an hour is clamped to an hour (the histogram's range). */
const highestTrackableMicros = 3_600_000_000;
const significantDigits = 3;
const microsPerMs = 1000;
/** Resolution of the percentile curve, in "nines" (one nine = a decade of 1 - percentile). */
const curveStepNines = 0.05;

export interface LatencySummary {
  readonly count: number;
  readonly minMs: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** One point of the percentile distribution: `percentile` in [0, 100], latency in ms. */
export interface PercentilePoint {
  readonly percentile: number;
  readonly valueMs: number;
}

export class LatencyHistogram {
  private readonly histogram: Histogram;
  /** Samples below zero (a clock that went backwards): recorded as 0, counted here. */
  private negativeSamples = 0;

  constructor() {
    this.histogram = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: highestTrackableMicros,
      numberOfSignificantValueDigits: significantDigits,
      autoResize: false,
      bitBucketSize: 32,
    });
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  get negativeSampleCount(): number {
    return this.negativeSamples;
  }

  /** Records a latency in milliseconds (fractions kept to the microsecond). */
  recordMs(latencyMs: number): void {
    this.recordMicros(latencyMs * microsPerMs);
  }

  recordMicros(latencyMicros: number): void {
    let value = Math.round(latencyMicros);
    if (value < 0) {
      this.negativeSamples++;
      value = 0;
    } else if (value > highestTrackableMicros) {
      value = highestTrackableMicros;
    }
    this.histogram.recordValue(value);
  }

  /** Latency at `percentile` (0-100) in ms; 0 for an empty histogram. */
  percentileMs(percentile: number): number {
    if (this.histogram.totalCount === 0) return 0;
    return this.histogram.getValueAtPercentile(percentile) / microsPerMs;
  }

  summary(): LatencySummary {
    const histogram = this.histogram;
    if (histogram.totalCount === 0) {
      return { count: 0, minMs: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
    }
    return {
      count: histogram.totalCount,
      minMs: this.percentileMs(0),
      meanMs: histogram.mean / microsPerMs,
      p50Ms: this.percentileMs(50),
      p95Ms: this.percentileMs(95),
      p99Ms: this.percentileMs(99),
      p999Ms: this.percentileMs(99.9),
      // At percentile 100, like the others: the top of the max's bucket (as HdrHistogram's
      // getMaxValue), so that no percentile ever reads above the max.
      maxMs: this.percentileMs(100),
    };
  }

  /**
   * The percentile distribution sampled evenly in "nines" (x = -log10(1 - p/100)), from p0 up
   * to the last percentile the sample count resolves, then the max: what an HdrHistogram plot
   * draws.
   */
  percentileCurve(): PercentilePoint[] {
    const count = this.histogram.totalCount;
    if (count === 0) return [];
    const maxNines = Math.log10(count);
    const points: PercentilePoint[] = [];
    for (let nines = 0; nines < maxNines; nines += curveStepNines) {
      const percentile = 100 * (1 - 10 ** -nines);
      points.push({ percentile, valueMs: this.percentileMs(percentile) });
    }
    points.push({ percentile: 100, valueMs: this.percentileMs(100) });
    return points;
  }

  add(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
    this.negativeSamples += other.negativeSamples;
  }

  reset(): void {
    this.histogram.reset();
    this.negativeSamples = 0;
  }

  /** The whole histogram, compressed and base64-encoded (HdrHistogram's V2 log format). */
  encode(): string {
    return encodeIntoCompressedBase64(this.histogram);
  }
}
