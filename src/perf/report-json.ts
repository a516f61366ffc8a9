/**
 * The JSON report: the `PerfResult` as is (settings, throughput, latency summaries in ms, the
 * percentile curves, the encoded histograms, the per-second throughput series, the machine).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PerfResult } from './run-perf.js';

export function jsonReport(result: PerfResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

export function writeJsonReport(path: string, result: PerfResult): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, jsonReport(result));
}
