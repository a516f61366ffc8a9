/**
 * Broker configuration: a JSON file (config/*.json), overridden by CLI flags or the embedding
 * API, validated with messages that name the bad key and value.
 *
 *   {
 *     "nodes": 3, "host": "127.0.0.1", "port": 9092, "dataDir": "./data", "logLevel": "info",
 *     "broker": { "auto.create.topics.enable": true, "num.partitions": 1, ... }
 *   }
 *
 * `broker` keys use Kafka's broker config names, so a Kafka user recognises them.
 */
import { readFileSync } from 'node:fs';
import { limitRelationProblems, Limits, type RingLimits } from '../runtime/limits.js';
import type { LogLevel } from '../runtime/logger.js';

type SettingType = 'boolean' | 'integer' | 'number' | 'string';

interface SettingSpec {
  type: SettingType;
  default: boolean | number | string;
  min?: number;
  max?: number;
  allowed?: readonly string[];
  description: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Every broker setting we understand, with its Kafka name, default and bounds. */
export const brokerSettings = {
  'auto.create.topics.enable': { type: 'boolean', default: true, description: 'create unknown topics named in Metadata requests' },
  'num.partitions': { type: 'integer', default: 1, min: 1, max: Limits.maxPartitionsPerTopic, description: 'partitions of auto-created topics' },
  'default.replication.factor': { type: 'integer', default: 1, min: 1, description: 'replicas of topics created without one (auto-created ones too); at most nodes' },
  'min.insync.replicas': { type: 'integer', default: 1, min: 1, description: 'replicas that must have a record for acks=all' },
  'replica.lag.time.max.ms': { type: 'integer', default: 10_000, min: 100, description: 'a follower that has not caught up with the leader for this long leaves the ISR (Kafka: 30000; on one host there is no network to wait for, so a follower this far behind is stuck, and acks=all should not wait on it longer)' },
  'unclean.leader.election.enable': { type: 'boolean', default: false, description: 'elect a replica outside the ISR when no ISR member is left (loses acknowledged records; topic: unclean.leader.election.enable)' },
  'auto.leader.rebalance.enable': { type: 'boolean', default: true, description: 'move leadership back to each partition\'s preferred replica (its first) once it is in sync' },
  'leader.imbalance.check.interval.seconds': { type: 'integer', default: 30, min: 1, description: 'how often preferred leaders are restored (Kafka: 300; nodes restart in seconds here, and the check is a scan of the metadata image in memory)' },
  'socket.request.max.bytes': { type: 'integer', default: Limits.maxRequestSizeBytes, min: 1024, max: 1024 * 1024 * 1024, description: 'largest request frame accepted' },
  'message.max.bytes': { type: 'integer', default: 1024 * 1024 + 12, min: 1024, max: Limits.maxRingMessageBytes - Limits.ringMessageHeadroomBytes, description: 'largest record batch accepted (topic: max.message.bytes)' },
  'log.flush.policy': { type: 'string', default: 'always', allowed: ['always', 'interval', 'never'], description: 'when acknowledgements wait for fdatasync; never is unsafe' },
  'log.flush.interval.ms': { type: 'integer', default: 1000, min: 1, description: 'fdatasync period under the interval policy' },
  'log.journal': { type: 'string', default: 'auto', allowed: ['auto', 'always', 'off'], description: 'per-node write-ahead journal: auto = multi-partition produce requests (one fdatasync for all their partitions), always = every produce append, off = per-log fsyncs only' },
  'log.preallocate': { type: 'boolean', default: true, description: 'zero-fill segment files a little ahead of appends (a quarter of the segment, 32 KiB-1 MiB), so each fdatasync overwrites existing blocks: cheaper fsyncs (produce p50 0.9 -> 0.65 ms), each byte written twice' },
  'log.segment.bytes': { type: 'integer', default: 1024 * 1024 * 1024, min: 1024, max: 0x7fffffff, description: 'segment size before a roll' },
  'log.roll.ms': { type: 'integer', default: 7 * DAY_MS, min: 1, description: 'segment age before a roll' },
  'log.retention.ms': { type: 'integer', default: 7 * DAY_MS, min: -1, description: 'age beyond which closed segments are deleted; -1 keeps forever' },
  'log.retention.bytes': { type: 'integer', default: -1, min: -1, description: 'partition size beyond which old segments are deleted; -1 means no limit' },
  'log.retention.check.interval.ms': { type: 'integer', default: 5 * 60 * 1000, min: 1, description: 'how often retention runs' },
  'log.index.interval.bytes': { type: 'integer', default: 4096, min: 1, description: 'bytes between sparse index entries' },
  'log.segment.index.bytes': { type: 'integer', default: 10 * 1024 * 1024, min: 64, description: 'offset index size before a roll' },
  'log.message.timestamp.type': { type: 'string', default: 'CreateTime', allowed: ['CreateTime', 'LogAppendTime'], description: 'record timestamps: the producer\'s or the broker\'s' },
  'log.cleanup.policy': { type: 'string', default: 'delete', allowed: ['delete', 'compact', 'compact,delete', 'delete,compact'], description: 'default cleanup policy of topics' },
  'log.cleaner.delete.retention.ms': { type: 'integer', default: DAY_MS, min: 0, description: 'how long compaction keeps tombstones' },
  'log.cleaner.min.cleanable.ratio': { type: 'number', default: 0.5, min: 0, max: 1, description: 'dirty ratio that triggers compaction' },
  'log.flush.offset.checkpoint.interval.ms': { type: 'integer', default: 60_000, min: 1, description: 'how often recovery-point checkpoints are written' },
  'delete.topic.enable': { type: 'boolean', default: true, description: 'allow DeleteTopics' },
  'controller.quorum.voters': { type: 'string', default: '', description: 'the metadata quorum voters (the nodes that may become controller), as node ids "0,1,2" or Kafka\'s "0@host:port,1@host:port" (only the ids are used: every node lives in this process); the other nodes are observers that follow the metadata log; empty: every node votes. Fixed once the data dir exists' },
  'broker.heartbeat.interval.ms': { type: 'integer', default: 500, min: 10, description: 'how often a node heartbeats to the controller (Kafka: 2000; nodes share one host, so silence means a stuck node, not a slow network)' },
  'broker.session.timeout.ms': { type: 'integer', default: 3000, min: 100, description: 'a node silent this long is fenced (Kafka: 9000; long enough for a GC pause or a slow fsync, short enough to notice a hung node quickly)' },
  'offsets.topic.num.partitions': { type: 'integer', default: 6, min: 1, max: 1000, description: 'partitions of __consumer_offsets (fixed once the topic exists)' },
  'offsets.topic.replication.factor': { type: 'integer', default: -1, min: -1, description: 'replicas of __consumer_offsets; -1: min(3, nodes) (Kafka: 3)' },
  'transaction.state.log.replication.factor': { type: 'integer', default: -1, min: -1, description: 'replicas of __transaction_state; -1: min(3, nodes) (Kafka: 3)' },
  'transaction.state.log.min.isr': { type: 'integer', default: -1, min: -1, description: 'min.insync.replicas of __transaction_state; -1: min(2, its replication factor) (Kafka: 2)' },
  'offsets.topic.segment.bytes': { type: 'integer', default: 100 * 1024 * 1024, min: 1024, max: 0x7fffffff, description: 'segment size of __consumer_offsets' },
  'offsets.retention.minutes': { type: 'integer', default: 7 * 24 * 60, min: 1, description: 'how long committed offsets of an empty group are kept' },
  'offset.metadata.max.bytes': { type: 'integer', default: 4096, min: 0, description: 'largest metadata string of a committed offset' },
  'group.initial.rebalance.delay.ms': { type: 'integer', default: 300, min: 0, description: 'wait for more members before the first rebalance of an empty group (Kafka: 3000)' },
  'group.min.session.timeout.ms': { type: 'integer', default: 6000, min: 1, description: 'smallest session timeout a member may ask for' },
  'group.max.session.timeout.ms': { type: 'integer', default: 1_800_000, min: 1, description: 'largest session timeout a member may ask for' },
  'group.max.size': { type: 'integer', default: 2_147_483_647, min: 1, description: 'most members a group may have' },
} as const satisfies Record<string, SettingSpec>;

export type BrokerSettingName = keyof typeof brokerSettings;
export type BrokerSettings = { -readonly [K in BrokerSettingName]: (typeof brokerSettings)[K]['default'] extends boolean ? boolean : (typeof brokerSettings)[K]['default'] extends number ? number : string };

export interface BrokerConfig {
  /** Node identities (worker threads), each with its own listener and data dir. */
  nodes: number;
  host: string;
  /** Node i listens on port + i; 0 gives every node an ephemeral port. */
  port: number;
  dataDir: string;
  logLevel: LogLevel;
  /** Cluster id reported in Metadata; fixed per data dir once created. */
  clusterId: string | null;
  /** Port of the admin HTTP endpoint on `host` (GET /health, /nodes); null: no endpoint. 0: ephemeral. */
  adminPort: number | null;
  /** Allows the fault-injection verbs (kill, restart, pause, resume, partition, heal). */
  faultInjection: boolean;
  broker: BrokerSettings;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const topLevelKeys = ['nodes', 'host', 'port', 'dataDir', 'logLevel', 'clusterId', 'adminPort', 'faultInjection', 'broker', '$comment'] as const;
const logLevels = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export const MAX_NODES = 64;

export function defaultBrokerSettings(): BrokerSettings {
  const settings: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(brokerSettings)) settings[name] = spec.default;
  return settings as BrokerSettings;
}

export function defaultConfig(): BrokerConfig {
  return { nodes: 3, host: '127.0.0.1', port: 9092, dataDir: './data', logLevel: 'info', clusterId: null, adminPort: null, faultInjection: false, broker: defaultBrokerSettings() };
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value));
}

function checkSetting(name: string, value: unknown, spec: SettingSpec, where: string): boolean | number | string {
  const problem = (expected: string) => new ConfigError(`${where}: "${name}" must be ${expected}, got ${describe(value)}`);
  switch (spec.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw problem('true or false');
      return value;
    case 'string':
      if (typeof value !== 'string') throw problem('a string');
      if (spec.allowed && !spec.allowed.includes(value)) throw problem(`one of ${spec.allowed.map((entry) => `"${entry}"`).join(', ')}`);
      return value;
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw problem('a number');
      if (spec.type === 'integer' && !Number.isSafeInteger(value)) throw problem('an integer');
      if (spec.min !== undefined && value < spec.min) throw problem(`at least ${spec.min}`);
      if (spec.max !== undefined && value > spec.max) throw problem(`at most ${spec.max}`);
      return value;
    }
  }
}

function validateBroker(raw: unknown, base: BrokerSettings, where: string): BrokerSettings {
  if (raw === undefined) return base;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${where}: "broker" must be an object of Kafka broker settings`);
  const settings: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(raw)) {
    const spec = (brokerSettings as Record<string, SettingSpec>)[name];
    if (spec === undefined) throw new ConfigError(`${where}: unknown broker setting "${name}" (known: ${Object.keys(brokerSettings).join(', ')})`);
    settings[name] = checkSetting(name, value, spec, `${where} broker`);
  }
  return settings as BrokerSettings;
}

/**
 * Merges `raw` (parsed JSON or embedding options) over `base` and validates the result.
 * `where` names the source in error messages (a file path, "--port").
 */
export function validateConfig(raw: unknown, base: BrokerConfig = defaultConfig(), where = 'config'): BrokerConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${where}: the config must be a JSON object`);
  const input = raw as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!(topLevelKeys as readonly string[]).includes(key)) throw new ConfigError(`${where}: unknown key "${key}" (known: ${topLevelKeys.filter((name) => name !== '$comment').join(', ')})`);
  }
  const config: BrokerConfig = { ...base, broker: validateBroker(input.broker, base.broker, where) };
  if (input.nodes !== undefined) config.nodes = checkSetting('nodes', input.nodes, { type: 'integer', default: 3, min: 1, max: MAX_NODES, description: '' }, where) as number;
  if (input.port !== undefined) config.port = checkSetting('port', input.port, { type: 'integer', default: 9092, min: 0, max: 65535, description: '' }, where) as number;
  if (input.host !== undefined) config.host = checkSetting('host', input.host, { type: 'string', default: '', description: '' }, where) as string;
  if (input.dataDir !== undefined) config.dataDir = checkSetting('dataDir', input.dataDir, { type: 'string', default: '', description: '' }, where) as string;
  if (input.logLevel !== undefined) config.logLevel = checkSetting('logLevel', input.logLevel, { type: 'string', default: 'info', allowed: logLevels, description: '' }, where) as LogLevel;
  if (input.clusterId !== undefined && input.clusterId !== null) config.clusterId = checkSetting('clusterId', input.clusterId, { type: 'string', default: '', description: '' }, where) as string;
  validateFaultInjection(input, config, where);
  if (config.port !== 0 && config.port + config.nodes - 1 > 65535) throw new ConfigError(`${where}: ports ${config.port}..${config.port + config.nodes - 1} run past 65535`);
  if (config.host.length === 0) throw new ConfigError(`${where}: "host" must not be empty`);
  if (config.dataDir.length === 0) throw new ConfigError(`${where}: "dataDir" must not be empty`);
  checkLimitRelations(Limits, config.broker, where);
  checkReplicationFactors(config, where);
  parseQuorumVoters(config.broker['controller.quorum.voters'], config.nodes, where);
  const heartbeatMs = config.broker['broker.heartbeat.interval.ms'];
  const sessionMs = config.broker['broker.session.timeout.ms'];
  if (sessionMs <= 2 * heartbeatMs) {
    throw new ConfigError(`${where}: "broker.session.timeout.ms" (${sessionMs}) must be more than twice "broker.heartbeat.interval.ms" (${heartbeatMs}), or a node that misses one heartbeat is fenced`);
  }
  return config;
}

/** Throws a ConfigError naming every inconsistency between the ring limits and the settings. */
export function checkLimitRelations(limits: RingLimits, settings: BrokerSettings, where = 'config'): void {
  const problems = limitRelationProblems(limits, settings['message.max.bytes']);
  if (problems.length > 0) throw new ConfigError(`${where}: inconsistent limits: ${problems.join('; ')}`);
}

/** An internal topic's replication factor setting: -1 is Kafka's 3, capped by the node count. */
export function internalTopicReplicationFactor(setting: number, nodes: number): number {
  return setting === -1 ? Math.min(3, nodes) : setting;
}

/** transaction.state.log.min.isr in force: -1 is Kafka's 2, capped by the log's replication factor. */
export function transactionStateLogMinIsr(config: BrokerConfig): number {
  const setting = config.broker['transaction.state.log.min.isr'];
  const replicationFactor = internalTopicReplicationFactor(config.broker['transaction.state.log.replication.factor'], config.nodes);
  return setting === -1 ? Math.min(2, replicationFactor) : setting;
}

/** The metadata quorum's voters, ascending (every node when `controller.quorum.voters` is empty). */
export function quorumVoterIds(config: BrokerConfig): number[] {
  return parseQuorumVoters(config.broker['controller.quorum.voters'], config.nodes, 'config');
}

/** A Kafka voter entry `id@host:port`, or the bare `id` (nodes share this process). */
const VOTER_ENTRY = /^(\d+)(?:@[^\s@,]+:\d+)?$/;

/**
 * Parses `controller.quorum.voters`: node ids within 0..nodes-1, each once, at least one.
 * Throws a ConfigError naming the bad entry.
 */
export function parseQuorumVoters(value: string, nodes: number, where: string): number[] {
  if (value.trim().length === 0) return Array.from({ length: nodes }, (_, nodeId) => nodeId);
  const problem = (why: string) => new ConfigError(`${where}: "controller.quorum.voters" ${JSON.stringify(value)}: ${why}`);
  const voters: number[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    const match = VOTER_ENTRY.exec(entry);
    if (match === null) throw problem(`entry ${JSON.stringify(entry)} is neither a node id ("1") nor Kafka's "id@host:port"`);
    const nodeId = Number(match[1]);
    if (nodeId >= nodes) throw problem(`node ${nodeId} does not exist (node ids are 0..${nodes - 1} with "nodes" ${nodes})`);
    if (voters.includes(nodeId)) throw problem(`node ${nodeId} is listed twice`);
    voters.push(nodeId);
  }
  return voters.sort((a, b) => a - b);
}

/** Every replica needs its own node: replication factors above `nodes` could never be met. */
function checkReplicationFactors(config: BrokerConfig, where: string): void {
  const settings = config.broker;
  const factors = [
    ['default.replication.factor', settings['default.replication.factor']],
    ['offsets.topic.replication.factor', internalTopicReplicationFactor(settings['offsets.topic.replication.factor'], config.nodes)],
    ['transaction.state.log.replication.factor', internalTopicReplicationFactor(settings['transaction.state.log.replication.factor'], config.nodes)],
  ] as const;
  for (const [name, factor] of factors) {
    if (factor === 0) throw new ConfigError(`${where}: "${name}" must be -1 or at least 1, got 0`);
    if (factor > config.nodes) throw new ConfigError(`${where}: "${name}" (${factor}) is more than "nodes" (${config.nodes}): each replica needs its own node`);
  }
  if (settings['transaction.state.log.min.isr'] === 0) throw new ConfigError(`${where}: "transaction.state.log.min.isr" must be -1 or at least 1, got 0`);
  const transactionReplicas = factors[2][1];
  if (transactionStateLogMinIsr(config) > transactionReplicas) {
    throw new ConfigError(`${where}: "transaction.state.log.min.isr" (${settings['transaction.state.log.min.isr']}) is more than "transaction.state.log.replication.factor" (${transactionReplicas}): no transactional write could succeed`);
  }
}

/** `adminPort` (null or a free port beside the node listeners) and `faultInjection`. */
function validateFaultInjection(input: Record<string, unknown>, config: BrokerConfig, where: string): void {
  if (input.adminPort !== undefined) {
    config.adminPort = input.adminPort === null ? null : (checkSetting('adminPort', input.adminPort, { type: 'integer', default: 0, min: 0, max: 65535, description: '' }, where) as number);
  }
  if (input.faultInjection !== undefined) config.faultInjection = checkSetting('faultInjection', input.faultInjection, { type: 'boolean', default: false, description: '' }, where) as boolean;
  const admin = config.adminPort;
  if (admin !== null && admin !== 0 && config.port !== 0 && admin >= config.port && admin < config.port + config.nodes) {
    throw new ConfigError(`${where}: "adminPort" ${admin} clashes with the node listeners on ports ${config.port}..${config.port + config.nodes - 1}`);
  }
}

/** Reads and validates a JSON config file. */
export function loadConfigFile(path: string, base: BrokerConfig = defaultConfig()): BrokerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return validateConfig(parsed, base, path);
}
