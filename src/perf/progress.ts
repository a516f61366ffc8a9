/**
 * Once-per-second progress: a line on stderr (when a stream is given) and a throughput sample
 * kept for the throughput-over-time plot of the report. Rates are per interval, computed from
 * cumulative counters the load keeps, so reading them costs the load nothing.
 */
import type { Clock } from '../runtime/clock.js';

export interface ProgressCounters {
  /** Messages counted so far (acknowledged, or consumed), warm-up excluded. */
  readonly messages: number;
  readonly bytes: number;
  /** A latency percentile worth showing live (ms), or null. */
  readonly p99Ms: number | null;
}

export interface ThroughputSample {
  /** Seconds since the reporter started, at the end of the interval. */
  readonly elapsedS: number;
  readonly messagesPerSecond: number;
  readonly megabytesPerSecond: number;
}

export const progressIntervalMs = 1000;
/** Longest run the time series covers (one sample a second); later samples are dropped. */
const maxSamples = 24 * 60 * 60;
const bytesPerMegabyte = 1e6;

export class ProgressReporter {
  readonly samples: ThroughputSample[] = [];
  private readonly label: string;
  private readonly clock: Clock;
  private readonly stream: NodeJS.WritableStream | null;
  private readonly read: () => ProgressCounters;
  private startMs = 0;
  private lastMs = 0;
  private lastMessages = 0;
  private lastBytes = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(label: string, clock: Clock, stream: NodeJS.WritableStream | null, read: () => ProgressCounters) {
    this.label = label;
    this.clock = clock;
    this.stream = stream;
    this.read = read;
  }

  start(): void {
    this.startMs = this.clock.nowMs();
    this.lastMs = this.startMs;
    const counters = this.read();
    this.lastMessages = counters.messages;
    this.lastBytes = counters.bytes;
    this.timer = setInterval(() => this.tick(), progressIntervalMs);
    this.timer.unref();
  }

  /** Takes one sample now; called by the timer, and by `stop` for the last partial interval. */
  tick(): void {
    const nowMs = this.clock.nowMs();
    const intervalS = (nowMs - this.lastMs) / 1000;
    if (intervalS <= 0) return;
    const counters = this.read();
    const sample: ThroughputSample = {
      elapsedS: (nowMs - this.startMs) / 1000,
      messagesPerSecond: (counters.messages - this.lastMessages) / intervalS,
      megabytesPerSecond: (counters.bytes - this.lastBytes) / bytesPerMegabyte / intervalS,
    };
    if (this.samples.length < maxSamples) this.samples.push(sample);
    this.lastMs = nowMs;
    this.lastMessages = counters.messages;
    this.lastBytes = counters.bytes;
    if (this.stream !== null) this.stream.write(`${formatProgressLine(this.label, sample, counters)}\n`);
  }

  stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    // A last partial interval only if it is long enough to say something.
    if (this.clock.nowMs() - this.lastMs >= progressIntervalMs / 4) this.tick();
  }
}

export function formatProgressLine(label: string, sample: ThroughputSample, counters: ProgressCounters): string {
  const latency = counters.p99Ms === null ? '' : `, p99 ${formatMs(counters.p99Ms)}`;
  return (
    `${label}: ${sample.elapsedS.toFixed(1)} s, ${formatCount(Math.round(sample.messagesPerSecond))} msgs/s, ` +
    `${sample.megabytesPerSecond.toFixed(1)} MB/s, ${formatCount(counters.messages)} msgs total${latency}`
  );
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

export function formatMs(valueMs: number): string {
  if (valueMs >= 100) return `${valueMs.toFixed(0)} ms`;
  if (valueMs >= 10) return `${valueMs.toFixed(1)} ms`;
  return `${valueMs.toFixed(2)} ms`;
}
