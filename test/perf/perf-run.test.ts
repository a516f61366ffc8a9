/**
 * `minikafka perf` against a real broker (in this process, ephemeral port): produce, consume
 * and e2e through the command, with the JSON and HTML reports they write.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { startBroker, type BrokerHandle } from '../../src/index.js';
import { run } from '../../src/cli/commands/perf.js';
import type { LatencyReport, PerfResult } from '../../src/perf/run-perf.js';

let broker: BrokerHandle;
let reports: string;

before(async () => {
  broker = await startBroker({ nodes: 1, logLevel: 'error' });
  reports = mkdtempSync(join(tmpdir(), 'mk-perf-test-'));
});

after(async () => {
  await broker.stop();
  rmSync(reports, { recursive: true, force: true });
});

interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function perf(args: readonly string[]): Promise<Captured> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const code = await run([...args, '--bootstrap-server', broker.bootstrapServers], { stdout, stderr });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

function readResult(file: string): PerfResult {
  return JSON.parse(readFileSync(file, 'utf8')) as PerfResult;
}

function assertSaneLatency(report: LatencyReport | null, count: number, what: string): void {
  assert.ok(report !== null, `${what} latency present`);
  assert.equal(report.count, count, `${what} count`);
  for (const key of ['minMs', 'meanMs', 'p50Ms', 'p95Ms', 'p99Ms', 'p999Ms', 'maxMs'] as const) {
    assert.ok(Number.isFinite(report[key]) && report[key] >= 0, `${what} ${key} = ${report[key]}`);
  }
  assert.ok(report.p50Ms <= report.p95Ms && report.p95Ms <= report.p99Ms && report.p99Ms <= report.p999Ms && report.p999Ms <= report.maxMs, `${what} percentiles in order`);
  assert.ok(report.maxMs < 60_000, `${what} max ${report.maxMs} ms is sane`);
  assert.ok(report.curve.length > 0 && report.histogramBase64.length > 0);
}

test('perf produce sends 20,000 messages and reports throughput and latency', { timeout: 60_000 }, async () => {
  const json = join(reports, 'produce.json');
  const html = join(reports, 'produce.html');
  const result = await perf(['produce', '--topic', 'perf-a', '--partitions', '2', '--messages', '20000', '--json', json, '--html', html]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^20000 records sent in [\d.]+ s, [\d.]+ records\/sec .*p99\.9 /);
  const report = readResult(json);
  assert.equal(report.tool, 'minikafka perf');
  assert.equal(report.mode, 'produce');
  assert.equal(report.client, 'ours');
  assert.equal(report.partitions, 2);
  assert.equal(report.messages, 20_000);
  assert.equal(report.bytes, 20_000 * 100);
  assert.equal(report.bytesBasis, 'payload');
  assert.ok(report.durationS > 0 && report.messagesPerSecond > 0 && report.megabytesPerSecond > 0);
  assert.equal(report.details.sentMessages, 20_000);
  assert.equal(report.settings.messageSizeBytes, 100);
  assert.equal(report.settings.acks, 1);
  assert.ok(Array.isArray(report.timeSeries));
  assert.equal(report.latency.endToEnd, null);
  assertSaneLatency(report.latency.produce, 20_000, 'produce');
  assert.equal(typeof report.machine.cpus, 'number');

  const page = readFileSync(html, 'utf8');
  assert.match(page, /^<!DOCTYPE html>/);
  assert.equal((page.match(/<svg /g) ?? []).length, 2);
  assert.equal((page.match(/<svg /g) ?? []).length, (page.match(/<\/svg>/g) ?? []).length);
  for (const label of ['p50', 'p95', 'p99', 'p99.9', 'max', '90%', '99%', '99.9%']) assert.ok(page.includes(`>${label}<`), `HTML has ${label}`);
  assert.ok(!/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(page), 'self-contained: no script, no external resource');
  assert.match(page, /<\/html>\n$/);
});

test('perf consume counts exactly the 20,000 messages of the topic', { timeout: 60_000 }, async () => {
  const json = join(reports, 'consume.json');
  const result = await perf(['consume', '--topic', 'perf-a', '--json', json, '--quiet']);
  assert.equal(result.code, 0, result.stderr);
  const report = readResult(json);
  assert.equal(report.mode, 'consume');
  assert.equal(report.messages, 20_000);
  assert.equal(report.details.consumedMessages, 20_000);
  assert.equal(report.details.endReason, 'target');
  assert.equal(report.bytesBasis, 'record batches');
  assert.ok(report.bytes > 20_000 * 100);
  assert.equal(report.latency.produce, null);
  assert.equal(report.latency.endToEnd, null);

  const bounded = await perf(['consume', '--topic', 'perf-a', '--messages', '5000', '--json', json, '--quiet']);
  assert.equal(bounded.code, 0, bounded.stderr);
  const partial = readResult(json);
  assert.equal(partial.messages, 5000);
  assert.ok(Number(partial.details.consumedMessages) >= 5000);
});

test('perf e2e at a modest rate reports sane end-to-end percentiles', { timeout: 60_000 }, async () => {
  const json = join(reports, 'e2e.json');
  const html = join(reports, 'e2e.html');
  const result = await perf(['e2e', '--topic', 'perf-e2e', '--messages', '3000', '--rate', '3000', '--keyed', '--partitions', '3', '--json', json, '--html', html, '--quiet']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /end-to-end latency p50 /);
  const report = readResult(json);
  assert.equal(report.mode, 'e2e');
  assert.equal(report.messages, 3000);
  assert.equal(report.details.consumedMessages, 3000);
  assertSaneLatency(report.latency.endToEnd, 3000, 'e2e');
  assertSaneLatency(report.latency.produce, 3000, 'produce');
  // A 3000-message run at 3000/s lasts about a second, not much less (the rate held).
  assert.ok(report.durationS >= 0.9, `duration ${report.durationS} s`);
  assert.ok(report.latency.scheduleLag !== null);
  // Each message is handed to the client at or after its intended time: measured from the
  // hand-off, no message can be slower than measured from its intended time.
  const fromAppend = report.latency.endToEndFromAppend;
  assertSaneLatency(fromAppend, 3000, 'e2e from hand-off');
  assert.ok(fromAppend!.meanMs <= report.latency.endToEnd!.meanMs + 0.01, `mean ${fromAppend!.meanMs} vs ${report.latency.endToEnd!.meanMs} ms`);
  assert.ok(fromAppend!.maxMs <= report.latency.endToEnd!.maxMs + 0.01);
  assert.match(result.stdout, /from hand-off to the client: p50 /);
  const page = readFileSync(html, 'utf8');
  assert.ok(page.includes('end-to-end') && page.includes('produce (to ack)') && page.includes('from hand-off'));
  // Values too short to carry the hand-off time still get the end-to-end latency.
  const short = await perf(['e2e', '--topic', 'perf-e2e-short', '--message-size', '12', '--messages', '300', '--rate', '1000', '--json', json, '--quiet']);
  assert.equal(short.code, 0, short.stderr);
  const shortReport = readResult(json);
  assertSaneLatency(shortReport.latency.endToEnd, 300, 'e2e, 12-byte values');
  assert.equal(shortReport.latency.endToEndFromAppend, null);
});

test('--client kafkajs runs the same produce, consume and e2e scenarios', { timeout: 60_000 }, async () => {
  const json = join(reports, 'kafkajs.json');
  const produced = await perf(['produce', '--client', 'kafkajs', '--topic', 'perf-kjs', '--partitions', '2', '--messages', '2000', '--json', json, '--quiet']);
  assert.equal(produced.code, 0, produced.stderr);
  const produce = readResult(json);
  assert.equal(produce.client, 'kafkajs');
  assert.equal(produce.messages, 2000);
  assertSaneLatency(produce.latency.produce, 2000, 'kafkajs produce');

  const consumed = await perf(['consume', '--client', 'kafkajs', '--topic', 'perf-kjs', '--json', json, '--quiet']);
  assert.equal(consumed.code, 0, consumed.stderr);
  assert.equal(readResult(json).messages, 2000);

  const e2e = await perf(['e2e', '--client', 'kafkajs', '--topic', 'perf-kjs-e2e', '--messages', '500', '--rate', '1000', '--json', json, '--quiet']);
  assert.equal(e2e.code, 0, e2e.stderr);
  assertSaneLatency(readResult(json).latency.endToEnd, 500, 'kafkajs e2e');
  assertSaneLatency(readResult(json).latency.endToEndFromAppend, 500, 'kafkajs e2e from hand-off');
});

test('bad arguments exit 2 with a message; --help exits 0', async () => {
  const missing = await perf([]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /a scenario is required/);
  const both = await perf(['produce', '--messages', '10', '--duration-s', '1']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /not both/);
  const acks = await perf(['produce', '--acks', '2']);
  assert.equal(acks.code, 2);
  assert.match(acks.stderr, /--acks must be -1, 0 or 1/);
  const small = await perf(['e2e', '--message-size', '4']);
  assert.equal(small.code, 2);
  assert.match(small.stderr, /--message-size must be an integer from 8/);
  const help = await perf(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: minikafka perf/);
});
