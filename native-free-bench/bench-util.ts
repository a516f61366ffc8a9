/** Small helpers shared by the benchmark scripts. */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function scratchDirectory(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function formatRate(value: number, unit: string): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M${unit}`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k${unit}`;
  return `${value.toFixed(1)} ${unit}`;
}

export function printTable(rows: ReadonlyArray<Record<string, string | number>>): void {
  if (rows.length === 0) return;
  const headers = Object.keys(rows[0]!);
  const widths = headers.map((header) => Math.max(header.length, ...rows.map((row) => String(row[header]).length)));
  const line = (cells: string[]) => cells.map((cell, index) => cell.padEnd(widths[index]!)).join('  ');
  console.log(line(headers));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) console.log(line(headers.map((header) => String(row[header]))));
}

export function machineNote(): string {
  const processors = cpus();
  const memoryGiB = Math.round(totalmem() / 1024 ** 3);
  return `${processors.length} x ${processors[0]?.model ?? 'unknown cpu'}, ${memoryGiB} GiB, ${process.platform} ${process.arch}, node ${process.version}`;
}

/** Bytes per second with a decimal unit (MB = 10^6 bytes), up to GB/s. */
export function formatBytesRate(bytesPerSecond: number): string {
  if (bytesPerSecond >= 1e9) return `${(bytesPerSecond / 1e9).toFixed(2)} GB/s`;
  return formatRate(bytesPerSecond, 'B/s');
}
