/**
 * Starts `minikafka start` as a child process (so the load generator and the broker do not
 * share an event loop), waits for its ready line, and stops exactly that process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDirectory } from './bench-util.js';

export interface BrokerProcess {
  readonly pid: number;
  readonly bootstrapServers: string;
  readonly dataDir: string;
  /** Milliseconds from spawn to the ready line. */
  readonly readyMs: number;
  /** `host:port` of the admin endpoint when started with `faultInjection`, else null. */
  readonly adminAddress: string | null;
  stop(): Promise<void>;
  /**
   * kill -9 of the whole broker process, then a fresh one on the same data dir, listener ports
   * and admin port (needs `fixedPorts`); resolves once it is ready again.
   */
  crashAndRestart(downMs?: number): Promise<void>;
}

export interface BrokerProcessOptions {
  readonly nodes: number;
  /** Extra `node` flags for the broker, e.g. --cpu-prof. */
  readonly nodeArguments?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly readyTimeoutMs?: number;
  /** Kafka broker settings (`log.flush.policy`, ...), passed in a generated config file. */
  readonly brokerSettings?: Readonly<Record<string, unknown>>;
  /** Keep the data directory (default: removed on stop). */
  readonly keepData?: boolean;
  /** Serve the admin endpoint on an ephemeral port with fault injection (kill, restart, ...). */
  readonly faultInjection?: boolean;
  /** Listen on free ports chosen now (not ephemeral ones), so a restarted process keeps them. */
  readonly fixedPorts?: boolean;
}

/** The shipped CLI: the bundle built by scripts/bundle.mjs. */
export const cliPath = fileURLToPath(new URL('../bundle/main.js', import.meta.url));

/** Synchronous cleanups (kill a child we started, remove its scratch dir) still pending. */
const pendingCleanups = new Set<() => void>();
let exitHooksInstalled = false;

/**
 * Runs `cleanup` if this process exits (or is interrupted) before the returned function is
 * called, so an interrupted bench leaves no broker or redis-server behind.
 */
export function cleanupOnExit(cleanup: () => void): () => void {
  if (!exitHooksInstalled) {
    exitHooksInstalled = true;
    process.once('exit', () => {
      for (const pending of pendingCleanups) pending();
    });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => process.exit(130));
  }
  pendingCleanups.add(cleanup);
  return () => pendingCleanups.delete(cleanup);
}
const defaultReadyTimeoutMs = 20_000;
const stopTimeoutMs = 10_000;

export async function startBrokerProcess(options: BrokerProcessOptions): Promise<BrokerProcess> {
  const scratch = scratchDirectory('mk-bench-broker-');
  const dataDir = join(scratch.path, 'data');
  const configArguments: string[] = [];
  if (options.brokerSettings !== undefined) {
    const configFile = join(scratch.path, 'bench-config.json');
    writeFileSync(configFile, JSON.stringify({ broker: options.brokerSettings }));
    configArguments.push('--config', configFile);
  }
  const ports = options.fixedPorts === true ? await freePorts(options.nodes + 1) : null;
  const portArguments = ports === null ? ['--port', '0'] : ['--port', String(ports.base)];
  const adminArguments = options.faultInjection === true ? ['--admin-port', ports === null ? '0' : String(ports.admin), '--fault-injection'] : [];
  const spawnBroker = () =>
    spawn(
      process.execPath,
      [...(options.nodeArguments ?? []), cliPath, 'start', ...configArguments, ...['--nodes', String(options.nodes), ...portArguments, '--data-dir', dataDir, '--log-level', 'error'], ...adminArguments],
      { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env, cwd: scratch.path },
    );
  const started = performance.now();
  let child = spawnBroker();
  const forget = cleanupOnExit(() => {
    child.kill('SIGKILL');
    if (options.keepData !== true) scratch.remove();
  });
  let bootstrapServers: string;
  let adminAddress: string | null;
  try {
    ({ bootstrapServers, adminAddress } = await waitForReady(child, options.readyTimeoutMs ?? defaultReadyTimeoutMs));
  } catch (error) {
    child.kill('SIGKILL');
    scratch.remove();
    forget();
    throw error;
  }
  const readyMs = performance.now() - started;
  return {
    get pid() {
      return child.pid!;
    },
    bootstrapServers,
    dataDir,
    readyMs,
    adminAddress,
    async stop() {
      await stopChild(child);
      if (options.keepData !== true) scratch.remove();
      forget();
    },
    async crashAndRestart(downMs = 0) {
      if (ports === null) throw new Error('crashAndRestart needs fixedPorts');
      const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
      child.kill('SIGKILL');
      await exited;
      await new Promise((resolve) => setTimeout(resolve, downMs));
      child = spawnBroker();
      await waitForReady(child, options.readyTimeoutMs ?? defaultReadyTimeoutMs);
    },
  };
}

/** `count` free loopback ports in a row (listener base .. base+nodes-1, then the admin port). */
async function freePorts(count: number): Promise<{ base: number; admin: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all(Array.from({ length: count }, (_, index) => portIsFree(base + index)));
    if (free.every(Boolean)) return { base, admin: base + count - 1 };
  }
  throw new Error(`no ${count} free ports in a row found on 127.0.0.1`);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port }, () => server.close(() => resolve(true)));
  });
}

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<{ bootstrapServers: string; adminAddress: string | null }> {
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    const timer = setTimeout(() => reject(new Error(`broker printed no ready line within ${timeoutMs} ms: ${errors.trim()}`)), timeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => {
      if (errors.length < 10_000) errors += chunk.toString();
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready: .*bootstrap (\S+), data/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ bootstrapServers: match[1]!, adminAddress: /, admin (\S+?:\d+)/.exec(output)?.[1] ?? null });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with code ${code} before it was ready: ${errors.trim()}`));
    });
  });
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
