/**
 * The HTML report: one self-contained page (inline CSS and SVG, no script, no external
 * resource) with the summary, a latency-by-percentile plot on HdrHistogram's log-scaled
 * "nines" axis (x = -log10(1 - p), so 90 %, 99 %, 99.9 % are evenly spaced), and throughput
 * over time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LatencySummary } from './histogram.js';
import type { LatencyReport, PerfResult } from './run-perf.js';

interface Point {
  readonly x: number;
  readonly y: number;
}

interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly Point[];
}

interface Tick {
  readonly value: number;
  readonly label: string;
}

interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly xTicks: readonly Tick[];
  readonly xMax: number;
}

const chartWidth = 760;
const chartHeight = 360;
const margin = { left: 70, right: 20, top: 30, bottom: 50 } as const;
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'] as const;
const summaryPercentiles = [
  ['p50', 'p50Ms'],
  ['p95', 'p95Ms'],
  ['p99', 'p99Ms'],
  ['p99.9', 'p999Ms'],
  ['max', 'maxMs'],
] as const;

export function writeHtmlReport(path: string, result: PerfResult): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, htmlReport(result));
}

export function htmlReport(result: PerfResult): string {
  const title = `minikafka perf ${result.mode} (${result.client} client)`;
  const latencies = latencySeries(result);
  const sections = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">${escapeHtml(result.startedAt)} &middot; ${escapeHtml(result.bootstrapServers)} &middot; topic ${escapeHtml(result.topic)}, ${result.partitions} partition(s) on ${result.leaders} leader(s) &middot; ${escapeHtml(`${result.machine.cpus} x ${result.machine.cpuModel}, node ${result.machine.node}`)}</p>`,
    summaryTable(result),
    latencies.length === 0 ? '' : latencyTable(latencies),
    latencies.length === 0 ? '' : percentileChart(latencies),
    throughputChart(result),
    settingsTable(result),
    result.notes.length === 0 ? '' : `<h2>Notes</h2><ul>${result.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`,
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 820px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { padding: 0.2em 0.8em; text-align: right; border-bottom: 1px solid #ddd; }
th:first-child, td:first-child { text-align: left; }
.meta { color: #666; }
svg { display: block; margin: 0.5em 0 1.5em; }
svg text { font: 12px system-ui, sans-serif; fill: #333; }
</style>
</head>
<body>
${sections.filter((section) => section !== '').join('\n')}
</body>
</html>
`;
}

function latencySeries(result: PerfResult): { name: string; report: LatencyReport }[] {
  const series: { name: string; report: LatencyReport }[] = [];
  if (result.latency.endToEnd !== null) series.push({ name: 'end-to-end', report: result.latency.endToEnd });
  if (result.latency.endToEndFromAppend !== null) series.push({ name: 'end-to-end from hand-off to the client', report: result.latency.endToEndFromAppend });
  if (result.latency.produce !== null) series.push({ name: 'produce (to ack)', report: result.latency.produce });
  return series.filter((entry) => entry.report.count > 0);
}

function summaryTable(result: PerfResult): string {
  const rows: [string, string][] = [
    ['messages (measured)', result.messages.toLocaleString('en-US')],
    ['duration', `${result.durationS.toFixed(2)} s`],
    ['throughput', `${Math.round(result.messagesPerSecond).toLocaleString('en-US')} msgs/s`],
    ['bandwidth', `${result.megabytesPerSecond.toFixed(2)} MB/s (${result.bytesBasis}; MB = 10^6 bytes)`],
  ];
  for (const [name, value] of Object.entries(result.details)) rows.push([name, String(value)]);
  return `<h2>Summary</h2>\n<table>${rows.map(([name, value]) => `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(value)}</td></tr>`).join('')}</table>`;
}

function latencyTable(series: readonly { name: string; report: LatencySummary }[]): string {
  const header = `<tr><th>latency (ms)</th><th>count</th>${summaryPercentiles.map(([label]) => `<th>${label}</th>`).join('')}</tr>`;
  const rows = series.map(
    ({ name, report }) =>
      `<tr><td>${escapeHtml(name)}</td><td>${report.count.toLocaleString('en-US')}</td>${summaryPercentiles
        .map(([, key]) => `<td>${formatMs(report[key])}</td>`)
        .join('')}</tr>`,
  );
  return `<h2>Latency</h2>\n<table>${header}${rows.join('')}</table>`;
}

function settingsTable(result: PerfResult): string {
  const rows = Object.entries(result.settings).map(([name, value]) => `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(String(value))}</td></tr>`);
  return `<h2>Settings</h2>\n<table>${rows.join('')}</table>`;
}

/** x = "nines" of the percentile; ticks at 0 %, 90 %, 99 %, 99.9 %, ... */
function percentileChart(series: readonly { name: string; report: LatencyReport }[]): string {
  let maxNines = 1;
  const chartSeries: Series[] = series.map(({ name, report }, index) => {
    const points = report.curve.map((point) => ({ x: ninesOf(point.percentile, report.count), y: point.valueMs }));
    for (const point of points) maxNines = Math.max(maxNines, point.x);
    return { name, color: colors[index % colors.length]!, points };
  });
  const xMax = Math.ceil(maxNines);
  const xTicks: Tick[] = [];
  for (let nines = 0; nines <= xMax; nines++) xTicks.push({ value: nines, label: percentileLabel(nines) });
  return chart({ title: 'Latency by percentile', xLabel: 'percentile', yLabel: 'latency (ms)', series: chartSeries, xTicks, xMax });
}

/** The max is drawn one step past the last resolved percentile: 1 - 1/count. */
function ninesOf(percentile: number, count: number): number {
  const fraction = 1 - percentile / 100;
  if (fraction <= 0) return Math.log10(Math.max(count, 10));
  return -Math.log10(fraction);
}

function percentileLabel(nines: number): string {
  if (nines === 0) return '0%';
  return `${(100 * (1 - 10 ** -nines)).toFixed(Math.max(0, nines - 2))}%`;
}

function throughputChart(result: PerfResult): string {
  const points = result.timeSeries.map((sample) => ({ x: sample.elapsedS, y: sample.messagesPerSecond }));
  const xMax = Math.max(1, ...points.map((point) => point.x));
  const step = niceStep(xMax / 8);
  const xTicks: Tick[] = [];
  for (let value = 0; value <= xMax + 1e-9; value += step) xTicks.push({ value, label: `${trimNumber(value)} s` });
  return chart({
    title: 'Throughput over time (one sample a second)',
    xLabel: 'elapsed time (s)',
    yLabel: 'msgs/s',
    series: [{ name: 'msgs/s', color: colors[0], points }],
    xTicks,
    xMax,
  });
}

function chart(spec: ChartSpec): string {
  const plotWidth = chartWidth - margin.left - margin.right;
  const plotHeight = chartHeight - margin.top - margin.bottom;
  let yMax = 0;
  for (const series of spec.series) for (const point of series.points) yMax = Math.max(yMax, point.y);
  const yStep = niceStep(yMax > 0 ? yMax / 5 : 1);
  const yTop = Math.max(yStep, Math.ceil((yMax * 1.05) / yStep) * yStep);
  const x = (value: number): number => margin.left + (spec.xMax > 0 ? (value / spec.xMax) * plotWidth : 0);
  const y = (value: number): number => margin.top + plotHeight - (value / yTop) * plotHeight;
  const parts: string[] = [];
  parts.push(`<text x="${margin.left}" y="18" font-weight="bold">${escapeHtml(spec.title)}</text>`);
  for (let value = 0; value <= yTop + 1e-9; value += yStep) {
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end">${escapeHtml(trimNumber(value))}</text>`);
  }
  for (const tick of spec.xTicks) {
    const at = x(tick.value).toFixed(1);
    parts.push(`<line x1="${at}" x2="${at}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${at}" y="${margin.top + plotHeight + 16}" text-anchor="middle">${escapeHtml(tick.label)}</text>`);
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${chartHeight - 8}" text-anchor="middle">${escapeHtml(spec.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(spec.yLabel)}</text>`);
  spec.series.forEach((series, index) => {
    if (series.points.length > 0) {
      const path = series.points.map((point) => `${x(point.x).toFixed(1)},${y(point.y).toFixed(1)}`).join(' ');
      parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="2" points="${path}"/>`);
    }
    const legendY = margin.top + 16 + index * 16;
    parts.push(`<line x1="${margin.left + 10}" x2="${margin.left + 30}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${series.color}" stroke-width="2"/>`);
    parts.push(`<text x="${margin.left + 36}" y="${legendY}">${escapeHtml(series.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${chartWidth}" height="${chartHeight}" viewBox="0 0 ${chartWidth} ${chartHeight}" role="img" aria-label="${escapeHtml(spec.title)}">\n${parts.join('\n')}\n</svg>`;
}

/** 1, 2 or 5 times a power of ten, at least `rough`. */
function niceStep(rough: number): number {
  if (!(rough > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const factor of [1, 2, 5, 10]) if (factor * power >= rough) return factor * power;
  return 10 * power;
}

function trimNumber(value: number): string {
  if (value >= 1e6) return `${trimNumber(value / 1e6)}M`;
  if (value >= 1e4) return `${trimNumber(value / 1e3)}k`;
  return String(Number(value.toPrecision(6)));
}

function formatMs(valueMs: number): string {
  return valueMs >= 100 ? valueMs.toFixed(0) : valueMs >= 10 ? valueMs.toFixed(1) : valueMs.toFixed(3);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
