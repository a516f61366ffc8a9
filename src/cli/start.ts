/**
 * `minikafka start`: runs the broker in the foreground until SIGINT or SIGTERM, then shuts
 * down cleanly (nodes flush and checkpoint) within the shutdown limit.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, defaultConfig, loadConfigFile, validateConfig, type BrokerConfig } from '../config/broker-config.js';
import { Limits } from '../runtime/limits.js';
import { spawnNodeWorker } from '../workers/node-spawn.js';
import type { Broker } from '../server/broker.js';

const usage = `usage: minikafka start [--config FILE] [--nodes N] [--port P] [--data-dir DIR] [--log-level LEVEL]
                       [--admin-port A] [--fault-injection]

Starts the broker: N node identities listening on 127.0.0.1:P .. P+N-1 (--port 0: ephemeral).
Prints a line containing "ready" once every listener accepts connections.
--admin-port A serves the admin HTTP endpoint (GET /health, GET /nodes) on the broker's host
(0: ephemeral); --fault-injection also allows killing, restarting, pausing and partitioning
nodes through it (see: minikafka nodes --help).
Without --config, Kafka's broker defaults apply (default.replication.factor 1,
min.insync.replicas 1); config/default.json (npm start) replicates every topic to 3 nodes with
min.insync.replicas 2. A --nodes below the config's replication factor lowers it to fit.`;

export async function runStart(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      nodes: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'log-level': { type: 'string' },
      'admin-port': { type: 'string' },
      'fault-injection': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const started = performance.now();
  let broker: Broker;
  try {
    const base = values.config === undefined ? defaultConfig() : loadConfigFile(values.config);
    const overrides: Record<string, unknown> = {};
    if (values.nodes !== undefined) {
      overrides.nodes = parseNumberFlag('--nodes', values.nodes);
      const fitted = replicationFittedTo(base, overrides.nodes as number);
      if (fitted !== null) {
        overrides.broker = fitted;
        process.stderr.write(`minikafka: --nodes ${String(overrides.nodes)}: default.replication.factor ${fitted['default.replication.factor']}, min.insync.replicas ${fitted['min.insync.replicas']} (the config asks for more replicas than nodes)\n`);
      }
    }
    if (values.port !== undefined) overrides.port = parseNumberFlag('--port', values.port);
    if (values['data-dir'] !== undefined) overrides.dataDir = values['data-dir'];
    if (values['log-level'] !== undefined) overrides.logLevel = values['log-level'];
    if (values['admin-port'] !== undefined) overrides.adminPort = parseNumberFlag('--admin-port', values['admin-port']);
    if (values['fault-injection'] === true) overrides.faultInjection = true;
    const config = validateConfig(overrides, base, 'command line');
    broker = await startWithEarlyWorkers(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`minikafka: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`minikafka: failed to start: ${(error as Error).message}\n`);
    return 1;
  }
  const elapsedMs = performance.now() - started;
  const admin = broker.adminAddress;
  const adminPart = admin === null ? '' : `, admin ${admin.host}:${admin.port}${broker.config.faultInjection ? ' (fault injection on)' : ''}`;
  // The handlers first: a SIGTERM sent as soon as the ready line is read must find them (until
  // then the default action would end the process without a clean shutdown).
  const exited = waitForSignal(broker);
  process.stdout.write(
    `minikafka ready: ${broker.config.nodes} node(s), bootstrap ${broker.bootstrapServers}, data ${resolve(broker.config.dataDir)}${adminPart}, pid ${process.pid}, started in ${elapsedMs.toFixed(0)} ms\n`,
  );
  return exited;
}

/**
 * `--nodes` below the config's replication factors: the settings that fit (every replica needs
 * its own node), or null when they fit already. Explicit internal-topic factors are lowered too.
 */
function replicationFittedTo(base: BrokerConfig, nodes: number): Record<string, number> | null {
  const settings = base.broker;
  if (!Number.isInteger(nodes) || nodes < 1) return null;
  const fitted: Record<string, number> = {};
  if (settings['default.replication.factor'] > nodes) fitted['default.replication.factor'] = nodes;
  for (const name of ['offsets.topic.replication.factor', 'transaction.state.log.replication.factor'] as const) {
    if (settings[name] > nodes) fitted[name] = nodes;
  }
  if (Object.keys(fitted).length === 0) return null;
  const replicationFactor = fitted['default.replication.factor'] ?? settings['default.replication.factor'];
  fitted['default.replication.factor'] = replicationFactor;
  fitted['min.insync.replicas'] = Math.min(settings['min.insync.replicas'], replicationFactor);
  return fitted;
}

/**
 * Spawns the node workers before loading the front end's code, so the threads load their
 * modules in parallel (start-up is mostly module loading); the broker takes them over.
 */
async function startWithEarlyWorkers(config: BrokerConfig): Promise<Broker> {
  const spawned = Array.from({ length: config.nodes }, () => spawnNodeWorker());
  try {
    const { Broker: BrokerClass } = await import('../server/broker.js');
    return await BrokerClass.start(config, spawned);
  } catch (error) {
    await Promise.all(spawned.map((entry) => entry.worker.terminate()));
    throw error;
  }
}

function parseNumberFlag(flag: string, value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isInteger(number)) throw new ConfigError(`${flag} must be an integer, got "${value}"`);
  return number;
}

function waitForSignal(broker: Broker): Promise<number> {
  return new Promise((resolveExit) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`minikafka: ${signal} received, shutting down\n`);
      const deadline = setTimeout(() => {
        process.stderr.write(`minikafka: shutdown took longer than ${Limits.shutdownTimeoutMs} ms, exiting\n`);
        resolveExit(1);
      }, Limits.shutdownTimeoutMs);
      deadline.unref();
      broker.stop().then(
        () => {
          clearTimeout(deadline);
          process.stderr.write('minikafka: stopped\n');
          resolveExit(0);
        },
        (error: unknown) => {
          process.stderr.write(`minikafka: error while stopping: ${(error as Error).message}\n`);
          resolveExit(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}
