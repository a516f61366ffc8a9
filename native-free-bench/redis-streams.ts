/**
 * Redis Streams beside the broker: starts the Debian `redis-server` (AOF on, `appendfsync
 * everysec`, no RDB snapshots, no AOF rewrites during the run, a temp dir, 127.0.0.1 on a free
 * port), and measures with a minimal RESP client over node:net (no npm dependency):
 *
 * - XADD throughput: the same 100-byte payload, pipelined like our producer (up to
 *   `inFlight` groups of `recordsPerGroup` commands outstanding, one write per group);
 * - e2e latency: XADD at a constant rate (the same coordinated-omission-free schedule as the
 *   load generator, the send time in the first 8 bytes of the value) and XREAD BLOCK on a
 *   second connection; the receive time minus the send time goes into the same histogram.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { perfClock } from '../src/perf/clock.js';
import { LatencyHistogram, type LatencySummary } from '../src/perf/histogram.js';
import { RateLimiter } from '../src/perf/rate-limiter.js';
import { cleanupOnExit } from './broker-process.js';

const readyTimeoutMs = 10_000;
const stopTimeoutMs = 10_000;
const operationTimeoutMs = 120_000;
const sendTimeBytes = 8;
const xreadCount = 10_000;
const xreadBlockMs = 1000;
const crlf = Buffer.from('\r\n');

export function redisServerVersion(): string | null {
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  if (which.status !== 0 || which.stdout.trim() === '') return null;
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return /v=(\S+)/.exec(version.stdout)?.[1] ?? 'unknown';
}

export interface RedisServer {
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
}

/** Binds port 0, reads the port the OS chose, and frees it for redis-server. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startRedisServer(): Promise<RedisServer> {
  const directory = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'mk-bench-redis-'));
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', directory, '--save', ''],
      ...['--appendonly', 'yes', '--appendfsync', 'everysec', '--auto-aof-rewrite-percentage', '0'],
      ...['--daemonize', 'no', '--protected-mode', 'no', '--logfile', ''],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const forget = cleanupOnExit(() => {
    child.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });
  const stop = async (): Promise<void> => {
    await stopChild(child);
    rmSync(directory, { recursive: true, force: true });
    forget();
  };
  try {
    await waitForPing(port, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid!, port, stop };
}

async function waitForPing(port: number, child: ChildProcess): Promise<void> {
  const deadline = performance.now() + readyTimeoutMs;
  for (let attempt = 0; performance.now() < deadline; attempt++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    try {
      const connection = await RespConnection.connect(port);
      try {
        const reply = await connection.command(['PING']);
        if (reply === 'PONG') return;
      } finally {
        connection.close();
      }
    } catch {
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, 10 * 2 ** attempt)));
    }
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${readyTimeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A RESP2 reply: simple string, integer, bulk string (Buffer), null, or array. */
type RespValue = string | number | Buffer | null | RespValue[];

class RespError extends Error {}

/** Where a parse stopped: the value and the offset after it, or `incomplete`. */
const incomplete = Symbol('incomplete');

function parseLine(buffer: Buffer, offset: number): { line: string; next: number } | typeof incomplete {
  const end = buffer.indexOf(crlf, offset);
  if (end < 0) return incomplete;
  return { line: buffer.toString('latin1', offset + 1, end), next: end + 2 };
}

/** Parses one complete reply at `offset` (a stream parser re-runs it once more bytes arrive). */
function parseReply(buffer: Buffer, offset: number): { value: RespValue; next: number } | typeof incomplete {
  if (offset >= buffer.length) return incomplete;
  const header = parseLine(buffer, offset);
  if (header === incomplete) return incomplete;
  const type = buffer[offset];
  switch (type) {
    case 0x2b: // +
      return { value: header.line, next: header.next };
    case 0x2d: // -
      throw new RespError(header.line);
    case 0x3a: // :
      return { value: Number(header.line), next: header.next };
    case 0x24: {
      // $
      const length = Number(header.line);
      if (length < 0) return { value: null, next: header.next };
      if (header.next + length + 2 > buffer.length) return incomplete;
      return { value: buffer.subarray(header.next, header.next + length), next: header.next + length + 2 };
    }
    case 0x2a: {
      // *
      const count = Number(header.line);
      if (count < 0) return { value: null, next: header.next };
      const items: RespValue[] = [];
      let next = header.next;
      for (let index = 0; index < count; index++) {
        const item = parseReply(buffer, next);
        if (item === incomplete) return incomplete;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new RespError(`unexpected RESP type byte ${type}`);
  }
}

/** Encodes one command as a RESP array of bulk strings. */
function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, crlf);
  }
  return Buffer.concat(parts);
}

/**
 * One connection, replies matched to commands in order. `command` resolves with the reply;
 * `pipeline` sends many commands in one write and resolves when all their replies are in,
 * skipping over them without building values (the XADD throughput path).
 */
class RespConnection {
  private readonly socket: net.Socket;
  private pending: Buffer = Buffer.alloc(0);
  private readonly waiters: Array<{ count: number; keep: boolean; values: RespValue[]; resolve: (values: RespValue[]) => void; reject: (error: Error) => void }> = [];
  private failure: Error | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.failAll(error));
    socket.on('close', () => this.failAll(new Error('redis connection closed')));
  }

  static connect(port: number): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        resolve(new RespConnection(socket));
      });
    });
  }

  async command(args: readonly (string | Buffer)[]): Promise<RespValue> {
    const [value] = await this.send(encodeCommand(args), 1, true);
    return value!;
  }

  /** Sends `bytes` holding `count` commands; resolves once all their replies arrived. */
  pipeline(bytes: Buffer, count: number): Promise<void> {
    return this.send(bytes, count, false).then(() => undefined);
  }

  close(): void {
    this.socket.destroy();
  }

  private send(bytes: Buffer, count: number, keep: boolean): Promise<RespValue[]> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.push({ count, keep, values: [], resolve, reject });
      this.socket.write(bytes);
    });
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    try {
      while (this.waiters.length > 0) {
        const waiter = this.waiters[0]!;
        const parsed = waiter.keep ? parseReply(this.pending, offset) : skipReply(this.pending, offset);
        if (parsed === incomplete) break;
        offset = parsed.next;
        if (waiter.keep) waiter.values.push(parsed.value);
        waiter.count--;
        if (waiter.count === 0) {
          this.waiters.shift();
          waiter.resolve(waiter.values);
        }
      }
    } catch (error) {
      this.failAll(error as Error);
      this.socket.destroy();
      return;
    }
    this.pending = offset >= this.pending.length ? Buffer.alloc(0) : this.pending.subarray(offset);
  }

  private failAll(error: Error): void {
    if (this.failure === null) this.failure = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

/** Skips a simple reply (status, integer or bulk string) without building a value. */
function skipReply(buffer: Buffer, offset: number): { value: null; next: number } | typeof incomplete {
  if (offset >= buffer.length) return incomplete;
  const type = buffer[offset];
  if (type === 0x2a) {
    const parsed = parseReply(buffer, offset);
    return parsed === incomplete ? incomplete : { value: null, next: parsed.next };
  }
  const end = buffer.indexOf(crlf, offset);
  if (end < 0) return incomplete;
  if (type === 0x2d) throw new RespError(buffer.toString('latin1', offset + 1, end));
  if (type !== 0x24) return { value: null, next: end + 2 };
  const length = Number(buffer.toString('latin1', offset + 1, end));
  if (length < 0) return { value: null, next: end + 2 };
  const next = end + 2 + length + 2;
  return next > buffer.length ? incomplete : { value: null, next };
}

function xaddCommand(stream: string, value: Buffer): Buffer {
  return encodeCommand(['XADD', stream, '*', 'v', value]);
}

export interface XaddThroughput {
  readonly messages: number;
  readonly messagesPerSecond: number;
  readonly megabytesPerSecond: number;
}

/** XADD of `messages` values of `valueBytes`, pipelined as groups of `recordsPerGroup`, `inFlight` groups outstanding. */
export async function measureXaddThroughput(port: number, options: { messages: number; valueBytes: number; recordsPerGroup: number; inFlight: number }): Promise<XaddThroughput> {
  const connection = await RespConnection.connect(port);
  const stream = `bench-xadd-${process.pid}-${Date.now()}`;
  try {
    const value = Buffer.alloc(options.valueBytes, 0x61);
    const oneCommand = xaddCommand(stream, value);
    const groups = Math.ceil(options.messages / options.recordsPerGroup);
    const groupBytes = Buffer.concat(Array.from({ length: options.recordsPerGroup }, () => oneCommand));
    const deadline = performance.now() + operationTimeoutMs;
    const started = performance.now();
    const outstanding = new Set<Promise<void>>();
    for (let group = 0; group < groups; group++) {
      const count = Math.min(options.recordsPerGroup, options.messages - group * options.recordsPerGroup);
      const bytes = count === options.recordsPerGroup ? groupBytes : groupBytes.subarray(0, count * oneCommand.length);
      const sent = connection.pipeline(bytes, count);
      outstanding.add(sent);
      void sent.finally(() => outstanding.delete(sent)).catch(() => undefined);
      if (outstanding.size >= options.inFlight) await Promise.race(outstanding);
      if (performance.now() > deadline) throw new Error('XADD throughput run exceeded its time bound');
    }
    await Promise.all(outstanding);
    const seconds = (performance.now() - started) / 1000;
    return {
      messages: options.messages,
      messagesPerSecond: options.messages / seconds,
      megabytesPerSecond: (options.messages * options.valueBytes) / 1e6 / seconds,
    };
  } finally {
    await connection.command(['DEL', stream]).catch(() => undefined);
    connection.close();
  }
}

export async function setAppendFsync(port: number, policy: 'everysec' | 'always'): Promise<void> {
  const connection = await RespConnection.connect(port);
  try {
    const reply = await connection.command(['CONFIG', 'SET', 'appendfsync', policy]);
    if (reply !== 'OK') throw new Error(`CONFIG SET appendfsync ${policy}: ${String(reply)}`);
  } finally {
    connection.close();
  }
}

export interface RedisEndToEnd {
  readonly messages: number;
  readonly latency: LatencySummary;
}

/**
 * XADD at `ratePerSecond` for `warmupS + durationS` (latency measured after warm-up) while a
 * second connection XREAD BLOCKs on the stream; bounded by a drain timeout at the end.
 */
export async function measureRedisEndToEnd(port: number, options: { ratePerSecond: number; durationS: number; warmupS: number; valueBytes: number }): Promise<RedisEndToEnd> {
  const stream = `bench-e2e-${process.pid}-${Date.now()}`;
  const producer = await RespConnection.connect(port);
  const consumer = await RespConnection.connect(port);
  const latency = new LatencyHistogram();
  const clock = perfClock;
  try {
    const startMs = clock.nowMs();
    const measureStartMs = startMs + options.warmupS * 1000;
    const endMs = measureStartMs + options.durationS * 1000;
    const total = Math.floor(((endMs - startMs) / 1000) * options.ratePerSecond);
    let received = 0;
    const reading = readStream(consumer, stream, (value, receivedMs) => {
      received++;
      const sentAtMs = value.readDoubleBE(0);
      if (sentAtMs >= measureStartMs) latency.recordMs(receivedMs - sentAtMs);
    }, () => received >= total, endMs + operationTimeoutMs / 4);
    await produceAtRate(producer, stream, options.ratePerSecond, total, options.valueBytes, startMs);
    await reading;
    return { messages: latency.count, latency: latency.summary() };
  } finally {
    await producer.command(['DEL', stream]).catch(() => undefined);
    producer.close();
    consumer.close();
  }
}

async function produceAtRate(connection: RespConnection, stream: string, ratePerSecond: number, total: number, valueBytes: number, startMs: number): Promise<void> {
  const limiter = new RateLimiter(ratePerSecond, perfClock, startMs);
  const value = Buffer.alloc(Math.max(valueBytes, sendTimeBytes), 0x61);
  const template = xaddCommand(stream, value);
  // The value is the last argument: its bytes end 2 bytes (CRLF) before the command ends.
  const valueAt = template.length - 2 - value.length;
  const outstanding = new Set<Promise<void>>();
  while (limiter.released < total) {
    const due = limiter.due(total - limiter.released);
    if (due > 0) {
      const commands = Buffer.allocUnsafe(due * template.length);
      for (let index = 0; index < due; index++) {
        template.copy(commands, index * template.length);
        commands.writeDoubleBE(limiter.intendedTimeMs(limiter.released + index), index * template.length + valueAt);
      }
      limiter.release(due);
      const sent = connection.pipeline(commands, due);
      outstanding.add(sent);
      void sent.finally(() => outstanding.delete(sent)).catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.floor(limiter.delayUntilNextMs()))));
  }
  await Promise.all(outstanding);
}

async function readStream(
  connection: RespConnection,
  stream: string,
  onValue: (value: Buffer, receivedMs: number) => void,
  done: () => boolean,
  deadlineMs: number,
): Promise<void> {
  // A fresh stream read from its start: nothing can slip in before the first XREAD.
  let lastId = '0-0';
  while (!done()) {
    if (perfClock.nowMs() > deadlineMs) throw new Error('XREAD did not receive every entry in time');
    const reply = await connection.command(['XREAD', 'COUNT', String(xreadCount), 'BLOCK', String(xreadBlockMs), 'STREAMS', stream, lastId]);
    const receivedMs = perfClock.nowMs();
    if (reply === null) continue;
    // [[stream, [[id, [field, value]], ...]]]
    const entries = ((reply as RespValue[])[0] as RespValue[])[1] as RespValue[];
    for (const entry of entries) {
      const [id, fields] = entry as [Buffer, RespValue[]];
      onValue(fields[1] as Buffer, receivedMs);
      lastId = id.toString('latin1');
    }
  }
}
