/**
 * Shared pieces of the client compatibility suite: a 3-node broker on ephemeral loopback ports,
 * child processes with a time bound and captured output, tool checks that fail (never skip) with
 * an install hint, bounded wait loops, and the keyed-message workload every client runs.
 *
 * The broker runs in this process, so nothing here may block the event loop: children are always
 * spawned asynchronously (a `spawnSync` would starve the broker the child is talking to).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker, type BrokerHandle, type StartBrokerOptions } from '../../src/index.js';

/** Per-test bound; every child process and wait loop inside a test uses less than this. */
export const compatTestTimeoutMs = 30_000;
/** Bound for one child process unless a caller asks for less. */
export const defaultProcessTimeoutMs = 20_000;
/** Captured stdout/stderr per child; 1 MiB messages as JSON take ~3.2 MiB. */
export const maxCapturedOutputBytes = 32 * 1024 * 1024;

export const systemPython = '/usr/bin/python3';
export const installHint =
  'install the Debian packages kcat, python3-confluent-kafka and python3-kafka ' +
  '(apt-get install kcat python3-confluent-kafka python3-kafka); the Python clients run with /usr/bin/python3';

// ---------------------------------------------------------------------------------------------
// Broker

/** Three nodes (partitions spread over three listeners), 3 partitions per topic, loopback only. */
export async function startCompatBroker(options: StartBrokerOptions = {}): Promise<BrokerHandle> {
  return startBroker({
    nodes: 3,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'error',
    ...options,
    broker: { 'num.partitions': 3, 'auto.create.topics.enable': true, ...options.broker },
  });
}

/** Runs `body` against a fresh broker and always stops it. */
export async function withCompatBroker<T>(
  body: (broker: BrokerHandle) => Promise<T>,
  options: StartBrokerOptions = {},
): Promise<T> {
  const broker = await startCompatBroker(options);
  try {
    return await body(broker);
  } finally {
    await broker.stop();
  }
}

/** A topic name unique within the run, so tests never see each other's data. */
let topicCounter = 0;
export function uniqueTopic(prefix: string): string {
  topicCounter += 1;
  return `${prefix}-${process.pid}-${topicCounter}`;
}

// ---------------------------------------------------------------------------------------------
// Child processes

export interface ProcessOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface ProcessResult {
  command: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

/** Spawns `command`, feeds `input` to stdin, and kills the child (by its own pid) at the deadline. */
export function runProcess(command: string, args: readonly string[], options: ProcessOptions = {}): Promise<ProcessResult> {
  const timeoutMs = options.timeoutMs ?? defaultProcessTimeoutMs;
  assert.ok(timeoutMs > 0 && timeoutMs <= compatTestTimeoutMs, `process timeout ${timeoutMs} ms out of bounds`);
  const startedAt = performance.now();
  const label = [command, ...args.map((arg) => (arg.length > 80 ? `${arg.slice(0, 77)}...` : arg))].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let capturedBytes = 0;
    let timedOut = false;
    const capture = (sink: Buffer[]) => (chunk: Buffer) => {
      capturedBytes += chunk.length;
      if (capturedBytes > maxCapturedOutputBytes) {
        child.kill('SIGKILL');
        return;
      }
      sink.push(chunk);
    };
    child.stdout.on('data', capture(stdout));
    child.stderr.on('data', capture(stderr));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${label}: ${error.message}`));
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({
        command: label,
        exitCode,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        timedOut,
        durationMs: Math.round(performance.now() - startedAt),
      });
    });
    // A child that exits before reading all of stdin makes the write fail with EPIPE; its exit
    // status and stderr then tell the real story.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** Like runProcess, but throws with the child's stderr unless it exited 0 in time. */
export async function runProcessOk(command: string, args: readonly string[], options: ProcessOptions = {}): Promise<ProcessResult> {
  const result = await runProcess(command, args, options);
  if (result.timedOut || result.exitCode !== 0) {
    const why = result.timedOut ? `timed out after ${options.timeoutMs ?? defaultProcessTimeoutMs} ms` : `exited ${result.exitCode ?? result.signal}`;
    throw new Error(`${result.command} ${why}\n--- stderr ---\n${tail(result.stderr)}\n--- stdout ---\n${tail(result.stdout)}`);
  }
  return result;
}

function tail(text: string, maxChars = 4000): string {
  return text.length <= maxChars ? text : `...${text.slice(-maxChars)}`;
}

// ---------------------------------------------------------------------------------------------
// Required tools: a missing tool is a failure with an install hint, never a skip.

/** Fails unless `command` (a path or a name on PATH) is an executable file. */
export function requireCommand(command: string): string {
  const candidates = isAbsolute(command)
    ? [command]
    : (process.env.PATH ?? '').split(delimiter).filter((directory) => directory !== '').map((directory) => join(directory, command));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  assert.fail(`required command "${command}" was not found: ${installHint}`);
}

/** Fails unless /usr/bin/python3 can import every module in `modules`. */
export async function requirePythonModules(modules: readonly string[]): Promise<void> {
  requireCommand(systemPython);
  const result = await runProcess(systemPython, ['-c', modules.map((name) => `import ${name}`).join('; ')], { timeoutMs: 10_000 });
  if (result.exitCode !== 0) {
    assert.fail(`${systemPython} cannot import ${modules.join(', ')}: ${installHint}\n${tail(result.stderr, 1000)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Files of the source tree (Python scripts are not compiled, so they stay under test/compat/)

/**
 * Finds `test/compat/<relativePath>` in the source tree. Compiled tests run from dist/test/compat
 * or from another outDir whose node_modules is a symlink into the checkout, so look (in order) at
 * MINIKAFKA_SOURCE_ROOT, the ancestors of this file, the checkout behind each ancestor's
 * node_modules symlink, and the ancestors of the working directory.
 */
export function compatSourceFile(relativePath: string): string {
  const roots: string[] = [];
  if (process.env.MINIKAFKA_SOURCE_ROOT) roots.push(process.env.MINIKAFKA_SOURCE_ROOT);
  for (const ancestor of ancestors(dirname(fileURLToPath(import.meta.url)))) {
    roots.push(ancestor);
    const nodeModules = join(ancestor, 'node_modules');
    if (existsSync(nodeModules)) roots.push(dirname(realpathSync(nodeModules)));
  }
  roots.push(...ancestors(process.cwd()));
  for (const root of roots) {
    const candidate = join(root, 'test', 'compat', relativePath);
    if (existsSync(join(root, 'package.json')) && existsSync(candidate)) return candidate;
  }
  assert.fail(`cannot find test/compat/${relativePath} in the source tree (looked in ${roots.join(', ')}); set MINIKAFKA_SOURCE_ROOT`);
}

function ancestors(start: string): string[] {
  const result: string[] = [];
  let current = start;
  for (let depth = 0; depth < 32; depth += 1) {
    result.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Bounded waiting

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  maxAttempts?: number;
}

/** Polls `probe` until it returns a value other than undefined; fails after the time or attempt bound. */
export async function waitFor<T>(description: string, probe: () => Promise<T | undefined> | T | undefined, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const maxAttempts = options.maxAttempts ?? Math.ceil(timeoutMs / intervalMs) + 1;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) break;
    await sleep(intervalMs);
  }
  const cause = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
  assert.fail(`timed out waiting for ${description} (${timeoutMs} ms / ${maxAttempts} attempts)${cause}`);
}

export function sleep(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}

// ---------------------------------------------------------------------------------------------
// The keyed workload: `count` messages over `keyCount` keys; the value names its key and its
// sequence number within that key, so per-key order can be checked on the way back.

export const defaultMessageCount = 300;
export const defaultKeyCount = 10;

export interface KeyedMessage {
  key: string;
  value: string;
}

/** Message i has key `key-(i % keyCount)` and value `key-N/seq-S` (S = i div keyCount). */
export function keyedMessages(count = defaultMessageCount, keyCount = defaultKeyCount): KeyedMessage[] {
  const messages: KeyedMessage[] = [];
  for (let index = 0; index < count; index += 1) {
    const key = `key-${index % keyCount}`;
    messages.push({ key, value: `${key}/seq-${Math.floor(index / keyCount)}` });
  }
  return messages;
}

export interface ConsumedRecord {
  partition: number;
  offset: bigint;
  key: string | null;
  value: string | null;
}

/**
 * Checks that `records` are exactly `expected` (no loss, no duplicates), that offsets are dense
 * from 0 in each partition, that each key lives in one partition, and that sequence numbers grow
 * strictly with the offset within each key. Returns the partitions that received data.
 */
export function assertKeyedRoundTrip(records: readonly ConsumedRecord[], expected: readonly KeyedMessage[]): Set<number> {
  assert.equal(records.length, expected.length, `consumed ${records.length} records, produced ${expected.length}`);
  const expectedValues = new Set(expected.map((message) => message.value));
  const seenValues = new Set<string>();
  const sorted = [...records].sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  const partitionOfKey = new Map<string, number>();
  const lastSequenceOfKey = new Map<string, number>();
  const nextOffsetOfPartition = new Map<number, bigint>();
  for (const record of sorted) {
    assert.ok(record.key !== null && record.value !== null, `null key or value at ${record.partition}/${record.offset}`);
    assert.ok(expectedValues.has(record.value), `unexpected value ${record.value}`);
    assert.ok(!seenValues.has(record.value), `duplicate value ${record.value}`);
    seenValues.add(record.value);
    const match = /^(key-\d+)\/seq-(\d+)$/.exec(record.value);
    assert.ok(match !== null && match[1] === record.key, `value ${record.value} does not belong to key ${record.key}`);
    const sequence = Number(match[2]);
    const expectedOffset = nextOffsetOfPartition.get(record.partition) ?? 0n;
    assert.equal(record.offset, expectedOffset, `partition ${record.partition}: offsets are not dense`);
    nextOffsetOfPartition.set(record.partition, expectedOffset + 1n);
    const partition = partitionOfKey.get(record.key);
    assert.ok(partition === undefined || partition === record.partition, `key ${record.key} is in partitions ${partition} and ${record.partition}`);
    partitionOfKey.set(record.key, record.partition);
    const lastSequence = lastSequenceOfKey.get(record.key) ?? -1;
    assert.ok(sequence > lastSequence, `key ${record.key}: sequence ${sequence} after ${lastSequence} (offset ${record.offset})`);
    lastSequenceOfKey.set(record.key, sequence);
  }
  return new Set(nextOffsetOfPartition.keys());
}

/** Record as printed by `kcat -C -J`. */
interface KcatJsonRecord {
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
}

/** Parses the one-JSON-object-per-line output of `kcat -C -J`, ignoring `%` status lines. */
export function parseKcatJson(stdout: string): ConsumedRecord[] {
  const records: ConsumedRecord[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const parsed = JSON.parse(line) as KcatJsonRecord;
    records.push({ partition: parsed.partition, offset: BigInt(parsed.offset), key: parsed.key, value: parsed.payload });
  }
  return records;
}

/** The JSON document the Python scripts print on stdout. */
export interface PythonReport {
  client: string;
  partitions: number;
  records: { partition: number; offset: number; key: string | null; value: string | null }[];
}

export function parsePythonReport(stdout: string): { report: PythonReport; records: ConsumedRecord[] } {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const report = JSON.parse(line) as PythonReport;
  return { report, records: report.records.map((record) => ({ ...record, offset: BigInt(record.offset) })) };
}

/**
 * Runs one of the python/*_roundtrip.py scripts with /usr/bin/python3 against `bootstrapServers`
 * and returns its report. The script gets a deadline below the process timeout so it can fail
 * with its own message first.
 */
export async function runPythonRoundTrip(
  scriptName: string,
  bootstrapServers: string,
  topic: string,
  count = defaultMessageCount,
  keyCount = defaultKeyCount,
): Promise<{ report: PythonReport; records: ConsumedRecord[] }> {
  const script = compatSourceFile(`python/${scriptName}`);
  const processTimeoutMs = 25_000;
  const scriptTimeoutSeconds = (processTimeoutMs - 5_000) / 1000;
  const result = await runProcessOk(
    systemPython,
    [script, bootstrapServers, topic, String(count), String(keyCount), String(scriptTimeoutSeconds)],
    { timeoutMs: processTimeoutMs, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' } },
  );
  return parsePythonReport(result.stdout);
}
