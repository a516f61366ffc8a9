/**
 * Embedding: `startBroker(options)` runs a broker in this process. Defaults suit test suites:
 * one node, ephemeral ports on 127.0.0.1, a temporary data dir removed by `stop()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, loadConfigFile, validateConfig, type BrokerConfig } from './config/broker-config.js';
import type { LogLevel } from './runtime/logger.js';
import { Broker } from './server/broker.js';

export interface StartBrokerOptions {
  /** Node identities (default 1). */
  nodes?: number;
  /** First listener port; 0 (default) gives each node an ephemeral port. */
  port?: number;
  host?: string;
  /** Data directory; default: a new temporary directory, deleted by stop(). */
  dataDir?: string;
  /** A JSON config file to start from. */
  configFile?: string;
  /** Kafka broker settings, e.g. { 'num.partitions': 3 }. */
  broker?: Record<string, unknown>;
  logLevel?: LogLevel;
}

export interface BrokerHandle {
  /** `host:port,host:port,...` of every node, for any Kafka client. */
  readonly bootstrapServers: string;
  readonly nodes: ReadonlyArray<{ nodeId: number; host: string; port: number }>;
  readonly dataDir: string;
  readonly config: BrokerConfig;
  /** Flushes, checkpoints and stops; removes the data dir if it was temporary. */
  stop(): Promise<void>;
}

export async function startBroker(options: StartBrokerOptions = {}): Promise<BrokerHandle> {
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'minikafka-'));
  const base = options.configFile === undefined ? { ...defaultConfig(), nodes: 1, port: 0, logLevel: 'warn' as LogLevel } : loadConfigFile(options.configFile);
  const overrides: Record<string, unknown> = { dataDir };
  for (const key of ['nodes', 'port', 'host', 'logLevel', 'broker'] as const) {
    if (options[key] !== undefined) overrides[key] = options[key];
  }
  const config = validateConfig(overrides, base, 'startBroker options');
  let broker: Broker;
  try {
    broker = await Broker.start(config);
  } catch (error) {
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    bootstrapServers: broker.bootstrapServers,
    nodes: broker.listeners,
    dataDir,
    config,
    async stop() {
      await broker.stop();
      if (temporary) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
