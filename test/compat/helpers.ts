/**
 * Shared pieces of the client compatibility suite: a 3-node broker on ephemeral loopback ports,
 * child processes with a time bound and captured output, tool checks that fail (never skip) with
 * an install hint, bounded wait loops, and the keyed-message workload every client runs.
 *
 * The broker runs in this process, so nothing here may block the event loop: children are always
 * spawned asynchronously (a `spawnSync` would starve the broker the child is talking to).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/**
 * Three nodes (partitions spread over three listeners), 3 partitions per topic, each replicated
 * to all three nodes with min.insync.replicas 2 (a Kafka production setup), loopback only.
 */
export async function startCompatBroker(options: StartBrokerOptions = {}): Promise<BrokerHandle> {
  return startBroker({
    nodes: 3,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'error',
    ...options,
    broker: { 'num.partitions': 3, 'auto.create.topics.enable': true, 'default.replication.factor': 3, 'min.insync.replicas': 2, ...options.broker },
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

// ---------------------------------------------------------------------------------------------
// Consumer groups (groups-*.test.ts): every member is a child process (Python, or a compiled
// groups-*.test.js re-run in member mode) that reports its assignment callbacks, the records it
// read and its commits as JSON lines, and takes "close" on stdin. The test process only creates
// topics, produces, and reads the broker's view (kafkajs admin), so every client runs the same
// scenario and a member can be SIGKILLed to stop its heartbeats.

/** Partitions of every group test topic. */
export const groupTopicPartitionCount = 6;
/** Lets the members ask for short sessions, so a killed member expires in seconds. */
export const groupTestBrokerSettings = { 'group.min.session.timeout.ms': 1000 } as const;
/** What every member asks for, unless a scenario overrides it. */
export const groupMemberTimings = { sessionTimeoutMs: 3_000, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 10_000 } as const;
/** Whole life of one member process; the member also gets it as its own deadline. */
export const groupMemberLifetimeMs = 110_000;
/** Bound for a member to report a clean close and exit. */
export const groupMemberCloseTimeoutMs = 15_000;
/** Bound for a group to settle (join, rebalance, take over) or to consume a phase of messages. */
export const groupSettleTimeoutMs = 20_000;
/** The measured rebalance after a clean leave must stay under this. */
export const maxLeaveRebalanceMs = 15_000;
/** Lines of member output kept for failure messages. */
const groupMemberStderrTailChars = 3_000;
const maxGroupMemberEvents = 10_000;
/** Events per member shown in failure messages. */
const summaryEventCount = 16;

/** "p3:100.. p5:50.." – where each run of records in one event starts. */
function describeRecordRuns(records: readonly GroupWireRecord[]): string {
  const firstOffsetOfPartition = new Map<number, string>();
  for (const record of records) if (!firstOffsetOfPartition.has(record.partition)) firstOffsetOfPartition.set(record.partition, String(record.offset));
  return [...firstOffsetOfPartition].map(([partition, offset]) => `p${partition}:${offset}..`).join(' ');
}

export type GroupAssignmentStrategy = 'range' | 'roundrobin' | 'cooperative-sticky';

export interface GroupMemberConfig {
  bootstrap: string;
  topic: string;
  groupId: string;
  /** Also the member's client.id, which DescribeGroups reports. */
  memberName: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  strategy: GroupAssignmentStrategy;
  groupInstanceId: string | null;
  deadlineSeconds: number;
}

/** One record as a member reports it; Node members send offsets as strings (int64). */
export interface GroupWireRecord {
  partition: number;
  offset: number | string;
  key: string | null;
  value: string | null;
}

export type GroupMemberEvent =
  | { event: 'subscribed' }
  | { event: 'assigned'; added: number[]; owned: number[] }
  | { event: 'revoked'; removed: number[]; owned: number[] }
  | { event: 'records'; records: GroupWireRecord[] }
  | { event: 'committed'; offsets: Record<string, number | string> }
  | { event: 'commit_failed'; message: string }
  | { event: 'closed' }
  | { event: 'fatal'; message: string };

export interface TimedGroupMemberEvent {
  receivedAtMs: number;
  event: GroupMemberEvent;
}

/**
 * How a member process reports and how it is closed. Our own members print GroupMemberEvent JSON
 * lines on stdout and close on "close" from stdin; other tools (kcat) get their own parsers.
 */
export interface GroupMemberOutputProtocol {
  parseStdoutLine(line: string): GroupMemberEvent | undefined;
  parseStderrLine(line: string): GroupMemberEvent | undefined;
  /** Set: a clean close is this signal and exit 0. Unset: "close" on stdin, a "closed" event, exit 0. */
  closeSignal?: NodeJS.Signals;
}

export const jsonLineMemberProtocol: GroupMemberOutputProtocol = {
  parseStdoutLine: (line) => (line.startsWith('{') ? (JSON.parse(line) as GroupMemberEvent) : undefined),
  parseStderrLine: () => undefined,
};

/** A member child process and everything it reported so far. */
export class GroupMemberProcess {
  readonly name: string;
  readonly startedAtMs: number;
  readonly events: TimedGroupMemberEvent[] = [];
  readonly records: ConsumedRecord[] = [];
  owned: ReadonlySet<number> = new Set();
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined = undefined;
  /** Set once we close or kill it, so its exit is not a failure. */
  exitExpected = false;
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private readonly changeListeners = new Set<() => void>();
  private readonly protocol: GroupMemberOutputProtocol;
  private stdoutRemainder = '';
  private stderrRemainder = '';
  private stderrTail = '';
  private readonly lifetimeTimer: NodeJS.Timeout;

  constructor(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv, protocol = jsonLineMemberProtocol) {
    this.name = name;
    this.protocol = protocol;
    this.startedAtMs = performance.now();
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdoutRemainder = this.onLines(this.stdoutRemainder + chunk, protocol.parseStdoutLine);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-groupMemberStderrTailChars);
      this.stderrRemainder = this.onLines(this.stderrRemainder + chunk, protocol.parseStderrLine);
    });
    this.child.stdin!.on('error', () => {});
    this.lifetimeTimer = setTimeout(() => this.child.kill('SIGKILL'), groupMemberLifetimeMs);
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => {
        this.stderrTail += `\ncannot run ${command}: ${error.message}`;
        this.exit ??= { code: null, signal: null };
        clearTimeout(this.lifetimeTimer);
        this.notify();
        resolve();
      });
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        clearTimeout(this.lifetimeTimer);
        this.notify();
        resolve();
      });
    });
  }

  /** Calls `listener` after every event and on exit; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Events received at or after `sinceMs`. */
  eventsSince(sinceMs: number): GroupMemberEvent[] {
    return this.events.filter((timed) => timed.receivedAtMs >= sinceMs).map((timed) => timed.event);
  }

  get fatalMessage(): string | undefined {
    for (const { event } of this.events) if (event.event === 'fatal') return event.message;
    return undefined;
  }

  /** Asks for a clean close ("close" on stdin, or the protocol's signal) and waits for it and exit 0. */
  async close(): Promise<void> {
    this.exitExpected = true;
    if (this.protocol.closeSignal === undefined) this.child.stdin!.write('close\n');
    else this.child.kill(this.protocol.closeSignal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), groupMemberCloseTimeoutMs);
    await this.exited;
    clearTimeout(timer);
    const closed = this.protocol.closeSignal !== undefined || this.events.some(({ event }) => event.event === 'closed');
    assert.ok(closed && this.exit?.code === 0, `${this.name} did not close cleanly within ${groupMemberCloseTimeoutMs} ms\n${this.summary()}`);
  }

  /** SIGKILL: no LeaveGroup, no more heartbeats. */
  async kill(): Promise<void> {
    this.exitExpected = true;
    if (this.exit === undefined) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** For finally blocks: kills the process (its own pid only) unless it already exited. */
  async stop(): Promise<void> {
    this.exitExpected = true;
    if (this.exit === undefined) this.child.kill('SIGKILL');
    await this.exited;
    this.child.stdin!.destroy();
  }

  summary(): string {
    const recent = this.events.slice(-summaryEventCount).map(({ receivedAtMs, event }) => {
      const text = event.event === 'records' ? `records x${event.records.length} from ${describeRecordRuns(event.records)}` : JSON.stringify(event);
      return `  +${Math.round(receivedAtMs - this.startedAtMs)} ms ${text.slice(0, 200)}`;
    });
    const exit = this.exit === undefined ? 'running' : `exited ${this.exit.code ?? this.exit.signal}`;
    return [
      `${this.name}: ${exit}, owns [${[...this.owned].join(',')}], ${this.records.length} records; last events:`,
      ...recent,
      `  stderr: ${this.stderrTail.trim().split('\n').slice(-12).join('\n          ')}`,
    ].join('\n');
  }

  /** Parses the complete lines of `text` into events; returns the incomplete tail. */
  private onLines(text: string, parse: (line: string) => GroupMemberEvent | undefined): string {
    const lines = text.split('\n');
    const remainder = lines.pop() ?? '';
    let changed = false;
    for (const line of lines) {
      const event = parse(line);
      if (event === undefined) continue;
      this.record(event);
      changed = true;
    }
    if (changed) this.notify();
    return remainder;
  }

  private record(event: GroupMemberEvent): void {
    if (this.events.length >= maxGroupMemberEvents) {
      this.child.kill('SIGKILL');
      return;
    }
    this.events.push({ receivedAtMs: performance.now(), event });
    if (event.event === 'assigned' || event.event === 'revoked') this.owned = new Set(event.owned);
    if (event.event === 'records') {
      for (const record of event.records) {
        this.records.push({ partition: record.partition, offset: BigInt(record.offset), key: record.key, value: record.value });
      }
    }
  }

  private notify(): void {
    for (const listener of this.changeListeners) listener();
  }
}

export function startPythonGroupMember(client: 'confluent-kafka-python' | 'kafka-python', config: GroupMemberConfig): GroupMemberProcess {
  const script = compatSourceFile('python/group_member.py');
  const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' };
  return new GroupMemberProcess(config.memberName, systemPython, [script, client, JSON.stringify(config)], env);
}

/** The environment variable that puts a compiled groups-*.test.js into member mode. */
export const groupMemberEnvironmentVariable = 'MINIKAFKA_COMPAT_GROUP_MEMBER';

/** Runs `entryFile` (a compiled groups-*.test.js) with node as one member. */
export function startNodeGroupMember(entryFile: string, config: GroupMemberConfig): GroupMemberProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, [groupMemberEnvironmentVariable]: JSON.stringify(config) };
  // Without this the child would think it is a node:test worker and report over stdout.
  delete env.NODE_TEST_CONTEXT;
  return new GroupMemberProcess(config.memberName, process.execPath, [entryFile], env);
}

/** `% Group g rebalanced (memberid m): assigned: topic [0], topic [3]` (kcat's rebalance callback, on stderr). */
const kcatRebalanceLine = /^% Group .* rebalanced \(memberid [^)]*\): (assigned|revoked): ?(.*)$/;

/** kcat -J output and rebalance lines as member events; kcat closes (commit, LeaveGroup) on SIGTERM. */
export const kcatMemberProtocol: GroupMemberOutputProtocol = {
  parseStdoutLine(line) {
    if (!line.startsWith('{')) return undefined;
    const record = JSON.parse(line) as { partition: number; offset: number; key: string | null; payload: string | null };
    return { event: 'records', records: [{ partition: record.partition, offset: record.offset, key: record.key, value: record.payload }] };
  },
  parseStderrLine(line) {
    const match = kcatRebalanceLine.exec(line);
    if (match === null) return undefined;
    const partitions = [...match[2]!.matchAll(/\[(\d+)\]/g)].map((found) => Number(found[1])).sort((a, b) => a - b);
    // kcat -G runs librdkafka's eager protocol here: an assignment replaces, a revocation empties.
    return match[1] === 'assigned' ? { event: 'assigned', added: partitions, owned: partitions } : { event: 'revoked', removed: partitions, owned: [] };
  },
  closeSignal: 'SIGTERM',
};

/**
 * kcat -G (librdkafka's balanced consumer) with unbuffered JSON output. It auto-commits every 5 s
 * (librdkafka's default): kcat gives `-X auto.commit.interval.ms` to the legacy topic-level
 * property of that name, so the consumer's interval cannot be shortened from the command line.
 */
export function startKcatGroupMember(config: GroupMemberConfig): GroupMemberProcess {
  assert.ok(config.groupInstanceId === null && config.strategy !== 'cooperative-sticky', 'the kcat member runs eager, dynamic membership');
  const settings = {
    'client.id': config.memberName,
    'session.timeout.ms': config.sessionTimeoutMs,
    'heartbeat.interval.ms': config.heartbeatIntervalMs,
    'max.poll.interval.ms': Math.max(config.rebalanceTimeoutMs, config.sessionTimeoutMs),
    'partition.assignment.strategy': config.strategy,
    'enable.auto.commit': 'true',
    'fetch.wait.max.ms': 100,
    'topic.metadata.refresh.interval.ms': 1000,
    // Not `-o beginning`: in -G mode kcat applies -o to every assigned partition, over the commits.
    'auto.offset.reset': 'earliest',
  };
  const args = ['-b', config.bootstrap, '-G', config.groupId, '-J', '-u'];
  for (const [key, value] of Object.entries(settings)) args.push('-X', `${key}=${value}`);
  args.push(config.topic);
  return new GroupMemberProcess(config.memberName, requireCommand('kcat'), args, process.env, kcatMemberProtocol);
}

/** In a member child, the config it was started with; undefined in the test process. */
export function groupMemberConfigFromEnvironment(): GroupMemberConfig | undefined {
  const text = process.env[groupMemberEnvironmentVariable];
  return text === undefined ? undefined : (JSON.parse(text) as GroupMemberConfig);
}

export interface RunningGroupMember {
  /** Clean close: commit what is pending and leave the group. */
  close(): Promise<void>;
}

export type GroupMemberStarter = (config: GroupMemberConfig, emit: (event: GroupMemberEvent) => void) => Promise<RunningGroupMember>;

/**
 * The member side for Node clients: starts the member, reports on stdout (synchronous on a pipe),
 * and on "close" or end of stdin closes it and exits. Errors and the deadline exit 1.
 */
export async function serveGroupMember(config: GroupMemberConfig, start: GroupMemberStarter): Promise<void> {
  const emit = (event: GroupMemberEvent) => {
    process.stdout.write(`${JSON.stringify(event)}\n`);
  };
  const die = (message: string) => {
    emit({ event: 'fatal', message });
    process.exit(1);
  };
  process.on('uncaughtException', (error) => die(`uncaught: ${error.stack ?? error.message}`));
  process.on('unhandledRejection', (reason) => die(`unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}`));
  setTimeout(() => die('deadline reached before a close command'), config.deadlineSeconds * 1000);
  const closeRequested = new Promise<void>((resolve) => {
    let buffered = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.split('\n').some((line) => line.trim() === 'close')) resolve();
    });
    process.stdin.on('end', () => resolve());
  });
  const member = await start(config, emit);
  emit({ event: 'subscribed' });
  await closeRequested;
  await member.close();
  emit({ event: 'closed' });
  process.exit(0);
}

/** A member config with the shared timings; `overrides` for scenario specifics. */
export function groupMemberConfig(
  bootstrap: string,
  topic: string,
  groupId: string,
  memberName: string,
  strategy: GroupAssignmentStrategy,
  overrides: Partial<GroupMemberConfig> = {},
): GroupMemberConfig {
  return {
    bootstrap,
    topic,
    groupId,
    memberName,
    ...groupMemberTimings,
    strategy,
    groupInstanceId: null,
    deadlineSeconds: groupMemberLifetimeMs / 1000 - 5,
    ...overrides,
  };
}

/**
 * Waits, driven by member events, until `condition()` holds; returns the time (performance.now)
 * at which it first held. Fails at the timeout, or early when a member in `mustStayUp` exits or
 * reports a fatal error, with every member's recent events and stderr.
 */
export function waitForMembers(
  members: readonly GroupMemberProcess[],
  description: string,
  condition: () => boolean,
  timeoutMs = groupSettleTimeoutMs,
  mustStayUp: readonly GroupMemberProcess[] = members,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const unsubscribes: Array<() => void> = [];
    let settled = false;
    const finish = (error: Error | undefined, atMs: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const unsubscribe of unsubscribes) unsubscribe();
      if (error === undefined) resolve(atMs);
      else reject(error);
    };
    const explain = (why: string) => new Error(`${why} while waiting for ${description}\n${members.map((member) => member.summary()).join('\n')}`);
    const check = () => {
      if (condition()) {
        finish(undefined, performance.now());
        return;
      }
      const broken = mustStayUp.find((member) => member.fatalMessage !== undefined || (member.exit !== undefined && !member.exitExpected));
      if (broken !== undefined) finish(explain(`${broken.name} failed: ${broken.fatalMessage ?? 'exited'}`), 0);
    };
    const timer = setTimeout(() => finish(explain(`timed out after ${timeoutMs} ms`), 0), timeoutMs);
    for (const member of members) unsubscribes.push(member.onChange(check));
    check();
  });
}

/** True when the members' owned sets are disjoint, each non-empty, and cover 0..partitionCount-1. */
export function ownedSetsSplitTopic(members: readonly GroupMemberProcess[], partitionCount = groupTopicPartitionCount): boolean {
  const seen = new Set<number>();
  for (const member of members) {
    if (member.owned.size === 0) return false;
    for (const partition of member.owned) {
      if (seen.has(partition)) return false;
      seen.add(partition);
    }
  }
  if (seen.size !== partitionCount) return false;
  for (let partition = 0; partition < partitionCount; partition += 1) if (!seen.has(partition)) return false;
  return true;
}

/** Records of every member whose value belongs to `messages`. */
export function recordsOfPhase(members: readonly GroupMemberProcess[], messages: readonly KeyedMessage[]): ConsumedRecord[] {
  const values = new Set(messages.map((message) => message.value));
  return members.flatMap((member) => member.records.filter((record) => record.value !== null && values.has(record.value)));
}

/**
 * Exactly-once check for one phase of the keyed workload: `records` are exactly `expected` (no
 * loss, no duplicates); in each partition the offsets are dense from `firstOffsets` (0 when
 * absent), so nothing before a committed offset came back and nothing after it was skipped; each
 * key stays in one partition with growing sequence numbers. Returns the next offset per partition.
 */
export function assertKeyedDelivery(
  records: readonly ConsumedRecord[],
  expected: readonly KeyedMessage[],
  firstOffsets: ReadonlyMap<number, bigint> = new Map(),
): Map<number, bigint> {
  assert.equal(records.length, expected.length, `consumed ${records.length} records, produced ${expected.length}`);
  const expectedValues = new Set(expected.map((message) => message.value));
  const seenValues = new Set<string>();
  const sorted = [...records].sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  const partitionOfKey = new Map<string, number>();
  const lastSequenceOfKey = new Map<string, number>();
  const nextOffsetOfPartition = new Map<number, bigint>();
  for (const record of sorted) {
    assert.ok(record.key !== null && record.value !== null, `null key or value at ${record.partition}/${record.offset}`);
    assert.ok(expectedValues.has(record.value), `unexpected value ${record.value} at ${record.partition}/${record.offset}`);
    assert.ok(!seenValues.has(record.value), `duplicate value ${record.value} at ${record.partition}/${record.offset}`);
    seenValues.add(record.value);
    const match = /^(key-\d+)\/seq-(\d+)$/.exec(record.value);
    assert.ok(match !== null && match[1] === record.key, `value ${record.value} does not belong to key ${record.key}`);
    const expectedOffset = nextOffsetOfPartition.get(record.partition) ?? firstOffsets.get(record.partition) ?? 0n;
    assert.equal(record.offset, expectedOffset, `partition ${record.partition}: expected offset ${expectedOffset}, got ${record.offset}`);
    nextOffsetOfPartition.set(record.partition, expectedOffset + 1n);
    const partition = partitionOfKey.get(record.key);
    assert.ok(partition === undefined || partition === record.partition, `key ${record.key} is in partitions ${partition} and ${record.partition}`);
    partitionOfKey.set(record.key, record.partition);
    const sequence = Number(match[2]);
    const lastSequence = lastSequenceOfKey.get(record.key) ?? -1;
    assert.ok(sequence > lastSequence, `key ${record.key}: sequence ${sequence} after ${lastSequence} (offset ${record.offset})`);
    lastSequenceOfKey.set(record.key, sequence);
  }
  return nextOffsetOfPartition;
}

export interface GroupMemberView {
  memberId: string;
  clientId: string;
  partitions: number[];
}

/**
 * The broker side of a group test, through kafkajs (in this process): topic creation, keyed
 * produce with the Java-compatible partitioner, end and committed offsets, DescribeGroups.
 */
export interface GroupObserver {
  createTopic(topic: string, partitionCount: number): Promise<void>;
  produce(topic: string, messages: readonly KeyedMessage[]): Promise<void>;
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  /** Committed offset per partition; partitions without a commit are left out. */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>>;
  describeGroup(groupId: string, topic: string): Promise<{ state: string; protocol: string; members: GroupMemberView[] }>;
  close(): Promise<void>;
}

export async function openGroupObserver(bootstrapServers: string): Promise<GroupObserver> {
  const { Kafka, logLevel, Partitioners, AssignerProtocol } = (await import('kafkajs')).default;
  const kafka = new Kafka({ clientId: 'compat-group-observer', brokers: bootstrapServers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await admin.connect();
  await producer.connect();
  return {
    async createTopic(topic, partitionCount) {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitionCount, replicationFactor: 3 }], waitForLeaders: true });
    },
    async produce(topic, messages) {
      for (let start = 0; start < messages.length; start += 100) {
        await producer.send({ topic, acks: -1, messages: messages.slice(start, start + 100).map((message) => ({ ...message })) });
      }
    },
    async endOffsets(topic) {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((entry) => [entry.partition, BigInt(entry.high)]));
    },
    async committedOffsets(groupId, topic) {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const committed = new Map<number, bigint>();
      for (const partition of entry?.partitions ?? []) {
        if (BigInt(partition.offset) >= 0n) committed.set(partition.partition, BigInt(partition.offset));
      }
      return committed;
    },
    async describeGroup(groupId, topic) {
      const { groups } = await admin.describeGroups([groupId]);
      const group = groups[0];
      assert.ok(group !== undefined, `DescribeGroups returned nothing for ${groupId}`);
      const members = group.members.map((member) => {
        const assignment = member.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(member.memberAssignment) : null;
        return { memberId: member.memberId, clientId: member.clientId, partitions: [...(assignment?.assignment[topic] ?? [])].sort((a, b) => a - b) };
      });
      return { state: group.state, protocol: group.protocol, members };
    },
    async close() {
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}

/** Waits until the group has committed `offsets` (typically the end offsets) for every partition. */
export async function waitForCommittedOffsets(
  observer: GroupObserver,
  groupId: string,
  topic: string,
  offsets: ReadonlyMap<number, bigint>,
  timeoutMs = groupSettleTimeoutMs,
): Promise<Map<number, bigint>> {
  let last = new Map<number, bigint>();
  try {
    return await waitFor(
      `group ${groupId} to commit ${formatOffsets(offsets)}`,
      async () => {
        last = await observer.committedOffsets(groupId, topic);
        return [...offsets].every(([partition, offset]) => last.get(partition) === offset) ? last : undefined;
      },
      { timeoutMs, intervalMs: 200 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last committed: ${formatOffsets(last)}`);
  }
}

/** Waits until DescribeGroups shows the group Stable with the members' own assignments, by client id. */
export async function waitForStableGroup(
  observer: GroupObserver,
  groupId: string,
  topic: string,
  members: readonly GroupMemberProcess[],
  timeoutMs = groupSettleTimeoutMs,
): Promise<GroupMemberView[]> {
  let last = '';
  try {
    return await waitFor(
      `DescribeGroups to show ${groupId} Stable with ${members.length} members`,
      async () => {
        const group = await observer.describeGroup(groupId, topic);
        last = JSON.stringify(group);
        if (group.state !== 'Stable' || group.members.length !== members.length) return undefined;
        for (const member of members) {
          const view = group.members.find((candidate) => candidate.clientId === member.name);
          if (view === undefined || view.partitions.join(',') !== [...member.owned].sort((a, b) => a - b).join(',')) return undefined;
        }
        return group.members;
      },
      { timeoutMs, intervalMs: 200 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last: ${last}\n${members.map((member) => member.summary()).join('\n')}`);
  }
}

export function formatOffsets(offsets: ReadonlyMap<number, bigint>): string {
  return `{${[...offsets].sort(([a], [b]) => a - b).map(([partition, offset]) => `${partition}:${offset}`).join(' ')}}`;
}

/** Per member, the offset ranges it read of `phase` in each partition, for failure messages. */
export function describePhaseReads(members: readonly GroupMemberProcess[], phase: readonly KeyedMessage[]): string {
  return members
    .map((member) => {
      const ranges = new Map<number, bigint[]>();
      for (const record of recordsOfPhase([member], phase)) ranges.set(record.partition, [...(ranges.get(record.partition) ?? []), record.offset]);
      const text = [...ranges]
        .sort(([a], [b]) => a - b)
        .map(([partition, offsets]) => `p${partition}: ${offsets.length} records ${offsets[0]}..${offsets.at(-1)}`)
        .join('; ');
      return `  ${member.name}: ${text || 'nothing'}`;
    })
    .join('\n');
}

/**
 * assertKeyedDelivery over what `members` read of `phase` (or, with `everythingRead`, over all they
 * read, so a record of an earlier phase read again fails too), explaining who read what on failure.
 */
export function assertPhaseDelivery(
  members: readonly GroupMemberProcess[],
  phase: readonly KeyedMessage[],
  firstOffsets: ReadonlyMap<number, bigint> = new Map(),
  everythingRead = false,
): Map<number, bigint> {
  try {
    const records = everythingRead ? members.flatMap((member) => member.records) : recordsOfPhase(members, phase);
    return assertKeyedDelivery(records, phase, firstOffsets);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`${why}\nfirst offsets ${formatOffsets(firstOffsets)}; reads:\n${describePhaseReads(members, phase)}\n${members.map((member) => member.summary()).join('\n')}`);
  }
}

/** Keys of the group workload: enough that murmur2 puts data in each of the six partitions. */
export const groupKeyCount = 24;

/** The client a group scenario runs: how to start one member. */
export interface GroupClientUnderTest {
  /** Short name for topics, groups, member client ids and the printed figures. */
  name: string;
  strategy: GroupAssignmentStrategy;
  startMember(config: GroupMemberConfig): GroupMemberProcess;
  /**
   * How long to wait after a rebalance before producing more, for a client that hands the app the
   * records of a Fetch sent under its old assignment (a client-side race, the same against Kafka).
   */
  quietAfterRebalanceMs?: number;
}

/** When `member` last reported an assignment (performance.now), or -Infinity. */
export function lastAssignedAtMs(member: GroupMemberProcess): number {
  for (let index = member.events.length - 1; index >= 0; index -= 1) {
    const timed = member.events[index]!;
    if (timed.event.event === 'assigned') return timed.receivedAtMs;
  }
  return Number.NEGATIVE_INFINITY;
}

/** Every record a member read lies in a partition it owns now. */
export function assertConsumedOnlyOwned(member: GroupMemberProcess, since: number = 0): void {
  for (const record of member.records.slice(since)) {
    assert.ok(member.owned.has(record.partition), `${member.name} read partition ${record.partition} but owns [${[...member.owned].join(',')}]`);
  }
}

/**
 * Starts waiting (driven by member events) until each of `members` got an assignment after
 * `sinceMs` and together they own every partition once; resolves to when the last of those
 * assignments arrived. The wait starts before the caller triggers the rebalance, so it is timed
 * from the events themselves.
 */
export function waitForTakeover(members: readonly GroupMemberProcess[], sinceMs: number, description: string, timeoutMs = groupSettleTimeoutMs): Promise<number> {
  const settled = waitForMembers(
    members,
    description,
    () => members.every((member) => lastAssignedAtMs(member) >= sinceMs) && ownedSetsSplitTopic(members),
    timeoutMs,
  ).then(() => Math.max(...members.map(lastAssignedAtMs)));
  settled.catch(() => {}); // awaited by the caller; this only keeps it from counting as unhandled meanwhile
  return settled;
}

/** Waits until `members` together read all of `phase` (or more, which the delivery check then rejects). */
export async function waitForPhase(members: readonly GroupMemberProcess[], phase: readonly KeyedMessage[], description: string, mustStayUp = members): Promise<void> {
  await waitForMembers(members, description, () => recordsOfPhase(members, phase).length >= phase.length, groupSettleTimeoutMs, mustStayUp);
}

export interface SplitLeaveCrashReport {
  /** From sending "close" to the leaving member until the survivors' last new assignment. */
  leaveRebalanceMs: number;
  /** How long the leaving member took to close and exit. */
  leaveCloseMs: number;
  /** From SIGKILL of a member until the last member's new assignment (a session timeout). */
  crashTakeoverMs: number;
}

/**
 * Scenarios 1-3 for one client: three members split six partitions and read 600 keyed messages
 * exactly once; one closes cleanly and the two others take over (timed); one is SIGKILLed and the
 * last takes over after the session timeout. Each phase of messages is read exactly once, from the
 * committed offsets on, by whoever owns the partition.
 */
export async function runSplitLeaveCrashScenario(client: GroupClientUnderTest): Promise<SplitLeaveCrashReport> {
  const broker = await startCompatBroker({ broker: { ...groupTestBrokerSettings } });
  const members: GroupMemberProcess[] = [];
  let observer: GroupObserver | undefined;
  try {
    observer = await openGroupObserver(broker.bootstrapServers);
    const topic = uniqueTopic(`groups-${client.name}`);
    const groupId = uniqueTopic(`group-${client.name}`);
    await observer.createTopic(topic, groupTopicPartitionCount);
    const messages = keyedMessages(1200, groupKeyCount);
    const phases = [messages.slice(0, 600), messages.slice(600, 900), messages.slice(900)] as const;
    for (let index = 0; index < 3; index += 1) {
      members.push(client.startMember(groupMemberConfig(broker.bootstrapServers, topic, groupId, `${client.name}-member-${index}`, client.strategy)));
    }

    // 1. Three members split the partitions and read everything once.
    await waitForMembers(members, 'three members to split the six partitions', () => ownedSetsSplitTopic(members));
    await waitForStableGroup(observer, groupId, topic, members);
    await observer.produce(topic, phases[0]);
    await waitForPhase(members, phases[0], 'the group to read phase 1');
    const afterPhase1 = assertPhaseDelivery(members, phases[0]);
    assert.equal(afterPhase1.size, groupTopicPartitionCount, 'phase 1 put data in every partition');
    for (const member of members) assertConsumedOnlyOwned(member);
    await waitForCommittedOffsets(observer, groupId, topic, afterPhase1);

    // 2. A clean close (LeaveGroup): the two others take over its partitions.
    const [leaver, ...survivors] = members as [GroupMemberProcess, GroupMemberProcess, GroupMemberProcess];
    const leaveStartMs = performance.now();
    const takeover = waitForTakeover(survivors, leaveStartMs, `the survivors to take over ${leaver.name}'s partitions`);
    await leaver.close();
    const leaveCloseMs = performance.now() - leaveStartMs;
    const leaveRebalanceMs = (await takeover) - leaveStartMs;
    assert.ok(leaveRebalanceMs < maxLeaveRebalanceMs, `rebalance after a clean leave took ${leaveRebalanceMs} ms`);
    await waitForStableGroup(observer, groupId, topic, survivors);
    await sleep(client.quietAfterRebalanceMs ?? 0);
    const survivorRecordCounts = survivors.map((member) => member.records.length);
    await observer.produce(topic, phases[1]);
    await waitForPhase(survivors, phases[1], 'the survivors to read phase 2');
    const afterPhase2 = assertPhaseDelivery(members, phases[1], afterPhase1);
    survivors.forEach((member, index) => assertConsumedOnlyOwned(member, survivorRecordCounts[index]));
    await waitForCommittedOffsets(observer, groupId, topic, afterPhase2);

    // 3. A member stops heartbeating (SIGKILL): the last one takes over after the session timeout.
    const [victim, last] = survivors as [GroupMemberProcess, GroupMemberProcess];
    const killAtMs = performance.now();
    const crashTakeover = waitForTakeover([last], killAtMs, `${last.name} to take over after ${victim.name} died`, groupMemberTimings.sessionTimeoutMs + groupSettleTimeoutMs);
    await victim.kill();
    await observer.produce(topic, phases[2]);
    const crashTakeoverMs = (await crashTakeover) - killAtMs;
    // The victim's last heartbeat went out up to an interval (plus, for kafkajs, a Fetch wait)
    // before the kill; an expiry much earlier than the session timeout would be a broker bug.
    const earliestExpiryMs = groupMemberTimings.sessionTimeoutMs - 2 * groupMemberTimings.heartbeatIntervalMs - 200;
    assert.ok(crashTakeoverMs >= earliestExpiryMs, `takeover ${crashTakeoverMs} ms after the kill, before the session could expire`);
    await waitForPhase([last], phases[2], `${last.name} to read phase 3`);
    await waitForCommittedOffsets(observer, groupId, topic, assertPhaseDelivery(members, phases[2], afterPhase2));

    // Nothing arrived twice later on either.
    assertPhaseDelivery(members, phases[0]);
    assertPhaseDelivery(members, phases[1], afterPhase1);
    return { leaveRebalanceMs: Math.round(leaveRebalanceMs), leaveCloseMs: Math.round(leaveCloseMs), crashTakeoverMs: Math.round(crashTakeoverMs) };
  } finally {
    await Promise.all(members.map((member) => member.stop()));
    await observer?.close().catch(() => {});
    await broker.stop();
  }
}

/**
 * Scenarios 4-5 for one client: a member reads and commits 300 messages and closes; a new member
 * of the group reads exactly the next 300 from the committed offsets; then the broker stops and
 * starts again on the same data dir (new ports), the committed offsets are back, and a third
 * member reads exactly the 300 produced before the restart, from those offsets.
 */
export async function runResumeScenario(client: GroupClientUnderTest): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'minikafka-groups-'));
  const members: GroupMemberProcess[] = [];
  let broker: BrokerHandle | undefined;
  let observer: GroupObserver | undefined;
  try {
    broker = await startCompatBroker({ dataDir, broker: { ...groupTestBrokerSettings } });
    observer = await openGroupObserver(broker.bootstrapServers);
    const topic = uniqueTopic(`groups-resume-${client.name}`);
    const groupId = uniqueTopic(`group-resume-${client.name}`);
    await observer.createTopic(topic, groupTopicPartitionCount);
    const messages = keyedMessages(900, groupKeyCount);
    const phases = [messages.slice(0, 300), messages.slice(300, 600), messages.slice(600)] as const;
    const start = (name: string) => {
      const member = client.startMember(groupMemberConfig(broker!.bootstrapServers, topic, groupId, `${client.name}-${name}`, client.strategy));
      members.push(member);
      return member;
    };

    await observer.produce(topic, phases[0]);
    const first = start('resume-first');
    await waitForPhase([first], phases[0], `${first.name} to read phase 1`);
    const afterPhase1 = assertPhaseDelivery([first], phases[0]);
    await waitForCommittedOffsets(observer, groupId, topic, afterPhase1);
    await first.close();

    // 5. The restarted consumer resumes at the committed offsets.
    await observer.produce(topic, phases[1]);
    const second = start('resume-second');
    await waitForMembers([second], `${second.name} to read phase 2`, () => second.records.length >= phases[1].length);
    const afterPhase2 = assertPhaseDelivery([second], phases[1], afterPhase1, true);
    await waitForCommittedOffsets(observer, groupId, topic, afterPhase2);
    await second.close();

    // 4. The committed offsets survive a broker restart on the same data dir.
    await observer.produce(topic, phases[2]);
    await observer.close();
    observer = undefined;
    await broker.stop();
    broker = undefined;
    broker = await startCompatBroker({ dataDir, broker: { ...groupTestBrokerSettings } });
    observer = await openGroupObserver(broker.bootstrapServers);
    await waitForCommittedOffsets(observer, groupId, topic, afterPhase2);
    const third = start('resume-after-restart');
    await waitForMembers([third], `${third.name} to read phase 3 after the restart`, () => third.records.length >= phases[2].length);
    const afterPhase3 = assertPhaseDelivery([third], phases[2], afterPhase2, true);
    await waitForCommittedOffsets(observer, groupId, topic, afterPhase3);
    await third.close();
  } finally {
    await Promise.all(members.map((member) => member.stop()));
    await observer?.close().catch(() => {});
    await broker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
