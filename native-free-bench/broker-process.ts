/**
 * Starts `minikafka start` as a child process (so the load generator and the broker do not
 * share an event loop), waits for its ready line, and stops exactly that process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArguments ?? []),
      cliPath,
      'start',
      ...configArguments,
      ...['--nodes', String(options.nodes), '--port', '0', '--data-dir', dataDir, '--log-level', 'error'],
      ...(options.faultInjection === true ? ['--admin-port', '0', '--fault-injection'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env, cwd: scratch.path },
  );
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
    pid: child.pid!,
    bootstrapServers,
    dataDir,
    readyMs,
    adminAddress,
    async stop() {
      await stopChild(child);
      if (options.keepData !== true) scratch.remove();
      forget();
    },
  };
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
