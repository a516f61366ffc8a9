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
import type { NodeStatus } from './server/node-faults.js';

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
  /** Port of the admin HTTP endpoint (GET /health, /nodes, ...); 0: ephemeral. Default: none. */
  adminPort?: number | null;
  /** Allows broker.nodes.kill/restart/pause/resume/partition/heal (and the admin POST routes). */
  faultInjection?: boolean;
}

export interface NodeAddress {
  nodeId: number;
  host: string;
  port: number;
}

/**
 * Fault injection on the running broker (needs `faultInjection: true`, except `list`). Each
 * verb rejects with a NodeFaultError saying why when it does not apply.
 */
export interface NodeControls {
  /** Every node: listener, state (running, paused, killed, fenced), Raft view, controller. */
  list(): NodeStatus[];
  /** Terminates the node's worker like a crash and closes its listener (clients are reset). */
  kill(nodeId: number): Promise<void>;
  /** Restarts a killed node on its data dir and reopens its listener on the same port. */
  restart(nodeId: number): Promise<void>;
  /** Freezes the node (its listener stays open; requests wait); resolves once it is frozen. */
  pause(nodeId: number): Promise<void>;
  resume(nodeId: number): Promise<void>;
  /** Splits node-to-node traffic, e.g. [[0], [1, 2]]. */
  partition(groups: number[][]): Promise<void>;
  heal(): Promise<void>;
}

export interface BrokerHandle {
  /** `host:port,host:port,...` of every node, for any Kafka client. */
  readonly bootstrapServers: string;
  /** Every node's listener as at start (an array), with the fault-injection verbs. */
  readonly nodes: ReadonlyArray<NodeAddress> & NodeControls;
  /** `host:port` of the admin endpoint, or null without `adminPort`. */
  readonly adminAddress: string | null;
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
  for (const key of ['nodes', 'port', 'host', 'logLevel', 'broker', 'adminPort', 'faultInjection'] as const) {
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
  const admin = broker.adminAddress;
  return {
    bootstrapServers: broker.bootstrapServers,
    nodes: withNodeControls(broker.listeners.map((listener) => ({ ...listener })), broker),
    adminAddress: admin === null ? null : `${admin.host}:${admin.port}`,
    dataDir,
    config,
    async stop() {
      await broker.stop();
      if (temporary) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The listener array, with the verbs as non-enumerable methods (it still compares as an array). */
function withNodeControls(addresses: NodeAddress[], broker: Broker): NodeAddress[] & NodeControls {
  const controls = nodeControls(broker);
  for (const [name, method] of Object.entries(controls)) Object.defineProperty(addresses, name, { value: method, enumerable: false });
  return addresses as NodeAddress[] & NodeControls;
}

function nodeControls(broker: Broker): NodeControls {
  return {
    list: () => broker.nodeStatuses(),
    kill: (nodeId) => broker.killNode(nodeId),
    restart: (nodeId) => broker.restartNode(nodeId),
    pause: (nodeId) => broker.pauseNode(nodeId),
    resume: async (nodeId) => broker.resumeNode(nodeId),
    partition: async (groups) => broker.partitionNetwork(groups),
    heal: async () => broker.healNetwork(),
  };
}
